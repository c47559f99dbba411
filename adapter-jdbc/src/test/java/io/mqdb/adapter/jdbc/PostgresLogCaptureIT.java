package io.mqdb.adapter.jdbc;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import io.mqdb.spi.Bytes;
import io.mqdb.spi.CaptureInstallation;
import io.mqdb.spi.CapturePosition;
import io.mqdb.spi.CapturedChange;
import io.mqdb.spi.ChangeCapture;
import io.mqdb.spi.Column;
import io.mqdb.spi.ColumnType;
import io.mqdb.spi.Json;
import io.mqdb.spi.Key;
import io.mqdb.spi.MqdbException;
import io.mqdb.spi.Mutation;
import io.mqdb.spi.Op;
import io.mqdb.spi.Row;
import io.mqdb.spi.Store;
import io.mqdb.spi.TableId;
import io.mqdb.spi.TableSchema;
import io.mqdb.spi.WriteOrigin;
import io.mqdb.testing.PostgresServer;
import java.math.BigDecimal;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.time.Instant;
import java.time.LocalDate;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Predicate;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.slf4j.LoggerFactory;

/** {@code capture: log} on PostgreSQL: what the shared contract does not cover. Each case has a slot of its own. */
class PostgresLogCaptureIT {
    private static final AtomicInteger SEQ = new AtomicInteger();
    private final String slot = "mqdb_logit_" + ProcessHandle.current().pid() + "_" + SEQ.incrementAndGet();
    private final List<Store> opened = new ArrayList<>();

    static String url() {
        return PostgresStoreIT.url("mqdb_log");
    }

    private Store open(Map<String, Object> extra) {
        Map<String, Object> m = new HashMap<>(Map.of("capture", "log", "slot", slot, "publication", "mqdb_logit"));
        m.putAll(extra);
        Store s = PostgresStoreIT.open(url(), m);
        opened.add(s);
        return s;
    }

    private static Connection plain() throws SQLException {
        PostgresServer pg = PostgresServer.shared();
        return JdbcStoreITBase.connect(url(), pg.user(), pg.password());
    }

    @AfterEach
    void closeAndDrop() {
        opened.forEach(Store::close);
        dropSlot(slot);
    }

    static void dropSlot(String name) {
        LogSlots.drop(name);
    }

    private static TableId newTable(String prefix) {
        return new TableId("logit", prefix + "_" + ProcessHandle.current().pid() % 1000 + "_" + SEQ.incrementAndGet());
    }

    private static TableSchema simple(TableId id) {
        return new TableSchema(id, List.of(new Column("id", ColumnType.INT64, false), Column.of("name",
                ColumnType.STRING), Column.of("n", ColumnType.INT64)), List.of("id"));
    }

    /** Polls until {@code done} holds for the changes of {@code table} gathered so far. */
    private static List<CapturedChange> pollUntil(ChangeCapture cap, CapturePosition from, TableId table,
                                                  Predicate<List<CapturedChange>> done) throws InterruptedException {
        List<CapturedChange> out = new ArrayList<>();
        CapturePosition pos = from;
        long deadline = System.nanoTime() + Duration.ofSeconds(20).toNanos();
        while (!done.test(out)) {
            assertThat(System.nanoTime()).as("changes of %s within 20 s, got %s", table, out).isLessThan(deadline);
            for (CapturedChange c : cap.poll(pos, 1000, Duration.ofMillis(200))) {
                pos = c.position();
                if (c.table().equals(table)) {
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

    private static String slotValue(String slot, String column) throws SQLException {
        try (Connection c = plain(); PreparedStatement ps = c.prepareStatement("SELECT " + column
                + "::text FROM pg_replication_slots WHERE slot_name = ?")) {
            ps.setString(1, slot);
            try (ResultSet rs = ps.executeQuery()) {
                return rs.next() ? rs.getString(1) : null;
            }
        }
    }

    // ---------------------------------------------------------------- cases

    @Test
    void anUpdateThatLeavesAToastedColumnUnchangedLeavesItOutAndTheTargetKeepsIt() throws Exception {
        Store store = open(Map.of());
        TableId id = newTable("toast");
        store.ensureTable(simple(id));
        String sql = "\"" + id.schema() + "\".\"" + id.table() + "\"";
        try (Connection c = plain(); Statement st = c.createStatement()) {
            st.execute("ALTER TABLE " + sql + " ALTER COLUMN name SET STORAGE EXTERNAL"); // out of line, uncompressed
        }
        ChangeCapture cap = store.capture().orElseThrow();
        cap.enable(id);
        CapturePosition from = cap.current();
        String big;
        try (Connection c = plain(); Statement st = c.createStatement()) {
            st.execute("INSERT INTO " + sql + " (id, name, n) VALUES (1, repeat(md5(random()::text), 400), 1)");
            st.execute("UPDATE " + sql + " SET n = 2 WHERE id = 1");
            try (ResultSet rs = st.executeQuery("SELECT name, pg_column_size(name) FROM " + sql)) {
                rs.next();
                big = rs.getString(1);
                assertThat(big).hasSize(12_800);
                assertThat(rs.getInt(2)).as("stored uncompressed, out of line").isGreaterThan(8_000);
            }
        }
        try (Connection c = plain(); PreparedStatement ps = c.prepareStatement("SELECT pg_relation_size(reltoastrelid)"
                + " FROM pg_class WHERE oid = CAST(? AS regclass)")) {
            ps.setString(1, sql);
            try (ResultSet rs = ps.executeQuery()) {
                rs.next();
                assertThat(rs.getLong(1)).as("the value lives in the TOAST table").isGreaterThan(0);
            }
        }
        List<CapturedChange> changes = pollCount(cap, from, id, 2);

        assertThat(changes.get(0).row().get("name")).isEqualTo(big);
        assertThat(changes.get(1).row().values()).containsOnlyKeys("id", "n").containsEntry("n", 2L);

        TableId target = newTable("toast_target");
        store.ensureTable(simple(target));
        store.apply(target, List.of(Mutation.Upsert.of(changes.get(0).row())), WriteOrigin.REPLICATED);
        store.apply(target, List.of(Mutation.Upsert.of(changes.get(1).row())), WriteOrigin.REPLICATED);
        Row kept = store.get(target, Key.of(1L)).orElseThrow();
        assertThat(kept.get("name")).isEqualTo(big);
        assertThat(kept.get("n")).isEqualTo(2L);
    }

    @Test
    void everyPortableTypeIsCapturedAsTheStoreReadsIt() throws Exception {
        Store store = open(Map.of());
        TableId id = newTable("types");
        store.ensureTable(JdbcStoreITBase.allTypes(id));
        ChangeCapture cap = store.capture().orElseThrow();
        cap.enable(id);
        CapturePosition from = cap.current();
        List<Row> rows = new ArrayList<>();
        rows.add(JdbcStoreITBase.fullRow(1, new BigDecimal("1.50")));
        Map<String, Object> edge = new LinkedHashMap<>();
        edge.put("id", 2L);
        edge.put("s", "");
        edge.put("i", Long.MAX_VALUE);
        edge.put("d", Double.NaN);
        edge.put("dec", new BigDecimal("-123456789012345678901234567890.000000000000000000001"));
        edge.put("b", false);
        edge.put("bin", Bytes.of(new byte[0]));
        edge.put("ts", Instant.parse("1900-01-01T00:00:00.000001Z"));
        edge.put("day", LocalDate.of(1, 1, 1));
        edge.put("u", UUID.randomUUID());
        edge.put("j", new Json("[1, \"two\", {\"three\": 3.5}]"));
        rows.add(Row.of(edge));
        Map<String, Object> more = new LinkedHashMap<>(edge);
        more.put("id", 3L);
        more.put("d", Double.NEGATIVE_INFINITY);
        more.put("dec", new BigDecimal("0E-10"));
        more.put("ts", Instant.parse("2262-04-11T23:47:16.854775Z"));
        more.put("day", LocalDate.of(9999, 12, 31));
        rows.add(Row.of(more));
        Map<String, Object> zero = new LinkedHashMap<>(edge);
        zero.put("id", 4L);
        zero.put("d", -0.0);
        zero.put("s", "tab\tnewline\n quote' backslash\\ emoji 🎉");
        rows.add(Row.of(zero));
        Map<String, Object> nulls = new LinkedHashMap<>();
        nulls.put("id", 5L);
        for (Column col : JdbcStoreITBase.allTypes(id).columns()) {
            nulls.putIfAbsent(col.name(), null);
        }
        rows.add(Row.of(nulls));
        store.upsert(id, rows, WriteOrigin.LOCAL);

        List<CapturedChange> changes = pollCount(cap, from, id, rows.size());

        for (CapturedChange c : changes) {
            assertThat(c.row()).as("key %s", c.key()).isEqualTo(store.get(id, c.key()).orElseThrow());
        }
    }

    @Test
    void legacyColumnTypesAreReadLikeTheirDescription() throws Exception {
        Store store = open(Map.of());
        TableId id = newTable("legacy");
        String sql = "\"" + id.schema() + "\".\"" + id.table() + "\"";
        try (Connection c = plain(); Statement st = c.createStatement()) {
            st.execute("CREATE SCHEMA IF NOT EXISTS " + id.schema());
            st.execute("CREATE TABLE " + sql + " (id int4 PRIMARY KEY, small int2, tz timestamptz, j json, num"
                    + " numeric(10,3), r real, v varchar(20), c char(3), inter interval)");
        }
        ChangeCapture cap = store.capture().orElseThrow();
        cap.enable(id);
        CapturePosition from = cap.current();
        try (Connection c = plain(); Statement st = c.createStatement()) {
            st.execute("SET TimeZone = 'Asia/Kolkata'");
            st.execute("INSERT INTO " + sql + " VALUES (7, -3, '2024-05-01 12:00:00.5+05:30', '{ \"a\" :  1 }',"
                    + " 1.5, 0.25, 'v', 'c', '1 day 2 hours')");
        }
        List<CapturedChange> changes = pollCount(cap, from, id, 1);
        Row got = store.get(id, changes.get(0).key()).orElseThrow();
        assertThat(changes.get(0).row()).isEqualTo(got);
        assertThat(got.get("tz")).isEqualTo(Instant.parse("2024-05-01T06:30:00.5Z"));
        assertThat(got.get("num")).isEqualTo(new BigDecimal("1.500"));
    }

    @Test
    void aKeyChangeIsADeleteOfTheOldKeyThenAnUpsert() throws Exception {
        Store store = open(Map.of());
        TableId id = newTable("rekey");
        ChangeCapture cap = captured(store, id);
        CapturePosition from = cap.current();
        String sql = "\"" + id.schema() + "\".\"" + id.table() + "\"";
        try (Connection c = plain(); Statement st = c.createStatement()) {
            st.execute("INSERT INTO " + sql + " (id, name) VALUES (1, 'a')");
            st.execute("UPDATE " + sql + " SET id = 2 WHERE id = 1");
            st.execute("DELETE FROM " + sql + " WHERE id = 2");
        }
        List<CapturedChange> changes = pollCount(cap, from, id, 4);
        assertThat(changes).extracting(CapturedChange::op).containsExactly(Op.UPSERT, Op.DELETE, Op.UPSERT,
                Op.DELETE);
        assertThat(changes).extracting(CapturedChange::key).containsExactly(Key.of(1L), Key.of(1L), Key.of(2L),
                Key.of(2L));
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
        await().atMost(Duration.ofSeconds(10)).until(() -> slotValue(slot, "active").equals("false"));

        Store again = open(Map.of());
        ChangeCapture cap2 = again.capture().orElseThrow();
        cap2.enable(id);
        List<CapturedChange> rest = pollCount(cap2, pos, id, 7);
        // nothing else may come (the 7 were the rest): the poll waits 1 s for stragglers
        assertThat(cap2.poll(rest.get(rest.size() - 1).position(), 100, Duration.ofMillis(1000))
                .stream().filter(c -> c.table().equals(id))).isEmpty();

        assertThat(first).extracting(c -> c.key().get(0)).containsExactly(1L, 2L, 3L, 4L);
        assertThat(rest).extracting(c -> c.key().get(0)).containsExactly(5L, 6L, 7L, 8L, 9L, 10L, 11L);
    }

    /** Creates a simple table and enables its capture. */
    private static ChangeCapture captured(Store store, TableId id) {
        store.ensureTable(simple(id));
        ChangeCapture cap = store.capture().orElseThrow();
        cap.enable(id);
        return cap;
    }

    /** Writes one local row, polls it, acknowledges it, waits for the slot to confirm it; its position. */
    private CapturePosition oneAcknowledged(Store store, ChangeCapture cap, TableId id) throws Exception {
        CapturePosition from = cap.current();
        store.upsert(id, List.of(Row.builder().set("id", 1L).set("name", "local").build()), WriteOrigin.LOCAL);
        CapturePosition pos = pollCount(cap, from, id, 1).get(0).position();
        cap.acknowledge(pos);
        long acked = LogCapture.Pos.parse(pos).flushLsn();
        await().atMost(Duration.ofSeconds(10)).until(() -> lsn(slotValue(slot, "confirmed_flush_lsn")) >= acked);
        return pos;
    }

    /** Polls while idle until the slot's confirmed flush LSN passes the position's; nothing may be captured. */
    private void awaitConfirmedPast(ChangeCapture cap, CapturePosition pos) throws Exception {
        long acked = LogCapture.Pos.parse(pos).flushLsn();
        long deadline = System.nanoTime() + Duration.ofSeconds(15).toNanos();
        while (lsn(slotValue(slot, "confirmed_flush_lsn")) <= acked) {
            assertThat(System.nanoTime()).as("confirmed_flush_lsn moved past %s", acked).isLessThan(deadline);
            assertThat(cap.poll(pos, 100, Duration.ofMillis(300))).isEmpty();
        }
    }

    @Test
    void replicatedWritesAreNotCapturedAndDoNotHoldTheSlot() throws Exception {
        Store store = open(Map.of("heartbeat-interval", Duration.ofHours(1))); // no heartbeat: the writes move it
        TableId id = newTable("echo");
        ChangeCapture cap = captured(store, id);
        CapturePosition pos = oneAcknowledged(store, cap, id);
        for (long i = 2; i <= 20; i++) {
            store.upsert(id, List.of(Row.builder().set("id", i).set("name", "replicated").build()),
                    WriteOrigin.REPLICATED);
        }
        store.delete(id, List.of(Key.of(1L)), WriteOrigin.REPLICATED);

        awaitConfirmedPast(cap, pos);

        store.upsert(id, List.of(Row.builder().set("id", 100L).set("name", "local").build()), WriteOrigin.LOCAL);
        List<CapturedChange> next = pollCount(cap, pos, id, 1);
        assertThat(next).extracting(CapturedChange::key).containsExactly(Key.of(100L));
    }

    @Test
    void aHeartbeatMovesTheConfirmedFlushLsnWhileIdle() throws Exception {
        Store store = open(Map.of("heartbeat-interval", Duration.ofMillis(200)));
        TableId id = newTable("beat");
        ChangeCapture cap = captured(store, id);
        CapturePosition pos = oneAcknowledged(store, cap, id);

        awaitConfirmedPast(cap, pos);
    }

    private static long lsn(String text) {
        return org.postgresql.replication.LogSequenceNumber.valueOf(text).asLong();
    }

    @Test
    void aSlotHoldingMoreWalThanTheThresholdIsWarnedAboutOnce() throws Exception {
        Logger logger = (Logger) LoggerFactory.getLogger(LogCapture.class);
        ListAppender<ILoggingEvent> appender = new ListAppender<>();
        appender.start();
        logger.addAppender(appender);
        try {
            Store store = open(Map.of("heartbeat-interval", Duration.ofMillis(100), "slot-wal-warn-mb", 1L));
            TableId id = newTable("wal");
            ChangeCapture cap = captured(store, id);
            CapturePosition from = cap.start();
            try (Connection c = plain(); Statement st = c.createStatement()) {
                st.execute("CREATE TABLE IF NOT EXISTS logit.wal_filler (x text)"); // not captured: WAL only
                st.execute("INSERT INTO logit.wal_filler SELECT repeat(md5(g::text), 20) FROM"
                        + " generate_series(1, 8000) g");
            }
            // nothing acknowledged, so the slot holds the WAL
            await().atMost(Duration.ofSeconds(20)).until(() -> {
                cap.poll(from, 10, Duration.ofMillis(200));
                return warnings(appender) > 0;
            });
            for (int i = 0; i < 5; i++) {
                cap.poll(from, 10, Duration.ofMillis(200));
            }
            assertThat(warnings(appender)).as("once per crossing").isEqualTo(1);
            assertThat(appender.list.stream().filter(e -> e.getLevel() == Level.WARN).findFirst().orElseThrow()
                    .getFormattedMessage()).contains(slot).contains("slot-wal-warn-mb 1");
        } finally {
            logger.detachAppender(appender);
        }
    }

    private static long warnings(ListAppender<ILoggingEvent> appender) {
        return appender.list.stream().filter(e -> e.getLevel() == Level.WARN
                && e.getFormattedMessage().contains("holds")).count();
    }

    @Test
    void uninstallListsAndDropsTheSlotAndThePublication() throws Exception {
        String publication = "mqdb_uninst_" + SEQ.incrementAndGet();
        Store store = open(Map.of("publication", publication));
        TableId id = newTable("uninst");
        store.ensureTable(simple(id));
        store.capture().orElseThrow().enable(id);
        assertThat(slotValue(slot, "plugin")).isEqualTo("pgoutput");
        store.close();

        Store admin = open(Map.of("publication", publication, "capture", "none"));
        CaptureInstallation inst = (CaptureInstallation) admin;
        assertThat(inst.installed()).contains("replication slot " + slot, "publication \"" + publication + "\"");
        inst.uninstall();
        assertThat(inst.installed()).doesNotContain("replication slot " + slot,
                "publication \"" + publication + "\"");
        assertThat(slotValue(slot, "plugin")).isNull();
        inst.uninstall(); // idempotent
    }

    /** What the docs promise is enough: REPLICATION, ownership of the table, CREATE on the database; no superuser. */
    @Test
    void aUserWithReplicationButNotSuperuserCapturesSuppressesEchoesAndUninstalls() throws Exception {
        TableId id = newTable("role");
        String sql = "\"" + id.schema() + "\".\"" + id.table() + "\"";
        try (Connection c = plain(); Statement st = c.createStatement()) {
            st.execute("DO $$ BEGIN CREATE ROLE mqdb_log_user LOGIN REPLICATION NOSUPERUSER;"
                    + " EXCEPTION WHEN duplicate_object THEN NULL; END $$");
            st.execute("GRANT CREATE ON DATABASE mqdb_log TO mqdb_log_user");
            st.execute("CREATE SCHEMA IF NOT EXISTS " + id.schema());
            st.execute("GRANT USAGE ON SCHEMA " + id.schema() + " TO mqdb_log_user");
            st.execute("CREATE TABLE " + sql + " (id bigint PRIMARY KEY, name text, n bigint)");
            st.execute("ALTER TABLE " + sql + " OWNER TO mqdb_log_user");
        }
        String publication = "mqdb_role_" + SEQ.incrementAndGet();
        Map<String, Object> as = Map.of("username", "mqdb_log_user", "publication", publication);
        Store store = open(as);
        ChangeCapture cap = store.capture().orElseThrow();
        cap.enable(id);
        CapturePosition from = cap.current();
        store.upsert(id, List.of(Row.builder().set("id", 1L).set("name", "replicated").build()),
                WriteOrigin.REPLICATED);
        store.upsert(id, List.of(Row.builder().set("id", 2L).set("name", "local").build()), WriteOrigin.LOCAL);
        assertThat(pollCount(cap, from, id, 1)).extracting(CapturedChange::key).containsExactly(Key.of(2L));
        store.close();

        Map<String, Object> admin = new HashMap<>(as);
        admin.put("capture", "none");
        CaptureInstallation inst = (CaptureInstallation) open(admin);
        inst.uninstall();
        assertThat(inst.installed()).isEmpty();
    }

    @Test
    void aTableWithoutAKeyInItsReplicaIdentityIsRefused() throws Exception {
        TableId id = newTable("noident");
        String sql = "\"" + id.schema() + "\".\"" + id.table() + "\"";
        try (Connection c = plain(); Statement st = c.createStatement()) {
            st.execute("CREATE SCHEMA IF NOT EXISTS " + id.schema());
            st.execute("CREATE TABLE " + sql + " (sku text NOT NULL, wh int8 NOT NULL, UNIQUE (sku, wh))");
        }
        Store store = open(Map.of(TestStoreConfig.REPLICA_KEYS, Map.of(id, List.of("sku", "wh"))));
        assertThatThrownBy(() -> store.capture().orElseThrow().enable(id)).isInstanceOf(MqdbException.class)
                .hasMessageContaining("REPLICA IDENTITY USING INDEX");
        try (Connection c = plain(); Statement st = c.createStatement()) {
            st.execute("ALTER TABLE " + sql + " REPLICA IDENTITY FULL");
        }
        ChangeCapture cap = store.capture().orElseThrow();
        cap.enable(id);
        CapturePosition from = cap.current();
        try (Connection c = plain(); Statement st = c.createStatement()) {
            st.execute("INSERT INTO " + sql + " VALUES ('a', 1)");
            st.execute("UPDATE " + sql + " SET wh = 2");
            st.execute("DELETE FROM " + sql);
        }
        List<CapturedChange> changes = pollCount(cap, from, id, 4);
        assertThat(changes).extracting(CapturedChange::op).containsExactly(Op.UPSERT, Op.DELETE, Op.UPSERT,
                Op.DELETE);
        assertThat(changes).extracting(CapturedChange::key).containsExactly(Key.of("a", 1L), Key.of("a", 1L),
                Key.of("a", 2L), Key.of("a", 2L));
    }

    @Test
    void logOnAnotherDialectIsAConfigErrorNamingTheKey() {
        Map<String, Object> m = Map.of("url", "jdbc:h2:mem:logit", "capture", "log");
        assertThatThrownBy(() -> new JdbcStoreProvider().open(TestStoreConfig.of(m),
                TestStoreConfig.context(java.nio.file.Path.of("target"))))
                .hasMessageContaining("test.yaml:1: stores.test.capture").hasMessageContaining("PostgreSQL");
        Map<String, Object> bad = Map.of("url", url(), "capture", "log", "slot", "Bad-Name");
        assertThatThrownBy(() -> new JdbcStoreProvider().open(TestStoreConfig.of(bad),
                TestStoreConfig.context(java.nio.file.Path.of("target"))))
                .hasMessageContaining("test.yaml:1: stores.test.slot");
    }
}
