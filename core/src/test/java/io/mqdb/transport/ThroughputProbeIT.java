package io.mqdb.transport;

import static org.awaitility.Awaitility.await;

import io.mqdb.broker.HiveMqEmbeddedBroker;
import io.mqdb.testing.MosquittoServer;
import io.mqdb.testing.ServerFixture;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Prints QoS 1 throughput (20k messages of 2 KB, publisher and subscriber through one broker); asserts nothing. */
class ThroughputProbeIT {
    private static final int MESSAGES = 20_000;
    private static final int PAYLOAD_BYTES = 2_048;

    @TempDir
    Path dir;

    @Test
    void probeEmbeddedHiveMq() throws Exception {
        try (HiveMqEmbeddedBroker broker =
                new HiveMqEmbeddedBroker("127.0.0.1", ServerFixture.freePort(), dir, 1_000_000)) {
            broker.start();
            probe("embedded HiveMQ (file persistence)", broker.uri());
        }
    }

    @Test
    void probeMosquitto() throws Exception {
        probe("mosquitto", MosquittoServer.shared().uri());
    }

    private static void probe(String name, String uri) throws Exception {
        String prefix = "tp-" + System.nanoTime();
        try (PahoTransport pub = new PahoTransport(TransportOptions.of(List.of(uri), prefix + "-pub"));
                PahoTransport sub = new PahoTransport(TransportOptions.of(List.of(uri), prefix + "-sub"))) {
            AtomicInteger received = new AtomicInteger();
            sub.subscribe(prefix + "/#", m -> {
                m.ack();
                received.incrementAndGet();
            });
            sub.start();
            pub.start();
            byte[] payload = new byte[PAYLOAD_BYTES];
            long t0 = System.nanoTime();
            List<CompletableFuture<Void>> acks = new ArrayList<>(MESSAGES);
            for (int i = 0; i < MESSAGES; i++) {
                acks.add(pub.publish(prefix + "/t", payload, false));
            }
            CompletableFuture.allOf(acks.toArray(CompletableFuture[]::new)).get(120, TimeUnit.SECONDS);
            long published = System.nanoTime() - t0;
            await().atMost(Duration.ofSeconds(120)).until(() -> received.get() >= MESSAGES);
            long delivered = System.nanoTime() - t0;
            System.out.printf("THROUGHPUT %s: %d x %d B QoS 1: published (all PUBACKs) %.0f msg/s, delivered and"
                    + " acked %.0f msg/s (%d ms), received %d%n", name, MESSAGES, PAYLOAD_BYTES,
                    MESSAGES / (published / 1e9), MESSAGES / (delivered / 1e9),
                    TimeUnit.NANOSECONDS.toMillis(delivered), received.get());
        }
    }
}
