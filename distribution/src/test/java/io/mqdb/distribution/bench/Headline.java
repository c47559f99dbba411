package io.mqdb.distribution.bench;

import io.mqdb.testing.CassandraServer;
import io.mqdb.testing.MosquittoServer;
import io.mqdb.testing.ServerFixture;
import java.math.BigDecimal;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.Statement;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.LockSupport;
import redis.clients.jedis.Jedis;
import redis.clients.jedis.JedisPubSub;
import redis.clients.jedis.Pipeline;
import redis.clients.jedis.Response;

/**
 * The headline workloads of issue 11, defined so that their figures compare with Debezium's (measured elsewhere on
 * the same definitions): the table {@code shop.orders(id, customer, amount, status, updated_at, src_us)}, two
 * {@code bin/mqdb run} nodes from the tarball (a PostgreSQL publisher with the default trigger capture, a Redis
 * subscriber that runs the embedded broker, or both on an external broker), launcher and node defaults.
 *
 * <ul>
 *   <li>{@code pg-redis-snapshot}: rows preloaded with {@code INSERT … SELECT generate_series}; from starting the
 *       publisher until every row is visible in Redis.
 *   <li>{@code pg-redis-stream} (and {@code -mosquitto}, {@code pg-cassandra-stream}): 4 JDBC writers, transactions
 *       of 50 inserts of new ids and 50 updates of the writer's own earlier ids; from the writers' release until the
 *       final state of every changed row is visible in the target.
 *   <li>{@code pg-redis-latency}: one writer, a transaction of 5 inserts and 5 updates every 5 ms; each statement
 *       carries {@code src_us}, its wall-clock stamp in µs taken just before it; latency = when the row is seen in
 *       Redis (keyspace notification, then the hash's {@code src_us} read back) − {@code src_us}.
 * </ul>
 *
 * <p>"Visible" is checked per row, never by counts: the awaiter reads back every changed row's {@code src_us} and
 * compares it with the value of the row's last change (see {@link #awaitVisible}). Every workload starts fresh node
 * processes, so {@code VmHWM} is the workload's own peak; each runs {@code --runs} times, and the report gives the
 * median with every run's value and load average.
 *
 * <p>Threads: everything runs on the caller's thread except the writers (a pool per phase, joined before the phase
 * ends) and the keyspace-notification listener of the latency workload (stopped before it returns).
 */
final class Headline {
    static final String CREATE = """
            CREATE SCHEMA IF NOT EXISTS shop;
            CREATE TABLE shop.orders (id bigint PRIMARY KEY, customer text, amount numeric(12,2), status text,
                                      updated_at timestamptz, src_us bigint)""";
    static final String KEY_PREFIX = "order:";
    private static final String CHANNEL_TOPIC = "mqdb/mqdb/ch/shop/orders";
    private static final String[] STATUS = {"new", "paid", "packed", "shipped", "delivered"};
    private static final int WRITERS = 4;
    private static final int TX_INSERTS = 50;
    private static final int TX_UPDATES = 50;

    /** A goal of the issue and Debezium's figure for the same workload (a range: its runs differed). */
    record Goal(double target, boolean atLeast, double debeziumLow, double debeziumHigh, String debeziumNote) {
    }

    static final Goal SNAPSHOT = new Goal(150_000, true, 82_000, 106_000, "");
    static final Goal STREAM = new Goal(50_000, true, 31_600, 32_700, "");
    static final Goal P50 = new Goal(5, false, 425, 425, "defaults; 8 ms with poll.interval.ms=10");
    static final Goal P99 = new Goal(20, false, 952, 952, "defaults; 21 ms with poll.interval.ms=10");
    static final Goal RSS = new Goal(300, false, 1_000, 1_460, "");

    private final MqdbBench b;
    private final Report report;
    private final boolean quick;
    private final int runs;
    private final AtomicLong seq = new AtomicLong();
    /** Median payload of mqdb's messages, recorded during the stream's warm-up; -1 until then. */
    int payloadBytes = -1;
    double eventsPerMessage = Double.NaN;
    /** The stream's median rate on the embedded broker, for the ratios of its variants. */
    double streamRate = Double.NaN;
    double rawHset = Double.NaN;

    Headline(MqdbBench b, Report report, boolean quick, int runs) {
        this.b = b;
        this.report = report;
        this.quick = quick;
        this.runs = runs;
    }

    // -------------------------------------------------------------------------------------------- runs, medians

    /** One run of a workload: its figures by name (the first is the headline figure), and the machine's load. */
    private interface Body {
        void run(Map<String, Double> figures, int run) throws Exception;
    }

    /**
     * Runs {@code body} {@code runs} times; a failed run is a note and the others still count.
     *
     * @return each successful run's figures
     */
    private List<Map<String, Double>> repeat(String workload, Body body) {
        List<Map<String, Double>> done = new ArrayList<>();
        List<Map<String, Object>> details = new ArrayList<>();
        for (int run = 1; run <= runs; run++) {
            Map<String, Double> figures = new LinkedHashMap<>();
            Map<String, Object> d = new LinkedHashMap<>();
            d.put("run", run);
            d.put("load_before", MqdbBench.loadAverage());
            long t0 = System.nanoTime();
            try {
                body.run(figures, run);
                done.add(figures);
            } catch (Exception | Error e) {
                e.printStackTrace();
                report.note(workload + " run " + run + ": failed: " + e);
                d.put("failed", e.toString());
            }
            d.put("load_after", MqdbBench.loadAverage());
            d.put("seconds", Math.round(MqdbBench.secondsSince(t0)));
            d.put("figures", figures);
            details.add(d);
            System.out.printf("   %s run %d: %s (load %s → %s)%n", workload, run, figures, d.get("load_before"),
                    d.get("load_after"));
        }
        report.details.put(workload, details);
        if (done.isEmpty()) {
            throw new IllegalStateException(workload + ": every run failed");
        }
        return done;
    }

    private static double median(List<Map<String, Double>> runs, String name) {
        double[] v = runs.stream().map(r -> r.get(name)).filter(x -> x != null && !x.isNaN())
                .mapToDouble(Double::doubleValue).sorted().toArray();
        if (v.length == 0) {
            return Double.NaN;
        }
        return v.length % 2 == 1 ? v[v.length / 2] : (v[v.length / 2 - 1] + v[v.length / 2]) / 2;
    }

    /** "median of 3 runs: 30,1 / 31,2 / 29,9 (load 1.2→2.0, ...)". */
    private String runsText(String workload, List<Map<String, Double>> done, String name) {
        @SuppressWarnings("unchecked")
        List<Map<String, Object>> details = (List<Map<String, Object>>) report.details.get(workload);
        StringBuilder s = new StringBuilder(done.size() == 1 ? "1 run" : "median of " + done.size() + " runs");
        s.append(": ");
        List<String> parts = new ArrayList<>();
        for (Map<String, Object> d : details) {
            @SuppressWarnings("unchecked")
            Map<String, Double> f = (Map<String, Double>) d.get("figures");
            Double v = f.get(name);
            parts.add((v == null ? "failed" : Report.num(v)) + " (load " + first(d.get("load_before")) + "→"
                    + first(d.get("load_after")) + ")");
        }
        return s.append(String.join(", ", parts)).toString();
    }

    private static String first(Object loadAverage) {
        return String.valueOf(loadAverage).split(" ")[0];
    }

    /** Reports the per-node figures every run recorded as {@code hwm <node>} and {@code cpu <node>}. */
    private void nodeFigures(String workload, List<Map<String, Double>> done) {
        Set<String> names = new java.util.LinkedHashSet<>();
        done.forEach(r -> names.addAll(r.keySet()));
        for (String n : names) {
            if (n.startsWith("hwm ")) {
                double v = median(done, n);
                report.goal(workload, "peak RSS (VmHWM) " + n.substring(4), v, "MB", runsText(workload, done, n)
                        + "; launcher defaults (-Xms64m -Xmx256m, G1)", RSS);
            } else if (n.startsWith("cpu ")) {
                report.figure(workload, "CPU per change " + n.substring(4), median(done, n), "µs",
                        runsText(workload, done, n) + "; /proc/<pid>/stat, user + system, during the timed phase");
            }
        }
    }

    // -------------------------------------------------------------------------------------------------- tables

    private void freshTable() throws Exception {
        try (Connection c = b.connect(); Statement st = c.createStatement()) {
            st.execute("DROP SCHEMA IF EXISTS shop CASCADE");
            st.execute("DROP TABLE IF EXISTS mqdb_changelog");
            // what an earlier run with --capture log left: its slot would replay the dropped table's changes
            st.execute("SELECT pg_drop_replication_slot(slot_name) FROM pg_replication_slots WHERE slot_name = 'mqdb'");
            st.execute("DROP PUBLICATION IF EXISTS mqdb");
            st.execute(CREATE);
        }
        b.jedis.flushAll();
    }

    private static long nowMicros() {
        Instant now = Instant.now();
        return now.getEpochSecond() * 1_000_000 + now.getNano() / 1_000;
    }

    // ---------------------------------------------------------------------------------------------- raw limits

    /** Pipelined HSET of {@code rows} rows shaped as mqdb writes {@code shop.orders}, best of 3. */
    void rawHset() {
        long rows = quick ? 100_000 : 300_000;
        double best = 0;
        String at = OffsetDateTime.now(ZoneOffset.UTC).toString();
        for (int round = 0; round < 3; round++) {
            long t0 = System.nanoTime();
            Pipeline p = b.jedis.pipelined();
            for (long id = 1; id <= rows; id++) {
                Map<String, String> h = new HashMap<>();
                h.put("id", Long.toString(id));
                h.put("customer", "customer " + id % 997);
                h.put("amount", BigDecimal.valueOf(id % 100_000, 2).toPlainString());
                h.put("status", STATUS[(int) (id % STATUS.length)]);
                h.put("updated_at", at);
                h.put("src_us", Long.toString(id));
                p.hset(KEY_PREFIX + id, h);
                if (id % 1000 == 0) {
                    p.sync();
                }
            }
            p.sync();
            best = Math.max(best, rows / MqdbBench.secondsSince(t0));
            b.jedis.flushAll();
        }
        rawHset = best;
        report.figure("raw limits", "pipelined Jedis HSET of shop.orders rows (best of 3)", best, "rows/s",
                String.format(Locale.ROOT, "%,d rows of 6 fields, 1,000 per round trip", rows));
    }

    /**
     * The stream's writers alone, while no node runs: into a copy of the table without triggers and into
     * {@code shop.orders} with mqdb's capture trigger (installed by starting the nodes once), best of 2 each.
     */
    void rawPostgres() throws Exception {
        freshTable();
        int port = ServerFixture.freePort();
        try (NodeProcess sub = b.node("raw", "redis-node", b.redisNodeYaml("redis-node", MqdbBench.embedded(port),
                0)); NodeProcess pub = b.node("raw", "pg-node", b.pgNodeYaml(MqdbBench.external("tcp://127.0.0.1:"
                + port)))) {
            // started: the publisher installed its capture trigger
        }
        try (Connection c = b.connect(); Statement st = c.createStatement()) {
            st.execute("CREATE TABLE shop.plain (LIKE shop.orders INCLUDING ALL)");
        }
        long changes = quick ? 50_000 : 200_000;
        int rounds = quick ? 1 : 2;
        double plain = 0;
        double triggered = 0;
        long base = 0;
        for (int round = 0; round < rounds; round++) {
            for (String table : List.of("shop.plain", "shop.orders")) {
                Writers w = new Writers(table, base);
                w.run(quick ? 5_000 : 20_000); // warm-up: gives the writers earlier ids to update
                double rate = w.run(changes).sqlRate;
                if (table.equals("shop.plain")) {
                    plain = Math.max(plain, rate);
                } else {
                    triggered = Math.max(triggered, rate);
                }
            }
            base += 10_000_000;
        }
        String how = String.format(Locale.ROOT, "best of %d × %,d changes, 4 JDBC writers, transactions of 50 inserts"
                + " + 50 updates, no node running", rounds, changes);
        report.figure("raw limits", "PostgreSQL writers without triggers", plain, "changes/s", how);
        report.figure("raw limits", "PostgreSQL writers with mqdb's capture trigger", triggered, "changes/s",
                Report.ratio(triggered, plain, "without triggers"));
    }

    /** Raw QoS 1 at mqdb's payload size through the embedded broker of a fresh node and through stock Mosquitto. */
    void rawMqtt(String client) throws Exception {
        int size = payloadBytes > 0 ? payloadBytes : 100_000;
        String sizeNote = payloadBytes > 0 ? "mqdb's median message in the stream's warm-up"
                : "pg-redis-stream not run: a guess";
        int count = (int) Math.max(200, (quick ? 25_000_000L : 150_000_000L) / size);
        int port = ServerFixture.freePort();
        try (NodeProcess broker = b.node("raw-mqtt", "redis-node",
                b.redisNodeYaml("redis-node", MqdbBench.embedded(port), 0))) {
            probe(client, "the embedded HiveMQ (a fresh Redis node)", "tcp://127.0.0.1:" + port, count, size,
                    sizeNote);
        }
        MosquittoServer m = MosquittoServer.startStock();
        try {
            probe(client, "stock Mosquitto", m.uri(), count, size, sizeNote);
        } finally {
            m.close();
        }
    }

    private void probe(String client, String where, String uri, int count, int size, String sizeNote)
            throws Exception {
        MqttProbe.rawQos1(client, uri, Math.max(50, count / 5), size); // warm-up
        double rate = MqttProbe.rawQos1(client, uri, count, size);
        report.figure("raw limits", client + " QoS 1 through " + where, rate, "msg/s", Report.versus(
                String.format(Locale.ROOT, "%,d messages of %,d bytes (%s)", count, size, sizeNote),
                Double.isNaN(eventsPerMessage) ? "" : String.format(Locale.ROOT,
                        "= %,.0f changes/s at %.0f changes per message", rate * eventsPerMessage, eventsPerMessage)));
    }

    // ------------------------------------------------------------------------------------------------ snapshot

    /** a. {@code pg-redis-snapshot}. */
    void snapshot() {
        long rows = Long.parseLong(b.opt.getOrDefault("snapshot-rows", quick ? "100000" : "1000000"));
        String w = "pg-redis-snapshot";
        List<Map<String, Double>> done = repeat(w, (f, run) -> {
            freshTable();
            try (Connection c = b.connect(); Statement st = c.createStatement()) {
                long t0 = System.nanoTime();
                st.execute("INSERT INTO shop.orders SELECT g, 'customer ' || (g % 997), (g % 100000) / 100.0,"
                        + " (ARRAY['new','paid','packed','shipped','delivered'])[1 + g % 5], now(), g"
                        + " FROM generate_series(1, " + rows + ") g");
                st.execute("VACUUM ANALYZE shop.orders");
                System.out.printf("   preloaded %,d rows in %.1f s%n", rows, MqdbBench.secondsSince(t0));
            }
            long[] ids = new long[(int) rows];
            for (int i = 0; i < rows; i++) {
                ids[i] = i + 1;
            }
            int port = ServerFixture.freePort();
            String dir = w + "-" + run; // fresh node state per run
            try (NodeProcess sub = b.node(dir, "redis-node", b.redisNodeYaml("redis-node",
                    MqdbBench.embedded(port), 0)); RedisVisibility target = new RedisVisibility(b)) {
                long t0 = System.nanoTime();
                try (NodeProcess pub = b.node(dir, "pg-node",
                        b.pgNodeYaml(MqdbBench.external("tcp://127.0.0.1:" + port)))) {
                    double startS = MqdbBench.secondsSince(t0);
                    MqdbBench.Usage u = MqdbBench.Usage.start(sub, pub);
                    long end = awaitVisible(target, ids, ids.clone(), sub, pub);
                    double seconds = (end - t0) / 1e9;
                    f.put("rate", rows / seconds);
                    f.put("publisher start s", startS);
                    nodeRun(f, w, run, u, rows, sub, pub);
                }
            }
        });
        report.goal(w, String.format(Locale.ROOT, "%,d preloaded rows%s", rows,
                        quick && rows < 1_000_000 ? " (quick mode; 1,000,000 in full mode)" : ""),
                median(done, "rate"), "rows/s", Report.versus(runsText(w, done, "rate"),
                        "from starting the publisher (its start took " + Report.num(median(done, "publisher start s"))
                                + " s) to the last row's src_us in Redis", Report.ratio(median(done, "rate"), rawHset,
                                "raw HSET")), SNAPSHOT);
        nodeFigures(w, done);
    }

    /** Records a node's VmHWM and CPU per change into this run's figures, and its footprint line. */
    private void nodeRun(Map<String, Double> f, String w, int run, MqdbBench.Usage u, long changes,
                         NodeProcess... nodes) {
        for (NodeProcess n : nodes) {
            f.put("hwm " + n.name, (double) n.statusMb("VmHWM"));
            long cpu = n.cpuMillis() - u.cpu0.getOrDefault(n, 0L);
            f.put("cpu " + n.name, cpu * 1000.0 / changes);
        }
        b.footprint(w + " #" + run, u, changes, nodes);
    }

    // -------------------------------------------------------------------------------------------------- stream

    /** b. {@code pg-redis-stream}. */
    void streamRedis() {
        int[] port = new int[1]; // a free port per run: the subscriber's YAML is asked first
        stream("pg-redis-stream", () -> {
            port[0] = ServerFixture.freePort();
            return b.redisNodeYaml("redis-node", MqdbBench.embedded(port[0]), 0);
        }, () -> MqdbBench.external("tcp://127.0.0.1:" + port[0]), "redis-node", () -> new RedisVisibility(b),
                () -> "tcp://127.0.0.1:" + port[0]);
    }

    /**
     * {@code pg-redis-stream-transform}: the stream of {@code pg-redis-stream} through a transform on the Redis node
     * ({@code docs/transforms.md}): a filter every row passes (so every change is still checked in Redis), a renamed
     * column and the key pattern of the transform instead of the store's; the cost of the transforms is the
     * difference from {@code pg-redis-stream} in the same report.
     */
    void streamTransform() {
        int[] port = new int[1];
        stream("pg-redis-stream-transform", () -> {
            port[0] = ServerFixture.freePort();
            return """
                    node: { name: redis-node, data-dir: data }
                    broker: %s
                    stores: { cache: { type: redis, uri: "%s", database: 0 } }
                    channels:
                      - { name: shop:orders, store: cache, subscribe: true%s, transform: {
                          source: { id: int64, customer: string, amount: decimal, status: string,
                                    updated_at: timestamp, src_us: int64 },
                          columns: { rename: { customer: buyer } },
                          filter: "amount >= 0.0 && status != 'void'",
                          key: "%s{id}" } }
                    """.formatted(MqdbBench.embedded(port[0]), b.redis.uri(), b.batchSize(), KEY_PREFIX);
        }, () -> MqdbBench.external("tcp://127.0.0.1:" + port[0]), "redis-node", () -> new RedisVisibility(b),
                () -> null);
    }

    /** {@code pg-redis-stream-mosquitto}: both nodes on a stock Mosquitto. */
    void streamMosquitto() {
        MosquittoServer m = MosquittoServer.startStock();
        try {
            String broker = MqdbBench.external(m.uri());
            stream("pg-redis-stream-mosquitto", () -> b.redisNodeYaml("redis-node", broker, 0), () -> broker,
                    "redis-node", () -> new RedisVisibility(b), () -> null);
        } finally {
            m.close();
        }
    }

    /** {@code pg-cassandra-stream}: a Cassandra node (running the embedded broker) as the target. */
    void streamCassandra() throws Exception {
        CassandraServer cs;
        try {
            cs = CassandraServer.shared();
        } catch (RuntimeException | Error e) {
            report.note("pg-cassandra-stream: not available (" + e.getMessage().lines().findFirst().orElse("")
                    + ")");
            return;
        }
        try (Cql cql = Cql.open(b.home.resolve("plugins/cassandra"), cs.host(), cs.port(), cs.localDatacenter())) {
            double raw = Double.NaN;
            try {
                int rows = quick ? 50_000 : 200_000;
                raw = cql.rawInsertRate(rows, quick ? 20_000 : 50_000);
                report.figure("raw limits", "Cassandra driver prepared INSERT, 512 in flight, warm", raw, "rows/s",
                        String.format(Locale.ROOT, "%,d rows after a warm-up, same server, a table of the same 6"
                                + " columns; %,d writes sent again after a server timeout", rows, cql.retries.get()));
            } catch (Exception e) {
                e.printStackTrace();
                report.note("raw Cassandra driver rate: failed: " + e);
            }
            int[] port = new int[1];
            Yaml yaml = () -> {
                port[0] = ServerFixture.freePort();
                return """
                    node: { name: cassandra-node, data-dir: data }
                    broker: { embedded: { port: %d } }
                    stores: { wide: { type: cassandra, contact-points: [ "%s" ], local-datacenter: %s } }
                    channels: [ { name: shop:orders, store: wide, subscribe: true } ]
                    """.formatted(port[0], cs.contactPoint(), cs.localDatacenter());
            };
            double rate = stream("pg-cassandra-stream", yaml, () -> MqdbBench.external("tcp://127.0.0.1:"
                    + port[0]), "cassandra-node", cql::visibility, () -> null);
            report.figure("pg-cassandra-stream", "mqdb ÷ raw Cassandra driver", rate / raw, "×",
                    String.format(Locale.ROOT, "%.2f × = %,.0f changes/s ÷ %,.0f rows/s of the raw driver", rate / raw,
                            rate, raw), 0.7, true);
        } finally {
            cs.close();
        }
    }

    private interface Yaml {
        String get() throws Exception;
    }

    private interface TargetFactory {
        Visibility open() throws Exception;
    }

    /**
     * The stream workload against one target: fresh table and nodes per run, a warm-up of the same shape (awaited,
     * and recording mqdb's message size when {@code listenUri} is given), then the timed 200,000 changes.
     *
     * @return the median rate
     */
    private double stream(String w, Yaml subYaml, Yaml broker, String subName, TargetFactory target,
                          Yaml listenAt) {
        long changes = Long.parseLong(b.opt.getOrDefault("stream-changes", quick ? "100000" : "200000"));
        long warm = quick ? 10_000 : 20_000;
        List<Map<String, Double>> done = repeat(w, (f, run) -> {
            freshTable();
            String dir = w + "-" + run; // fresh node state per run
            try (NodeProcess sub = b.node(dir, subName, subYaml.get());
                 NodeProcess pub = b.node(dir, "pg-node", b.pgNodeYaml(broker.get()));
                 Visibility v = target.open()) {
                Writers writers = new Writers("shop.orders", 0);
                String listenUri = listenAt.get();
                MqttProbe listener = listenUri != null && payloadBytes < 0
                        ? MqttProbe.listen(listenUri, "bench-listener", CHANNEL_TOPIC, 0) : null;
                try {
                    Phase p = writers.run(warm);
                    awaitVisible(v, p.ids, p.src, sub, pub);
                    if (listener != null && listener.messages.get() > 0) {
                        int[] sizes = listener.sizes.stream().mapToInt(Integer::intValue).sorted().toArray();
                        payloadBytes = sizes[sizes.length / 2];
                        eventsPerMessage = (double) p.changes / listener.messages.get();
                        report.details.put("stream_warmup_messages", listener.messages.get());
                        report.details.put("stream_warmup_payload_bytes_median", payloadBytes);
                        report.details.put("stream_warmup_payload_bytes_max", sizes[sizes.length - 1]);
                    }
                } finally {
                    if (listener != null) {
                        listener.close();
                    }
                }
                MqdbBench.Usage u = MqdbBench.Usage.start(sub, pub);
                Phase p = writers.run(changes);
                long end = awaitVisible(v, p.ids, p.src, sub, pub);
                f.put("rate", p.changes() / ((end - p.releaseNanos()) / 1e9));
                f.put("sql", p.sqlRate);
                f.put("rows", (double) p.ids.length);
                nodeRun(f, w, run, u, p.changes(), sub, pub);
            }
        });
        double rate = median(done, "rate");
        if (w.equals("pg-redis-stream")) {
            streamRate = rate;
        }
        String label = String.format(Locale.ROOT, "%,d changes%s, 4 writers, transactions of 50 inserts + 50 updates",
                changes, quick && changes < 200_000 ? " (quick mode; 200,000 in full mode)" : "");
        String versus = Report.versus(runsText(w, done, "rate"), String.format(Locale.ROOT,
                        "from the writers' release to the last row's final src_us in the target (%,.0f rows)",
                        median(done, "rows")), w.contains("redis") ? Report.ratio(rate, rawHset, "raw HSET") : "",
                w.equals("pg-redis-stream") ? "" : Report.ratio(rate, streamRate, "pg-redis-stream"));
        if (w.startsWith("pg-redis") && !w.endsWith("-transform")) {
            report.goal(w, label, rate, "changes/s", versus, STREAM);
        } else {
            report.figure(w, label, rate, "changes/s", versus);
        }
        report.figure(w, "SQL side alone (the same writers, same run)", median(done, "sql"), "changes/s",
                runsText(w, done, "sql"));
        nodeFigures(w, done);
        return rate;
    }

    /** The changes of one phase: every changed row with the src_us of its last change, in commit order. */
    record Phase(long[] ids, long[] src, long changes, long releaseNanos, double sqlRate) {
    }

    /**
     * The stream's 4 JDBC writers. Writer {@code w} owns the ids {@code base + 1 + w + 4k}; each transaction inserts
     * the next 50 of its ids and updates 50 distinct ids it inserted before (fewer while it has fewer than 50), each
     * statement stamping {@code src_us} just before it is added to the batch. State carries over from phase to
     * phase, so the timed phase updates rows of the warm-up too.
     */
    final class Writers {
        private final String table;
        private final long base;
        private final int[] inserted = new int[WRITERS];
        private final Map<Long, long[]> last = new HashMap<>(); // id -> {src_us, commit sequence} of its last change
        private final Random[] random = new Random[WRITERS];

        Writers(String table, long base) {
            this.table = table;
            this.base = base;
            for (int i = 0; i < WRITERS; i++) {
                random[i] = new Random(1000 + i); // fixed: every run writes the same ids in the same order
            }
        }

        private long id(int writer, long k) {
            return base + 1 + writer + (long) WRITERS * k;
        }

        /** Writes {@code changes} changes (rounded up to whole transactions) from 4 threads released together. */
        Phase run(long changes) throws Exception {
            long txPerWriter = (changes + (TX_INSERTS + TX_UPDATES) * WRITERS - 1)
                    / ((TX_INSERTS + TX_UPDATES) * WRITERS);
            long seq0 = seq.get();
            CountDownLatch ready = new CountDownLatch(WRITERS);
            CountDownLatch release = new CountDownLatch(1);
            AtomicLong written = new AtomicLong();
            ExecutorService pool = Executors.newFixedThreadPool(WRITERS);
            List<Map<Long, long[]>> results = new ArrayList<>();
            List<Future<?>> fs = new ArrayList<>();
            long releaseNanos;
            long doneNanos;
            try {
                for (int i = 0; i < WRITERS; i++) {
                    int writer = i;
                    Map<Long, long[]> mine = new HashMap<>();
                    results.add(mine);
                    fs.add(pool.submit(() -> {
                        write(writer, txPerWriter, mine, written, ready, release);
                        return null;
                    }));
                }
                if (!ready.await(60, TimeUnit.SECONDS)) {
                    throw new IllegalStateException("writers did not connect");
                }
                releaseNanos = System.nanoTime();
                release.countDown();
                for (Future<?> fu : fs) {
                    fu.get();
                }
                doneNanos = System.nanoTime();
            } finally {
                pool.shutdownNow();
            }
            for (Map<Long, long[]> m : results) {
                last.putAll(m);
            }
            // the rows changed in this phase, in the order of their last commit (the likely order of their apply)
            List<Map.Entry<Long, long[]>> changed = new ArrayList<>();
            for (Map.Entry<Long, long[]> e : last.entrySet()) {
                if (e.getValue()[1] > seq0) {
                    changed.add(e);
                }
            }
            changed.sort((x, y) -> Long.compare(x.getValue()[1], y.getValue()[1]));
            long[] ids = new long[changed.size()];
            long[] src = new long[changed.size()];
            for (int i = 0; i < ids.length; i++) {
                ids[i] = changed.get(i).getKey();
                src[i] = changed.get(i).getValue()[0];
            }
            return new Phase(ids, src, written.get(), releaseNanos,
                    written.get() / ((doneNanos - releaseNanos) / 1e9));
        }

        private void write(int writer, long txs, Map<Long, long[]> mine, AtomicLong written, CountDownLatch ready,
                           CountDownLatch release) throws Exception {
            String ins = "INSERT INTO " + table + " (id, customer, amount, status, updated_at, src_us)"
                    + " VALUES (?, ?, ?, ?, ?, ?)";
            String upd = "UPDATE " + table + " SET amount = ?, status = ?, updated_at = ?, src_us = ? WHERE id = ?";
            Random r = random[writer];
            try (Connection c = DriverManager.getConnection(b.url + "?reWriteBatchedInserts=true", b.pg.user(),
                    b.pg.password()); PreparedStatement pi = c.prepareStatement(ins);
                 PreparedStatement pu = c.prepareStatement(upd)) {
                c.setAutoCommit(false);
                ready.countDown();
                release.await();
                long[] txIds = new long[TX_INSERTS + TX_UPDATES];
                long[] txSrc = new long[TX_INSERTS + TX_UPDATES];
                Set<Integer> picked = new HashSet<>();
                for (long t = 0; t < txs; t++) {
                    int have = inserted[writer];
                    int n = 0;
                    for (int j = 0; j < TX_INSERTS; j++) {
                        long id = id(writer, have + j);
                        long s = nowMicros();
                        pi.setLong(1, id);
                        pi.setString(2, "customer " + id % 997);
                        pi.setBigDecimal(3, BigDecimal.valueOf(r.nextInt(10_000_000), 2));
                        pi.setString(4, STATUS[0]);
                        pi.setObject(5, OffsetDateTime.now(ZoneOffset.UTC));
                        pi.setLong(6, s);
                        pi.addBatch();
                        txIds[n] = id;
                        txSrc[n++] = s;
                    }
                    pi.executeBatch();
                    picked.clear();
                    int updates = Math.min(TX_UPDATES, have);
                    while (picked.size() < updates) {
                        int k = r.nextInt(have);
                        if (!picked.add(k)) {
                            continue;
                        }
                        long id = id(writer, k);
                        long s = nowMicros();
                        pu.setBigDecimal(1, BigDecimal.valueOf(r.nextInt(10_000_000), 2));
                        pu.setString(2, STATUS[1 + r.nextInt(STATUS.length - 1)]);
                        pu.setObject(3, OffsetDateTime.now(ZoneOffset.UTC));
                        pu.setLong(4, s);
                        pu.setLong(5, id);
                        pu.addBatch();
                        txIds[n] = id;
                        txSrc[n++] = s;
                    }
                    if (updates > 0) {
                        for (int count : pu.executeBatch()) {
                            if (count != 1) {
                                throw new IllegalStateException("an update changed " + count + " rows");
                            }
                        }
                    }
                    c.commit();
                    long q = seq.incrementAndGet();
                    for (int j = 0; j < n; j++) {
                        mine.put(txIds[j], new long[] {txSrc[j], q});
                    }
                    inserted[writer] = have + TX_INSERTS;
                    written.addAndGet(n);
                }
            }
        }
    }

    // ------------------------------------------------------------------------------------------------- latency

    /** c. {@code pg-redis-latency}. */
    void latency() {
        int seconds = Integer.parseInt(b.opt.getOrDefault("latency-seconds", quick ? "10" : "30"));
        String w = "pg-redis-latency";
        List<Map<String, Double>> done = repeat(w, (f, run) -> {
            freshTable();
            int port = ServerFixture.freePort();
            String dir = w + "-" + run; // fresh node state per run
            try (NodeProcess sub = b.node(dir, "redis-node", b.redisNodeYaml("redis-node",
                    MqdbBench.embedded(port), 0));
                 NodeProcess pub = b.node(dir, "pg-node", b.pgNodeYaml(MqdbBench.external("tcp://127.0.0.1:"
                         + port)));
                 RedisVisibility v = new RedisVisibility(b)) {
                // 1,000 rows for the updates to choose from, synced before anything is timed
                Writers seed = new Writers("shop.orders", 0);
                Phase p = seed.run(1_000);
                awaitVisible(v, p.ids, p.src, sub, pub);
                try {
                    latencyRun(f, w, run, seconds, p.ids, sub, pub);
                } finally {
                    b.jedis.configSet("notify-keyspace-events", ""); // the other workloads pay for no notifications
                }
            }
        });
        String how = runsText(w, done, "p50") + String.format(Locale.ROOT,
                "; one writer, 10 rows (5 inserts + 5 updates) per transaction every 5 ms for %d s after 3 s of"
                        + " warm-up; %,.0f changes/s achieved, %,.0f samples, %,.0f missing (medians)", seconds,
                median(done, "achieved"), median(done, "samples"), median(done, "missing"));
        report.goal(w, "p50 src_us → visible in Redis", median(done, "p50"), "ms", how, P50);
        report.figure(w, "p95", median(done, "p95"), "ms", runsText(w, done, "p95"));
        report.goal(w, "p99", median(done, "p99"), "ms", runsText(w, done, "p99"), P99);
        report.figure(w, "max", median(done, "max"), "ms", runsText(w, done, "max"));
        nodeFigures(w, done);
    }

    private void latencyRun(Map<String, Double> f, String w, int run, int seconds, long[] seedIds,
                            NodeProcess sub, NodeProcess pub) throws Exception {
        ConcurrentLinkedQueue<long[]> seen = new ConcurrentLinkedQueue<>(); // {id, src_us read, µs when read}
        b.jedis.configSet("notify-keyspace-events", "Kh");
        Jedis listen = new Jedis(b.redis.host(), b.redis.port());
        Jedis read = new Jedis(b.redis.host(), b.redis.port());
        String prefix = "__keyspace@0__:" + KEY_PREFIX;
        JedisPubSub listener = new JedisPubSub() {
            @Override
            public void onPMessage(String pattern, String channel, String message) {
                long id = Long.parseLong(channel.substring(prefix.length()));
                String v = read.hget(KEY_PREFIX + id, "src_us");
                if (v != null) {
                    seen.add(new long[] {id, Long.parseLong(v), nowMicros()});
                }
            }
        };
        Thread t = new Thread(() -> listen.psubscribe(listener, prefix + "*"), "bench-keyspace");
        t.setDaemon(true);
        t.start();
        long wait = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (!listener.isSubscribed() && System.nanoTime() < wait) {
            LockSupport.parkNanos(1_000_000);
        }
        int warmTx = 600; // 3 s
        int txs = warmTx + seconds * 200;
        long[] ids = new long[txs * 10];
        long[] src = new long[txs * 10];
        long measuredFrom = -1;
        List<Long> own = new ArrayList<>();
        for (long id : seedIds) {
            own.add(id);
        }
        long nextId = 10_000_000;
        Random r = new Random(7);
        MqdbBench.Usage u = null;
        long t0 = System.nanoTime() + 50_000_000L;
        long tEnd;
        try (Connection c = b.connect();
             PreparedStatement pi = c.prepareStatement("INSERT INTO shop.orders (id, customer, amount, status,"
                     + " updated_at, src_us) VALUES (?, ?, ?, ?, ?, ?)");
             PreparedStatement pu = c.prepareStatement("UPDATE shop.orders SET amount = ?, status = ?,"
                     + " updated_at = ?, src_us = ? WHERE id = ?")) {
            c.setAutoCommit(false);
            int n = 0;
            for (int tx = 0; tx < txs; tx++) {
                if (tx == warmTx) {
                    u = MqdbBench.Usage.start(sub, pub);
                    measuredFrom = n;
                }
                long delay = t0 + tx * 5_000_000L - System.nanoTime();
                if (delay > 0) {
                    LockSupport.parkNanos(delay);
                }
                Set<Long> picked = new HashSet<>();
                List<Long> fresh = new ArrayList<>();
                for (int j = 0; j < 5; j++) {
                    long id = nextId++;
                    pi.setLong(1, id);
                    pi.setString(2, "customer " + id % 997);
                    pi.setBigDecimal(3, BigDecimal.valueOf(r.nextInt(10_000_000), 2));
                    pi.setString(4, STATUS[0]);
                    pi.setObject(5, OffsetDateTime.now(ZoneOffset.UTC));
                    long s = nowMicros();
                    pi.setLong(6, s);
                    pi.executeUpdate();
                    ids[n] = id;
                    src[n++] = s;
                    fresh.add(id);
                }
                while (picked.size() < 5) {
                    long id = own.get(r.nextInt(own.size()));
                    if (!picked.add(id)) {
                        continue;
                    }
                    pu.setBigDecimal(1, BigDecimal.valueOf(r.nextInt(10_000_000), 2));
                    pu.setString(2, STATUS[1 + r.nextInt(STATUS.length - 1)]);
                    pu.setObject(3, OffsetDateTime.now(ZoneOffset.UTC));
                    long s = nowMicros();
                    pu.setLong(4, s);
                    pu.setLong(5, id);
                    if (pu.executeUpdate() != 1) {
                        throw new IllegalStateException("update of " + id + " changed no row");
                    }
                    ids[n] = id;
                    src[n++] = s;
                }
                c.commit();
                own.addAll(fresh);
            }
            tEnd = System.nanoTime();
        }
        double sent = (tEnd - t0) / 1e9;
        // wait until the last change of every row was seen (or 30 s)
        Map<Long, Long> finalSrc = new HashMap<>();
        for (int i = 0; i < ids.length; i++) {
            finalSrc.put(ids[i], src[i]);
        }
        Map<Long, List<long[]>> byId = new HashMap<>();
        Map<Long, Long> maxSeen = new HashMap<>();
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        int outstanding = finalSrc.size();
        while (outstanding > 0 && System.nanoTime() < deadline) {
            long[] o;
            while ((o = seen.poll()) != null) {
                byId.computeIfAbsent(o[0], x -> new ArrayList<>()).add(o);
                Long before = maxSeen.get(o[0]);
                Long fin = finalSrc.get(o[0]);
                if (fin != null && o[1] >= fin && (before == null || before < fin)) {
                    outstanding--;
                }
                maxSeen.merge(o[0], o[1], Math::max);
            }
            if (outstanding > 0) {
                sub.checkAlive();
                pub.checkAlive();
                LockSupport.parkNanos(10_000_000);
            }
        }
        listener.punsubscribe();
        t.join(5_000);
        listen.close();
        read.close();
        // a change is visible at the first read that shows its src_us or a later one of the same row
        long[] lat = new long[ids.length - (int) measuredFrom];
        int samples = 0;
        int missing = 0;
        for (int i = (int) measuredFrom; i < ids.length; i++) {
            long at = -1;
            for (long[] o : byId.getOrDefault(ids[i], List.of())) {
                if (o[1] >= src[i] && (at < 0 || o[2] < at)) {
                    at = o[2];
                }
            }
            if (at < 0) {
                missing++;
            } else {
                lat[samples++] = at - src[i];
            }
        }
        long[] sorted = Arrays.copyOf(lat, samples);
        Arrays.sort(sorted);
        f.put("p50", pct(sorted, 50));
        f.put("p95", pct(sorted, 95));
        f.put("p99", pct(sorted, 99));
        f.put("max", samples == 0 ? Double.NaN : sorted[samples - 1] / 1e3);
        f.put("achieved", ids.length / sent);
        f.put("samples", (double) samples);
        f.put("missing", (double) missing);
        if (missing > 0) {
            report.note(String.format(Locale.ROOT, "%s run %d: %,d of %,d changes not seen in Redis within 30 s", w,
                    run, missing, ids.length - measuredFrom));
        }
        nodeRun(f, w, run, u, ids.length - measuredFrom, sub, pub);
    }

    /** @return the p-th percentile of µs values, in ms */
    private static double pct(long[] sorted, int p) {
        if (sorted.length == 0) {
            return Double.NaN;
        }
        int i = (int) Math.ceil(p / 100.0 * sorted.length) - 1;
        return sorted[Math.max(0, Math.min(sorted.length - 1, i))] / 1e3;
    }

    // ---------------------------------------------------------------------------------------------- visibility

    /** Reads rows' {@code src_us} back from a target. */
    interface Visibility extends AutoCloseable {
        /** Sets {@code ok[i]} for each {@code i < n} whose row {@code ids[i]} holds {@code src_us == src[i]}. */
        void check(long[] ids, long[] src, int n, boolean[] ok) throws Exception;

        /** @return what the target holds for row {@code id}, for a failure message */
        String describe(long id) throws Exception;

        @Override
        void close();
    }

    /** Redis: {@code HGET order:<id> src_us}, pipelined, on a connection of its own. */
    static final class RedisVisibility implements Visibility {
        private final Jedis jedis;

        RedisVisibility(MqdbBench b) {
            jedis = new Jedis(b.redis.host(), b.redis.port(), 60_000);
        }

        @Override
        public void check(long[] ids, long[] src, int n, boolean[] ok) {
            Pipeline p = jedis.pipelined();
            List<Response<String>> rs = new ArrayList<>(n);
            for (int i = 0; i < n; i++) {
                rs.add(p.hget(KEY_PREFIX + ids[i], "src_us"));
            }
            p.sync();
            for (int i = 0; i < n; i++) {
                String v = rs.get(i).get();
                ok[i] = v != null && v.equals(Long.toString(src[i]));
            }
        }

        @Override
        public String describe(long id) {
            return String.valueOf(jedis.hgetAll(KEY_PREFIX + id));
        }

        @Override
        public void close() {
            jedis.close();
        }
    }

    /**
     * Waits until every row {@code ids[i]} holds {@code src_us == src[i]} in the target, by passes over the rows not
     * seen yet (in the given order, the likely order of apply) every 20 ms: each row is read until it is seen once,
     * and a pass stops at a chunk of which no row is there yet (the rest most likely is not either), so the wait
     * costs about one read per row. Fails when no row became visible for a minute, or a node exited.
     *
     * @return {@link System#nanoTime()} of the read that saw the last row: at most one pass later than the fact
     */
    static long awaitVisible(Visibility v, long[] ids, long[] src, NodeProcess... nodes) throws Exception {
        int size = ids.length;
        int[] pending = new int[size];
        for (int i = 0; i < size; i++) {
            pending[i] = i;
        }
        long[] cid = new long[1000];
        long[] csrc = new long[1000];
        boolean[] ok = new boolean[1000];
        long progress = System.nanoTime();
        while (true) {
            long pass = System.nanoTime();
            int kept = 0;
            int i = 0;
            long observed = pass;
            while (i < size) {
                int chunk = Math.min(i == 0 ? 100 : 1000, size - i);
                for (int j = 0; j < chunk; j++) {
                    cid[j] = ids[pending[i + j]];
                    csrc[j] = src[pending[i + j]];
                }
                v.check(cid, csrc, chunk, ok);
                observed = System.nanoTime();
                int matched = 0;
                for (int j = 0; j < chunk; j++) {
                    if (ok[j]) {
                        matched++;
                    } else {
                        pending[kept++] = pending[i + j];
                    }
                }
                i += chunk;
                if (matched == 0) {
                    System.arraycopy(pending, i, pending, kept, size - i);
                    kept += size - i;
                    break;
                }
            }
            if (kept < size) {
                progress = observed;
            }
            size = kept;
            if (size == 0) {
                return observed;
            }
            for (NodeProcess n : nodes) {
                n.checkAlive();
            }
            if (observed - progress > TimeUnit.SECONDS.toNanos(60)) {
                int p = pending[0];
                throw new IllegalStateException(String.format(Locale.ROOT, "%,d of %,d rows not visible after a"
                        + " minute without progress; e.g. id %d expected src_us %d, the target has %s", size,
                        ids.length, ids[p], src[p], v.describe(ids[p])));
            }
            long left = pass + 20_000_000L - System.nanoTime();
            if (left > 0) {
                LockSupport.parkNanos(left);
            }
        }
    }
}
