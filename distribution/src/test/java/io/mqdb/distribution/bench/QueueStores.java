package io.mqdb.distribution.bench;

import io.mqdb.node.StoreQueue;
import io.mqdb.plugin.LoadedProvider;
import io.mqdb.plugin.PluginRegistry;
import io.mqdb.spi.Store;
import io.mqdb.testing.CassandraServer;
import io.mqdb.testing.MapStoreConfig;
import io.mqdb.testing.TestStoreContext;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;

/**
 * The {@code queue-stores} workload: put and take per second of the store-backed FIFO queue ({@link StoreQueue},
 * docs/store-queue.md) on each store, with 0 entries queued and with a backlog (1,000,000 in full mode, 20,000 in
 * quick mode). One thread puts N entries of 100 bytes one at a time (a commit each), then takes N one at a time (a
 * read and a commit each), after a warm-up of N/4 of each on a queue of its own. The adapters come from the tarball's {@code plugins/}, as in a node; the servers are the
 * benchmark's own (PostgreSQL with fsync off, Redis without persistence, Cassandra with a periodic commit log), so
 * the figures are the queue's and the client's cost, not the disk's.
 */
final class QueueStores {
    private static final String W = "queue-stores";
    private static final int PAYLOAD_BYTES = 100;

    private final MqdbBench bench;
    private final Report report;
    private final boolean quick;
    private final Path work;

    QueueStores(MqdbBench bench, Report report, boolean quick, Path work) {
        this.bench = bench;
        this.report = report;
        this.quick = quick;
        this.work = work;
    }

    void run() throws Exception {
        PluginRegistry plugins = PluginRegistry.load(Optional.of(bench.home.resolve("plugins")),
                QueueStores.class.getClassLoader());
        int ops = quick ? 2_000 : 10_000;
        long backlog = quick ? 20_000 : 1_000_000;
        Map<String, Map<String, Object>> stores = new LinkedHashMap<>();
        stores.put("mapdb", Map.of());
        stores.put("jdbc", Map.of("url", bench.pg.createDatabase("bench_queue"), "username", bench.pg.user(),
                "password", bench.pg.password()));
        stores.put("redis", Map.of("uri", bench.redis.uri()));
        try {
            CassandraServer cs = CassandraServer.shared();
            stores.put("cassandra", Map.of("contact-points", List.of(cs.contactPoint()), "local-datacenter",
                    cs.localDatacenter()));
        } catch (RuntimeException e) {
            report.note(W + ": Cassandra did not start, no Cassandra figures: " + e.getMessage());
        }
        report.note(W + ": one thread, " + ops + " puts then " + ops + " takes of " + PAYLOAD_BYTES
                + "-byte entries per store and backlog; PostgreSQL runs with fsync=off, Redis without persistence");
        for (Map.Entry<String, Map<String, Object>> e : stores.entrySet()) {
            LoadedProvider p = plugins.find(e.getKey()).orElseThrow(() -> new IllegalStateException("no "
                    + e.getKey() + " adapter in " + bench.home.resolve("plugins")));
            Store store = p.call(() -> p.provider().open(new MapStoreConfig("bench", p.type(),
                    p.provider().settings(), e.getValue()), new TestStoreContext("bench",
                    work.resolve("queue-" + p.type()))));
            try {
                measure(p, store, 0, ops / 4, false); // warm-up (JIT, connections, the server's caches): not reported
                for (long queued : List.of(0L, backlog)) {
                    measure(p, store, queued, ops, true);
                }
            } finally {
                p.run(store::close);
            }
        }
    }

    private void measure(LoadedProvider p, Store store, long queued, int ops, boolean counted)
            throws InterruptedException {
        String name = "bench_" + queued + "_" + Long.toHexString(System.nanoTime() & 0xffffff);
        StoreQueue q = StoreQueue.open(store, p.loader(), name);
        byte[] payload = new byte[PAYLOAD_BYTES];
        java.util.Arrays.fill(payload, (byte) 'x');
        // Cassandra refuses logged batches over 50 KiB by default: small fill batches there
        int chunk = p.type().equals("cassandra") ? 100 : 1_000;
        long f0 = System.nanoTime();
        for (long done = 0; done < queued; ) {
            int n = (int) Math.min(chunk, queued - done);
            List<byte[]> batch = new ArrayList<>(n);
            for (int i = 0; i < n; i++) {
                batch.add(payload);
            }
            q.putAll(batch);
            done += n;
        }
        if (queued > 0) {
            double fill = queued / MqdbBench.secondsSince(f0);
            System.out.printf(Locale.ROOT, "   %s: filled %,d entries in batches of %d: %.0f entries/s%n", p.type(),
                    queued, chunk, fill);
            report.figure(W, String.format(Locale.ROOT, "%s fill, batches of %d", p.type(), chunk), fill,
                    "entries/s", "putAll, one commit per batch");
        }
        long t0 = System.nanoTime();
        for (int i = 0; i < ops; i++) {
            q.put(payload);
        }
        double puts = ops / MqdbBench.secondsSince(t0);
        long t1 = System.nanoTime();
        for (int i = 0; i < ops; i++) {
            q.take();
        }
        double takes = ops / MqdbBench.secondsSince(t1);
        if (q.size() != queued) {
            throw new IllegalStateException(p.type() + ": queue holds " + q.size() + " after the run, expected "
                    + queued);
        }
        System.out.printf(Locale.ROOT, "   %s, %,d queued%s: %.0f puts/s, %.0f takes/s%n", p.type(), queued,
                counted ? "" : " (warm-up)", puts, takes);
        if (!counted) {
            return;
        }
        String at = String.format(Locale.ROOT, "%,d queued", queued);
        report.figure(W, p.type() + " put, " + at, puts, "puts/s", "one put, one commit (entry + tail)");
        report.figure(W, p.type() + " take, " + at, takes, "takes/s", "one read + one commit (delete + head)");
    }
}
