package io.mqdb.adapter.jdbc;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import io.mqdb.spi.CaptureInstallation;
import io.mqdb.spi.CapturePosition;
import io.mqdb.spi.CapturedChange;
import io.mqdb.spi.ChangeCapture;
import io.mqdb.spi.Column;
import io.mqdb.spi.ColumnType;
import io.mqdb.spi.Key;
import io.mqdb.spi.MqdbException;
import io.mqdb.spi.Op;
import io.mqdb.spi.RetriableException;
import io.mqdb.spi.Row;
import io.mqdb.spi.Store;
import io.mqdb.spi.TableId;
import io.mqdb.spi.TableSchema;
import io.mqdb.spi.WriteOrigin;
import io.mqdb.testing.MariaDbServer;
import java.math.BigDecimal;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Predicate;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * {@code capture: log} on MariaDB (the binary log), against the fixture's server with a row-format binlog
 * ({@link MariaDbServer#sharedWithBinlog()}). Each case has a replica server id of its own, so a state row of its own.
 */
class MariaDbLogCaptureIT {
    private static final AtomicInteger SEQ = new AtomicInteger();
    private final long serverId = serverId();
    private final List<Store> opened = new ArrayList<>();

    /** @return a replica server id unique to this JVM's case (the server itself is 1) */
    static long serverId() {
        return 1000 + (ProcessHandle.current().pid() % 100_000) * 1000 + SEQ.incrementAndGet();
    }

    private static final Map<String, String> URLS = new java.util.concurrent.ConcurrentHashMap<>();

    /** The database's url, created once: each CREATE DATABASE, even IF NOT EXISTS, is a binlog event. */
    static String url(String db) {
        return URLS.computeIfAbsent(db, d -> MariaDbServer.sharedWithBinlog().createDatabase(d));
    }

    static Store open(String url, Map<String, Object> extra) {
        MariaDbServer m = MariaDbServer.sharedWithBinlog();
        Map<String, Object> s = new HashMap<>(Map.of("url", url, "username", m.user(), "password", m.password(),
                "capture", "log"));
        s.putAll(extra);
        return new JdbcStoreProvider().open(TestStoreConfig.of(s), TestStoreConfig.context(Path.of("target"), s));
    }

    private Store open(Map<String, Object> extra) {
        Map<String, Object> m = new HashMap<>(Map.of("binlog-server-id", serverId));
        m.putAll(extra);
        Store s = open(url("mqdb_binlog"), m);
        opened.add(s);
        return s;
    }

    static Connection plain() throws SQLException {
        MariaDbServer m = MariaDbServer.sharedWithBinlog();
        return JdbcStoreITBase.connect(url("mqdb_binlog"), m.user(), m.password());
    }

    @AfterEach
    void close() {
        opened.forEach(Store::close);
    }

    private static TableId newTable(String prefix) {
        return new TableId("binit", prefix + "_" + ProcessHandle.current().pid() % 1000 + "_" + SEQ.incrementAndGet());
    }

    private static String sql(TableId id) {
        return "`" + id.schema() + "`.`" + id.table() + "`";
    }

    private static TableSchema simple(TableId id) {
        return new TableSchema(id, List.of(new Column("id", ColumnType.INT64, false), Column.of("name",
                ColumnType.STRING), Column.of("n", ColumnType.INT64)), List.of("id"));
    }

    private static ChangeCapture captured(Store store, TableId id) {
        store.ensureTable(simple(id));
        ChangeCapture cap = store.capture().orElseThrow();
        cap.enable(id);
        return cap;
    }

    /** Polls until {@code done} holds for the changes of {@code table}; the changes of every table in the end. */
    private static List<CapturedChange> pollUntil(ChangeCapture cap, CapturePosition from, TableId table,
                                                  Predicate<List<CapturedChange>> done) throws InterruptedException {
        List<CapturedChange> out = new ArrayList<>();
        CapturePosition pos = from;
        long deadline = System.nanoTime() + Duration.ofSeconds(20).toNanos();
        while (!done.test(out)) {
            assertThat(System.nanoTime()).as("changes of %s within 20 s, got %s", table, out).isLessThan(deadline);
            for (CapturedChange c : cap.poll(pos, 1000, Duration.ofMillis(200))) {
                pos = c.position();
                if (table == null || c.table().equals(table)) {
                    out.add(c);
                }
            }
        }
        return out;
    }

    private static List<CapturedChange> pollCount(ChangeCapture cap, CapturePosition from, TableId table, int n)
            throws InterruptedException {
        return pollUntil(cap, from, table, l -> l.size() >= n);
    }

    private static void exec(String... statements) throws SQLException {
        try (Connection c = plain(); Statement st = c.createStatement()) {
            for (String s : statements) {
                st.execute(s);
            }
        }
    }

    // ---------------------------------------------------------------- cases

    @Test
    void insertsUpdatesDeletesAndKeyChangesComeInOrderWithTheRowAsCommitted() throws Exception {
        Store store = open(Map.of());
        TableId id = newTable("iud");
        ChangeCapture cap = captured(store, id);
        CapturePosition from = cap.current();
        String t = sql(id);
        exec("INSERT INTO " + t + " (id, name, n) VALUES (1, 'a', 1)",
                "UPDATE " + t + " SET n = 2 WHERE id = 1",
                "UPDATE " + t + " SET id = 2 WHERE id = 1",
                "DELETE FROM " + t + " WHERE id = 2");

        List<CapturedChange> changes = pollCount(cap, from, id, 5);

        assertThat(changes).extracting(CapturedChange::op).containsExactly(Op.UPSERT, Op.UPSERT, Op.DELETE,
                Op.UPSERT, Op.DELETE);
        assertThat(changes).extracting(CapturedChange::key).containsExactly(Key.of(1L), Key.of(1L), Key.of(1L),
                Key.of(2L), Key.of(2L));
        assertThat(changes.get(0).row()).isEqualTo(Row.builder().set("id", 1L).set("name", "a").set("n", 1L).build());
        assertThat(changes.get(1).row()).isEqualTo(Row.builder().set("id", 1L).set("name", "a").set("n", 2L).build());
        assertThat(changes.get(3).row()).isEqualTo(Row.builder().set("id", 2L).set("name", "a").set("n", 2L).build());
    }

    @Test
    void transactionsComeWholeInCommitOrderAndARollbackIsNotSeen() throws Exception {
        Store store = open(Map.of());
        TableId id = newTable("tx");
        ChangeCapture cap = captured(store, id);
        CapturePosition from = cap.current();
        String t = sql(id);
        try (Connection first = plain(); Connection second = plain(); Connection third = plain()) {
            first.setAutoCommit(false);
            second.setAutoCommit(false);
            third.setAutoCommit(false);
            try (Statement a = first.createStatement(); Statement b = second.createStatement();
                 Statement r = third.createStatement()) {
                a.execute("INSERT INTO " + t + " (id, name) VALUES (1, 'first')");
                b.execute("INSERT INTO " + t + " (id, name) VALUES (2, 'second')");
                r.execute("INSERT INTO " + t + " (id, name) VALUES (9, 'rolled back')");
                a.execute("INSERT INTO " + t + " (id, name) VALUES (3, 'first')");
                b.execute("INSERT INTO " + t + " (id, name) VALUES (4, 'second')");
                second.commit(); // the second transaction commits first
                r.execute("INSERT INTO " + t + " (id, name) VALUES (10, 'rolled back')");
                third.rollback();
                a.execute("INSERT INTO " + t + " (id, name) VALUES (5, 'first')");
                first.commit();
            }
        }

        List<CapturedChange> changes = pollCount(cap, from, id, 5);

        assertThat(changes).extracting(c -> c.key().get(0)).containsExactly(2L, 4L, 1L, 3L, 5L);
        // nothing else may come (no rolled-back row): the poll waits 600 ms for stragglers
        assertThat(cap.poll(changes.get(4).position(), 100, Duration.ofMillis(600)))
                .noneMatch(c -> c.table().equals(id));
    }

    /** The trigger capture on the same store and table: what {@code capture: trigger} would publish. */
    private static ChangeCapture triggers(Store store, TableId id, String changelog) {
        JdbcStore s = (JdbcStore) store;
        TriggerCapture t = new TriggerCapture(s, s.dialect().triggers().orElseThrow(), changelog,
                Duration.ofMillis(20), Duration.ofSeconds(5));
        t.enable(id);
        return t;
    }

    /** Asserts that the binlog's changes carry exactly the rows the trigger capture publishes for the same keys. */
    private static void assertSameAsTriggerCapture(List<CapturedChange> changes, ChangeCapture trigger,
                                                   CapturePosition triggerFrom, TableId id) throws Exception {
        Map<Key, Row> byTrigger = new HashMap<>();
        for (CapturedChange c : pollCount(trigger, triggerFrom, id, changes.size())) {
            byTrigger.put(c.key(), c.row());
        }
        for (CapturedChange c : changes) {
            assertThat(c.row()).as("key %s: binlog and trigger capture", c.key()).isEqualTo(byTrigger.get(c.key()));
        }
    }

    @Test
    void everyPortableTypeIsCapturedAsTheStoreReadsIt() throws Exception {
        Store store = open(Map.of());
        TableId id = newTable("types");
        store.ensureTable(JdbcStoreITBase.allTypes(id));
        ChangeCapture cap = store.capture().orElseThrow();
        cap.enable(id);
        ChangeCapture trigger = triggers(store, id, "mqdb_cl_types");
        CapturePosition triggerFrom = trigger.current();
        CapturePosition from = cap.current();
        List<Row> rows = List.of(JdbcStoreITBase.fullRow(1, new BigDecimal("1.50")),
                JdbcStoreITBase.fullRow(2, new BigDecimal("-12345678901234567890.123456789000")),
                JdbcStoreITBase.fullRow(3, new BigDecimal("0.000")), JdbcStoreITBase.nullRow(4));
        store.upsert(id, rows, WriteOrigin.LOCAL);

        List<CapturedChange> changes = pollCount(cap, from, id, rows.size());

        for (CapturedChange c : changes) {
            assertThat(c.row()).as("key %s", c.key()).isEqualTo(store.get(id, c.key()).orElseThrow());
        }
        assertThat(changes).extracting(CapturedChange::row).containsExactlyElementsOf(rows);
        assertSameAsTriggerCapture(changes, trigger, triggerFrom, id);
    }

    @Test
    void legacyColumnTypesAreReadLikeTheirDescription() throws Exception {
        Store store = open(Map.of());
        TableId id = newTable("legacy");
        exec("CREATE DATABASE IF NOT EXISTS " + id.schema(),
                "CREATE TABLE " + sql(id) + " (id int PRIMARY KEY, small smallint, tiny tinyint, flag tinyint(1),"
                        + " num decimal(10,3), r float, v varchar(20), c char(3), ts timestamp(3) NULL,"
                        + " dt datetime, d date, t text, bl blob, j json, u8 tinyint unsigned, u32 int unsigned,"
                        + " e enum('a', 'b', 'it''s'), st set('x', 'y', 'z'))");
        ChangeCapture cap = store.capture().orElseThrow();
        cap.enable(id);
        ChangeCapture trigger = triggers(store, id, "mqdb_cl_legacy");
        CapturePosition triggerFrom = trigger.current();
        CapturePosition from = cap.current();
        exec("SET time_zone = '+00:00'",
                "INSERT INTO " + sql(id) + " VALUES (7, -3, -128, 1, 1.5, 0.25, 'v', 'c', '2024-05-01 12:00:00.5',"
                        + " '1999-12-31 23:59:59', '2000-02-29', 'text', x'00ff', '{\"a\": 1}', 255, 4294967295,"
                        + " 'it''s', 'x,z')");

        List<CapturedChange> changes = pollCount(cap, from, id, 1);

        Row got = store.get(id, changes.get(0).key()).orElseThrow();
        assertThat(changes.get(0).row()).isEqualTo(got);
        assertThat(got.get("num")).isEqualTo(new BigDecimal("1.500"));
        assertThat(got.get("flag")).isEqualTo(true);
        assertThat(got.get("u32")).isEqualTo(4_294_967_295L);
        assertThat(got.get("e")).isEqualTo("it's");
        assertThat(got.get("st")).isEqualTo("x,z");
        assertSameAsTriggerCapture(changes, trigger, triggerFrom, id);
    }

    @Test
    void columnNamesComeFromInformationSchemaWithoutFullRowMetadata() throws Exception {
        Store store = open(Map.of());
        TableId id = newTable("minimal");
        ChangeCapture cap = captured(store, id);
        CapturePosition from = cap.current();
        exec("SET GLOBAL binlog_row_metadata = MINIMAL");
        try {
            exec("INSERT INTO " + sql(id) + " (id, name, n) VALUES (1, 'minimal', 5)");
        } finally {
            exec("SET GLOBAL binlog_row_metadata = FULL");
        }
        List<CapturedChange> changes = pollCount(cap, from, id, 1);
        assertThat(changes.get(0).row()).isEqualTo(Row.builder().set("id", 1L).set("name", "minimal").set("n", 5L)
                .build());
    }

    @Test
    void aColumnAddedAtTheEndIsFollowedWithoutFullRowMetadataAlsoForChangesLoggedBefore() throws Exception {
        Store store = open(Map.of());
        TableId id = newTable("added");
        ChangeCapture cap = captured(store, id);
        CapturePosition from = cap.current();
        exec("SET GLOBAL binlog_row_metadata = MINIMAL");
        try {
            exec("INSERT INTO " + sql(id) + " (id, name, n) VALUES (1, 'before', 1)",
                    "ALTER TABLE " + sql(id) + " ADD COLUMN extra bigint",
                    "INSERT INTO " + sql(id) + " (id, name, n, extra) VALUES (2, 'after', 2, 42)");
        } finally {
            exec("SET GLOBAL binlog_row_metadata = FULL");
        }
        List<CapturedChange> changes = pollCount(cap, from, id, 2); // both read after the ALTER

        assertThat(changes.get(0).row()).isEqualTo(Row.builder().set("id", 1L).set("name", "before").set("n", 1L)
                .build());
        assertThat(changes.get(1).row()).isEqualTo(Row.builder().set("id", 2L).set("name", "after").set("n", 2L)
                .set("extra", 42L).build());
    }

    @Test
    void aRestartResumesInsideATransactionWithoutLossOrDuplicates() throws Exception {
        Store store = open(Map.of());
        TableId id = newTable("restart");
        ChangeCapture cap = captured(store, id);
        CapturePosition from = cap.current();
        List<Row> ten = new ArrayList<>();
        for (long i = 1; i <= 10; i++) {
            ten.add(Row.builder().set("id", i).set("name", "r" + i).build());
        }
        store.upsert(id, ten, WriteOrigin.LOCAL); // one transaction
        store.upsert(id, List.of(Row.builder().set("id", 11L).set("name", "after").build()), WriteOrigin.LOCAL);
        List<CapturedChange> first = new ArrayList<>();
        CapturePosition pos = from;
        while (first.size() < 4) {
            for (CapturedChange c : cap.poll(pos, 4 - first.size(), Duration.ofMillis(500))) {
                pos = c.position();
                if (c.table().equals(id)) {
                    first.add(c);
                }
            }
        }
        cap.acknowledge(pos);
        store.close();

        Store again = open(Map.of());
        ChangeCapture cap2 = again.capture().orElseThrow();
        cap2.enable(id);
        assertThat(cap2.start()).as("the acknowledged position is kept on the server").isEqualTo(pos);
        List<CapturedChange> rest = pollCount(cap2, cap2.start(), id, 7);
        // nothing else may come (the 7 were the rest): the poll waits 600 ms for stragglers
        assertThat(cap2.poll(rest.get(rest.size() - 1).position(), 100, Duration.ofMillis(600))
                .stream().filter(c -> c.table().equals(id))).isEmpty();

        assertThat(first).extracting(c -> c.key().get(0)).containsExactly(1L, 2L, 3L, 4L);
        assertThat(rest).extracting(c -> c.key().get(0)).containsExactly(5L, 6L, 7L, 8L, 9L, 10L, 11L);
    }

    @Test
    void replicatedTransactionsAreNotCapturedLocalOnesBesideThemAre() throws Exception {
        Store store = open(Map.of());
        TableId id = newTable("echo");
        ChangeCapture cap = captured(store, id);
        CapturePosition from = cap.current();
        for (long i = 1; i <= 20; i++) {
            store.upsert(id, List.of(Row.builder().set("id", i).set("name", i % 2 == 0 ? "replicated" : "local")
                    .build()), i % 2 == 0 ? WriteOrigin.REPLICATED : WriteOrigin.LOCAL);
        }
        store.delete(id, List.of(Key.of(1L)), WriteOrigin.REPLICATED);
        store.delete(id, List.of(Key.of(2L)), WriteOrigin.LOCAL);

        List<CapturedChange> changes = pollCount(cap, from, id, 11);

        assertThat(changes).extracting(c -> c.key().get(0)).containsExactly(1L, 3L, 5L, 7L, 9L, 11L, 13L, 15L, 17L,
                19L, 2L);
        assertThat(changes.get(10).op()).isEqualTo(Op.DELETE);
        try (Connection c = plain(); Statement st = c.createStatement();
             ResultSet rs = st.executeQuery("SELECT COUNT(*) FROM " + BinlogCapture.ORIGIN_TABLE)) {
            rs.next();
            assertThat(rs.getInt(1)).as("one marker row per connection").isBetween(1, 4);
        }
    }

    @Test
    void theLoadReadAfterCurrentAndTheStreamFromItMissNothingUnderConcurrentWrites() throws Exception {
        Store store = open(Map.of());
        TableId id = newTable("gap");
        ChangeCapture cap = captured(store, id);
        String t = sql(id);
        AtomicBoolean stop = new AtomicBoolean();
        AtomicLong next = new AtomicLong();
        Set<Long> committed = java.util.concurrent.ConcurrentHashMap.newKeySet();
        List<Thread> writers = new ArrayList<>();
        for (int w = 0; w < 3; w++) {
            Thread th = new Thread(() -> {
                try (Connection c = plain(); PreparedStatement ps = c.prepareStatement("INSERT INTO " + t
                        + " (id, name) VALUES (?, 'w')")) {
                    while (!stop.get()) {
                        long k = next.incrementAndGet();
                        ps.setLong(1, k);
                        ps.executeUpdate();
                        committed.add(k);
                    }
                } catch (SQLException e) {
                    throw new IllegalStateException(e);
                }
            }, "gap-writer-" + w);
            th.start();
            writers.add(th);
        }
        List<CapturePosition> positions = new ArrayList<>();
        List<Set<Long>> loads = new ArrayList<>();
        for (int round = 0; round < 5; round++) {
            Thread.sleep(100); // writers run meanwhile
            positions.add(cap.current());
            Set<Long> load = new HashSet<>();
            try (Connection c = plain(); Statement st = c.createStatement();
                 ResultSet rs = st.executeQuery("SELECT id FROM " + t)) {
                while (rs.next()) {
                    load.add(rs.getLong(1));
                }
            }
            loads.add(load);
        }
        stop.set(true);
        for (Thread th : writers) {
            th.join();
        }
        for (int round = 0; round < positions.size(); round++) {
            Set<Long> seen = new HashSet<>(loads.get(round));
            pollUntil(cap, positions.get(round), id, l -> {
                l.forEach(c -> seen.add((Long) c.key().get(0)));
                l.clear();
                return seen.containsAll(committed);
            });
            assertThat(seen).as("round %d: load plus stream", round).containsAll(committed);
        }
        assertThat(committed.size()).as("writes during the rounds").isGreaterThan(100);
    }

    @Test
    void aLostConnectionIsReopenedByTheNextPollWithoutLoss() throws Exception {
        Store store = open(Map.of());
        TableId id = newTable("reconnect");
        ChangeCapture cap = captured(store, id);
        CapturePosition from = cap.current();
        store.upsert(id, List.of(Row.builder().set("id", 1L).set("name", "before").build()), WriteOrigin.LOCAL);
        CapturePosition pos = pollCount(cap, from, id, 1).get(0).position();

        int killed = 0;
        try (Connection c = plain(); Statement st = c.createStatement()) {
            List<Long> dumps = new ArrayList<>();
            try (ResultSet rs = st.executeQuery("SELECT ID FROM information_schema.PROCESSLIST"
                    + " WHERE COMMAND LIKE 'Binlog Dump%'")) {
                while (rs.next()) {
                    dumps.add(rs.getLong(1));
                }
            }
            for (long dump : dumps) {
                st.execute("KILL CONNECTION " + dump);
                killed++;
            }
        }
        assertThat(killed).isGreaterThan(0);
        store.upsert(id, List.of(Row.builder().set("id", 2L).set("name", "after").build()), WriteOrigin.LOCAL);

        List<CapturedChange> after = new ArrayList<>();
        int failures = 0;
        long deadline = System.nanoTime() + Duration.ofSeconds(20).toNanos();
        while (after.isEmpty()) {
            assertThat(System.nanoTime()).isLessThan(deadline);
            try {
                for (CapturedChange c : cap.poll(pos, 100, Duration.ofMillis(300))) {
                    pos = c.position();
                    if (c.table().equals(id)) {
                        after.add(c);
                    }
                }
            } catch (RetriableException e) {
                failures++; // the runtime backs off and polls again
            }
        }
        assertThat(after).extracting(CapturedChange::key).containsExactly(Key.of(2L));
        assertThat(failures).as("the lost stream was reported as retriable").isLessThanOrEqualTo(1);
    }

    @Test
    void transactionsOfSeveralGtidDomainsAreCapturedAndAResumeFromAnyPositionLosesNone() throws Exception {
        Store store = open(Map.of());
        TableId id = newTable("domains");
        ChangeCapture cap = captured(store, id);
        CapturePosition from = cap.current();
        String t = sql(id);
        try (Connection zero = plain(); Connection two = plain(); Statement a = zero.createStatement();
             Statement b = two.createStatement()) {
            b.execute("SET SESSION gtid_domain_id = 2");
            for (int i = 1; i <= 10; i++) {
                Statement st = i % 2 == 0 ? b : a;
                st.execute("INSERT INTO " + t + " (id, name) VALUES (" + i + ", 'd" + (i % 2 == 0 ? 2 : 0) + "')");
            }
        }
        List<CapturedChange> all = pollCount(cap, from, id, 10);
        assertThat(all).extracting(c -> c.key().get(0)).containsExactly(1L, 2L, 3L, 4L, 5L, 6L, 7L, 8L, 9L, 10L);
        assertThat(all.get(9).position().token()).as("the state names both domains").matches("bl:g:0-1-\\d+,2-1-\\d+");
        for (int k = 0; k < 9; k++) {
            List<CapturedChange> rest = pollCount(cap, all.get(k).position(), id, 9 - k);
            assertThat(rest).as("resumed after change %d", k + 1).extracting(CapturedChange::position)
                    .containsExactlyElementsOf(all.subList(k + 1, 10).stream().map(CapturedChange::position).toList());
        }
    }

    @Test
    void aQuietCaptureSavesWhereARestartResumesPastOtherTablesWrites() throws Exception {
        Store store = open(Map.of("heartbeat-interval", Duration.ofMillis(200)));
        TableId id = newTable("quiet");
        TableId other = newTable("quiet_other");
        ChangeCapture cap = captured(store, id);
        store.ensureTable(simple(other));
        CapturePosition from = cap.current();
        store.upsert(id, List.of(Row.builder().set("id", 1L).set("name", "captured").build()), WriteOrigin.LOCAL);
        CapturePosition pos = pollCount(cap, from, id, 1).get(0).position();
        cap.acknowledge(pos);
        for (long i = 1; i <= 50; i++) {
            store.upsert(other, List.of(Row.builder().set("id", i).set("name", "not captured").build()),
                    WriteOrigin.LOCAL);
        }
        String afterOthers;
        try (Connection c = plain(); Statement st = c.createStatement();
             ResultSet rs = st.executeQuery("SELECT @@gtid_binlog_pos")) {
            rs.next();
            afterOthers = "bl:g:" + rs.getString(1); // the position after the other table's 50 transactions
        }
        long deadline = System.nanoTime() + Duration.ofSeconds(15).toNanos();
        while (!afterOthers.equals(stateColumn("resume"))) {
            assertThat(System.nanoTime()).as("the quiet position %s was saved, is %s", afterOthers,
                    stateColumn("resume")).isLessThan(deadline);
            assertThat(cap.poll(pos, 100, Duration.ofMillis(300))).noneMatch(c -> c.table().equals(id));
        }
        assertThat(stateColumn("acked")).isEqualTo(pos.token());
        for (int i = 0; i < 5; i++) { // idle now: its own saves do not count as activity, nothing more is written
            cap.poll(pos, 100, Duration.ofMillis(250));
        }
        String saved = stateColumn("resume");
        assertThat(saved).isEqualTo(afterOthers);
        store.close();

        ch.qos.logback.classic.Logger logger = (ch.qos.logback.classic.Logger) org.slf4j.LoggerFactory
                .getLogger(BinlogCapture.class);
        ch.qos.logback.core.read.ListAppender<ch.qos.logback.classic.spi.ILoggingEvent> appender =
                new ch.qos.logback.core.read.ListAppender<>();
        appender.start();
        logger.addAppender(appender);
        try {
            Store again = open(Map.of());
            ChangeCapture cap2 = again.capture().orElseThrow();
            cap2.enable(id);
            assertThat(cap2.start()).isEqualTo(pos);
            again.upsert(id, List.of(Row.builder().set("id", 2L).set("name", "after").build()), WriteOrigin.LOCAL);
            assertThat(pollCount(cap2, cap2.start(), id, 1)).extracting(CapturedChange::key)
                    .containsExactly(Key.of(2L));
            assertThat(appender.list).as("the restart streamed from the saved position, past the other table's writes")
                    .anyMatch(e -> e.getFormattedMessage().contains("reading the binlog")
                            && e.getFormattedMessage().endsWith("from " + saved));
        } finally {
            logger.detachAppender(appender);
        }
    }

    private String stateColumn(String column) throws SQLException {
        try (Connection c = plain(); PreparedStatement ps = c.prepareStatement("SELECT " + column + " FROM "
                + BinlogCapture.STATE_TABLE + " WHERE server_id = ?")) {
            ps.setLong(1, serverId);
            try (ResultSet rs = ps.executeQuery()) {
                return rs.next() ? rs.getString(1) : null;
            }
        }
    }

    /**
     * MariaDB sends a transaction to replicas as soon as it is in the binlog, a moment before InnoDB commits it; the
     * runtime re-reads some captured keys from the store (two-way tables), so a change must be visible when poll
     * returns it. A writer updates one row 2,000 times; every returned change's state (or a later one) is what the
     * store reads right after.
     */
    @Test
    void aReturnedChangeIsAlreadyVisibleToReadersOfTheStore() throws Exception {
        Store store = open(Map.of());
        TableId id = newTable("visible");
        ChangeCapture cap = captured(store, id);
        CapturePosition from = cap.current();
        store.upsert(id, List.of(Row.builder().set("id", 1L).set("n", 0L).build()), WriteOrigin.LOCAL);
        int updates = 2000;
        Thread writer = new Thread(() -> {
            try (Connection c = plain(); PreparedStatement ps = c.prepareStatement("UPDATE " + sql(id)
                    + " SET n = ? WHERE id = 1")) {
                for (long n = 1; n <= updates; n++) {
                    ps.setLong(1, n);
                    ps.executeUpdate();
                }
            } catch (SQLException e) {
                throw new IllegalStateException(e);
            }
        }, "visible-writer");
        writer.start();
        CapturePosition pos = from;
        long seen = -1;
        long checked = 0;
        long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
        while (seen < updates) {
            assertThat(System.nanoTime()).as("all %d updates captured, got to %d", updates, seen).isLessThan(deadline);
            List<CapturedChange> changes = cap.poll(pos, 1, Duration.ofMillis(200));
            for (CapturedChange c : changes) {
                pos = c.position();
                if (c.table().equals(id)) {
                    seen = (Long) c.row().get("n");
                    long now = (Long) store.get(id, Key.of(1L)).orElseThrow().get("n");
                    assertThat(now).as("the store shows the captured state n=%d or a later one", seen)
                            .isGreaterThanOrEqualTo(seen);
                    checked++;
                }
            }
        }
        writer.join();
        assertThat(checked).isEqualTo(updates + 1);
    }

    @Test
    void aPositionWhoseBinlogWasPurgedIsAnErrorSayingSoNeverASilentGap() throws Exception {
        Store store = open(Map.of());
        TableId id = newTable("purged");
        ChangeCapture cap = captured(store, id);
        CapturePosition from = cap.current();
        store.upsert(id, List.of(Row.builder().set("id", 1L).set("name", "old").build()), WriteOrigin.LOCAL);
        CapturePosition old = pollCount(cap, from, id, 1).get(0).position();
        store.upsert(id, List.of(Row.builder().set("id", 2L).set("name", "purged").build()), WriteOrigin.LOCAL);
        store.close();
        String newest;
        try (Connection c = plain(); Statement st = c.createStatement()) {
            st.execute("FLUSH BINARY LOGS"); // the change after the old position is in the older file
            try (ResultSet rs = st.executeQuery("SHOW MASTER STATUS")) {
                rs.next();
                newest = rs.getString(1);
            }
            List<String> dumps = new ArrayList<>();
            try (ResultSet rs = st.executeQuery("SELECT ID, INFO, STATE FROM information_schema.PROCESSLIST"
                    + " WHERE COMMAND LIKE 'Binlog Dump%'")) {
                while (rs.next()) {
                    dumps.add(rs.getLong(1) + " " + rs.getString(3));
                }
            }
            assertThat(dumps).as("no binlog reader left connected by the stores closed before").isEmpty();
            // every older file, with the old position, goes; MariaDB keeps a file until InnoDB's redo log covers its
            // transactions (its binlog checkpoint), so the purge is repeated until it could remove them
            await().atMost(Duration.ofSeconds(20)).pollInterval(Duration.ofMillis(200)).until(() -> {
                st.execute("PURGE BINARY LOGS TO '" + newest + "'");
                List<String> files = new ArrayList<>();
                try (ResultSet rs = st.executeQuery("SHOW BINARY LOGS")) {
                    while (rs.next()) {
                        files.add(rs.getString(1));
                    }
                }
                return files.equals(List.of(newest));
            });
        }

        Store again = open(Map.of());
        ChangeCapture cap2 = again.capture().orElseThrow();
        cap2.enable(id);
        assertThatThrownBy(() -> cap2.poll(old, 10, Duration.ofSeconds(5))).isInstanceOf(MqdbException.class)
                .isNotInstanceOf(RetriableException.class).hasMessageContaining("no longer has that part of the binlog")
                .hasMessageContaining("mqdb uninstall");
    }

    @Test
    void missingBinlogSettingsAndGrantsAreErrorsNamingThem() throws Exception {
        TableId id = newTable("checks");
        Store owner = open(Map.of());
        owner.ensureTable(simple(id));
        exec("CREATE USER IF NOT EXISTS 'mqdb_norepl'@'%' IDENTIFIED BY 'norepl'",
                "CREATE USER IF NOT EXISTS 'mqdb_norepl'@'localhost' IDENTIFIED BY 'norepl'",
                "GRANT ALL PRIVILEGES ON `mqdb_binlog`.* TO 'mqdb_norepl'@'%'",
                "GRANT ALL PRIVILEGES ON `mqdb_binlog`.* TO 'mqdb_norepl'@'localhost'",
                "GRANT ALL PRIVILEGES ON `" + id.schema() + "`.* TO 'mqdb_norepl'@'%'",
                "GRANT ALL PRIVILEGES ON `" + id.schema() + "`.* TO 'mqdb_norepl'@'localhost'");
        Store noGrants = open(Map.of("username", "mqdb_norepl", "password", "norepl"));
        assertThatThrownBy(() -> noGrants.capture().orElseThrow().enable(id)).isInstanceOf(MqdbException.class)
                .hasMessageContaining("REPLICATION SLAVE").hasMessageContaining("REPLICATION CLIENT");

        exec("SET GLOBAL binlog_format = 'MIXED'");
        try {
            Store mixed = open(Map.of());
            assertThatThrownBy(() -> mixed.capture().orElseThrow().enable(id)).isInstanceOf(MqdbException.class)
                    .hasMessageContaining("binlog_format is MIXED, needs ROW");
        } finally {
            exec("SET GLOBAL binlog_format = 'ROW'");
        }
    }

    @Test
    void aMissingServerIdIsAConfigErrorNamingTheKey() {
        assertThatThrownBy(() -> open(url("mqdb_binlog"), Map.of()))
                .hasMessageContaining("stores.test.binlog-server-id").hasMessageContaining("required");
        assertThat(new JdbcStoreProvider().settings()).filteredOn(s -> s.name().equals("binlog-server-id"))
                .singleElement().satisfies(s -> assertThat(s.inRange(0L)).isFalse());
    }

    @Test
    void uninstallListsAndDropsTheStateAndMarkerTables() throws Exception {
        String url = url("mqdb_binlog_uninst");
        Store store = open(url, Map.of("binlog-server-id", serverId));
        opened.add(store);
        TableId id = newTable("uninst");
        captured(store, id);
        store.upsert(id, List.of(Row.builder().set("id", 1L).build()), WriteOrigin.REPLICATED);
        store.close();

        Store admin = open(url, Map.of("capture", "none"));
        opened.add(admin);
        CaptureInstallation inst = (CaptureInstallation) admin;
        assertThat(inst.installed()).containsExactlyInAnyOrder(
                "table " + BinlogCapture.STATE_TABLE + " (capture: log)",
                "table " + BinlogCapture.ORIGIN_TABLE + " (capture: log)");
        inst.uninstall();
        assertThat(inst.installed()).isEmpty();
        inst.uninstall(); // idempotent
    }
}
