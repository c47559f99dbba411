package io.mqdb.broker;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.mqdb.config.EmbeddedBrokerConfig;
import io.mqdb.testing.ServerFixture;
import io.mqdb.transport.InboundMessage;
import io.mqdb.transport.PahoTransport;
import io.mqdb.transport.TransportOptions;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * How many QoS 1 messages the embedded HiveMQ keeps in flight to a subscriber of one topic that acknowledges late,
 * like a node's applier that acks a batch after its commit: the subscriber acks everything it holds every
 * {@value #COMMIT_MS} ms, and drains a backlog queued while it was away (the catch-up case). Prints msg/s and the most
 * messages it held unacknowledged for each in-flight window; asserts that the window is never exceeded and that every
 * message arrives.
 */
class EmbeddedBrokerInflightProbeIT {
    private static final long COMMIT_MS = 10;

    @TempDir
    Path dir;

    @Test
    void aLateAckingSubscriberGetsUpToTheWindowInFlight() throws Exception {
        probe(50, 2_048, 1_000, false); // warm-up: JIT, class loading; not a figure
        for (int payload : new int[] {2_048, 165_000}) {
            int messages = payload > 10_000 ? 150 : 2_000;
            for (int window : new int[] {50, 100, 1_000}) {
                probe(window, payload, messages, true);
            }
        }
    }

    /**
     * The subscriber's session is made, it leaves, {@code messages} are published and queued, then it comes back: the
     * figure is how fast the broker drains that backlog to a subscriber that acks every {@value #COMMIT_MS} ms.
     */
    private void probe(int window, int payloadBytes, int messages, boolean print) throws Exception {
        int port = ServerFixture.freePort();
        EmbeddedBrokerConfig config = EmbeddedBrokerConfig.of("127.0.0.1", port, dir.resolve("w" + window + "-"
                + payloadBytes)).withMaxInflightMessages(window).withMaxQueuedMessages(messages);
        String uri = "tcp://127.0.0.1:" + port;
        ScheduledExecutorService committer = Executors.newSingleThreadScheduledExecutor();
        try (HiveMqEmbeddedBroker broker = new HiveMqEmbeddedBroker(config);
                PahoTransport pub = new PahoTransport(TransportOptions.of(List.of(uri), "probe-pub"));
                PahoTransport sub = new PahoTransport(TransportOptions.of(List.of(uri), "probe-sub"))) {
            broker.start();
            ConcurrentLinkedQueue<InboundMessage> held = new ConcurrentLinkedQueue<>();
            AtomicInteger holding = new AtomicInteger();
            AtomicInteger mostHeld = new AtomicInteger();
            AtomicInteger received = new AtomicInteger();
            sub.subscribe("probe/t", m -> {
                held.add(m);
                mostHeld.accumulateAndGet(holding.incrementAndGet(), Math::max);
                received.incrementAndGet();
            });
            try (PahoTransport once = new PahoTransport(TransportOptions.of(List.of(uri), "probe-sub"))) {
                once.subscribe("probe/t", m -> { });
                once.start(); // the session and its subscription stay after close
            }
            pub.start();
            byte[] payload = new byte[payloadBytes];
            List<CompletableFuture<Void>> acks = new ArrayList<>(messages);
            for (int i = 0; i < messages; i++) {
                acks.add(pub.publish("probe/t", payload, false));
            }
            CompletableFuture.allOf(acks.toArray(CompletableFuture[]::new)).get(120, TimeUnit.SECONDS);
            // the "commit": every COMMIT_MS the subscriber acknowledges what it holds
            committer.scheduleWithFixedDelay(() -> {
                for (InboundMessage m = held.poll(); m != null; m = held.poll()) {
                    holding.decrementAndGet();
                    m.ack();
                }
            }, COMMIT_MS, COMMIT_MS, TimeUnit.MILLISECONDS);
            long t0 = System.nanoTime();
            sub.start();
            await().atMost(Duration.ofSeconds(120)).until(() -> received.get() >= messages);
            double seconds = (System.nanoTime() - t0) / 1e9;
            if (print) {
                System.out.printf("INFLIGHT window %d, backlog of %d x %d B, acks every %d ms: %.0f msg/s, at most %d"
                        + " unacknowledged%n", window, messages, payloadBytes, COMMIT_MS, messages / seconds,
                        mostHeld.get());
            }
            assertThat(received.get()).isEqualTo(messages);
            assertThat(mostHeld.get()).isLessThanOrEqualTo(window);
        } finally {
            committer.shutdownNow();
        }
    }
}
