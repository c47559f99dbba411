package io.mqdb.testkit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatCode;
import static org.awaitility.Awaitility.await;

import io.mqdb.transport.InboundMessage;
import io.mqdb.transport.MessageHandler;
import io.mqdb.transport.Transport;
import io.mqdb.transport.TransportOptions;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** The in-memory broker keeps the promises of {@link Transport} the node relies on, and its test controls work. */
class InMemoryBrokerTest {
    private static final Duration WAIT = Duration.ofSeconds(5);
    private final InMemoryBroker broker = new InMemoryBroker();
    private final List<Transport> transports = new ArrayList<>();

    @AfterEach
    void close() {
        transports.forEach(Transport::close);
    }

    private Transport started(String clientId, String filter, MessageHandler handler) throws InterruptedException {
        Transport t = broker.transport(TransportOptions.of(List.of("tcp://in-memory.invalid:1883"), clientId));
        transports.add(t);
        if (filter != null) {
            t.subscribe(filter, handler);
        }
        t.start();
        return t;
    }

    /** Keeps what it receives; acknowledges when told to. */
    private static final class Inbox implements MessageHandler {
        final List<InboundMessage> messages = new CopyOnWriteArrayList<>();
        final boolean autoAck;

        Inbox(boolean autoAck) {
            this.autoAck = autoAck;
        }

        @Override
        public void onMessage(InboundMessage message) {
            messages.add(message);
            if (autoAck) {
                message.ack();
            }
        }

        List<String> payloads() {
            return messages.stream().map(m -> new String(m.payload(), StandardCharsets.UTF_8)).toList();
        }
    }

    private static byte[] utf8(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    @Test
    void topicFiltersMatchLikeMqtt() {
        assertThat(InMemoryBroker.matches("a/b", "a/b")).isTrue();
        assertThat(InMemoryBroker.matches("a/+", "a/b")).isTrue();
        assertThat(InMemoryBroker.matches("a/+", "a/b/c")).isFalse();
        assertThat(InMemoryBroker.matches("a/+/c", "a/b/c")).isTrue();
        assertThat(InMemoryBroker.matches("a/#", "a/b/c")).isTrue();
        assertThat(InMemoryBroker.matches("a/#", "a")).isTrue();
        assertThat(InMemoryBroker.matches("#", "a/b")).isTrue();
        assertThat(InMemoryBroker.matches("a/b", "a/b/c")).isFalse();
        assertThat(InMemoryBroker.matches("a/b/c", "a/b")).isFalse();
    }

    @Test
    void anUnacknowledgedMessageIsDeliveredAgainAfterAReconnectAndAnAcknowledgedOneIsNot() throws Exception {
        Inbox inbox = new Inbox(false);
        started("sub", "t/#", inbox);
        Transport pub = started("pub", null, null);
        pub.publish("t/1", utf8("acked"), false).join();
        pub.publish("t/2", utf8("not acked"), false).join();
        await().atMost(WAIT).until(() -> inbox.messages.size() == 2);
        inbox.messages.get(0).ack();

        broker.disconnect("sub");
        inbox.messages.get(1).ack(); // from the lost connection: does nothing
        broker.reconnect("sub");

        await().atMost(WAIT).until(() -> inbox.messages.size() == 3);
        assertThat(inbox.messages.get(2).topic()).isEqualTo("t/2");
        assertThat(inbox.messages.get(2).duplicate()).isTrue();
        inbox.messages.get(2).ack();
        assertThat(broker.unacknowledged("sub")).isZero();
    }

    @Test
    void messagesPublishedWhileASubscriberIsOfflineWaitInItsSessionUnlessTheSessionExpires() throws Exception {
        Inbox inbox = new Inbox(true);
        started("sub", "t", inbox);
        Transport pub = started("pub", null, null);
        broker.disconnect("sub");
        pub.publish("t", utf8("1"), false).join();
        broker.reconnect("sub");
        await().atMost(WAIT).until(() -> inbox.payloads().equals(List.of("1")));

        broker.disconnect("sub");
        pub.publish("t", utf8("2"), false).join();
        broker.expireSession("sub");
        broker.reconnect("sub");
        pub.publish("t", utf8("3"), false).join();

        await().atMost(WAIT).until(() -> inbox.payloads().contains("3"));
        assertThat(inbox.payloads()).containsExactly("1", "3");
    }

    @Test
    void noLocalKeepsAClientsOwnPublishesAway() throws Exception {
        Inbox own = new Inbox(true);
        Inbox other = new Inbox(true);
        Transport self = started("self", "t", own);
        started("other", "t", other);

        self.publish("t", utf8("mine"), false).join();

        await().atMost(WAIT).until(() -> other.messages.size() == 1);
        assertThat(own.messages).isEmpty();
    }

    @Test
    void retainedMessagesReachLateSubscribersAndAnEmptyOneClearsThem() throws Exception {
        Transport pub = started("pub", null, null);
        pub.publish("r/1", utf8("kept"), true).join();
        pub.publish("r/2", utf8("cleared"), true).join();
        pub.publish("r/2", new byte[0], true).join();

        Inbox inbox = new Inbox(true);
        started("late", "r/+", inbox);

        await().atMost(WAIT).until(() -> inbox.messages.size() == 1);
        assertThat(inbox.messages.get(0).retained()).isTrue();
        assertThat(inbox.payloads()).containsExactly("kept");
        assertThat(broker.retained("r/2")).isEmpty();
    }

    @Test
    void aBlockedHandlerHoldsUpDeliveryAndMessagesArriveInPublishOrder() throws Exception {
        CountDownLatch unblock = new CountDownLatch(1);
        List<String> seen = new CopyOnWriteArrayList<>();
        started("sub", "t", m -> {
            seen.add(new String(m.payload(), StandardCharsets.UTF_8));
            if (seen.size() == 1 && !unblock.await(WAIT.toMillis(), TimeUnit.MILLISECONDS)) {
                throw new IllegalStateException("never unblocked");
            }
            m.ack();
        });
        Transport pub = started("pub", null, null);
        for (int i = 0; i < 100; i++) {
            pub.publish("t", utf8(Integer.toString(i)), false).join();
        }
        await().atMost(WAIT).until(() -> seen.size() == 1);
        assertThat(broker.unacknowledged("sub")).as("held by the blocked handler").isEqualTo(100);

        unblock.countDown();

        await().atMost(WAIT).until(() -> seen.size() == 100);
        assertThat(seen).isEqualTo(java.util.stream.IntStream.range(0, 100).mapToObj(Integer::toString).toList());
        await().atMost(WAIT).until(() -> broker.unacknowledged("sub") == 0);
    }

    @Test
    void presenceIsOnlineAfterConnectOfflineAsTheLastWillAndOfflineAfterClose() throws Exception {
        Transport t = started("node", null, null);
        String topic = "mqdb/presence/node";
        assertThat(broker.retained(topic)).hasValueSatisfying(p -> assertThat(new String(p)).isEqualTo("online"));

        broker.disconnect("node");
        assertThat(broker.retained(topic)).hasValueSatisfying(p -> assertThat(new String(p)).isEqualTo("offline"));
        assertThat(t.isConnected()).isFalse();
        broker.reconnect("node");
        assertThat(broker.retained(topic)).hasValueSatisfying(p -> assertThat(new String(p)).isEqualTo("online"));

        t.close();
        assertThat(broker.retained(topic)).hasValueSatisfying(p -> assertThat(new String(p)).isEqualTo("offline"));
    }

    @Test
    void publishFailsWhenNotConnectedAndCloseIsIdempotent() throws Exception {
        Transport t = started("node", null, null);
        broker.disconnect("node");

        assertThat(t.publish("t", utf8("x"), false)).isCompletedExceptionally();
        t.close();
        assertThatCode(t::close).doesNotThrowAnyException();
        assertThat(t.publish("t", utf8("x"), false)).isCompletedExceptionally();
    }

    @Test
    void testRulesDropDuplicateAndReorder() throws Exception {
        Inbox inbox = new Inbox(true);
        started("sub", "t", inbox);
        Transport pub = started("pub", null, null);

        broker.dropNext("t", 1);
        pub.publish("t", utf8("dropped"), false).join();
        broker.duplicateNext("t", 1);
        pub.publish("t", utf8("twice"), false).join();
        InMemoryBroker.Hold hold = broker.hold("t");
        pub.publish("t", utf8("a"), false).join();
        pub.publish("t", utf8("b"), false).join();
        assertThat(hold.size()).isEqualTo(2);
        hold.releaseReversed();
        pub.publish("t", utf8("after"), false).join();

        await().atMost(WAIT).until(() -> inbox.messages.size() == 5);
        assertThat(inbox.payloads()).containsExactly("twice", "twice", "b", "a", "after");
        assertThat(broker.published("t")).hasSize(5);
    }
}
