package io.mqdb.transport;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.mqdb.broker.HiveMqEmbeddedBroker;
import io.mqdb.testing.MosquittoServer;
import io.mqdb.testing.ServerFixture;
import java.lang.management.ManagementFactory;
import java.lang.management.ThreadInfo;
import java.lang.management.ThreadMXBean;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Prints QoS 1 throughput and the subscriber's CPU per message for both client libraries on mqdb's own message
 * sizes (a 500-row batch is about 163 KB; 2 KB for small batches): one publisher and one subscriber of the same
 * library through one broker, the subscriber acking each message on its callback thread. The subscriber's CPU is the
 * sum over its own threads (names carry its client id: Paho's {@code MQTT Rec/Call/Snd}, the HiveMQ transport's
 * {@code mqdb-mqtt-netty/callback}). Asserts only that every message arrived (some may come twice after a
 * reconnect).
 *
 * <p>{@code -Dmqdb.probe.scale=N} multiplies the message counts (default 1: 400 large and 4,000 small messages),
 * {@code -Dmqdb.probe.rounds=N} repeats each case and prints the median (default 1),
 * {@code -Dmqdb.probe.clients=hivemq} limits the libraries, {@code -Dmqdb.probe.receiveMaximum=N} sets the
 * subscriber's (default 1000). docs/mqtt.md has the figures.
 */
class ThroughputProbeIT {
    private static final int LARGE_BYTES = 163_000;
    private static final int SMALL_BYTES = 2_048;
    private static final int SCALE = Integer.getInteger("mqdb.probe.scale", 1);
    private static final int ROUNDS = Integer.getInteger("mqdb.probe.rounds", 1);
    private static final int RECEIVE_MAXIMUM = Integer.getInteger("mqdb.probe.receiveMaximum", 1000);
    private static final String CLIENTS = System.getProperty("mqdb.probe.clients", "hivemq,paho");

    @TempDir
    Path dir;

    @Test
    void probeEmbeddedHiveMq() throws Exception {
        try (HiveMqEmbeddedBroker broker =
                new HiveMqEmbeddedBroker("127.0.0.1", ServerFixture.freePort(), dir, 1_000_000)) {
            broker.start();
            probeAll("embedded HiveMQ CE (file persistence)", broker.uri());
        }
    }

    @Test
    void probeMosquitto() throws Exception {
        probeAll("mosquitto (max_inflight_messages 1000)", MosquittoServer.shared().uri());
    }

    private static void probeAll(String broker, String uri) throws Exception {
        for (ClientLibrary client : ClientLibrary.values()) {
            if (!CLIENTS.contains(client.configName())) {
                continue;
            }
            probe(broker, uri, client, LARGE_BYTES, 40, 400 * SCALE);
            probe(broker, uri, client, SMALL_BYTES, 400, 4_000 * SCALE);
        }
    }

    private static void probe(String broker, String uri, ClientLibrary client, int bytes, int warmUp, int count)
            throws Exception {
        probeOnce(uri, client, bytes, warmUp);
        double[] rates = new double[ROUNDS];
        double[] cpu = new double[ROUNDS];
        for (int r = 0; r < ROUNDS; r++) {
            double[] m = probeOnce(uri, client, bytes, count);
            rates[r] = m[0];
            cpu[r] = m[1];
        }
        Arrays.sort(rates);
        Arrays.sort(cpu);
        double rate = rates[ROUNDS / 2];
        System.out.printf("PROBE | %s | %s (receive maximum %d) | %d B | %d msgs x %d | %.0f msg/s | %.1f MB/s"
                + " | %.3f ms CPU/msg |%n", broker, client.configName(), RECEIVE_MAXIMUM, bytes, count, ROUNDS, rate,
                rate * bytes / 1e6, cpu[ROUNDS / 2]);
    }

    /** @return {messages per second from the first publish to the last delivery, subscriber CPU ms per message} */
    private static double[] probeOnce(String uri, ClientLibrary client, int bytes, int count) throws Exception {
        String prefix = "tp-" + client.configName() + "-" + Long.toString(System.nanoTime(), 36);
        String subId = prefix + "-sub";
        try (Transport pub = Transports.open(TransportOptions.of(List.of(uri), prefix + "-pub").withClient(client));
                Transport sub = Transports.open(TransportOptions.of(List.of(uri), subId).withClient(client)
                        .withFlowControl(RECEIVE_MAXIMUM, 1000))) {
            AtomicInteger received = new AtomicInteger();
            sub.subscribe(prefix + "/#", m -> {
                if (m.payload().length == bytes) {
                    received.incrementAndGet();
                }
                m.ack();
            });
            sub.start();
            pub.start();
            byte[] payload = new byte[bytes];
            Arrays.fill(payload, (byte) 'x');
            long cpu0 = threadCpuNanos(subId);
            long t0 = System.nanoTime();
            List<CompletableFuture<Void>> acks = new ArrayList<>(count);
            for (int i = 0; i < count; i++) {
                acks.add(pub.publish(prefix + "/t", payload, false));
            }
            CompletableFuture.allOf(acks.toArray(CompletableFuture[]::new)).get(300, TimeUnit.SECONDS);
            await().atMost(Duration.ofSeconds(300)).pollInterval(Duration.ofMillis(10))
                    .until(() -> received.get() >= count);
            long elapsed = System.nanoTime() - t0;
            long cpu = threadCpuNanos(subId) - cpu0;
            // more than count: redelivered after a reconnect (Mosquitto 2.0.11 can overrun the receive maximum)
            assertThat(received.get()).isGreaterThanOrEqualTo(count);
            return new double[] {count / (elapsed / 1e9), cpu / 1e6 / count};
        }
    }

    /** @return the CPU time so far of the live threads whose name contains {@code clientId} */
    private static long threadCpuNanos(String clientId) {
        ThreadMXBean threads = ManagementFactory.getThreadMXBean();
        long sum = 0;
        for (ThreadInfo info : threads.getThreadInfo(threads.getAllThreadIds())) {
            if (info != null && info.getThreadName().contains(clientId)) {
                long t = threads.getThreadCpuTime(info.getThreadId());
                if (t > 0) {
                    sum += t;
                }
            }
        }
        return sum;
    }
}
