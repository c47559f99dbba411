package io.mqdb.transport;

import static io.mqdb.transport.Inbox.utf8;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.mqdb.testing.MosquittoServer;
import io.mqdb.testing.ServerFixture;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

/** Failover across the broker list and reconnection after a broker restart, against Mosquitto. */
class PahoTransportFailoverIT {

    @Test
    void connectsToTheLiveBrokerWhenTheFirstIsDead() throws Exception {
        MosquittoServer mosquitto = MosquittoServer.shared();
        String dead = "tcp://127.0.0.1:" + ServerFixture.freePort();
        try (PahoTransport t = new PahoTransport(TransportOptions.of(List.of(dead, mosquitto.uri()), "fo-live"))) {
            t.start();
            assertThat(t.isConnected()).isTrue();
            assertThat(t.currentBroker()).isEqualTo(mosquitto.uri());
            t.publish("fo/x", utf8("x"), false).get(5, TimeUnit.SECONDS);
        }
    }

    @Test
    void paho_never_uses_topic_aliases_even_when_the_broker_offers_them() throws Exception {
        // mosquitto offers 10 aliases by default; Paho would use them on its own
        try (PahoTransport t = new PahoTransport(
                TransportOptions.of(List.of(MosquittoServer.shared().uri()), "fo-alias"))) {
            t.start();
            assertThat(t.outgoingTopicAliasMaximumForTest()).isZero();
        }
    }

    @Test
    void reconnectsByItselfAfterABrokerRestartAndLosesNoAcknowledgedPublish() throws Exception {
        int count = 3_000;
        try (MosquittoServer mosquitto = MosquittoServer.startNew();
                PahoTransport pub = new PahoTransport(TransportOptions.of(List.of(mosquitto.uri()), "fo-pub"));
                PahoTransport sub = new PahoTransport(TransportOptions.of(List.of(mosquitto.uri()), "fo-sub"))) {
            Set<Integer> received = ConcurrentHashMap.newKeySet();
            sub.subscribe("fo/seq", m -> {
                received.add(Integer.parseInt(new String(m.payload(), StandardCharsets.UTF_8)));
                m.ack();
            });
            sub.start();
            pub.start();
            AtomicInteger acknowledged = new AtomicInteger();
            AtomicInteger retries = new AtomicInteger();
            ExecutorService publisher = Executors.newSingleThreadExecutor();
            Future<?> done = publisher.submit(() -> {
                for (int i = 0; i < count; i++) {
                    while (true) {
                        try {
                            pub.publish("fo/seq", utf8(Integer.toString(i)), false).get(10, TimeUnit.SECONDS);
                            acknowledged.incrementAndGet();
                            break;
                        } catch (Exception e) {
                            retries.incrementAndGet();
                            await().atMost(Duration.ofSeconds(30)).until(pub::isConnected);
                        }
                    }
                }
                return null;
            });
            await().until(() -> received.size() >= count / 4);
            mosquitto.restart();

            done.get(60, TimeUnit.SECONDS);
            publisher.shutdown();
            await().atMost(Duration.ofSeconds(30)).until(() -> received.size() == count);
            assertThat(acknowledged.get()).isEqualTo(count);
            assertThat(sub.isConnected()).isTrue();
            System.out.printf("failover: %d publishes acknowledged, %d retried after the restart, all received%n",
                    acknowledged.get(), retries.get());
        }
    }
}
