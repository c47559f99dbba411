package io.mqdb.distribution.bench;

import com.google.gson.GsonBuilder;
import io.mqdb.config.ConfigLoader;
import io.mqdb.distribution.SqlToRedis;
import io.mqdb.node.MqdbNode;
import io.mqdb.node.StoreSet;
import io.mqdb.plugin.PluginRegistry;
import io.mqdb.testing.PostgresServer;
import io.mqdb.testing.RedisServer;
import io.mqdb.testing.ServerFixture;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.time.Instant;
import java.time.LocalDate;
import java.time.LocalDateTime;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Random;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;
import java.util.function.LongSupplier;
import redis.clients.jedis.Jedis;
import redis.clients.jedis.JedisPubSub;
import redis.clients.jedis.Pipeline;

/**
 * PostgreSQL → Redis benchmark, one run (see {@code scripts/bench-redis.sh} and docs/adapters/redis.md,
 * "Benchmarks"): raw pipelined Jedis {@code HSET} on the same Redis as the ceiling; the initial load of a table of
 * {@code --rows} rows; steady-state sync of SQL inserts; change-to-Redis latency at a fixed rate; the JVM's RSS.
 * Both nodes, the embedded broker and the SQL clients run in this JVM; adapters come from the tarball's plugins.
 *
 * <p>Options: {@code --home DIR} (an unpacked tarball, required), {@code --rows N} (initial load, default 1,000,000),
 * {@code --quick} (100,000 rows and shorter phases), {@code --steady-rows N}, {@code --rate N} (rows/s for the latency
 * phase, default 2,000), {@code --latency-seconds N}, {@code --out DIR} (default {@code bench-results}),
 * {@code --batch-size N} (the channels' batch size, default 1,000), {@code --poll-interval D} (the jdbc store's
 * {@code poll-interval}, default the adapter's).
 */
public final class RedisSyncBench {
    private static final String INSERT = "INSERT INTO shop.orders (" + SqlToRedis.COLUMNS
            + ") VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?::jsonb)";

    private final Map<String, Object> results = new LinkedHashMap<>();
    private long nextId;
    private int batchSize;
    private String pollInterval;

    private RedisSyncBench() {
    }

    public static void main(String[] args) throws Exception {
        Map<String, String> opt = parse(args);
        boolean quick = opt.containsKey("quick");
        Path home = Path.of(require(opt, "home"));
        long rows = Long.parseLong(opt.getOrDefault("rows", quick ? "100000" : "1000000"));
        long steadyRows = Long.parseLong(opt.getOrDefault("steady-rows", quick ? "100000" : "300000"));
        int rate = Integer.parseInt(opt.getOrDefault("rate", "2000"));
        int latencySeconds = Integer.parseInt(opt.getOrDefault("latency-seconds", quick ? "15" : "30"));
        Path out = Path.of(opt.getOrDefault("out", "bench-results"));
        RedisSyncBench bench = new RedisSyncBench();
        bench.batchSize = Integer.parseInt(opt.getOrDefault("batch-size", "1000"));
        bench.pollInterval = opt.get("poll-interval");
        bench.run(home, rows, steadyRows, rate, latencySeconds, out, quick);
        System.exit(0); // the embedded broker leaves non-daemon threads behind
    }

    private void run(Path home, long rows, long steadyRows, int rate, int latencySeconds, Path out, boolean quick)
            throws Exception {
        SqlToRedis.quietLogs();
        ((ch.qos.logback.classic.Logger) org.slf4j.LoggerFactory.getLogger(org.slf4j.Logger.ROOT_LOGGER_NAME))
                .setLevel(ch.qos.logback.classic.Level.WARN);
        results.put("date", Instant.now().toString());
        results.put("mode", quick ? "quick" : "full");
        results.put("batch_size", batchSize);
        results.put("jdbc_poll_interval", pollInterval == null ? "default (200ms)" : pollInterval);
        results.put("cpus", Runtime.getRuntime().availableProcessors());
        results.put("load_average_before", loadAverage());
        results.put("jvm", System.getProperty("java.vm.name") + " " + System.getProperty("java.version"));

        PostgresServer pg = PostgresServer.shared();
        String url = pg.createDatabase("bench");
        RedisServer redis = RedisServer.startPrivate();
        try (Jedis jedis = new Jedis(redis.host(), redis.port())) {
            results.put("redis_version", jedis.info("server").lines().filter(l -> l.startsWith("redis_version:"))
                    .findFirst().orElse("?").substring("redis_version:".length()));

            // 1. the ceiling: raw pipelined HSET of the same rows, 1,000 per round trip, best of 3 rounds
            long rawRows = Math.min(200_000, Math.max(50_000, rows));
            double raw = 0;
            for (int round = 0; round < 3; round++) {
                raw = Math.max(raw, rawHset(jedis, rawRows));
                jedis.flushAll();
            }
            results.put("raw_hset_rows_per_s", Math.round(raw));
            System.out.printf("raw pipelined HSET: %,.0f rows/s (%,d rows, best of 3)%n", raw, rawRows);

            // 2. the initial load of a legacy table
            try (Connection c = DriverManager.getConnection(url, pg.user(), pg.password())) {
                SqlToRedis.createTable(c);
                long t0 = System.nanoTime();
                SqlToRedis.copyRows(c, 1, rows);
                System.out.printf("COPY %,d rows into PostgreSQL: %.1f s%n", rows, secondsSince(t0));
            }
            nextId = rows + 1;
            PluginRegistry plugins = PluginRegistry.load(Optional.of(home.resolve("plugins")),
                    RedisSyncBench.class.getClassLoader());
            Path dir = Files.createTempDirectory("mqdb-bench");
            int port = ServerFixture.freePort();
            MqdbNode redisNode = start(dir.resolve("redis-node.yaml"), """
                    node: { name: redis-node, data-dir: redis-data }
                    broker: { embedded: { port: %d, data-dir: broker } }
                    stores: { cache: { type: redis, uri: "%s", key-patterns: { "shop:orders": "order:{id}" } } }
                    channels: [ { name: shop:orders, store: cache, subscribe: true, batch-size: %d } ]
                    """.formatted(port, redis.uri(), batchSize), plugins);
            long t0 = System.nanoTime();
            MqdbNode pgNode = start(dir.resolve("pg-node.yaml"), """
                    node: { name: pg-node, data-dir: pg-data }
                    broker: { uris: [ "tcp://127.0.0.1:%d" ] }
                    stores: { legacy: { type: jdbc, url: "%s", username: %s%s } }
                    channels: [ { name: shop:orders, store: legacy, publish: true, batch-size: %d } ]
                    """.formatted(port, url, pg.user(), pollInterval == null ? "" : ", poll-interval: " + pollInterval,
                    batchSize), plugins);
            LongSupplier applied = () -> redisNode.metrics().applied.sum();
            awaitCount(() -> pgNode.metrics().snapshotRows.sum(), rows, 1800, redisNode, pgNode);
            double published = secondsSince(t0);
            awaitCount(applied, rows, 1800, redisNode, pgNode);
            double loadSeconds = secondsSince(t0);
            results.put("initial_load_rows", rows);
            results.put("initial_load_seconds", round1(loadSeconds));
            results.put("initial_load_rows_per_s", Math.round(rows / loadSeconds));
            results.put("initial_load_publish_seconds", round1(published));
            System.out.printf("initial load: %,d rows in Redis after %.1f s (%,.0f rows/s; publisher done after"
                    + " %.1f s)%n", rows, loadSeconds, rows / loadSeconds, published);
            results.put("rss_after_initial_load_mb", rssMb("VmRSS"));

            // 3. steady state: two SQL clients insert as fast as they can, in transactions of 1,000 rows
            long base = applied.getAsLong();
            long s0 = System.nanoTime();
            double sqlSeconds = insertBurst(url, pg, steadyRows);
            awaitCount(applied, base + steadyRows, 1800, redisNode, pgNode);
            double steadySeconds = secondsSince(s0);
            results.put("steady_rows", steadyRows);
            results.put("steady_sql_insert_rows_per_s", Math.round(steadyRows / sqlSeconds));
            results.put("steady_rows_per_s", Math.round(steadyRows / steadySeconds));
            System.out.printf("steady state: %,d SQL inserts (%,.0f rows/s on the SQL side) in Redis after %.1f s"
                    + " (%,.0f rows/s)%n", steadyRows, steadyRows / sqlSeconds, steadySeconds,
                    steadyRows / steadySeconds);

            // 4. latency at a fixed rate: placed_at is set at insert time; keyspace notifications tell when it lands
            latency(url, pg, redis, rate, latencySeconds);

            results.put("rss_mb", rssMb("VmRSS"));
            results.put("rss_peak_mb", rssMb("VmHWM"));
            results.put("load_average_after", loadAverage());
            results.put("pg_node", pgNode.metrics().toString());
            results.put("redis_node", redisNode.metrics().toString());
            pgNode.close();
            redisNode.close();
        } finally {
            redis.close();
        }
        report(out);
    }

    private static MqdbNode start(Path file, String yaml, PluginRegistry plugins) throws Exception {
        Files.writeString(file, yaml);
        return MqdbNode.start(ConfigLoader.load(file, StoreSet.checker(plugins)), plugins);
    }

    private static double rawHset(Jedis jedis, long rows) {
        Random r = new Random(1);
        long t0 = System.nanoTime();
        Pipeline p = jedis.pipelined();
        for (long id = 1; id <= rows; id++) {
            Object[] v = SqlToRedis.values(id, r);
            Map<String, String> h = new LinkedHashMap<>();
            String[] names = SqlToRedis.COLUMNS.split(", ");
            for (int i = 0; i < v.length; i++) {
                if (v[i] != null) {
                    h.put(names[i], v[i].toString());
                }
            }
            p.hset(SqlToRedis.KEY_PREFIX + id, h);
            if (id % 1000 == 0) {
                p.sync();
            }
        }
        p.sync();
        return rows / secondsSince(t0);
    }

    /** Inserts rows from two connections, each in transactions of 1,000 rows (one JDBC batch each). */
    private double insertBurst(String url, PostgresServer pg, long rows) throws Exception {
        long first = nextId;
        nextId += rows;
        ExecutorService pool = Executors.newFixedThreadPool(2);
        long t0 = System.nanoTime();
        try {
            List<Future<?>> fs = new ArrayList<>();
            for (int w = 0; w < 2; w++) {
                int writer = w;
                fs.add(pool.submit(() -> {
                    try (Connection c = DriverManager.getConnection(url + "?reWriteBatchedInserts=true", pg.user(),
                            pg.password()); PreparedStatement ps = c.prepareStatement(INSERT)) {
                        c.setAutoCommit(false);
                        Random r = new Random(writer);
                        int n = 0;
                        for (long id = first + writer; id < first + rows; id += 2) {
                            bind(ps, id, r, null);
                            ps.addBatch();
                            if (++n % 1000 == 0) {
                                ps.executeBatch();
                                c.commit();
                            }
                        }
                        ps.executeBatch();
                        c.commit();
                    }
                    return null;
                }));
            }
            for (Future<?> f : fs) {
                f.get();
            }
        } finally {
            pool.shutdown();
        }
        return secondsSince(t0);
    }

    private static void bind(PreparedStatement ps, long id, Random r, LocalDateTime at) throws Exception {
        Object[] v = SqlToRedis.values(id, r);
        if (at != null) {
            v[5] = at;
        }
        for (int i = 0; i < v.length; i++) {
            ps.setObject(i + 1, v[i]);
        }
    }

    private void latency(String url, PostgresServer pg, RedisServer redis, int rate, int seconds) throws Exception {
        Map<Long, Long> landed = new ConcurrentHashMap<>();
        Jedis sub = new Jedis(redis.host(), redis.port());
        try (Jedis admin = new Jedis(redis.host(), redis.port())) {
            admin.configSet("notify-keyspace-events", "Kh");
        }
        JedisPubSub listener = new JedisPubSub() {
            @Override
            public void onPMessage(String pattern, String channel, String message) {
                long now = System.nanoTime();
                String key = channel.substring(channel.indexOf(':', "__keyspace@".length()) + 1);
                landed.putIfAbsent(Long.parseLong(key.substring(SqlToRedis.KEY_PREFIX.length())), now);
            }
        };
        Thread t = new Thread(() -> sub.psubscribe(listener, "__keyspace@0__:" + SqlToRedis.KEY_PREFIX + "*"),
                "bench-keyspace");
        t.setDaemon(true);
        t.start();
        while (!listener.isSubscribed()) {
            LockSupport.parkNanos(1_000_000);
        }
        long total = (long) rate * seconds;
        long first = nextId;
        nextId += total;
        long[] insertedAt = new long[(int) total];
        long periodNs = 1_000_000_000L * 2 / rate; // two clients, each at half the rate
        ExecutorService pool = Executors.newFixedThreadPool(2);
        long t0 = System.nanoTime() + 50_000_000L;
        List<Future<?>> fs = new ArrayList<>();
        for (int w = 0; w < 2; w++) {
            int writer = w;
            fs.add(pool.submit(() -> {
                try (Connection c = DriverManager.getConnection(url, pg.user(), pg.password());
                     PreparedStatement ps = c.prepareStatement(INSERT)) {
                    Random r = new Random(100 + writer);
                    for (int i = writer; i < total; i += 2) {
                        long due = t0 + (i / 2) * periodNs;
                        long wait = due - System.nanoTime();
                        if (wait > 0) {
                            LockSupport.parkNanos(wait);
                        }
                        Instant now = Instant.now();
                        insertedAt[i] = System.nanoTime();
                        bind(ps, first + i, r, LocalDateTime.ofInstant(now, ZoneOffset.UTC)); // placed_at = now
                        ps.executeUpdate();
                    }
                }
                return null;
            }));
        }
        for (Future<?> f : fs) {
            f.get();
        }
        pool.shutdown();
        double sent = (System.nanoTime() - t0) / 1e9;
        long deadline = System.nanoTime() + 30_000_000_000L;
        while (landed.size() < total && System.nanoTime() < deadline) {
            LockSupport.parkNanos(10_000_000);
        }
        listener.punsubscribe();
        List<Long> ms = new ArrayList<>();
        int warmup = rate * 2; // the first two seconds warm up
        int missing = 0;
        for (int i = warmup; i < total; i++) {
            Long at = landed.get(first + i);
            if (at == null) {
                missing++;
            } else {
                ms.add(at - insertedAt[i]);
            }
        }
        long[] sorted = ms.stream().mapToLong(Long::longValue).sorted().toArray();
        results.put("latency_rate_rows_per_s", rate);
        results.put("latency_achieved_rows_per_s", Math.round(total / sent));
        results.put("latency_samples", sorted.length);
        results.put("latency_missing", missing);
        results.put("latency_p50_ms", round1(pct(sorted, 50)));
        results.put("latency_p95_ms", round1(pct(sorted, 95)));
        results.put("latency_p99_ms", round1(pct(sorted, 99)));
        results.put("latency_max_ms", round1(sorted.length == 0 ? 0 : sorted[sorted.length - 1] / 1e6));
        System.out.printf("latency at %,d rows/s (achieved %,.0f) over %d s: p50 %.1f ms, p95 %.1f ms, p99 %.1f ms,"
                + " max %.1f ms, %d samples, %d missing%n", rate, total / sent, seconds, pct(sorted, 50),
                pct(sorted, 95), pct(sorted, 99), sorted.length == 0 ? 0 : sorted[sorted.length - 1] / 1e6,
                sorted.length, missing);
    }

    private static double pct(long[] sorted, int p) {
        if (sorted.length == 0) {
            return Double.NaN;
        }
        int i = (int) Math.ceil(p / 100.0 * sorted.length) - 1;
        return sorted[Math.max(0, Math.min(sorted.length - 1, i))] / 1e6;
    }

    private static void awaitCount(LongSupplier count, long target, int maxSeconds, MqdbNode... nodes) {
        long deadline = System.nanoTime() + maxSeconds * 1_000_000_000L;
        while (count.getAsLong() < target) {
            for (MqdbNode n : nodes) {
                n.failure().ifPresent(e -> {
                    throw new IllegalStateException("node failed", e);
                });
            }
            if (System.nanoTime() > deadline) {
                throw new IllegalStateException("timed out at " + count.getAsLong() + " of " + target);
            }
            LockSupport.parkNanos(5_000_000);
        }
    }

    private void report(Path out) throws Exception {
        Files.createDirectories(out);
        Path file = out.resolve("redis-" + LocalDate.now(ZoneOffset.UTC) + ".json");
        results.put("file", file.toString());
        Files.writeString(file, new GsonBuilder().setPrettyPrinting().disableHtmlEscaping().create().toJson(results) + "\n");
        double raw = ((Number) results.get("raw_hset_rows_per_s")).doubleValue();
        System.out.println();
        System.out.printf("%-44s %14s %12s %10s%n", "measure", "value", "of raw HSET", "target");
        row("raw pipelined Jedis HSET", results.get("raw_hset_rows_per_s") + " rows/s", 1.0, "");
        row("initial load (" + results.get("initial_load_rows") + " rows)",
                results.get("initial_load_rows_per_s") + " rows/s",
                ((Number) results.get("initial_load_rows_per_s")).doubleValue() / raw, ">= 120000");
        row("steady-state sync (" + results.get("steady_rows") + " SQL inserts)",
                results.get("steady_rows_per_s") + " rows/s",
                ((Number) results.get("steady_rows_per_s")).doubleValue() / raw, ">= 50000");
        row("  SQL side alone (2 clients, triggers)", results.get("steady_sql_insert_rows_per_s") + " rows/s",
                ((Number) results.get("steady_sql_insert_rows_per_s")).doubleValue() / raw, "");
        row("latency p50 at " + results.get("latency_rate_rows_per_s") + " rows/s",
                results.get("latency_p50_ms") + " ms", Double.NaN, "<= 10 ms");
        row("latency p95", results.get("latency_p95_ms") + " ms", Double.NaN, "");
        row("latency p99", results.get("latency_p99_ms") + " ms", Double.NaN, "<= 25 ms");
        row("JVM RSS now / peak (both nodes, broker)", results.get("rss_mb") + " / " + results.get("rss_peak_mb")
                + " MB", Double.NaN, "");
        System.out.printf("load average before %s, after %s, %s cpus%n", results.get("load_average_before"),
                results.get("load_average_after"), results.get("cpus"));
        System.out.println("written " + file);
    }

    private static void row(String what, String value, double ratio, String target) {
        System.out.printf("%-44s %14s %12s %10s%n", what, value, Double.isNaN(ratio) ? "" :
                String.format("%.0f %%", ratio * 100), target);
    }

    private static String loadAverage() {
        try {
            return String.join(" ", Arrays.copyOf(Files.readString(Path.of("/proc/loadavg")).trim().split(" "), 3));
        } catch (Exception e) {
            return "?";
        }
    }

    private static long rssMb(String field) {
        try {
            for (String l : Files.readAllLines(Path.of("/proc/self/status"))) {
                if (l.startsWith(field + ":")) {
                    return Long.parseLong(l.replaceAll("[^0-9]", "")) / 1024;
                }
            }
        } catch (Exception e) {
            // not Linux
        }
        return -1;
    }

    private static double secondsSince(long t0) {
        return (System.nanoTime() - t0) / 1e9;
    }

    private static double round1(double v) {
        return Math.round(v * 10) / 10.0;
    }

    private static String require(Map<String, String> opt, String key) {
        String v = opt.get(key);
        if (v == null) {
            throw new IllegalArgumentException("--" + key + " is required");
        }
        return v;
    }

    private static Map<String, String> parse(String[] args) {
        Map<String, String> out = new LinkedHashMap<>();
        for (int i = 0; i < args.length; i++) {
            if (!args[i].startsWith("--")) {
                throw new IllegalArgumentException("unexpected argument " + args[i]);
            }
            String k = args[i].substring(2);
            if (k.equals("quick")) {
                out.put(k, "true");
            } else if (i + 1 < args.length) {
                out.put(k, args[++i]);
            } else {
                throw new IllegalArgumentException("--" + k + " needs a value");
            }
        }
        return out;
    }
}
