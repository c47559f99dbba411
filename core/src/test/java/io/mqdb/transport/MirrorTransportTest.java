package io.mqdb.transport;

import static io.mqdb.transport.Inbox.utf8;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import io.mqdb.spi.RetriableException;
import io.mqdb.testkit.InMemoryBroker;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * The rules of {@code broker.mode: mirror} over two in-memory brokers (one {@link InMemoryBroker} per URI): publish on
 * every connected broker and done when one took it, subscribe on all and hand over every copy, each acknowledged on
 * the broker it came from, presence on every broker. The same over real Mosquitto servers, with kills: MirrorSyncIT.
 */
class MirrorTransportTest {
    private static final Duration WAIT = Duration.ofSeconds(5);

    private final InMemoryBroker one = new InMemoryBroker("one");
    private final InMemoryBroker two = new InMemoryBroker("two");
    private final List<Transport> opened = new ArrayList<>();
    /** The URIs the mirror's options name; each leg's transport is made by the broker of its URI. */
    private static final String ONE = "tcp://one:1883";
    private static final String TWO = "tcp://two:1883";

    @AfterEach
    void closeAll() {
        opened.forEach(Transport::close);
    }

    private MirrorTransport mirror(String clientId) {
        TransportOptions options = TransportOptions.of(List.of(ONE, TWO), clientId)
                .withMode(BrokerMode.MIRROR);
        MirrorTransport t = new MirrorTransport(options, o -> {
            assertThat(o.brokerUris()).hasSize(1);
            assertThat(o.mode()).isEqualTo(BrokerMode.FAILOVER);
            return (o.brokerUris().get(0).equals(ONE) ? one : two).transport(o);
        });
        opened.add(t);
        return t;
    }

    @Test
    void aPublishGoesToEveryBrokerAndEachCopyIsAcknowledgedOnTheBrokerItCameFrom() throws Exception {
        MirrorTransport pub = mirror("pub");
        MirrorTransport sub = mirror("sub");
        Inbox inbox = new Inbox(false);
        sub.subscribe("t/#", inbox);
        startOnBoth(sub);
        startOnBoth(pub);

        pub.publish("t/1", utf8("x"), false).get(5, TimeUnit.SECONDS);

        assertThat(one.published("t/#")).hasSize(1);
        assertThat(two.published("t/#")).hasSize(1);
        await().atMost(WAIT).until(() -> inbox.size() == 2);
        assertThat(inbox.payloads()).containsExactly("x", "x");
        assertThat(one.unacknowledged("sub")).isEqualTo(1);
        assertThat(two.unacknowledged("sub")).isEqualTo(1);
        inbox.get(0).ack();
        assertThat(one.unacknowledged("sub") + two.unacknowledged("sub")).as("one copy acked, on one broker")
                .isEqualTo(1);
        inbox.get(1).ack();
        assertThat(one.unacknowledged("sub")).isZero();
        assertThat(two.unacknowledged("sub")).isZero();
        assertThat(sub.counters()).extracting(MirrorTransport.BrokerCounters::received).containsExactly(1L, 1L);
        assertThat(pub.counters()).extracting(MirrorTransport.BrokerCounters::acknowledged)
                .as("the message on each (the presence goes by each broker's own transport)")
                .containsExactly(1L, 1L);
    }

    @Test
    void whileOneBrokerIsAwayTheOtherCarriesEverythingAndTheReturningOneDeliversItsSession() throws Exception {
        MirrorTransport pub = mirror("pub");
        MirrorTransport sub = mirror("sub");
        Inbox inbox = new Inbox(true);
        sub.subscribe("t/#", inbox);
        startOnBoth(sub);
        startOnBoth(pub);
        one.disconnect("pub");
        one.disconnect("sub");
        assertThat(pub.isConnected()).isTrue();
        assertThat(pub.currentBroker()).isEqualTo(TWO);

        pub.publish("t/1", utf8("while one is away"), false).get(5, TimeUnit.SECONDS);

        assertThat(one.published("t/#")).isEmpty();
        await().atMost(WAIT).until(() -> inbox.size() == 1);
        one.reconnect("pub");
        pub.publish("t/1", utf8("both again"), false).get(5, TimeUnit.SECONDS);
        await().atMost(WAIT).until(() -> inbox.size() == 2);
        one.reconnect("sub"); // its session on one kept what one took while it was away
        await().atMost(WAIT).until(() -> inbox.size() == 3);
        assertThat(inbox.payloads()).containsExactly("while one is away", "both again", "both again");
        assertThat(pub.currentBroker()).isEqualTo(ONE + ", " + TWO);
    }

    @Test
    void aPublishFailsOnlyWhenNoBrokerIsConnected() throws Exception {
        MirrorTransport pub = mirror("pub");
        startOnBoth(pub);
        one.disconnect("pub");
        two.disconnect("pub");

        assertThat(pub.isConnected()).isFalse();
        assertThatThrownBy(() -> pub.publish("t/1", utf8("x"), false).get(5, TimeUnit.SECONDS))
                .isInstanceOf(ExecutionException.class).hasCauseInstanceOf(RetriableException.class)
                .hasMessageContaining("none of " + ONE + ", " + TWO + " connected");
        two.reconnect("pub");
        pub.publish("t/1", utf8("x"), false).get(5, TimeUnit.SECONDS);
        assertThat(two.published("t/#")).hasSize(1);
    }

    @Test
    void presenceIsRetainedOnEveryBrokerAndEachBrokersLastWillMarksOnlyItsOwnLoss() throws Exception {
        MirrorTransport node = mirror("n1");
        startOnBoth(node);
        String topic = "mqdb/presence/n1";
        await().atMost(WAIT).until(() -> text(one, topic).equals("online") && text(two, topic).equals("online"));

        one.disconnect("n1");
        assertThat(text(one, topic)).isEqualTo("offline");
        assertThat(text(two, topic)).isEqualTo("online");
        one.reconnect("n1");
        await().atMost(WAIT).until(() -> text(one, topic).equals("online"));

        node.close();
        assertThat(text(one, topic)).isEqualTo("offline");
        assertThat(text(two, topic)).isEqualTo("offline");
    }

    @Test
    void handlersOfOneSubscriptionNeverRunTwoAtOnce() throws Exception {
        MirrorTransport pub = mirror("pub");
        MirrorTransport sub = mirror("sub");
        java.util.concurrent.atomic.AtomicInteger inside = new java.util.concurrent.atomic.AtomicInteger();
        java.util.concurrent.atomic.AtomicInteger most = new java.util.concurrent.atomic.AtomicInteger();
        java.util.concurrent.atomic.AtomicInteger seen = new java.util.concurrent.atomic.AtomicInteger();
        sub.subscribe("t/#", m -> {
            most.accumulateAndGet(inside.incrementAndGet(), Math::max);
            Thread.sleep(2); // long enough for the other broker's callback thread to arrive meanwhile
            inside.decrementAndGet();
            seen.incrementAndGet();
            m.ack();
        });
        startOnBoth(sub);
        startOnBoth(pub);
        for (int i = 0; i < 100; i++) {
            pub.publish("t/" + i, utf8("m" + i), false);
        }
        await().atMost(WAIT).until(() -> seen.get() == 200);
        assertThat(most.get()).isEqualTo(1);
    }

    /** {@link MirrorTransport#start} returns once one broker took the connection; the test wants both. */
    private static void startOnBoth(MirrorTransport t) throws InterruptedException {
        t.start();
        await().atMost(WAIT).until(() -> t.counters().stream().allMatch(MirrorTransport.BrokerCounters::connected));
    }

    private static String text(InMemoryBroker broker, String topic) {
        return broker.retained(topic).map(b -> new String(b, StandardCharsets.UTF_8)).orElse("");
    }
}
