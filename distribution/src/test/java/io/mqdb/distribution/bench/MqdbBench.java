package io.mqdb.distribution.bench;

import io.mqdb.config.ConfigLoader;
import io.mqdb.distribution.SqlToRedis;
import io.mqdb.node.LocalTable;
import io.mqdb.node.MqdbNode;
import io.mqdb.node.StoreSet;
import io.mqdb.plugin.PluginRegistry;
import io.mqdb.spi.Column;
import io.mqdb.spi.ColumnType;
import io.mqdb.spi.Row;
import io.mqdb.spi.TableId;
import io.mqdb.spi.TableSchema;
import io.mqdb.testing.CassandraServer;
import io.mqdb.testing.MosquittoServer;
import io.mqdb.testing.PostgresServer;
import io.mqdb.testing.RedisServer;
import io.mqdb.testing.ServerFixture;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Instant;
import java.time.LocalDate;
import java.time.LocalDateTime;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Random;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;
import redis.clients.jedis.Jedis;
import redis.clients.jedis.JedisPubSub;
import redis.clients.jedis.Pipeline;

/**
 * The one benchmark of issue 7 ({@code scripts/bench.sh}, docs/benchmarks.md): mqdb's workloads next to the raw
 * limits of the same servers on the same machine, measured in one run. Servers come from the test fixtures
 * (PostgreSQL with {@code fsync=off}, a private {@code redis-server}, a private Mosquitto, Cassandra when it can
 * start); every mqdb node is {@code bin/mqdb run} of the unpacked tarball in its own JVM with default settings, so its
 * RSS, heap and CPU are its own. Writes {@code <out>/<date>.json} and {@code <out>/<date>.md}.
 *
 * <p>Options: {@code --home DIR} (unpacked tarball, required), {@code --out DIR}, {@code --quick}, {@code --jfr}
 * (nodes record a flight recording; top frames go into the report), {@code --runs N} (runs of each headline
 * workload, default 3; figures are medians), {@code --mqtt-client paho|hivemq} (raw MQTT figure), {@code --only a,b}
 * (workloads: {@link #DEFAULT} by default, the older {@link #OLDER} by name). For the headline workloads
 * ({@link Headline}): {@code --snapshot-rows N}, {@code --stream-changes N}, {@code --latency-seconds N}. For the
 * older PostgreSQL → Redis workload (what {@code scripts/bench-redis.sh} runs): {@code --rows N} (initial load),
 * {@code --steady-rows N}, {@code --rate N} and {@code --latency-seconds N} (latency phase); for every node,
 * {@code --batch-size N} (channels), {@code --poll-interval D} and {@code --capture trigger|log} (the jdbc store);
 * without them, the node's defaults.
 */
public final class MqdbBench {
    static final String INSERT = "INSERT INTO %s (" + SqlToRedis.COLUMNS
            + ") VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?::jsonb)";
    private static final String CHANNEL_TOPIC = "mqdb/mqdb/ch/shop/orders";
    /** The default run (no {@code --only}); {@code pg-cassandra-stream} only in full mode. */
    static final List<String> DEFAULT = List.of("raw", "pg-redis-snapshot", "pg-redis-stream", "pg-redis-latency",
            "pg-redis-stream-mosquitto", "jmh", "pg-cassandra-stream");
    /** The workloads of issue 7 on the 11-column table, run only when {@code --only} names them. */
    static final List<String> OLDER = List.of("sync", "sizes", "fanout", "mosquitto", "mapdb", "cassandra", "queue",
            "reads", "queue-stores");
    /** Headline-table workloads run only when {@code --only} names them. */
    static final List<String> EXTRA = List.of("pg-redis-stream-transform");
    static final Set<String> WORKLOADS = new java.util.HashSet<>(java.util.stream.Stream.of(DEFAULT, OLDER, EXTRA)
            .flatMap(List::stream).toList());

    final Path home;
    private final Path out;
    private final Path work;
    private final boolean quick;
    private final boolean jfr;
    private final Set<String> only;
    private final int runs;
    private final String mqttClient;
    private final String stem;
    final Map<String, String> opt;
    /** Wall-clock windows (epoch ms) of the timed phases, to cut the nodes' flight recordings to them. */
    private final Map<String, long[]> phases = new LinkedHashMap<>();
    private final Report report = new Report();
    PostgresServer pg;
    String url;
    RedisServer redis;
    Jedis jedis;
    private long nextId;
    private double rawHset = Double.NaN;
    private double rawPgPlain = Double.NaN;
    private double rawMqttEmbedded = Double.NaN;
    private double steadyRowsPerS = Double.NaN;
    private double eventsPerMessage = Double.NaN;
    private int payloadBytes = -1;

    private MqdbBench(Map<String, String> opt) throws IOException {
        home = Path.of(require(opt, "home"));
        out = Path.of(opt.getOrDefault("out", "bench-results"));
        quick = opt.containsKey("quick");
        jfr = opt.containsKey("jfr");
        only = opt.containsKey("only") ? Set.of(opt.get("only").split(",")) : Set.of();
        Set<String> unknown = new java.util.TreeSet<>(only);
        unknown.removeAll(WORKLOADS);
        if (!unknown.isEmpty()) {
            throw new IllegalArgumentException("--only: unknown workload(s) " + unknown + "; expected some of "
                    + WORKLOADS);
        }
        runs = Integer.parseInt(opt.getOrDefault("runs", "3"));
        if (runs < 1) {
            throw new IllegalArgumentException("--runs: expected at least 1, got " + runs);
        }
        mqttClient = opt.getOrDefault("mqtt-client", "hivemq"); // what the nodes use by default
        if (!MqttProbe.CLIENTS.contains(mqttClient)) {
            throw new IllegalArgumentException("--mqtt-client: expected one of " + MqttProbe.CLIENTS + ", got "
                    + mqttClient);
        }
        // a quick run never overwrites the full run of the same day
        stem = LocalDate.now(ZoneOffset.UTC) + (quick ? "-quick" : "");
        this.opt = opt;
        work = Files.createTempDirectory("mqdb-bench-");
    }

    public static void main(String[] args) throws Exception {
        MqdbBench b = new MqdbBench(parse(args));
        int status = 0;
        try {
            b.run();
        } catch (Exception | Error e) {
            e.printStackTrace();
            status = 1;
        }
        System.exit(status); // the embedded node of the MapDB workload leaves non-daemon threads behind
    }

    private boolean wanted(String workload) {
        if (only.isEmpty()) {
            return DEFAULT.contains(workload) && !(quick && workload.equals("pg-cassandra-stream"));
        }
        return only.contains(workload);
    }

    private void run() throws Exception {
        long t0 = System.nanoTime();
        SqlToRedis.quietLogs();
        ((ch.qos.logback.classic.Logger) org.slf4j.LoggerFactory.getLogger(org.slf4j.Logger.ROOT_LOGGER_NAME))
                .setLevel(ch.qos.logback.classic.Level.WARN);
        machine();
        pg = PostgresServer.shared();
        url = pg.createDatabase("bench");
        redis = RedisServer.startPrivate();
        jedis = new Jedis(redis.host(), redis.port(), 300_000); // FLUSHALL of 10M rows takes seconds
        try (Connection c = connect(); Statement st = c.createStatement();
             ResultSet rs = st.executeQuery("SHOW server_version")) {
            rs.next();
            report.machine.put("postgresql", rs.getString(1));
        }
        report.machine.put("redis", jedis.info("server").lines().filter(l -> l.startsWith("redis_version:"))
                .findFirst().orElse("?:?").split(":")[1]);
        Headline h = new Headline(this, report, quick, runs);
        report.machine.put("runs", runs);
        if (opt.containsKey("capture")) {
            report.note("publisher capture: " + opt.get("capture") + " (--capture)");
        }
        try {
            boolean older = OLDER.stream().anyMatch(this::wanted);
            // the headline raw limits unless only older workloads run (scripts/bench-redis.sh: raw,sync)
            boolean headline = !older || java.util.stream.Stream.concat(DEFAULT.stream(), EXTRA.stream())
                    .filter(x -> x.startsWith("pg-")).anyMatch(this::wanted);
            section("raw", () -> {
                if (headline) {
                    h.rawHset();
                    h.rawPostgres();
                }
                if (older) {
                    rawHset(); // the 11-column rows the older workloads compare with
                }
            });
            section("pg-redis-snapshot", h::snapshot);
            section("pg-redis-stream", h::streamRedis);
            section("pg-redis-latency", h::latency);
            section("pg-redis-stream-mosquitto", h::streamMosquitto);
            section("pg-redis-stream-transform", h::streamTransform);
            section("pg-cassandra-stream", h::streamCassandra);
            if (wanted("raw") && headline) {
                section("raw", () -> h.rawMqtt(mqttClient));
            }
            section("sync", this::syncPostgresToRedis);
            section("sizes", this::perChangeCost);
            section("fanout", this::fanOut);
            section("mosquitto", this::mosquitto);
            section("mapdb", this::mapdbToMapdb);
            section("cassandra", this::cassandra);
            section("jmh", () -> report.details.put("jmh", Jmh.run(home, quick, report)));
            section("queue", this::queue);
            section("reads", this::readsOverMqtt);
            section("queue-stores", () -> new QueueStores(this, report, quick, work).run());
            if (jfr) {
                report.profile.addAll(JfrTop.summarize(out.resolve("jfr-" + stem), 10, phases));
            }
        } finally {
            jedis.close();
            redis.close();
            report.machine.put("load_average_after", loadAverage());
            report.machine.put("wall_seconds", Math.round(secondsSince(t0)));
            String md = report.write(out, stem);
            System.out.println();
            System.out.println(md);
            System.out.println("written " + out.resolve(stem + ".json") + " and " + out.resolve(stem + ".md"));
        }
    }

    private interface Step {
        void run() throws Exception;
    }

    /** Runs one workload; a failure is a line in the report and the next workload still runs. */
    private void section(String name, Step step) {
        if (!wanted(name)) {
            return;
        }
        System.out.printf("%n== %s (%s)%n", name, quick ? "quick" : "full");
        long t0 = System.nanoTime();
        try {
            step.run();
        } catch (Exception | Error e) {
            e.printStackTrace();
            report.note(name + ": failed: " + e);
        }
        System.out.printf("   %s took %.0f s%n", name, secondsSince(t0));
    }

    private void machine() throws IOException {
        Map<String, Object> m = report.machine;
        m.put("date", Instant.now().toString());
        m.put("mode", quick ? "quick" : "full");
        m.put("cpus", Runtime.getRuntime().availableProcessors());
        m.put("cpu_model", procLine("/proc/cpuinfo", "model name").orElse("?"));
        m.put("ram_gb", procLine("/proc/meminfo", "MemTotal").map(s -> Long.parseLong(s.replaceAll("[^0-9]", ""))
                / 1024 / 1024).orElse(-1L));
        m.put("os", procLine("/etc/os-release", "PRETTY_NAME").map(s -> s.replace("\"", "")).orElse("?") + " "
                + System.getProperty("os.arch") + ", kernel " + System.getProperty("os.version"));
        m.put("jdk", System.getProperty("java.vm.name") + " " + System.getProperty("java.runtime.version"));
        m.put("mosquitto", ServerFixture.findBinary(List.of("mosquitto"), List.of("/usr/sbin")).map(b -> {
            try {
                Process p = new ProcessBuilder(b.toString(), "-h").redirectErrorStream(true).start();
                String first = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).lines()
                        .findFirst().orElse("?");
                p.waitFor(5, TimeUnit.SECONDS);
                return first.replaceAll(".*version ", "").trim();
            } catch (IOException e) {
                return "?";
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return "?";
            }
        }).orElse("not installed"));
        m.put("load_average_before", loadAverage());
        m.put("settings", opt.containsKey("batch-size") || opt.containsKey("poll-interval")
                ? "batch-size " + opt.getOrDefault("batch-size", "default") + ", poll-interval "
                + opt.getOrDefault("poll-interval", "default") : "node defaults");
    }

    // ------------------------------------------------------------------------------------------------ raw limits

    private void rawHset() {
        long rows = quick ? 100_000 : 300_000;
        double best = 0;
        for (int round = 0; round < 3; round++) {
            long t0 = System.nanoTime();
            hset(1, rows, null);
            best = Math.max(best, rows / secondsSince(t0));
            jedis.flushAll();
        }
        rawHset = best;
        report.figure("raw limits", "pipelined Jedis HSET (best of 3)", best, "rows/s",
                String.format(Locale.ROOT, "%,d rows of 11 fields, 1,000 per round trip", rows));
    }

    /** Pipelined HSET of rows {@code from..to} as {@code order:<id>}; with an index key, ZADDs the key there too. */
    private void hset(long from, long to, String indexKey) {
        String[] names = SqlToRedis.COLUMNS.split(", ");
        Pipeline p = jedis.pipelined();
        for (long id = from; id <= to; id++) {
            Object[] v = SqlToRedis.values(id, new Random(id));
            Map<String, String> h = new HashMap<>();
            for (int i = 0; i < v.length; i++) {
                if (v[i] != null) {
                    h.put(names[i], v[i].toString());
                }
            }
            p.hset(SqlToRedis.KEY_PREFIX + id, h);
            if (indexKey != null) {
                p.zadd(indexKey, 0, SqlToRedis.KEY_PREFIX + id);
            }
            if (id % 1000 == 0) {
                p.sync();
            }
        }
        p.sync();
    }

    /** Raw QoS 1 through a broker with mqdb's batch payload size (or the full-batch size before it is known). */
    private double rawMqtt(String brokerName, String uri) throws Exception {
        int size = payloadBytes > 0 ? payloadBytes : 100_000;
        // about as many bytes as the steady state sent (quick: 25 MB), at least 200 messages
        int count = (int) Math.max(200, (quick ? 25_000_000L : 150_000_000L) / size);
        MqttProbe.rawQos1(uri, Math.max(50, count / 5), size); // warm-up
        double rate = MqttProbe.rawQos1(uri, count, size);
        report.figure("raw limits", "Paho v5 QoS 1 through " + brokerName, rate, "msg/s",
                Report.versus(String.format(Locale.ROOT, "%,d messages of %,d bytes (%s)", count, size,
                        payloadBytes > 0 ? "mqdb's median batch" : "sync not run: a guess"),
                        Double.isNaN(eventsPerMessage) ? "" : String.format(Locale.ROOT,
                                "= %,.0f rows/s at %.0f rows per message", rate * eventsPerMessage,
                                eventsPerMessage)));
        return rate;
    }

    /**
     * Two JDBC clients insert {@code rows} new rows into {@code table}, each in transactions of 1,000 rows (one
     * batch each).
     *
     * @return rows per second on the SQL side
     */
    private double insertBurst(String table, long rows) throws Exception {
        long first = nextId;
        nextId += rows;
        return batched(rows, String.format(INSERT, table), (ps, i) -> bind(ps, first + i, new Random(first + i), null));
    }

    /**
     * Two JDBC clients update {@code rows} (at most {@code tableRows}) distinct rows of ids 1..{@code tableRows},
     * spread over the whole table, 1,000 per transaction. Distinct, so that every update is one change to apply
     * (capture reads a row once however often it changed) and the two clients never wait for each other's locks.
     */
    private double updateBurst(long tableRows, long rows) throws Exception {
        long stride = 1_000_003; // a prime: i -> i * stride mod tableRows visits every row once
        return batched(rows, "UPDATE shop.orders SET qty = qty + 1, note = ? WHERE id = ?", (ps, i) -> {
            ps.setString(1, "update " + i);
            ps.setLong(2, 1 + Math.floorMod(i * stride, tableRows));
        });
    }

    private interface Binder {
        void bind(PreparedStatement ps, long i) throws Exception;
    }

    /** Two clients run {@code sql} for i = 0..rows-1 (one the even i, the other the odd), 1,000 per transaction. */
    private double batched(long rows, String sql, Binder binder) throws Exception {
        return twoClients(rows, (c, writer) -> {
            try (PreparedStatement ps = c.prepareStatement(sql)) {
                int n = 0;
                for (long i = writer; i < rows; i += 2) {
                    binder.bind(ps, i);
                    ps.addBatch();
                    if (++n % 1000 == 0) {
                        ps.executeBatch();
                        c.commit();
                    }
                }
                ps.executeBatch();
                c.commit();
            }
        });
    }

    private interface Writer {
        void write(Connection c, int writer) throws Exception;
    }

    private double twoClients(long rows, Writer w) throws Exception {
        ExecutorService pool = Executors.newFixedThreadPool(2);
        long t0 = System.nanoTime();
        try {
            List<Future<?>> fs = new ArrayList<>();
            for (int i = 0; i < 2; i++) {
                int writer = i;
                fs.add(pool.submit(() -> {
                    try (Connection c = DriverManager.getConnection(url + "?reWriteBatchedInserts=true", pg.user(),
                            pg.password())) {
                        c.setAutoCommit(false);
                        w.write(c, writer);
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
        return rows / secondsSince(t0);
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

    // ------------------------------------------------------------------------------------------- mqdb workloads

    String redisNodeYaml(String name, String broker, int database) {
        return """
                node: { name: %s, data-dir: data }
                broker: %s
                stores: { cache: { type: redis, uri: "%s", database: %d, key-patterns: { "shop:orders": "order:{id}" } } }
                channels: [ { name: shop:orders, store: cache, subscribe: true%s } ]
                """.formatted(name, broker, redis.uri(), database, batchSize());
    }

    String pgNodeYaml(String broker) {
        return """
                node: { name: pg-node, data-dir: data }
                broker: %s
                stores: { legacy: { type: jdbc, url: "%s", username: %s%s%s } }
                channels: [ { name: shop:orders, store: legacy, publish: true%s } ]
                """.formatted(broker, url, pg.user(), opt.containsKey("poll-interval")
                ? ", poll-interval: " + opt.get("poll-interval") : "", capture(), batchSize());
    }

    /** {@code --capture trigger|log}: the publisher's capture mode; without it, the default (trigger). */
    private String capture() {
        String c = opt.get("capture");
        if (c == null) {
            return "";
        }
        if (!List.of("trigger", "log").contains(c)) {
            throw new IllegalArgumentException("--capture: expected trigger or log, got " + c);
        }
        return ", capture: " + c;
    }

    String batchSize() {
        return opt.containsKey("batch-size") ? ", batch-size: " + opt.get("batch-size") : "";
    }

    static String embedded(int port) {
        return "{ embedded: { port: " + port + " } }";
    }

    static String external(String uri) {
        return "{ uris: [ \"" + uri + "\" ] }";
    }

    NodeProcess node(String workload, String name, String yaml) throws IOException {
        Path jfrFile = null;
        for (int i = 1; jfr && (jfrFile == null || Files.exists(jfrFile)); i++) { // a restarted node: a new file
            jfrFile = out.resolve("jfr-" + stem).resolve(workload + "-" + name + (i == 1 ? "" : "-" + i) + ".jfr");
        }
        return NodeProcess.start(home, work.resolve(workload).resolve(name), name, yaml, jfrFile);
    }

    private void freshTable() throws Exception {
        try (Connection c = connect()) {
            SqlToRedis.createTable(c);
        }
        jedis.flushAll();
        nextId = 1;
    }

    /**
     * PostgreSQL → Redis over the embedded broker: initial load, PostgreSQL's insert rate without and with the
     * capture triggers, catch-up of a change-log backlog, steady state at saturation, latency at 2,000 rows/s, and
     * the raw MQTT rate through the same broker at the payload size the steady state sent.
     */
    private void syncPostgresToRedis() throws Exception {
        long rows = Long.parseLong(opt.getOrDefault("rows", quick ? "50000" : "1000000"));
        long burst = Long.parseLong(opt.getOrDefault("steady-rows", quick ? "50000" : "300000"));
        freshTable();
        try (Connection c = connect(); Statement st = c.createStatement()) {
            long t0 = System.nanoTime();
            SqlToRedis.copyRows(c, 1, rows);
            System.out.printf("   COPY %,d rows: %.1f s%n", rows, secondsSince(t0));
            st.execute("CREATE TABLE shop.plain (LIKE shop.orders INCLUDING ALL)");
        }
        nextId = rows + 1;
        int port = ServerFixture.freePort();
        String w = "sync";
        try (NodeProcess sub = node(w, "redis-node", redisNodeYaml("redis-node", embedded(port), 0))) {
            NodeProcess pub = node(w, "pg-node", pgNodeYaml(external("tcp://127.0.0.1:" + port)));
            Usage u = Usage.start(sub, pub);
            long loadWall = System.currentTimeMillis();
            double[] load = timeSync(pub, sub, rows, pub::published);
            phases.put("initial load", new long[] {loadWall, System.currentTimeMillis()});
            report.figure("initial load", String.format(Locale.ROOT, "%,d rows%s", rows,
                            quick ? " (quick mode; 1,000,000 in full mode)" : ""), load[0], "rows/s",
                    Report.ratio(load[0], rawHset, "raw HSET") + String.format(Locale.ROOT, "; from the first row"
                            + " published; the node's start took %.1f s more", load[1]), 120_000, true);
            footprint("initial load", u, rows, sub, pub);
            pub.close();

            // PostgreSQL's own insert rate, while no node competes for the cores
            // alternating, best of 2 each: on a shared machine one round says little
            long k = quick ? 10_000 : 100_000;
            double triggered = 0;
            rawPgPlain = 0;
            for (int round = 0; round < 2; round++) {
                rawPgPlain = Math.max(rawPgPlain, insertBurst("shop.plain", k));
                triggered = Math.max(triggered, insertBurst("shop.orders", k));
            }
            k *= 2;
            report.figure("raw limits", "PostgreSQL inserts without triggers", rawPgPlain, "rows/s",
                    String.format(Locale.ROOT, "best of 2 × %,d rows, 2 JDBC clients, 1,000 rows per transaction",
                            k / 2));
            report.figure("raw limits", "PostgreSQL inserts with mqdb's capture triggers", triggered, "rows/s",
                    Report.ratio(triggered, rawPgPlain, "without triggers"));

            pub = node(w, "pg-node", pgNodeYaml(external("tcp://127.0.0.1:" + port)));
            long before = sub.applied();
            double[] catchUp = timeSync(pub, sub, k, () -> sub.applied() - before);
            report.figure("catch-up", String.format(Locale.ROOT, "%,d-change backlog after a restart", k), catchUp[0],
                    "rows/s", Report.ratio(catchUp[0], rawHset, "raw HSET") + String.format(Locale.ROOT,
                            "; from the first change applied; the node's start took %.1f s more", catchUp[1]));

            try (MqttProbe listener = MqttProbe.listen("tcp://127.0.0.1:" + port, "bench-listener",
                    CHANNEL_TOPIC, 0)) {
                u = Usage.start(sub, pub);
                long base = sub.applied();
                long s0 = System.nanoTime();
                long wall0 = System.currentTimeMillis();
                double sql = insertBurst("shop.orders", burst);
                await(sub, base + burst, sub, pub);
                phases.put("steady sync", new long[] {wall0, System.currentTimeMillis()});
                steadyRowsPerS = burst / secondsSince(s0);
                eventsPerMessage = listener.messages.get() == 0 ? Double.NaN
                        : (double) burst / listener.messages.get();
                int[] sizes = listener.sizes.stream().mapToInt(Integer::intValue).sorted().toArray();
                payloadBytes = sizes.length == 0 ? -1 : sizes[sizes.length / 2];
                report.details.put("steady_messages", listener.messages.get());
                report.details.put("steady_payload_bytes_median", payloadBytes);
                report.details.put("steady_payload_bytes_max", sizes.length == 0 ? -1 : sizes[sizes.length - 1]);
                footprint("steady sync", u, burst, sub, pub);
                rawMqttEmbedded = rawMqtt("the embedded HiveMQ", "tcp://127.0.0.1:" + port);
                report.figure("steady sync", String.format(Locale.ROOT, "%,d SQL inserts, saturated", burst),
                        steadyRowsPerS, "rows/s", Report.versus(Report.ratio(steadyRowsPerS, rawHset, "raw HSET"),
                                Report.ratio(steadyRowsPerS, rawMqttEmbedded * eventsPerMessage, "raw MQTT"),
                                Report.ratio(steadyRowsPerS, triggered, "PostgreSQL inserts with triggers")),
                        50_000, true);
                report.figure("steady sync", "SQL side alone (same 2 clients)", sql, "rows/s", "");
                report.figure("steady sync", "MQTT messages: median payload", payloadBytes, "bytes",
                        String.format(Locale.ROOT, "%.0f rows per message on average, %,d messages",
                                eventsPerMessage, listener.messages.get()));
                rssTarget("steady sync", sub, pub);
                double mqdbMessages = steadyRowsPerS / eventsPerMessage;
                report.figure("steady sync", "MQTT stage (messages/s during steady sync)", mqdbMessages, "msg/s",
                        Report.ratio(mqdbMessages, rawMqttEmbedded, "raw Paho QoS 1") + " (target ≥ 0.70)",
                        0.7 * rawMqttEmbedded, true);
            }

            u = Usage.start(sub, pub);
            int seconds = Integer.parseInt(opt.getOrDefault("latency-seconds", quick ? "8" : "30"));
            int rate = Integer.parseInt(opt.getOrDefault("rate", "2000"));
            long wall0 = System.currentTimeMillis();
            latency(w, sub, rate, seconds, rate == 2000);
            phases.put("latency", new long[] {wall0, System.currentTimeMillis()});
            footprint("latency " + Report.num(rate) + "/s", u, (long) rate * seconds, sub, pub);
            pub.close();
        }
    }

    /**
     * Inserts at a fixed rate from two clients (autocommit, one row each) and records when each row's key is first
     * written to Redis (keyspace notifications). Percentiles after a 2 s warm-up.
     */
    private void latency(String workload, NodeProcess sub, int rate, int seconds, boolean targets) throws Exception {
        Map<Long, Long> landed = new ConcurrentHashMap<>();
        jedis.configSet("notify-keyspace-events", "Kh");
        Jedis listen = new Jedis(redis.host(), redis.port());
        JedisPubSub listener = new JedisPubSub() {
            @Override
            public void onPMessage(String pattern, String channel, String message) {
                long now = System.nanoTime();
                String key = channel.substring(channel.indexOf(':', "__keyspace@".length()) + 1);
                landed.putIfAbsent(Long.parseLong(key.substring(SqlToRedis.KEY_PREFIX.length())), now);
            }
        };
        Thread t = new Thread(() -> listen.psubscribe(listener, "__keyspace@0__:" + SqlToRedis.KEY_PREFIX + "*"),
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
        long t0 = System.nanoTime() + 50_000_000L;
        String sql = String.format(INSERT, "shop.orders");
        ExecutorService pool = Executors.newFixedThreadPool(2);
        List<Future<?>> fs = new ArrayList<>();
        for (int w = 0; w < 2; w++) {
            int writer = w;
            fs.add(pool.submit(() -> {
                try (Connection c = connect(); PreparedStatement ps = c.prepareStatement(sql)) {
                    Random r = new Random(100 + writer);
                    for (int i = writer; i < total; i += 2) {
                        long wait = t0 + (i / 2) * periodNs - System.nanoTime();
                        if (wait > 0) {
                            LockSupport.parkNanos(wait);
                        }
                        insertedAt[i] = System.nanoTime();
                        bind(ps, first + i, r, LocalDateTime.ofInstant(Instant.now(), ZoneOffset.UTC));
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
            sub.checkAlive();
            LockSupport.parkNanos(10_000_000);
        }
        listener.punsubscribe();
        listen.close();
        List<Long> ns = new ArrayList<>();
        int missing = 0;
        for (int i = rate * 2; i < total; i++) {
            Long at = landed.get(first + i);
            if (at == null) {
                missing++;
            } else {
                ns.add(at - insertedAt[i]);
            }
        }
        long[] sorted = ns.stream().mapToLong(Long::longValue).sorted().toArray();
        String where = "latency " + workload;
        String how = String.format(Locale.ROOT, "%,d rows/s asked, %,.0f achieved, %,d samples, %d missing", rate,
                total / sent, sorted.length, missing);
        if (targets) {
            report.figure(where, "p50 change → Redis", pct(sorted, 50), "ms", how, 10, false);
            report.figure(where, "p95", pct(sorted, 95), "ms", "");
            report.figure(where, "p99", pct(sorted, 99), "ms", "", 25, false);
        } else {
            report.figure(where, "p50 / p95 / p99: p50", pct(sorted, 50), "ms", how);
            report.figure(where, "p99", pct(sorted, 99), "ms", "");
        }
        report.figure(where, "max", sorted.length == 0 ? Double.NaN : sorted[sorted.length - 1] / 1e6, "ms", "");
    }

    /**
     * The cost of one change as the table grows: the same burst of random updates against a source table of 10k,
     * 1M (and 10M in full mode) rows, with the target Redis holding the same rows. Rows beyond the synced ones are
     * COPYed with the capture triggers disabled and written to Redis directly (hash + key index, the adapter's
     * documented layout), so growing the table does not go through the sync itself.
     */
    private void perChangeCost() throws Exception {
        long[] sizes = quick ? new long[] {10_000, 1_000_000} : new long[] {10_000, 1_000_000, 10_000_000};
        long updates = 10_000; // at most the smallest table: every update a distinct row
        freshTable();
        int port = ServerFixture.freePort();
        String w = "sizes";
        try (NodeProcess sub = node(w, "redis-node", redisNodeYaml("redis-node", embedded(port), 0));
             NodeProcess pub = node(w, "pg-node", pgNodeYaml(external("tcp://127.0.0.1:" + port)))) {
            long have = 0;
            double first = Double.NaN;
            boolean warm = false;
            for (long size : sizes) {
                long t0 = System.nanoTime();
                try (Connection c = connect(); Statement st = c.createStatement()) {
                    st.execute("ALTER TABLE shop.orders DISABLE TRIGGER USER");
                    SqlToRedis.copyRows(c, have + 1, size);
                    st.execute("ALTER TABLE shop.orders ENABLE TRIGGER USER");
                    st.execute("ANALYZE shop.orders");
                }
                hset(have + 1, size, "mqdb:idx:shop:orders");
                have = size;
                System.out.printf("   table grown to %,d rows in %.1f s%n", size, secondsSince(t0));
                if (!warm) { // the first burst of fresh nodes runs interpreted code: warm them up first
                    long base = sub.applied();
                    updateBurst(size, Math.min(size, updates));
                    await(sub, base + Math.min(size, updates), sub, pub);
                    warm = true;
                }
                Usage u = Usage.start(sub, pub);
                double rate = 0;
                int rounds = quick ? 2 : 3;
                for (int round = 0; round < rounds; round++) {
                    long base = sub.applied();
                    long s0 = System.nanoTime();
                    updateBurst(size, updates);
                    await(sub, base + updates, sub, pub);
                    rate = Math.max(rate, updates / secondsSince(s0));
                }
                if (Double.isNaN(first)) {
                    first = rate;
                }
                String label = String.format(Locale.ROOT, "table of %,d rows", size);
                report.figure("per-change cost", label + ": random updates", rate, "rows/s",
                        String.format(Locale.ROOT, "best of %d × %,d distinct rows; %.2f × the 10k-row table"
                                + " (flat = 1.00)", rounds, updates, rate / first));
                footprint("table " + Report.num(size), u, rounds * updates, sub, pub);
            }
        }
    }

    /** One publisher, three Redis subscribers (databases 0, 1, 2 of the same Redis) on the embedded broker. */
    private void fanOut() throws Exception {
        long burst = quick ? 20_000 : 200_000;
        freshTable();
        int port = ServerFixture.freePort();
        String broker = external("tcp://127.0.0.1:" + port);
        String w = "fanout";
        try (NodeProcess s1 = node(w, "redis-1", redisNodeYaml("redis-1", embedded(port), 0));
             NodeProcess s2 = node(w, "redis-2", redisNodeYaml("redis-2", broker, 1));
             NodeProcess s3 = node(w, "redis-3", redisNodeYaml("redis-3", broker, 2));
             NodeProcess pub = node(w, "pg-node", pgNodeYaml(broker))) {
            long warm = warmUp(s1, s2, s3, pub);
            Usage u = Usage.start(s1, s2, s3, pub);
            long s0 = System.nanoTime();
            insertBurst("shop.orders", burst);
            for (NodeProcess s : List.of(s1, s2, s3)) {
                await(s, warm + burst, s1, s2, s3, pub);
            }
            double rate = burst / secondsSince(s0);
            report.figure("fan-out", String.format(Locale.ROOT, "%,d inserts to 3 subscribers, each", burst), rate,
                    "rows/s", Report.versus(Report.ratio(rate, steadyRowsPerS, "one subscriber"),
                            Report.ratio(3 * rate, rawHset, "raw HSET (3 subscribers together)")));
            footprint("fan-out", u, burst, s1, s2, s3, pub);
        }
    }

    /** PostgreSQL → Redis with both nodes on a Mosquitto broker instead of the embedded one. */
    private void mosquitto() throws Exception {
        MosquittoServer m;
        try {
            m = MosquittoServer.startNew();
        } catch (RuntimeException e) {
            report.note("Mosquitto: not available (" + e.getMessage() + ")");
            return;
        }
        try {
            long burst = quick ? 30_000 : 300_000;
            freshTable();
            String broker = external(m.uri());
            String w = "mosquitto";
            try (NodeProcess sub = node(w, "redis-node", redisNodeYaml("redis-node", broker, 0));
                 NodeProcess pub = node(w, "pg-node", pgNodeYaml(broker))) {
                long warm = warmUp(sub, pub);
                Usage u = Usage.start(sub, pub);
                long s0 = System.nanoTime();
                insertBurst("shop.orders", burst);
                await(sub, warm + burst, sub, pub);
                double rate = burst / secondsSince(s0);
                double raw = rawMqtt("Mosquitto", m.uri());
                report.figure("mosquitto", String.format(Locale.ROOT, "steady sync, %,d SQL inserts", burst), rate,
                        "rows/s", Report.versus(Report.ratio(rate, rawHset, "raw HSET"),
                                Report.ratio(rate, steadyRowsPerS, "embedded broker"),
                                Report.ratio(rate / eventsPerMessage, raw, "raw Paho (messages)")));
                footprint("mosquitto steady", u, burst, sub, pub);
                u = Usage.start(sub, pub);
                latency("mosquitto", sub, 2_000, quick ? 6 : 20, false);
                footprint("mosquitto latency", u, 0, sub, pub);
            }
        } finally {
            m.close();
        }
    }

    /**
     * MapDB → MapDB over the embedded broker: an application embedding a node writes rows through
     * {@link LocalTable} (this JVM); a subscriber node (its own process, running the broker) applies them to its
     * MapDB file.
     */
    private void mapdbToMapdb() throws Exception {
        long rows = quick ? 30_000 : 500_000;
        int port = ServerFixture.freePort();
        String w = "mapdb";
        try (NodeProcess sub = node(w, "mapdb-sub", """
                node: { name: mapdb-sub, data-dir: data }
                broker: { embedded: { port: %d } }
                stores: { local: { type: mapdb } }
                channels: [ { name: shop:items, store: local, subscribe: true } ]
                """.formatted(port))) {
            try (MqdbNode pub = mapdbPublisher(w, "mapdb-pub", port)) {
                LocalTable items = pub.table("shop:items");
                items.ensure(itemsSchema());
                long warm = quick ? 5_000 : 20_000; // fresh nodes run interpreted code at first
                writeItems(items, 1, warm);
                await(sub, warm, sub);
                Usage u = Usage.start(sub);
                long t0 = System.nanoTime();
                writeItems(items, warm + 1, warm + rows);
                double written = rows / secondsSince(t0);
                await(sub, warm + rows, sub);
                double rate = rows / secondsSince(t0);
                report.figure("MapDB → MapDB", String.format(Locale.ROOT, "%,d rows, embedded broker", rows), rate,
                        "rows/s", Report.versus(String.format(Locale.ROOT, "the embedding application wrote %,.0f"
                                + " rows/s", written), Report.ratio(rate / eventsPerMessage, rawMqttEmbedded,
                                "raw Paho (messages, at the PostgreSQL batch size)")));
                footprint("MapDB → MapDB", u, rows, sub);
            }
        }
    }

    /**
     * Reads over MQTT (docs/reads.md): two subscriber processes serve reads of shop:items ({@code reads: true}), one on
     * Redis (hosting the embedded broker), one on MapDB; the publisher, in this JVM, reads through its embedding API
     * ({@code node.remote}): one key at a time at ONE and at QUORUM (latency), then 8 threads at ONE (throughput).
     */
    private void readsOverMqtt() throws Exception {
        long rows = 10_000;
        int reads = quick ? 2_000 : 10_000;
        int port = ServerFixture.freePort();
        String w = "reads";
        jedis.select(3);
        jedis.flushDB();
        try (NodeProcess cache = node(w, "reads-redis", """
                node: { name: reads-redis, data-dir: data }
                broker: { embedded: { port: %d } }
                stores: { cache: { type: redis, uri: "%s", database: 3 } }
                channels: [ { name: shop:items, store: cache, subscribe: true, reads: true },
                            { name: shop:carts, store: cache, subscribe: true } ]
                """.formatted(port, redis.uri()));
             NodeProcess lite = node(w, "reads-mapdb", """
                node: { name: reads-mapdb, data-dir: data }
                broker: { uris: [ "tcp://127.0.0.1:%d" ] }
                stores: { local: { type: mapdb } }
                channels: [ { name: shop:items, store: local, subscribe: true, reads: true },
                            { name: shop:carts, store: local, subscribe: true } ]
                """.formatted(port))) {
            try (MqdbNode pub = mapdbPublisher(w, "reads-pub", port)) {
                LocalTable items = pub.table("shop:items");
                items.ensure(itemsSchema());
                writeItems(items, 1, rows);
                await(cache, rows, cache, lite);
                await(lite, rows, cache, lite);
                io.mqdb.node.read.RemoteTable remote = pub.remote("shop:items");
                java.time.Duration wait = java.time.Duration.ofSeconds(5);
                java.util.Random random = new java.util.Random(7);
                for (int i = 0; i < 1_000; i++) { // warm-up: both ends run interpreted code at first
                    remote.get(Map.of("id", 1 + random.nextInt((int) rows)),
                            io.mqdb.node.read.RemoteReader.Consistency.ONE, wait);
                }
                for (io.mqdb.node.read.RemoteReader.Consistency c : List.of(
                        io.mqdb.node.read.RemoteReader.Consistency.ONE,
                        io.mqdb.node.read.RemoteReader.Consistency.QUORUM)) {
                    long[] nanos = new long[reads];
                    long t0 = System.nanoTime();
                    for (int i = 0; i < reads; i++) {
                        long s = System.nanoTime();
                        var r = remote.get(Map.of("id", 1 + random.nextInt((int) rows)), c, wait);
                        nanos[i] = System.nanoTime() - s;
                        if (!r.reached() || !r.found()) {
                            throw new IllegalStateException("a read at " + c + " failed: " + r);
                        }
                    }
                    double perSecond = reads / secondsSince(t0);
                    java.util.Arrays.sort(nanos);
                    report.figure("reads over MQTT", String.format(Locale.ROOT, "%s, one at a time, %,d reads: "
                            + "p50", c, reads), nanos[reads / 2] / 1e6, "ms", String.format(Locale.ROOT,
                            "p99 %.2f ms, max %.2f ms, %,.0f reads/s; 2 replicas (Redis, MapDB), embedded broker",
                            nanos[reads * 99 / 100] / 1e6, nanos[reads - 1] / 1e6, perSecond));
                }
                int threads = 8;
                java.util.concurrent.atomic.AtomicLong done = new java.util.concurrent.atomic.AtomicLong();
                java.util.concurrent.ExecutorService pool = java.util.concurrent.Executors.newFixedThreadPool(threads);
                long end = System.nanoTime() + java.util.concurrent.TimeUnit.SECONDS.toNanos(quick ? 5 : 15);
                long t0 = System.nanoTime();
                List<java.util.concurrent.Future<?>> futures = new ArrayList<>();
                for (int t = 0; t < threads; t++) {
                    int seed = t;
                    futures.add(pool.submit(() -> {
                        java.util.Random rnd = new java.util.Random(seed);
                        while (System.nanoTime() < end) {
                            var r = remote.get(Map.of("id", 1 + rnd.nextInt((int) rows)),
                                    io.mqdb.node.read.RemoteReader.Consistency.ONE, wait);
                            if (r.reached()) {
                                done.incrementAndGet();
                            }
                        }
                        return null;
                    }));
                }
                for (java.util.concurrent.Future<?> f : futures) {
                    f.get();
                }
                pool.shutdown();
                report.figure("reads over MQTT", threads + " threads at ONE", done.get() / secondsSince(t0),
                        "reads/s", "each read answered by both replicas; the first answer counts");
                acknowledgedWrites(pub.remote("shop:carts"), reads / 2);
            }
        }
    }

    /**
     * Acknowledged writes (docs/writes.md) of shop:carts, which both subscriber processes hold and nobody publishes:
     * one row at a time through the embedding API, at ONE and at ALL (both stores committed before the call returns).
     */
    private void acknowledgedWrites(io.mqdb.node.read.RemoteTable carts, int writes) throws Exception {
        java.time.Duration wait = java.time.Duration.ofSeconds(10);
        long id = 0;
        for (int i = 0; i < 500; i++) { // warm-up, and the first write makes the table on both
            carts.upsert(Map.of("id", ++id, "name", "warm-up", "qty", i),
                    io.mqdb.node.read.RemoteReader.Consistency.ALL, wait);
        }
        for (io.mqdb.node.read.RemoteReader.Consistency c : List.of(io.mqdb.node.read.RemoteReader.Consistency.ONE,
                io.mqdb.node.read.RemoteReader.Consistency.ALL)) {
            long[] nanos = new long[writes];
            long t0 = System.nanoTime();
            for (int i = 0; i < writes; i++) {
                long s = System.nanoTime();
                var r = carts.upsert(Map.of("id", ++id, "name", "cart " + id, "qty", i), c, wait);
                nanos[i] = System.nanoTime() - s;
                if (!r.reached()) {
                    throw new IllegalStateException("a write at " + c + " was not confirmed: " + r);
                }
            }
            double perSecond = writes / secondsSince(t0);
            java.util.Arrays.sort(nanos);
            report.figure("acknowledged writes over MQTT", String.format(Locale.ROOT, "acks %s, one at a time, %,d "
                    + "writes: p50", c, writes), nanos[writes / 2] / 1e6, "ms", String.format(Locale.ROOT,
                    "p99 %.2f ms, max %.2f ms, %,.0f writes/s; 2 subscribers (Redis, MapDB), each commits before its"
                    + " receipt; embedded broker", nanos[writes * 99 / 100] / 1e6, nanos[writes - 1] / 1e6,
                    perSecond));
        }
    }

    /** A node in this JVM publishing shop:items from a MapDB store, connected to the broker on the port. */
    private MqdbNode mapdbPublisher(String workload, String name, int port) throws Exception {
        Path dir = work.resolve(workload).resolve(name);
        Files.createDirectories(dir);
        Path file = dir.resolve(name + ".yaml");
        Files.writeString(file, """
                node: { name: %s, data-dir: data }
                broker: { uris: [ "tcp://127.0.0.1:%d" ] }
                stores: { local: { type: mapdb } }
                channels: [ { name: shop:items, store: local, publish: true } ]
                """.formatted(name, port));
        PluginRegistry plugins = PluginRegistry.load(Optional.of(home.resolve("plugins")),
                MqdbBench.class.getClassLoader());
        return MqdbNode.start(ConfigLoader.load(file, StoreSet.checker(plugins)), plugins);
    }

    /** Upserts items {@code from..to} through the embedding API, 1,000 per call (one commit each). */
    private static void writeItems(LocalTable items, long from, long to) {
        for (long id = from; id <= to; id += 1000) {
            List<Row> batch = new ArrayList<>(1000);
            for (long i = id; i < id + 1000 && i <= to; i++) {
                batch.add(item(i));
            }
            items.upsert(batch);
        }
    }

    /**
     * Fresh node processes run interpreted code at first: inserts and syncs a few thousand rows before a workload
     * is timed. The first node given is the one that must have applied them.
     *
     * @return the rows inserted
     */
    private long warmUp(NodeProcess sub, NodeProcess... others) throws Exception {
        long rows = quick ? 5_000 : 20_000;
        long base = sub.applied();
        insertBurst("shop.orders", rows);
        List<NodeProcess> all = new ArrayList<>(List.of(others));
        all.add(sub);
        await(sub, base + rows, all.toArray(NodeProcess[]::new));
        for (NodeProcess n : others) {
            if (n.name.startsWith("redis-")) {
                await(n, base + rows, all.toArray(NodeProcess[]::new));
            }
        }
        return rows;
    }

    static TableSchema itemsSchema() {
        return new TableSchema(TableId.parse("shop:items"), List.of(new Column("id", ColumnType.INT64, false),
                Column.of("name", ColumnType.STRING), Column.of("qty", ColumnType.INT64),
                Column.of("price", ColumnType.DOUBLE), Column.of("note", ColumnType.STRING)), List.of("id"));
    }

    static Row item(long id) {
        return Row.of(Map.of("id", id, "name", "item " + id, "qty", id % 50, "price", (id % 10_000) / 100.0,
                "note", "note of item " + id));
    }

    /** PostgreSQL → Cassandra, when a Cassandra can start (the tests' fixture). */
    private void cassandra() throws Exception {
        if (quick && !only.contains("cassandra")) {
            report.note("Cassandra: skipped in quick mode (its start alone takes 10–40 s); run without --quick, or"
                    + " --quick --only raw,cassandra");
            return;
        }
        CassandraServer cs;
        try {
            cs = CassandraServer.shared();
        } catch (RuntimeException | Error e) {
            report.note("Cassandra: not available (" + e.getMessage().lines().findFirst().orElse("") + ")");
            return;
        }
        try {
            long warm = 10_000;
            long burst = quick ? 30_000 : 100_000;
            freshTable();
            int port = ServerFixture.freePort();
            String w = "cassandra";
            try (NodeProcess sub = node(w, "cassandra-node", """
                    node: { name: cassandra-node, data-dir: data }
                    broker: { embedded: { port: %d } }
                    stores: { wide: { type: cassandra, contact-points: [ "%s" ], local-datacenter: %s } }
                    channels: [ { name: shop:orders, store: wide, subscribe: true } ]
                    """.formatted(port, cs.contactPoint(), cs.localDatacenter()));
                 NodeProcess pub = node(w, "pg-node", pgNodeYaml(external("tcp://127.0.0.1:" + port)))) {
                insertBurst("shop.orders", warm); // a fresh Cassandra (and node) is slow for its first rows
                await(sub, warm, sub, pub);
                Usage u = Usage.start(sub, pub);
                long s0 = System.nanoTime();
                insertBurst("shop.orders", burst);
                await(sub, warm + burst, sub, pub);
                double rate = burst / secondsSince(s0);
                report.figure("Cassandra", String.format(Locale.ROOT, "steady sync, %,d SQL inserts", burst), rate,
                        "rows/s", Report.versus(Report.ratio(rate, steadyRowsPerS, "PostgreSQL → Redis"),
                                "raw driver: CassandraApplyBenchmark (docs/adapters/cassandra.md)"));
                footprint("Cassandra steady", u, burst, sub, pub);
            }
        } finally {
            cs.close();
        }
    }

    /** The durable queue's own benchmark, once {@code io.mqdb.queue.QueueBench} is on the class path. */
    private void queue() throws Exception {
        try {
            Class.forName("io.mqdb.queue.QueueBench");
        } catch (ClassNotFoundException e) {
            report.note("queue benchmark: not built yet (no io.mqdb.queue.QueueBench on the class path)");
            return;
        }
        Path dir = out.resolve("queue-" + stem);
        String sizes = quick ? "0,1000000" : "0,1000000,10000000";
        Process p = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "java").toString(), "-Xmx1g",
                "-cp", System.getProperty("java.class.path"), "io.mqdb.queue.QueueBench", "--out", dir.toString(),
                "--sizes", sizes).redirectErrorStream(true).start();
        List<String> lines = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).lines().toList();
        p.waitFor();
        lines.forEach(l -> System.out.println("   " + l));
        report.details.put("queue", Map.of("sizes", sizes, "exit", p.exitValue(), "output", lines, "dir",
                dir.toString()));
        report.note("queue benchmark (sizes " + sizes + "): exit " + p.exitValue() + ", output in " + dir
                + " and under details.queue of the JSON");
    }

    // --------------------------------------------------------------------------------------------------- support

    /** CPU and peak RSS of nodes from the start of one workload. */
    static final class Usage {
        final Map<NodeProcess, Long> cpu0 = new LinkedHashMap<>();

        static Usage start(NodeProcess... nodes) {
            Usage u = new Usage();
            for (NodeProcess n : nodes) {
                u.cpu0.put(n, n.cpuMillis());
                n.resetPeakRss();
            }
            return u;
        }
    }

    void footprint(String workload, Usage u, long changes, NodeProcess... nodes) {
        for (NodeProcess n : nodes) {
            long[] heap = n.heapMb();
            double cpu = (n.cpuMillis() - u.cpu0.getOrDefault(n, 0L)) / 1000.0;
            report.footprint(new Report.Footprint(workload, n.name, n.peakRssMb(), n.statusMb("VmHWM"), heap[0],
                    heap[1], cpu, changes > 0 ? cpu * 1e6 / changes : -1));
        }
    }

    /** The target of issue 7: every node ≤ 300 MB RSS in the steady state. */
    private void rssTarget(String workload, NodeProcess... nodes) {
        NodeProcess largest = Arrays.stream(nodes).max(java.util.Comparator.comparingLong(NodeProcess::peakRssMb))
                .orElseThrow();
        report.figure(workload, "node RSS, largest node: " + largest.name + " (sampled peak)",
                largest.peakRssMb(), "MB", "launcher defaults (-Xms64m -Xmx256m, G1)", 300, false);
    }

    /**
     * Times a sync that a node starts by itself (initial load, catch-up) from the moment {@code progress} first moves
     * (the status line, every 100 ms) until {@code sub} applied {@code rows} more rows than at the call.
     *
     * @return rows per second, and the seconds from the process start until progress first moved
     */
    private double[] timeSync(NodeProcess pub, NodeProcess sub, long rows, java.util.function.LongSupplier progress) {
        long target = sub.applied() + rows;
        while (progress.getAsLong() == 0) {
            pub.checkAlive();
            sub.checkAlive();
            LockSupport.parkNanos(1_000_000);
        }
        long first = System.nanoTime();
        await(sub, target, sub, pub);
        return new double[] {rows / secondsSince(first), (first - pub.startNanos()) / 1e9};
    }

    private void await(NodeProcess node, long applied, NodeProcess... all) {
        long deadline = System.nanoTime() + TimeUnit.MINUTES.toNanos(quick ? 5 : 60);
        while (node.applied() < applied) {
            for (NodeProcess n : all) {
                n.checkAlive();
            }
            if (System.nanoTime() > deadline) {
                throw new IllegalStateException(node.name + " applied " + node.applied() + " of " + applied);
            }
            LockSupport.parkNanos(2_000_000);
        }
    }

    Connection connect() throws Exception {
        return DriverManager.getConnection(url, pg.user(), pg.password());
    }

    private static double pct(long[] sorted, int p) {
        if (sorted.length == 0) {
            return Double.NaN;
        }
        int i = (int) Math.ceil(p / 100.0 * sorted.length) - 1;
        return sorted[Math.max(0, Math.min(sorted.length - 1, i))] / 1e6;
    }

    private static Optional<String> procLine(String file, String key) {
        try {
            return Files.readAllLines(Path.of(file)).stream().filter(l -> l.startsWith(key))
                    .map(l -> l.substring(l.indexOf(l.contains(":") ? ':' : '=') + 1).trim()).findFirst();
        } catch (IOException e) {
            return Optional.empty();
        }
    }

    static String loadAverage() {
        try {
            return String.join(" ", Arrays.copyOf(Files.readString(Path.of("/proc/loadavg")).trim().split(" "), 3));
        } catch (IOException e) {
            return "?";
        }
    }

    static double secondsSince(long t0) {
        return (System.nanoTime() - t0) / 1e9;
    }

    private static String require(Map<String, String> opt, String key) {
        String v = opt.get(key);
        if (v == null) {
            throw new IllegalArgumentException("--" + key + " is required");
        }
        return v;
    }

    private static Map<String, String> parse(String[] args) {
        Map<String, String> opt = new LinkedHashMap<>();
        for (int i = 0; i < args.length; i++) {
            if (!args[i].startsWith("--")) {
                throw new IllegalArgumentException("unexpected argument " + args[i]);
            }
            String k = args[i].substring(2);
            if (k.equals("quick") || k.equals("jfr")) {
                opt.put(k, "true");
            } else if (i + 1 < args.length) {
                opt.put(k, args[++i]);
            } else {
                throw new IllegalArgumentException("--" + k + " needs a value");
            }
        }
        return opt;
    }
}
