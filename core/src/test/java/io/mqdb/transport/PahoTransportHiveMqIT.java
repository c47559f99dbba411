package io.mqdb.transport;

import static io.mqdb.transport.Inbox.utf8;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.mqdb.broker.HiveMqEmbeddedBroker;
import io.mqdb.testing.ServerFixture;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The transport against the embedded HiveMQ: QoS 1, manual acks, persistent sessions, no-local, presence. */
class PahoTransportHiveMqIT {
    @TempDir
    static Path dir;
    static HiveMqEmbeddedBroker broker;
    private final List<PahoTransport> transports = new ArrayList<>();

    @BeforeAll
    static void startBroker() throws InterruptedException {
        broker = new HiveMqEmbeddedBroker("127.0.0.1", ServerFixture.freePort(), dir, 100_000);
        broker.start();
    }

    @AfterAll
    static void stopBroker() {
        broker.close();
    }

    @AfterEach
    void closeTransports() {
        transports.forEach(PahoTransport::close);
    }

    private PahoTransport transport(String clientId) {
        PahoTransport t = new PahoTransport(TransportOptions.of(List.of(broker.uri()), clientId));
        transports.add(t);
        return t;
    }

    @Test
    void publishAndSubscribeRoundTripAtQos1() throws Exception {
        PahoTransport a = transport("rt-a");
        PahoTransport b = transport("rt-b");
        Inbox inbox = new Inbox(true);
        b.subscribe("rt/#", inbox);
        a.start();
        b.start();

        a.publish("rt/x", utf8("hello"), false).get(5, TimeUnit.SECONDS);

        await().until(() -> inbox.size() == 1);
        assertThat(inbox.topics()).containsExactly("rt/x");
        assertThat(inbox.payloads()).containsExactly("hello");
        assertThat(inbox.get(0).retained()).isFalse();
        assertThat(b.isConnected()).isTrue();
        assertThat(b.currentBroker()).isEqualTo(broker.uri());
    }

    @Test
    void unackedMessageIsRedeliveredAfterReconnectAndAckedOneIsNot() throws Exception {
        PahoTransport pub = transport("rd-pub");
        PahoTransport sub = transport("rd-sub");
        Inbox inbox = new Inbox(false);
        sub.subscribe("rd/#", inbox);
        pub.start();
        sub.start();
        // HiveMQ sends a client nothing new while one of its messages awaits the PUBACK, so one at a time
        pub.publish("rd/1", utf8("one"), false).get(5, TimeUnit.SECONDS);
        await().until(() -> inbox.size() == 1);
        inbox.get(0).ack();
        pub.publish("rd/2", utf8("two"), false).get(5, TimeUnit.SECONDS);
        await().until(() -> inbox.size() == 2);
        // the broker reads our PUBACK of rd/1 before the PUBLISH queued after it
        sub.publish("rd-marker", utf8("x"), false).get(5, TimeUnit.SECONDS);
        sub.cutConnectionForTest();

        await().until(() -> inbox.size() == 3);
        assertThat(inbox.get(2).topic()).isEqualTo("rd/2");
        inbox.get(2).ack();
        pub.publish("rd/3", utf8("three"), false).get(5, TimeUnit.SECONDS);
        await().until(() -> inbox.size() == 4);
        assertThat(inbox.topics()).containsExactly("rd/1", "rd/2", "rd/2", "rd/3");
    }

    @Test
    void ackOfMessageFromLostConnectionIsDropped() throws Exception {
        PahoTransport pub = transport("st-pub");
        PahoTransport sub = transport("st-sub");
        Inbox inbox = new Inbox(false);
        sub.subscribe("st/#", inbox);
        pub.start();
        sub.start();
        pub.publish("st/1", utf8("one"), false).get(5, TimeUnit.SECONDS);
        await().until(() -> inbox.size() == 1);

        sub.cutConnectionForTest();
        await().until(() -> inbox.size() == 2);
        inbox.get(0).ack(); // stale: must not ack the redelivered copy on the new connection
        sub.publish("st-marker", utf8("x"), false).get(5, TimeUnit.SECONDS);
        sub.cutConnectionForTest();

        await().until(() -> inbox.size() == 3);
        assertThat(inbox.topics()).containsExactly("st/1", "st/1", "st/1");
        inbox.get(2).ack();
    }

    @Test
    void noLocalKeepsOwnPublishesAway() throws Exception {
        PahoTransport self = transport("nl-self");
        PahoTransport other = transport("nl-other");
        Inbox inbox = new Inbox(true);
        self.subscribe("nl/#", inbox);
        self.start();
        other.start();

        self.publish("nl/mine", utf8("mine"), false).get(5, TimeUnit.SECONDS);
        other.publish("nl/theirs", utf8("theirs"), false).get(5, TimeUnit.SECONDS);

        await().until(() -> inbox.size() >= 1);
        assertThat(inbox.topics()).containsExactly("nl/theirs");
    }

    @Test
    void presenceIsOnlineAfterConnectAndOfflineAfterCrashAndAfterClose() throws Exception {
        TransportOptions nodeOptions = TransportOptions.of(List.of(broker.uri()), "pr-node")
                .withPresence("pr/node", utf8("online"), utf8("offline"));
        PahoTransport observer = transport("pr-observer");
        Inbox live = new Inbox(true);
        observer.subscribe("pr/#", live);
        observer.start();

        PahoTransport node = new PahoTransport(nodeOptions);
        transports.add(node);
        node.start();
        await().until(() -> live.payloads().contains("online"));
        assertThat(retainedPresence()).isEqualTo("online");

        node.crashForTest(); // no DISCONNECT: the broker publishes the will
        await().until(() -> last(live).equals("offline"));
        assertThat(retainedPresence()).isEqualTo("offline");

        PahoTransport again = new PahoTransport(nodeOptions);
        transports.add(again);
        again.start();
        await().until(() -> last(live).equals("online"));
        again.close();
        await().until(() -> last(live).equals("offline"));
        assertThat(retainedPresence()).isEqualTo("offline");
    }

    private static String last(Inbox inbox) {
        List<String> p = inbox.payloads();
        return p.isEmpty() ? "" : p.get(p.size() - 1);
    }

    /** @return the retained presence a newcomer sees */
    private String retainedPresence() throws InterruptedException {
        PahoTransport newcomer = new PahoTransport(
                TransportOptions.of(List.of(broker.uri()), "pr-newcomer-" + System.nanoTime())
                        .withPresence("pr-other/newcomer", utf8("on"), utf8("off")));
        try {
            Inbox inbox = new Inbox(true);
            newcomer.subscribe("pr/node", inbox);
            newcomer.start();
            await().atMost(Duration.ofSeconds(10)).until(() -> inbox.size() >= 1);
            assertThat(inbox.get(0).retained()).isTrue();
            return inbox.payloads().get(0);
        } finally {
            newcomer.close();
        }
    }
}
