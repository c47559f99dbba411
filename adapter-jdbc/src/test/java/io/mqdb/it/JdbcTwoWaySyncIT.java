package io.mqdb.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.mqdb.config.ConfigLoader;
import io.mqdb.node.LocalTable;
import io.mqdb.node.MqdbNode;
import io.mqdb.plugin.PluginRegistry;
import io.mqdb.spi.Key;
import io.mqdb.spi.Row;
import io.mqdb.testing.MariaDbServer;
import io.mqdb.testing.PostgresServer;
import io.mqdb.testing.ServerFixture;
import java.math.BigDecimal;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Two-way sync between PostgreSQL and MariaDB: both nodes publish and subscribe {@code shop:items}, node A (PostgreSQL)
 * runs the embedded broker and node B (MariaDB) connects to it. Every write is made by plain JDBC on either side.
 * The tables converge, and nothing loops: writes applied from the other side are not captured again, so once the
 * tables agree the change logs and the published counters stand still.
 */
class JdbcTwoWaySyncIT {
    /** Keys updated in turn from both sides: 20 made on PostgreSQL, 20 made on MariaDB. */
    private static final String SHARED_KEYS = "(id <= 20 OR id BETWEEN 1001 AND 1020)";

    @TempDir
    Path dir;
    private final PluginRegistry plugins = PluginRegistry.load(Optional.empty(),
            JdbcTwoWaySyncIT.class.getClassLoader());
    private final PostgresServer pg = PostgresServer.shared();
    private MariaDbServer maria = MariaDbServer.shared();
    private final int port = ServerFixture.freePort();
    private String pgUrl;
    private String mariaUrl;
    private MqdbNode a;
    private MqdbNode b;

    @AfterEach
    void stop() {
        if (b != null) {
            b.close();
        }
        if (a != null) {
            a.close();
        }
        if (slot != null) {
            io.mqdb.adapter.jdbc.LogSlots.drop(slot);
        }
    }

    @Test
    void writesOnBothSidesConvergeAndDoNotLoop() throws Exception {
        twoWay("mqdb_two_way", null, false);
    }

    /**
     * The same with {@code capture: log} on the PostgreSQL side: its echo suppression is the transactional
     * {@code mqdb-origin} message, and with no change log there, a loop would show as more published events than
     * PostgreSQL's own writes.
     */
    @Test
    void writesOnBothSidesConvergeAndDoNotLoopWithLogCaptureOnPostgres() throws Exception {
        slot = "mqdb_two_way_" + ProcessHandle.current().pid();
        twoWay("mqdb_two_way_log", slot, false);
    }

    /**
     * Both sides with {@code capture: log}: PostgreSQL's logical decoding, MariaDB's binary log (the fixture's binlog
     * server), whose echo suppression is the marker row ({@code mqdb_binlog_origin}) in each replicated transaction;
     * with no change log on either side, a loop would show as more published events than a side's own writes.
     */
    @Test
    void writesOnBothSidesConvergeAndDoNotLoopWithLogCaptureOnBothSides() throws Exception {
        slot = "mqdb_two_way_b_" + ProcessHandle.current().pid();
        maria = MariaDbServer.sharedWithBinlog();
        twoWay("mqdb_two_way_log2", slot, true);
    }

    /** The replication slot of the {@code capture: log} case, dropped after it. */
    private String slot;

    private void twoWay(String pgDatabase, String logSlot, boolean mariaLog) throws Exception {
        String mariaCapture = mariaLog ? ", capture: log, binlog-server-id: " + (5000 + ProcessHandle.current().pid()
                % 100_000) : "";
        String pgCapture = logSlot == null ? "" : ", capture: log, slot: " + logSlot + ", publication: mqdb_two_way";
        pgUrl = pg.createDatabase(pgDatabase);
        mariaUrl = maria.createDatabase("mqdb_two_way");
        onPg("DROP SCHEMA IF EXISTS shop CASCADE", "DROP TABLE IF EXISTS public.mqdb_changelog", "CREATE SCHEMA shop",
                "CREATE TABLE shop.items (id bigint PRIMARY KEY, name text, qty bigint, price numeric,"
                        + " at timestamp(6), side text)");
        onMaria("DROP DATABASE IF EXISTS tw_shop", "DROP TABLE IF EXISTS mqdb_changelog",
                "DROP TABLE IF EXISTS mqdb_binlog_state");

        a = start("a", """
                node: { name: a, data-dir: a-data }
                broker: { embedded: { port: %d } }
                stores: { pg: { type: jdbc, url: "%s", username: "%s"%s, poll-interval: 50ms%s } }
                channels: [ { name: shop:items, store: pg, publish: true, subscribe: true } ]
                """.formatted(port, pgUrl, pg.user(), password(pg.password()), pgCapture));
        b = start("b", """
                node: { name: b, data-dir: b-data }
                broker: { uris: [ "tcp://127.0.0.1:%d" ] }
                stores: { maria: { type: jdbc, url: "%s", username: "%s"%s, poll-interval: 50ms,
                                   schema-map: { shop: tw_shop }%s } }
                channels: [ { name: shop:items, store: maria, publish: true, subscribe: true } ]
                """.formatted(port, mariaUrl, maria.user(), password(maria.password()), mariaCapture));
        LocalTable onA = a.table("shop:items");
        LocalTable onB = b.table("shop:items");
        onB.ensure(onA.schema().orElseThrow()); // B's table, from A's schema; B captures it from now on

        insert(true, 1, 200);
        insert(false, 1001, 1200);
        awaitSame(onA, onB, 400);
        int localChanges = 200; // per side
        int mariaChanges = 200;
        for (int round = 1; round <= 6; round++) {
            boolean onPg = round % 2 == 1;
            update(onPg, round);
            localChanges += onPg ? 40 : 0;
            mariaChanges += onPg ? 0 : 40;
            int r = round;
            awaitSame(onA, onB, 400);
            assertThat(onA.get(Key.of(1L)).orElseThrow().get("qty")).isEqualTo((long) r);
            assertThat(onB.get(Key.of(1020L)).orElseThrow().get("side")).isEqualTo(onPg ? "pg" : "maria");
        }
        System.out.println("6 rounds of updates to 40 shared keys, alternating sides: converged after each");

        long ownChanges = localChanges; // PostgreSQL with capture: log has no change log to count
        long mariaOwn = mariaChanges; // MariaDB with capture: log neither
        AtomicReference<long[]> last = new AtomicReference<>(new long[0]);
        await().during(Duration.ofSeconds(3)).atMost(Duration.ofSeconds(20)).pollInterval(Duration.ofMillis(200))
                .until(() -> {
                    long[] now = {logSlot == null ? pgChangelogIds() : ownChanges,
                            mariaLog ? mariaOwn : mariaChangelogIds(), a.metrics().published.sum(),
                            b.metrics().published.sum()};
                    return Arrays.equals(now, last.getAndSet(now));
                });
        long[] still = last.get();
        // the change logs hold exactly the writes made on their side: none of the applied ones
        assertThat(still[0]).isEqualTo(localChanges);
        assertThat(still[1]).isEqualTo(mariaLog ? mariaChanges : localChanges);
        // each side published at most its own changes (a poll folds several changes to one key): no echoes
        assertThat(still[2]).isBetween(1L, (long) localChanges);
        assertThat(still[3]).isBetween(1L, (long) (mariaLog ? mariaChanges : localChanges));
        assertThat(a.metrics().deadLetters.sum() + b.metrics().deadLetters.sum()).isZero();
        System.out.printf("no loop: for 3 s change-log ids stayed at %s (PostgreSQL) and %s (MariaDB), published"
                + " stayed at %d (a) and %d (b), each at most its own %d changes%n",
                logSlot == null ? Long.toString(still[0]) : "- (capture: log)",
                mariaLog ? "- (capture: log)" : Long.toString(still[1]), still[2], still[3],
                localChanges);
    }

    private void awaitSame(LocalTable onA, LocalTable onB, long rows) {
        await().atMost(Duration.ofSeconds(30)).pollInterval(Duration.ofMillis(100)).untilAsserted(() -> {
            List<Row> left = all(onA);
            assertThat(left).hasSize((int) rows);
            assertThat(all(onB)).containsExactlyElementsOf(left);
        });
        System.out.printf("PostgreSQL <-> MariaDB: %d rows checked, mismatches = 0%n", rows);
    }

    private static String password(String p) {
        return p == null || p.isEmpty() ? "" : ", password: \"" + p + "\"";
    }

    private MqdbNode start(String name, String yaml) throws Exception {
        Path file = dir.resolve(name + ".yaml");
        Files.writeString(file, yaml);
        return MqdbNode.start(ConfigLoader.load(file), plugins);
    }

    private static List<Row> all(LocalTable t) {
        List<Row> out = new ArrayList<>();
        Key after = null;
        do {
            var page = t.scan(after, 1000);
            out.addAll(page.rows());
            after = page.next().orElse(null);
        } while (after != null);
        return out;
    }

    private Connection connect(boolean onPg) throws SQLException {
        return onPg ? DriverManager.getConnection(pgUrl, pg.user(), pg.password())
                : DriverManager.getConnection(mariaUrl, maria.user(), maria.password());
    }

    private static String table(boolean onPg) {
        return onPg ? "shop.items" : "tw_shop.items";
    }

    private void onPg(String... statements) throws SQLException {
        run(true, statements);
    }

    private void onMaria(String... statements) throws SQLException {
        run(false, statements);
    }

    private void run(boolean onPg, String... statements) throws SQLException {
        try (Connection c = connect(onPg); Statement st = c.createStatement()) {
            for (String s : statements) {
                st.execute(s);
            }
        }
    }

    /** Decimals and timestamps travel as text, cast by the database: no JVM time zone involved. */
    private static String param(boolean onPg, String type) {
        return onPg ? "CAST(? AS " + type + ")" : "?";
    }

    private void insert(boolean onPg, int from, int to) throws SQLException {
        String side = onPg ? "pg" : "maria";
        try (Connection c = connect(onPg); PreparedStatement ps = c.prepareStatement("INSERT INTO " + table(onPg)
                + " (id, name, qty, price, at, side) VALUES (?, ?, ?, " + param(onPg, "numeric") + ", "
                + param(onPg, "timestamp") + ", ?)")) {
            c.setAutoCommit(false);
            for (int i = from; i <= to; i++) {
                ps.setLong(1, i);
                ps.setString(2, "made on " + side + " " + i);
                ps.setLong(3, i);
                ps.setString(4, i + "." + (i % 100 < 10 ? "0" : "") + i % 100);
                ps.setString(5, "2024-05-01 10:00:00." + String.format("%06d", i));
                ps.setString(6, side);
                ps.addBatch();
                if (i % 50 == 0 || i == to) {
                    ps.executeBatch();
                    c.commit();
                }
            }
        }
    }

    private void update(boolean onPg, int round) throws SQLException {
        try (Connection c = connect(onPg); PreparedStatement ps = c.prepareStatement("UPDATE " + table(onPg)
                + " SET qty = ?, name = ?, price = " + param(onPg, "numeric") + ", at = " + param(onPg, "timestamp")
                + ", side = ? WHERE " + SHARED_KEYS)) {
            ps.setLong(1, round);
            ps.setString(2, "round " + round);
            ps.setString(3, new BigDecimal(round).movePointLeft(3).toPlainString()); // 0.001, 0.002, ...
            ps.setString(4, "2024-06-0" + round + " 12:00:00.00000" + round);
            ps.setString(5, onPg ? "pg" : "maria");
            assertThat(ps.executeUpdate()).isEqualTo(40);
        }
    }

    private long pgChangelogIds() throws SQLException {
        return single(true, "SELECT last_value FROM public.mqdb_changelog_id_seq");
    }

    private long mariaChangelogIds() throws SQLException {
        return single(false, "SELECT COALESCE(MAX(id), 0) FROM mqdb_changelog"); // the last acknowledged row stays
    }

    private long single(boolean onPg, String query) throws SQLException {
        try (Connection c = connect(onPg); Statement st = c.createStatement(); ResultSet rs = st.executeQuery(query)) {
            rs.next();
            return rs.getLong(1);
        }
    }
}
