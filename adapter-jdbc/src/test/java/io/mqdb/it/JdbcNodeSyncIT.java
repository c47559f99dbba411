package io.mqdb.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.mqdb.config.ConfigLoader;
import io.mqdb.node.LocalTable;
import io.mqdb.node.MqdbNode;
import io.mqdb.node.TableCheck;
import io.mqdb.plugin.PluginRegistry;
import com.google.gson.JsonParser;
import io.mqdb.spi.Column;
import io.mqdb.spi.Json;
import io.mqdb.spi.Key;
import io.mqdb.spi.Row;
import io.mqdb.spi.TableSchema;
import io.mqdb.testing.PostgresServer;
import io.mqdb.testing.ServerFixture;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Two nodes in one JVM, JDBC on both ends: node A publishes {@code shop:items} from PostgreSQL with trigger capture,
 * node B (running the embedded broker) applies it to an SQLite file, creating the table. The PostgreSQL table has
 * rows before A first starts (initial load); every later change is made by plain JDBC, as a legacy application
 * would, and A is restarted once in the middle.
 */
class JdbcNodeSyncIT {
    /** Every portable type, written by plain SQL with explicit casts so the JVM's time zone plays no part. */
    private static final String CREATE = """
            CREATE TABLE shop.items (id bigint PRIMARY KEY, name text, qty bigint, price numeric,
              ratio double precision, active boolean, data bytea, at timestamp(6), day date, uid uuid, doc jsonb)""";
    private static final String INSERT = "INSERT INTO shop.items VALUES (?, ?, ?, CAST(? AS numeric), ?, ?, ?,"
            + " CAST(? AS timestamp), CAST(? AS date), CAST(? AS uuid), CAST(? AS jsonb))";

    @TempDir
    Path dir;
    private final PluginRegistry plugins = PluginRegistry.load(Optional.empty(), JdbcNodeSyncIT.class.getClassLoader());
    private final PostgresServer pg = PostgresServer.shared();
    private final int port = ServerFixture.freePort();
    private String pgUrl;
    private MqdbNode a;
    private MqdbNode b;

    /** Node A's capture settings. */
    private String capture = "capture: trigger";
    /** The replication slot of a {@code capture: log} case, dropped after it. */
    private String slot;

    @AfterEach
    void stop() {
        if (a != null) {
            a.close();
        }
        if (b != null) {
            b.close();
        }
        if (slot != null) {
            io.mqdb.adapter.jdbc.LogSlots.drop(slot);
        }
    }

    @Test
    void postgresChangesMadeByPlainJdbcReachSqliteExactlyAcrossARestart() throws Exception {
        syncAcrossARestart("mqdb_node_sync");
    }

    /** The same with {@code capture: log}: the slot exists before the initial load; every change comes from the WAL. */
    @Test
    void postgresChangesReachSqliteExactlyAcrossARestartWithLogCapture() throws Exception {
        slot = "mqdb_node_sync_" + ProcessHandle.current().pid();
        capture = "capture: log, slot: " + slot + ", publication: mqdb_node_sync, heartbeat-interval: 1s";
        syncAcrossARestart("mqdb_node_sync_log");
    }

    private void syncAcrossARestart(String database) throws Exception {
        pgUrl = pg.createDatabase(database);
        sql("DROP SCHEMA IF EXISTS shop CASCADE", "DROP TABLE IF EXISTS public.mqdb_changelog",
                "CREATE SCHEMA shop", CREATE);
        insert(1, 300); // before node A ever ran: reaches B by the initial load

        b = start("b", """
                node: { name: b, data-dir: b-data }
                broker: { embedded: { port: %d } }
                stores: { lite: { type: jdbc, url: "jdbc:sqlite:%s" } }
                channels: [ { name: shop:items, store: lite, subscribe: true } ]
                """.formatted(port, dir.resolve("b.sqlite")));
        a = startA();

        await().atMost(Duration.ofSeconds(30)).until(() -> a.metrics().snapshotRows.sum() == 300);
        insert(301, 600);
        await().atMost(Duration.ofSeconds(30)).until(() -> a.metrics().published.sum() > 300);
        sql("UPDATE shop.items SET name = name || ' (renamed)', qty = qty + 1 WHERE id % 7 = 0",
                "UPDATE shop.items SET price = NULL, doc = NULL, data = NULL WHERE id % 11 = 0",
                "DELETE FROM shop.items WHERE id % 13 = 0",
                "UPDATE shop.items SET id = id + 10000 WHERE id = 5"); // a key change: delete 5, insert 10005
        a.close(); // mid-stream: the changes above are captured, some published, some not yet
        a = null;
        insert(601, 800);
        sql("UPDATE shop.items SET active = NOT active, at = at + interval '1 microsecond' WHERE id % 5 = 0",
                "DELETE FROM shop.items WHERE id BETWEEN 700 AND 709");
        System.out.println("node a stopped while plain JDBC inserted 200 rows, updated and deleted some");
        a = startA();
        insert(801, 1000);
        sql("UPDATE shop.items SET ratio = ratio * 2, uid = NULL WHERE id > 900",
                "DELETE FROM shop.items WHERE id % 17 = 0");

        long source = count();
        LocalTable src = a.table("shop:items");
        LocalTable dst = b.table("shop:items");
        await().atMost(Duration.ofSeconds(45)).pollInterval(Duration.ofMillis(250)).untilAsserted(() -> {
            assertThat(dst.schema()).isPresent();
            assertThat(dst.count()).isEqualTo(source);
            assertThat(comparable(all(dst))).containsExactlyElementsOf(comparable(all(src)));
        });
        assertSameTypes(src.schema().orElseThrow(), dst.schema().orElseThrow());
        int checked = 0;
        List<Row> left = all(src);
        List<Row> right = all(dst);
        for (int i = 0; i < left.size(); i++) {
            for (Column c : src.schema().orElseThrow().columns()) {
                Object x = left.get(i).get(c.name());
                Object y = right.get(i).get(c.name());
                assertThat(comparable(y)).as("row %d column %s", i, c.name()).isEqualTo(comparable(x));
                assertThat(y == null ? null : y.getClass()).as("type of column %s", c.name())
                        .isEqualTo(x == null ? null : x.getClass());
            }
            checked++;
        }
        assertThat(dst.get(Key.of(5L))).isEmpty();
        assertThat(dst.get(Key.of(10005L))).isPresent();
        assertThat(a.metrics().snapshotRows.sum()).isZero(); // the restarted node did not load again
        assertThat(b.metrics().deadLetters.sum()).isZero();
        System.out.printf("PostgreSQL -> SQLite: %d rows checked (11 columns each), mismatches = 0%n", checked);
    }

    @Test
    void aPublishedTableThatDoesNotExistYetIsWaitedForAndPickedUpWhenItAppears() throws Exception {
        pgUrl = pg.createDatabase("mqdb_node_late");
        sql("DROP SCHEMA IF EXISTS shop CASCADE", "DROP TABLE IF EXISTS public.mqdb_changelog", "CREATE SCHEMA shop");
        b = start("b", """
                node: { name: b, data-dir: b-data }
                broker: { embedded: { port: %d } }
                stores: { lite: { type: jdbc, url: "jdbc:sqlite:%s" } }
                channels: [ { name: shop:items, store: lite, subscribe: true } ]
                """.formatted(port, dir.resolve("b-late.sqlite")));
        a = startA();
        // The table is missing: before the fix the publisher stopped 0.2 s after its start ("relation
        // public.mqdb_changelog does not exist"). 2 s is several capture polls (poll-interval 50ms): it must stay up
        // all along.
        MqdbNode publisher = a;
        await().during(Duration.ofSeconds(2)).atMost(Duration.ofSeconds(5)).pollInterval(Duration.ofMillis(50))
                .until(() -> publisher.failure().isEmpty());
        sql(CREATE);
        insert(1, 120);
        LocalTable dst = b.table("shop:items");
        await().atMost(Duration.ofSeconds(30)).pollInterval(Duration.ofMillis(100))
                .until(() -> dst.schema().isPresent() && dst.count() == 120);
        assertThat(a.failure()).isEmpty();
        System.out.println("late table: publisher kept running for 2 s without its table, then 120 rows reached "
                + "SQLite after CREATE TABLE");
    }

    @Test
    void aPublishedTableWithoutPrimaryKeyIsReportedByTheCheckAndStopsOnlyItsOwnChannel() throws Exception {
        pgUrl = pg.createDatabase("mqdb_node_nopk");
        sql("DROP SCHEMA IF EXISTS shop CASCADE", "DROP TABLE IF EXISTS public.mqdb_changelog", "CREATE SCHEMA shop",
                CREATE, "CREATE TABLE shop.logs (at timestamp, line text)",
                "INSERT INTO shop.logs VALUES (now(), 'no key here')");
        insert(1, 50);
        String pgStore = "pg: { type: jdbc, url: \"%s\", username: \"%s\"%s, capture: trigger, poll-interval: 50ms }"
                .formatted(pgUrl, pg.user(), pg.password().isEmpty() ? "" : ", password: \"" + pg.password() + "\"");
        Path file = dir.resolve("a-nopk.yaml");
        Files.writeString(file, """
                node: { name: a, data-dir: a-data }
                broker: { uris: [ "tcp://127.0.0.1:%d" ] }
                stores: { %s }
                channels: [ { name: shop:items, store: pg, publish: true }, { name: shop:logs, store: pg, publish: true } ]
                """.formatted(port, pgStore));
        TableCheck.Report report = TableCheck.run(ConfigLoader.load(file), plugins);
        System.out.println("check-config --connect: " + report);
        assertThat(report.problems()).singleElement().asString()
                .contains("channel shop:logs").contains("no primary key");

        b = start("b", """
                node: { name: b, data-dir: b-data }
                broker: { embedded: { port: %d } }
                stores: { lite: { type: jdbc, url: "jdbc:sqlite:%s" } }
                channels: [ { name: shop:items, store: lite, subscribe: true } ]
                """.formatted(port, dir.resolve("b-nopk.sqlite")));
        a = MqdbNode.start(ConfigLoader.load(file), plugins);
        LocalTable dst = b.table("shop:items");
        await().atMost(Duration.ofSeconds(30)).until(() -> dst.schema().isPresent() && dst.count() == 50);
        insert(51, 80);
        await().atMost(Duration.ofSeconds(30)).until(() -> dst.count() == 80);
        assertThat(a.failure()).as("the node runs on").isEmpty();
        assertThat(a.metrics().channelErrors.sum()).isEqualTo(1);
        System.out.println("no primary key: shop:logs refused, shop:items replicated 80 rows meanwhile");
    }

    @Test
    void aPublisherWhoseDataDirWasWipedNumbersAboveItsOldEpochAndItsSubscriberConvergesWithNothingResurrected()
            throws Exception {
        pgUrl = pg.createDatabase("mqdb_node_epoch");
        sql("DROP SCHEMA IF EXISTS shop CASCADE", "DROP TABLE IF EXISTS public.mqdb_changelog", "CREATE SCHEMA shop",
                CREATE);
        insert(1, 200);
        b = start("b", """
                node: { name: b, data-dir: b-data }
                broker: { embedded: { port: %d } }
                stores: { lite: { type: jdbc, url: "jdbc:sqlite:%s" } }
                channels: [ { name: shop:items, store: lite, subscribe: true } ]
                """.formatted(port, dir.resolve("b-epoch.sqlite")));
        a = startA();
        LocalTable dst = b.table("shop:items");
        await().atMost(Duration.ofSeconds(30)).until(() -> dst.schema().isPresent() && dst.count() == 200);
        long before = publishedPosition();
        a.close();
        a = null;
        deleteTree(dir.resolve("a-data"));
        sql("DELETE FROM shop.items WHERE id <= 50", "UPDATE shop.items SET qty = qty + 1000 WHERE id BETWEEN 51 AND 100");
        insert(201, 250);
        System.out.println("node a's data dir wiped; meanwhile 50 rows deleted, 50 updated, 50 inserted in PostgreSQL");
        a = startA();
        long source = count();
        LocalTable src = a.table("shop:items");
        await().atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofMillis(250)).untilAsserted(() -> {
            assertThat(dst.count()).isEqualTo(source);
            assertThat(comparable(all(dst))).containsExactlyElementsOf(comparable(all(src)));
        });
        for (long id = 1; id <= 50; id++) {
            assertThat(dst.get(Key.of(id))).as("row %d deleted while the publisher was away", id).isEmpty();
        }
        long after = publishedPosition();
        System.out.printf("epoch: position %d before the wipe, %d after (a new epoch above the old one); %d rows "
                + "equal, 50 deleted rows not resurrected%n", before, after, source);
        assertThat(after).as("the new data dir numbers above the old one").isGreaterThan(before + (1L << 20));
    }

    /** The publisher's retained position on the channel: the last number it delivered. */
    private long publishedPosition() throws Exception {
        String topic = new io.mqdb.codec.Topics("mqdb").position("a", io.mqdb.spi.TableId.parse("shop:items"));
        java.util.concurrent.BlockingQueue<String> got = new java.util.concurrent.LinkedBlockingQueue<>();
        org.eclipse.paho.mqttv5.client.MqttClient client = new org.eclipse.paho.mqttv5.client.MqttClient(
                "tcp://127.0.0.1:" + port, "it-epoch-" + System.nanoTime(),
                new org.eclipse.paho.mqttv5.client.persist.MemoryPersistence());
        client.setCallback(io.mqdb.testing.MessageCallback.of((t, m) -> got.add(new String(m.getPayload(),
                java.nio.charset.StandardCharsets.UTF_8))));
        client.connect();
        try {
            long deadline = System.nanoTime() + 10_000_000_000L;
            long seq = -1;
            // the position is republished as it moves: read until it is there and stable
            while (System.nanoTime() < deadline) {
                client.subscribe(topic, 1);
                String json = got.poll(2, java.util.concurrent.TimeUnit.SECONDS);
                client.unsubscribe(topic);
                if (json != null && !json.isEmpty()) {
                    long s = JsonParser.parseString(json).getAsJsonObject().get("seq").getAsLong();
                    if (s == seq) {
                        return s;
                    }
                    seq = s;
                }
                got.clear();
            }
            throw new AssertionError("no stable position on " + topic + " (last " + seq + ")");
        } finally {
            client.disconnect();
            client.close();
        }
    }

    private static void deleteTree(Path p) throws java.io.IOException {
        if (!Files.exists(p)) {
            throw new AssertionError(p + " does not exist");
        }
        try (var walk = Files.walk(p)) {
            walk.sorted(java.util.Comparator.reverseOrder()).forEach(x -> x.toFile().delete());
        }
    }

    @Test
    void aBigInitialLoadOnOneChannelDoesNotHoldUpAnotherChannelOfTheSameSubscriber() throws Exception {
        pgUrl = pg.createDatabase("mqdb_node_hol");
        int bigRows = 200_000;
        sql("DROP SCHEMA IF EXISTS shop CASCADE", "DROP TABLE IF EXISTS public.mqdb_changelog", "CREATE SCHEMA shop",
                "CREATE TABLE shop.big (id bigint PRIMARY KEY, name text, qty bigint)",
                "INSERT INTO shop.big SELECT g, 'row ' || g, g * 3 FROM generate_series(1, " + bigRows + ") g",
                "CREATE TABLE shop.small (id bigint PRIMARY KEY, name text)");
        b = start("b", """
                node: { name: b, data-dir: b-data }
                broker: { embedded: { port: %d } }
                stores: { lite: { type: jdbc, url: "jdbc:sqlite:%s" }, lite2: { type: jdbc, url: "jdbc:sqlite:%s" } }
                channels: [ { name: shop:big, store: lite, subscribe: true }, { name: shop:small, store: lite2, subscribe: true } ]
                """.formatted(port, dir.resolve("b-hol.sqlite"), dir.resolve("b-hol2.sqlite")));
        Path file = dir.resolve("a-hol.yaml");
        Files.writeString(file, """
                node: { name: a, data-dir: a-data }
                broker: { uris: [ "tcp://127.0.0.1:%d" ] }
                stores: { pg: { type: jdbc, url: "%s", username: "%s"%s, capture: trigger, poll-interval: 50ms } }
                channels: [ { name: shop:big, store: pg, publish: true }, { name: shop:small, store: pg, publish: true } ]
                """.formatted(port, pgUrl, pg.user(),
                pg.password().isEmpty() ? "" : ", password: \"" + pg.password() + "\""));
        a = MqdbNode.start(ConfigLoader.load(file), plugins);
        LocalTable big = b.table("shop:big");
        LocalTable small = b.table("shop:small");
        await().atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofMillis(20))
                .until(() -> big.schema().isPresent() && big.count() > 0);
        long underLoad = smallChangesArrivalMillis(small, 1);
        long bigAtArrival = big.count();
        await().atMost(Duration.ofSeconds(180)).pollInterval(Duration.ofMillis(250))
                .until(() -> big.count() == bigRows);
        long quiet = smallChangesArrivalMillis(small, 101);
        System.out.printf("head of line: 100 rows of shop:small arrived %d ms after their commit while shop:big's "
                + "%d-row load ran (%d rows of it applied by then), %d ms with nothing else running%n", underLoad,
                bigRows, bigAtArrival, quiet);
        assertThat(bigAtArrival).as("the small rows arrived while the big load was still running")
                .isLessThan(bigRows);
        // Two stores: SQLite has one writer, so channels on one SQLite file share its lock whatever the node does.
        // Before each channel had a session of its own and loads took turns, the small rows waited for the whole load.
        assertThat(underLoad - quiet).as("delay behind the big load, ms").isLessThanOrEqualTo(1_500);
    }

    /** Inserts 100 rows into shop.small and returns how long until the subscriber holds them all. */
    private long smallChangesArrivalMillis(LocalTable small, int firstId) throws SQLException {
        long t0 = System.nanoTime();
        try (Connection c = connect(); Statement st = c.createStatement()) {
            st.execute("INSERT INTO shop.small SELECT g, 'small ' || g FROM generate_series(" + firstId + ", "
                    + (firstId + 99) + ") g");
        }
        long want = firstId + 99;
        await().atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofMillis(10))
                .until(() -> small.schema().isPresent() && small.count() == want);
        return (System.nanoTime() - t0) / 1_000_000;
    }

    @Test
    void aTargetTableTruncatedByHandIsNoticedAndRefilledWhileItsMarkerStays() throws Exception {
        String targetUrl = syncedPair("mqdb_truncate_src", "mqdb_truncate_dst", 500);
        LocalTable src = a.table("shop:items");
        LocalTable dst = b.table("shop:items");
        try (Connection c = DriverManager.getConnection(targetUrl, pg.user(), pg.password());
             Statement st = c.createStatement()) {
            st.execute("TRUNCATE shop.items"); // the marker table shop.mqdb_incarnation stays as it is
        }
        long truncated = System.nanoTime();
        insert(501, 520); // writes go on meanwhile
        await().atMost(Duration.ofSeconds(45)).pollInterval(Duration.ofMillis(100)).untilAsserted(() ->
                assertThat(comparable(all(dst))).containsExactlyElementsOf(comparable(all(src))));
        long ms = (System.nanoTime() - truncated) / 1_000_000;
        assertThat(b.metrics().targetLosses.sum()).isEqualTo(1);
        System.out.printf("target table truncated by hand (marker kept) under writes: noticed and refilled, 520 rows "
                + "equal %d ms after the TRUNCATE%n", ms);
    }

    @Test
    void aTargetTableDroppedByHandIsCreatedAgainAndRefilledAndNoChangeIsDeadLettered() throws Exception {
        String targetUrl = syncedPair("mqdb_drop_src", "mqdb_drop_dst", 300);
        LocalTable src = a.table("shop:items");
        LocalTable dst = b.table("shop:items");
        try (Connection c = DriverManager.getConnection(targetUrl, pg.user(), pg.password());
             Statement st = c.createStatement()) {
            st.execute("DROP TABLE shop.items"); // the marker table shop.mqdb_incarnation stays as it is
        }
        long dropped = System.nanoTime();
        insert(301, 320); // the next batch finds the table missing
        await().atMost(Duration.ofSeconds(45)).pollInterval(Duration.ofMillis(100))
                .ignoreExceptionsInstanceOf(io.mqdb.spi.MqdbException.class).untilAsserted(() ->
                        assertThat(comparable(all(dst))).containsExactlyElementsOf(comparable(all(src))));
        long ms = (System.nanoTime() - dropped) / 1_000_000;
        System.out.printf("target table dropped by hand (marker kept), then 20 inserts: created again and refilled, "
                + "320 rows equal %d ms after the DROP; target losses %d, dead letters %d%n", ms,
                b.metrics().targetLosses.sum(), b.metrics().deadLetters.sum());
        assertThat(b.metrics().targetLosses.sum()).isPositive();
        assertThat(b.metrics().deadLetters.sum()).as("no change was given up while the table was gone").isZero();
        assertThat(b.metrics().channelErrors.sum()).isZero();
    }

    /**
     * Two fresh databases: {@code rows} rows in the source's shop.items, published by a (trigger capture) to b, which
     * subscribes into the target; returns once b holds them all.
     *
     * @return the target database's URL
     */
    private String syncedPair(String sourceDb, String targetDb, int rows) throws Exception {
        pgUrl = pg.createDatabase(sourceDb);
        String targetUrl = pg.createDatabase(targetDb);
        sql("DROP SCHEMA IF EXISTS shop CASCADE", "DROP TABLE IF EXISTS public.mqdb_changelog",
                "CREATE SCHEMA shop", CREATE);
        insert(1, rows);
        b = start("b", """
                node: { name: b, data-dir: b-data }
                broker: { embedded: { port: %d } }
                stores: { pg: { type: jdbc, url: "%s", username: "%s"%s } }
                channels: [ { name: shop:items, store: pg, subscribe: true } ]
                """.formatted(port, targetUrl, pg.user(),
                pg.password().isEmpty() ? "" : ", password: \"" + pg.password() + "\""));
        a = startA();
        LocalTable dst = b.table("shop:items");
        await().atMost(Duration.ofSeconds(45)).until(() -> dst.count() == rows);
        return targetUrl;
    }

    private MqdbNode startA() throws Exception {
        return start("a", """
                node: { name: a, data-dir: a-data }
                broker: { uris: [ "tcp://127.0.0.1:%d" ] }
                stores: { pg: { type: jdbc, url: "%s", username: "%s"%s, %s, poll-interval: 50ms } }
                channels: [ { name: shop:items, store: pg, publish: true } ]
                """.formatted(port, pgUrl, pg.user(),
                pg.password().isEmpty() ? "" : ", password: \"" + pg.password() + "\"", capture));
    }

    private MqdbNode start(String name, String yaml) throws Exception {
        Path file = dir.resolve(name + ".yaml");
        Files.writeString(file, yaml);
        return MqdbNode.start(ConfigLoader.load(file), plugins);
    }

    private static void assertSameTypes(TableSchema src, TableSchema dst) {
        assertThat(dst.primaryKey()).isEqualTo(src.primaryKey());
        assertThat(dst.columns()).extracting(Column::name, Column::type)
                .containsExactlyElementsOf(src.columns().stream()
                        .map(c -> org.assertj.core.groups.Tuple.tuple(c.name(), c.type())).toList());
    }

    /** Rows with JSON documents parsed: PostgreSQL's jsonb prints them with spaces, SQLite keeps the wire's text. */
    static List<Map<String, Object>> comparable(List<Row> rows) {
        List<Map<String, Object>> out = new ArrayList<>();
        for (Row r : rows) {
            Map<String, Object> m = new LinkedHashMap<>();
            r.values().forEach((k, v) -> m.put(k, comparable(v)));
            out.add(m);
        }
        return out;
    }

    static Object comparable(Object value) {
        return value instanceof Json j ? JsonParser.parseString(j.text()) : value;
    }

    static List<Row> all(LocalTable t) {
        List<Row> out = new ArrayList<>();
        Key after = null;
        do {
            var page = t.scan(after, 1000);
            out.addAll(page.rows());
            after = page.next().orElse(null);
        } while (after != null);
        return out;
    }

    private Connection connect() throws SQLException {
        return DriverManager.getConnection(pgUrl, pg.user(), pg.password());
    }

    private void sql(String... statements) throws SQLException {
        try (Connection c = connect(); Statement st = c.createStatement()) {
            for (String s : statements) {
                st.execute(s);
            }
        }
    }

    private long count() throws SQLException {
        try (Connection c = connect(); var rs = c.createStatement().executeQuery("SELECT count(*) FROM shop.items")) {
            rs.next();
            return rs.getLong(1);
        }
    }

    /** Inserts ids from..to in transactions of 50 rows, every value varied, some null. */
    private void insert(int from, int to) throws SQLException {
        try (Connection c = connect(); PreparedStatement ps = c.prepareStatement(INSERT)) {
            c.setAutoCommit(false);
            for (int i = from; i <= to; i++) {
                ps.setLong(1, i);
                ps.setString(2, i % 9 == 0 ? null : "item " + i + " \u00e9\u4e2d\ud83d\ude00 'quoted'");
                ps.setLong(3, i * 3L - 1000);
                ps.setString(4, i % 4 == 0 ? i + ".50" : i % 4 == 1 ? "-" + i + ".000100" : "1" + i);
                ps.setDouble(5, i / 3.0);
                ps.setBoolean(6, i % 2 == 0);
                ps.setBytes(7, new byte[] {(byte) i, 0, (byte) 0xff, (byte) (i >> 8)});
                ps.setString(8, "2024-0" + (1 + i % 9) + "-1" + (i % 10) + " 1" + (i % 10) + ":0" + (i % 10) + ":00."
                        + String.format("%06d", i * 37 % 1_000_000));
                ps.setString(9, (1990 + i % 40) + "-12-3" + (i % 2));
                ps.setString(10, String.format("00000000-0000-4000-8000-%012d", i));
                ps.setString(11, "{\"n\": " + i + ", \"tags\": [\"a\", \"b\"], \"s\": \"x\\\"y\"}");
                ps.addBatch();
                if (i % 50 == 0 || i == to) {
                    ps.executeBatch();
                    c.commit();
                }
            }
        }
    }
}
