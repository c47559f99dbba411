package io.mqdb.transport;

import static io.mqdb.transport.Inbox.utf8;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import io.mqdb.spi.RetriableException;
import io.mqdb.testing.ServerFixture;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * What every {@link Transport} must do, whatever its client library and broker: QoS 1 round trips, manual acks and
 * redelivery over a persistent session, stale acks dropped, no-local, presence and last will, failover, reconnect
 * after a broker restart without losing an acknowledged publish, delivery order, back-pressure from a blocked
 * handler, more publishes than the broker's receive maximum, idempotent close.
 *
 * <p>A subclass names the client library and runs one broker for its tests. Client ids are unique per test run
 * (brokers keep sessions for days).
 */
abstract class TransportContract {
    private final List<Transport> transports = new ArrayList<>();
    private final String run = Long.toString(System.nanoTime() % 1_000_000_000L, 36);

    /** @return the client library under test */
    abstract ClientLibrary client();

    /** @return the URI of the broker of this test class */
    abstract String brokerUri();

    /** Stops the broker cleanly and starts it again on the same port, keeping sessions and queued messages. */
    abstract void restartBroker() throws Exception;

    /** @return a WebSocket URI of the same broker, when it has one */
    Optional<String> webSocketUri() {
        return Optional.empty();
    }

    @AfterEach
    void closeTransports() {
        transports.forEach(Transport::close);
    }

    /** @return a new transport on the client under test, closed after the test */
    Transport transport(String name) {
        return transport(TransportOptions.of(List.of(brokerUri()), id(name)));
    }

    Transport transport(TransportOptions options) {
        Transport t = Transports.open(options.withClient(client()));
        assertThat(t).isInstanceOf(client() == ClientLibrary.HIVEMQ ? HiveMqTransport.class : PahoTransport.class);
        transports.add(t);
        return t;
    }

    /** @return a client id unique to this run */
    String id(String name) {
        return name + "-" + client().configName() + "-" + run;
    }

    static void cut(Transport t) {
        if (t instanceof HiveMqTransport h) {
            h.cutConnectionForTest();
        } else {
            ((PahoTransport) t).cutConnectionForTest();
        }
    }

    static void crash(Transport t) {
        if (t instanceof HiveMqTransport h) {
            h.crashForTest();
        } else {
            ((PahoTransport) t).crashForTest();
        }
    }

    @Test
    void publishAndSubscribeRoundTripAtQos1() throws Exception {
        Transport a = transport("rt-a");
        Transport b = transport("rt-b");
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
        assertThat(b.currentBroker()).isEqualTo(brokerUri());
    }

    @Test
    void unackedMessageIsRedeliveredAfterReconnectAndAckedOneIsNot() throws Exception {
        Transport pub = transport("rd-pub");
        Transport sub = transport("rd-sub");
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
        cut(sub);

        await().until(() -> inbox.size() == 3);
        assertThat(inbox.get(2).topic()).isEqualTo("rd/2");
        inbox.get(2).ack();
        pub.publish("rd/3", utf8("three"), false).get(5, TimeUnit.SECONDS);
        await().until(() -> inbox.size() == 4);
        assertThat(inbox.topics()).containsExactly("rd/1", "rd/2", "rd/2", "rd/3");
    }

    @Test
    void ackOfMessageFromLostConnectionIsDropped() throws Exception {
        Transport pub = transport("st-pub");
        Transport sub = transport("st-sub");
        Inbox inbox = new Inbox(false);
        sub.subscribe("st/#", inbox);
        pub.start();
        sub.start();
        pub.publish("st/1", utf8("one"), false).get(5, TimeUnit.SECONDS);
        await().until(() -> inbox.size() == 1);

        cut(sub);
        await().until(() -> inbox.size() == 2);
        inbox.get(0).ack(); // stale: must not ack the redelivered copy on the new connection
        sub.publish("st-marker", utf8("x"), false).get(5, TimeUnit.SECONDS);
        cut(sub);

        await().until(() -> inbox.size() == 3);
        assertThat(inbox.topics()).containsExactly("st/1", "st/1", "st/1");
        inbox.get(2).ack();
    }

    @Test
    void noLocalKeepsOwnPublishesAway() throws Exception {
        Transport self = transport("nl-self");
        Transport other = transport("nl-other");
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
        String topic = "pr/" + id("node");
        TransportOptions nodeOptions = TransportOptions.of(List.of(brokerUri()), id("pr-node"))
                .withPresence(topic, utf8("online"), utf8("offline"));
        Transport observer = transport("pr-observer");
        Inbox live = new Inbox(true);
        observer.subscribe(topic, live);
        observer.start();

        Transport node = transport(nodeOptions);
        node.start();
        await().until(() -> live.payloads().contains("online"));
        assertThat(retainedPresence(topic)).isEqualTo("online");

        crash(node); // no DISCONNECT: the broker publishes the will
        await().until(() -> last(live).equals("offline"));
        assertThat(retainedPresence(topic)).isEqualTo("offline");

        Transport again = transport(nodeOptions);
        again.start();
        await().until(() -> last(live).equals("online"));
        again.close();
        await().until(() -> last(live).equals("offline"));
        assertThat(retainedPresence(topic)).isEqualTo("offline");
    }

    @Test
    void connectsToTheNextBrokerWhenTheFirstIsDead() throws Exception {
        String dead = "tcp://127.0.0.1:" + ServerFixture.freePort();
        Transport t = transport(TransportOptions.of(List.of(dead, brokerUri()), id("fo-live")));
        t.start();
        assertThat(t.isConnected()).isTrue();
        assertThat(t.currentBroker()).isEqualTo(brokerUri());
        t.publish("fo/x", utf8("x"), false).get(5, TimeUnit.SECONDS);
    }

    @Test
    void reconnectsByItselfAfterABrokerRestartAndLosesNoAcknowledgedPublish() throws Exception {
        int count = 3_000;
        Transport pub = transport("rs-pub");
        Transport sub = transport("rs-sub");
        Set<Integer> received = ConcurrentHashMap.newKeySet();
        String topic = "rs/" + id("seq");
        sub.subscribe(topic, m -> {
            received.add(Integer.parseInt(new String(m.payload(), StandardCharsets.UTF_8)));
            m.ack();
        });
        sub.start();
        pub.start();
        AtomicInteger acknowledged = new AtomicInteger();
        AtomicInteger retries = new AtomicInteger();
        ExecutorService publisher = Executors.newSingleThreadExecutor();
        try {
            Future<?> done = publisher.submit(() -> {
                for (int i = 0; i < count; i++) {
                    while (true) {
                        try {
                            pub.publish(topic, utf8(Integer.toString(i)), false).get(10, TimeUnit.SECONDS);
                            acknowledged.incrementAndGet();
                            break;
                        } catch (ExecutionException | TimeoutException e) {
                            retries.incrementAndGet();
                            await().atMost(Duration.ofSeconds(30)).until(pub::isConnected);
                        }
                    }
                }
                return null;
            });
            await().until(() -> received.size() >= count / 4);
            restartBroker();

            done.get(60, TimeUnit.SECONDS);
        } finally {
            publisher.shutdownNow();
        }
        await().atMost(Duration.ofSeconds(30)).until(() -> received.size() == count);
        assertThat(acknowledged.get()).isEqualTo(count);
        await().until(sub::isConnected);
        System.out.printf("%s restart: %d publishes acknowledged, %d retried after the restart, all received%n",
                client().configName(), acknowledged.get(), retries.get());
    }

    @Test
    void deliversInPublishOrder() throws Exception {
        int count = 300;
        Transport pub = transport("or-pub");
        Transport sub = transport("or-sub");
        List<Integer> got = new CopyOnWriteArrayList<>();
        String topic = "or/" + id("seq");
        sub.subscribe(topic, m -> {
            got.add(Integer.parseInt(new String(m.payload(), StandardCharsets.UTF_8)));
            m.ack();
        });
        sub.start();
        pub.start();
        List<CompletableFuture<Void>> acks = new ArrayList<>();
        for (int i = 0; i < count; i++) {
            acks.add(pub.publish(topic, utf8(Integer.toString(i)), false));
        }
        CompletableFuture.allOf(acks.toArray(CompletableFuture[]::new)).get(30, TimeUnit.SECONDS);
        await().until(() -> got.size() >= count);
        List<Integer> expected = new ArrayList<>();
        for (int i = 0; i < count; i++) {
            expected.add(i);
        }
        assertThat(got).containsExactlyElementsOf(expected);
    }

    @Test
    void aBlockedHandlerHoldsUpDeliveryAndNothingIsLost() throws Exception {
        int count = 300;
        Transport pub = transport("bp-pub");
        // The default receive maximum, 1000: Mosquitto 2.0.11 sent more than a client receive maximum of 10 or 20
        // after a stall (the HiveMQ client then disconnects, as MQTT 5 says), never more than 1000.
        Transport sub = transport("bp-sub");
        CountDownLatch release = new CountDownLatch(1);
        AtomicInteger inHandler = new AtomicInteger();
        List<Integer> got = new CopyOnWriteArrayList<>();
        String topic = "bp/" + id("seq");
        sub.subscribe(topic, m -> {
            inHandler.incrementAndGet();
            release.await();
            got.add(Integer.parseInt(new String(m.payload(), StandardCharsets.UTF_8)));
            m.ack();
        });
        sub.start();
        pub.start();
        List<CompletableFuture<Void>> acks = new ArrayList<>();
        for (int i = 0; i < count; i++) {
            acks.add(pub.publish(topic, utf8(Integer.toString(i)), false));
        }
        // the broker takes every publish although the subscriber's handler is stuck
        CompletableFuture.allOf(acks.toArray(CompletableFuture[]::new)).get(30, TimeUnit.SECONDS);
        await().until(() -> inHandler.get() == 1);
        // one message in the handler, and no second one while it is blocked
        await().during(Duration.ofMillis(500)).atMost(Duration.ofSeconds(2)).until(() -> inHandler.get() == 1);

        release.countDown();
        await().atMost(Duration.ofSeconds(30)).until(() -> got.size() >= count);
        List<Integer> expected = new ArrayList<>();
        for (int i = 0; i < count; i++) {
            expected.add(i);
        }
        assertThat(got).containsExactlyElementsOf(expected);
    }

    @Test
    void morePublishesThanTheBrokersReceiveMaximumDoNotStall() throws Exception {
        int count = 500; // Mosquitto's stock receive maximum is 20; the publisher's own window is 1000
        Transport pub = transport("rm-pub");
        Transport sub = transport("rm-sub");
        Set<Integer> got = ConcurrentHashMap.newKeySet();
        String topic = "rm/" + id("burst");
        sub.subscribe(topic, m -> {
            got.add(Integer.parseInt(new String(m.payload(), StandardCharsets.UTF_8)));
            m.ack();
        });
        sub.start();
        pub.start();
        List<CompletableFuture<Void>> acks = new ArrayList<>();
        for (int i = 0; i < count; i++) {
            acks.add(pub.publish(topic, utf8(Integer.toString(i)), false)); // blocks while the window is full
        }
        CompletableFuture.allOf(acks.toArray(CompletableFuture[]::new)).get(30, TimeUnit.SECONDS);
        await().atMost(Duration.ofSeconds(30)).until(() -> got.size() == count);
    }

    @Test
    void publishFailsFastWhenNotConnectedAndCloseIsIdempotent() throws Exception {
        Transport t = transport("cl-node");
        assertThatThrownBy(() -> t.publish("cl/x", utf8("x"), false).get(1, TimeUnit.SECONDS))
                .hasCauseInstanceOf(RetriableException.class);
        t.start();
        t.publish("cl/x", utf8("x"), false).get(5, TimeUnit.SECONDS);
        t.close();
        t.close();
        assertThat(t.isConnected()).isFalse();
        assertThatThrownBy(() -> t.publish("cl/x", utf8("x"), false).get(1, TimeUnit.SECONDS))
                .hasCauseInstanceOf(RetriableException.class);
        assertThatThrownBy(t::start).isInstanceOf(IllegalStateException.class);
    }

    /**
     * A round trip over a WebSocket. Not a test of the contract itself: only the brokers with a WebSocket listener
     * (Mosquitto here) call it from a test of their own, so no test is ever skipped.
     */
    void assertRoundTripOverAWebSocket(String webSocketUri) throws Exception {
        Transport a = transport(TransportOptions.of(List.of(webSocketUri), id("ws-a")));
        Transport b = transport("ws-b");
        Inbox inbox = new Inbox(true);
        b.subscribe("ws/#", inbox);
        b.start();
        a.start();
        a.publish("ws/x", utf8("over a websocket"), false).get(5, TimeUnit.SECONDS);
        await().until(() -> inbox.size() == 1);
        assertThat(inbox.payloads()).containsExactly("over a websocket");
        assertThat(a.currentBroker()).startsWith("ws://");
    }

    private static String last(Inbox inbox) {
        List<String> p = inbox.payloads();
        return p.isEmpty() ? "" : p.get(p.size() - 1);
    }

    /** @return the retained presence a newcomer sees */
    private String retainedPresence(String topic) throws InterruptedException {
        Transport newcomer = Transports.open(
                TransportOptions.of(List.of(brokerUri()), id("pr-newcomer-" + System.nanoTime()))
                        .withPresence("pr-other/newcomer", utf8("on"), utf8("off")).withClient(client()));
        try {
            Inbox inbox = new Inbox(true);
            newcomer.subscribe(topic, inbox);
            newcomer.start();
            await().atMost(Duration.ofSeconds(10)).until(() -> inbox.size() >= 1);
            assertThat(inbox.get(0).retained()).isTrue();
            return inbox.payloads().get(0);
        } finally {
            newcomer.close();
        }
    }
}
