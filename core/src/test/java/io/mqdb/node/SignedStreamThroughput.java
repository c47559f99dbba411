package io.mqdb.node;

import io.mqdb.signing.Keys;
import io.mqdb.spi.Row;
import io.mqdb.testkit.Items;
import io.mqdb.testkit.TestCluster;
import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.KeyPair;
import java.util.ArrayList;
import java.util.List;

/**
 * A stream through two whole nodes over the in-memory broker and stores (capture, encode, outbox with its fsyncs,
 * publish, decode, last-writer-wins apply, version index), with and without {@code node.signing}: changes per second
 * of wall time from the first write to the last change applied on the subscriber, and the process's CPU seconds.
 * Node a writes {@code shop:items} through the embedding API in transactions of 500 rows (batch size 500), node b
 * applies. Not a test: run it by hand ({@code java -cp <core test class path> io.mqdb.node.SignedStreamThroughput
 * [changes] [rounds]}; {@code docs/security.md}, "What signing costs", has the figures).
 */
public final class SignedStreamThroughput {
    private SignedStreamThroughput() {
    }

    public static void main(String[] args) throws Exception {
        int changes = args.length > 0 ? Integer.parseInt(args[0]) : 100_000;
        int rounds = args.length > 1 ? Integer.parseInt(args[1]) : 3;
        for (int round = 0; round < rounds; round++) {
            for (boolean signed : new boolean[] {false, true}) {
                double[] r = run(changes, signed);
                System.out.printf("round %d, %s: %,.0f changes/s (%,d changes in %.2f s), %.2f CPU-s of the "
                        + "process%n", round, signed ? "signed  " : "unsigned", changes / r[0], changes, r[0], r[1]);
            }
        }
        System.exit(0);
    }

    private static double[] run(int changes, boolean signed) throws Exception {
        Path dir = Files.createTempDirectory("mqdb-signed-stream");
        String settings = "";
        if (signed) {
            KeyPair a = Keys.generate();
            KeyPair b = Keys.generate();
            Files.writeString(dir.resolve("a.key"), Keys.pem(a.getPrivate()));
            Files.writeString(dir.resolve("b.key"), Keys.pem(b.getPrivate()));
            Files.writeString(dir.resolve("trust.txt"), "a: " + Keys.text(a.getPublic()) + "\nb: "
                    + Keys.text(b.getPublic()) + "\n");
            for (String k : List.of("a.key", "b.key")) {
                Files.setPosixFilePermissions(dir.resolve(k), PosixFilePermissions.fromString("rw-------"));
            }
            settings = "signing: { key-file: \"%s\", trust-file: \"%s\" }";
        }
        com.sun.management.OperatingSystemMXBean os =
                (com.sun.management.OperatingSystemMXBean) ManagementFactory.getOperatingSystemMXBean();
        try (TestCluster cluster = new TestCluster(dir)) {
            cluster.store("a").open().ensureTable(Items.SCHEMA);
            MqdbNode a = cluster.start("a", settings.isEmpty() ? "" : settings.formatted(dir.resolve("a.key"),
                    dir.resolve("trust.txt")), "[ { name: shop:items, store: local, publish: true } ]");
            MqdbNode b = cluster.start("b", settings.isEmpty() ? "" : settings.formatted(dir.resolve("b.key"),
                    dir.resolve("trust.txt")), "[ { name: shop:items, store: local, subscribe: true } ]");
            long cpu0 = os.getProcessCpuTime();
            long t0 = System.nanoTime();
            LocalTable items = a.table(Items.CHANNEL);
            for (int from = 1; from <= changes; from += 500) {
                List<Row> rows = new ArrayList<>(500);
                for (long id = from; id < from + 500 && id <= changes; id++) {
                    rows.add(Items.item(id, "item " + id));
                }
                items.upsert(rows);
            }
            // the measured work runs on the nodes' threads; this one only watches the counter
            org.awaitility.Awaitility.await().atMost(java.time.Duration.ofMinutes(10))
                    .pollInterval(java.time.Duration.ofMillis(5)).pollDelay(java.time.Duration.ZERO)
                    .until(() -> b.metrics().applied.sum() >= changes);
            double wall = (System.nanoTime() - t0) / 1e9;
            double cpu = (os.getProcessCpuTime() - cpu0) / 1e9;
            if (b.metrics().signatureRefused.sum() != 0 || b.metrics().deadLetters.sum() != 0) {
                throw new IllegalStateException("refused or dead-lettered: " + b.metrics());
            }
            return new double[] {wall, cpu};
        }
    }
}
