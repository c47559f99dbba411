package io.mqdb.adapter.jdbc;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.mqdb.spi.Bytes;
import io.mqdb.spi.CapturePosition;
import io.mqdb.spi.CapturedChange;
import io.mqdb.spi.ChangeCapture;
import io.mqdb.spi.Column;
import io.mqdb.spi.ColumnType;
import io.mqdb.spi.InvalidDataException;
import io.mqdb.spi.Json;
import io.mqdb.spi.Key;
import io.mqdb.spi.Mutation;
import io.mqdb.spi.Row;
import io.mqdb.spi.ScanPage;
import io.mqdb.spi.Store;
import io.mqdb.spi.TableId;
import io.mqdb.spi.TableSchema;
import io.mqdb.spi.WriteOrigin;
import java.math.BigDecimal;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.time.Instant;
import java.time.LocalDate;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * The adapter's own integration cases, run against each database by a subclass that says how to open a store and
 * how to reach the database with plain JDBC. The cases of trigger capture are in {@link TriggerCaptureITBase}, which
 * only the dialects with triggers extend; the shared store contract runs in the {@code *ContractIT} classes.
 */
abstract class JdbcStoreITBase {
    private static final AtomicInteger SEQ = new AtomicInteger();
    protected final List<Store> opened = new ArrayList<>();

    /** @return a new store on this test's database, with the given extra settings */
    protected abstract Store openStore(Map<String, Object> extra);

    protected Store openStore() {
        return openStore(Map.of());
    }

    /** @return a plain JDBC connection to the same database, for writes that do not go through the store */
    protected abstract Connection plainConnection() throws SQLException;

    /** @return the mqdb schema the tests use */
    protected abstract String schema();

    /** @return the SQL name of a table for plain JDBC statements */
    protected abstract String sqlName(TableId id);

    protected Store track(Store s) {
        opened.add(s);
        return s;
    }

    @AfterEach
    void closeStores() {
        opened.forEach(Store::close);
        opened.clear();
    }

    protected TableId newTable(String prefix) {
        return new TableId(schema(), prefix + "_" + ProcessHandle.current().pid() % 1000 + "_"
                + SEQ.incrementAndGet());
    }

    static TableSchema allTypes(TableId id) {
        return new TableSchema(id, List.of(
                new Column("id", ColumnType.INT64, false),
                Column.of("s", ColumnType.STRING),
                Column.of("i", ColumnType.INT64),
                Column.of("d", ColumnType.DOUBLE),
                Column.of("dec", ColumnType.DECIMAL),
                Column.of("b", ColumnType.BOOLEAN),
                Column.of("bin", ColumnType.BYTES),
                Column.of("ts", ColumnType.TIMESTAMP),
                Column.of("day", ColumnType.DATE),
                Column.of("u", ColumnType.UUID),
                Column.of("j", ColumnType.JSON)), List.of("id"));
    }

    static Row fullRow(long id, BigDecimal dec) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("id", id);
        m.put("s", "héllo ✓ 'quoted' \"x\" ; DROP TABLE x; --");
        m.put("i", Long.MIN_VALUE + 1);
        m.put("d", 0.1 + 0.2);
        m.put("dec", dec);
        m.put("b", true);
        m.put("bin", Bytes.of(new byte[] {0, 1, (byte) 0xff, 42}));
        m.put("ts", Instant.parse("2024-02-29T23:59:59.123456Z"));
        m.put("day", LocalDate.of(1999, 12, 31));
        m.put("u", UUID.fromString("123e4567-e89b-12d3-a456-426614174000"));
        m.put("j", new Json("{\"a\": 1, \"b\": [true, null]}"));
        return Row.of(m);
    }

    static Row nullRow(long id) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("id", id);
        for (String c : List.of("s", "i", "d", "dec", "b", "bin", "ts", "day", "u", "j")) {
            m.put(c, null);
        }
        return Row.of(m);
    }

    // ---------------------------------------------------------------- table access

    @Test
    void ensureThenDescribeGivesThePortableSchemaBack() {
        Store store = track(openStore());
        TableId id = newTable("types");
        TableSchema schema = allTypes(id);
        assertThat(store.describe(id)).isEmpty();
        TableSchema got = store.ensureTable(schema);
        assertThat(got).isEqualTo(schema);
        assertThat(store.describe(id)).contains(schema);
        assertThat(store.ensureTable(schema)).isEqualTo(schema); // idempotent
    }

    @Test
    void everyPortableTypeRoundTripsExactly() {
        Store store = track(openStore());
        TableId id = newTable("rt");
        store.ensureTable(allTypes(id));
        List<Row> rows = List.of(fullRow(1, new BigDecimal("1.50")),
                fullRow(2, new BigDecimal("-12345678901234567890.123456789000")),
                fullRow(3, new BigDecimal("0.000")), nullRow(4));
        store.upsert(id, rows, WriteOrigin.LOCAL);
        for (Row r : rows) {
            assertThat(store.get(id, Key.of(r.get("id")))).contains(r);
        }
        BigDecimal dec = (BigDecimal) store.get(id, Key.of(1L)).orElseThrow().get("dec");
        assertThat(dec.scale()).isEqualTo(2);
        assertThat(dec.toString()).isEqualTo("1.50");
    }

    @Test
    void partialUpsertSetsOnlyMentionedColumnsAndNullDiffersFromMissing() {
        Store store = track(openStore());
        TableId id = newTable("partial");
        store.ensureTable(allTypes(id));
        store.upsert(id, List.of(fullRow(1, new BigDecimal("2.5"))), WriteOrigin.LOCAL);
        // s missing (kept), i explicitly null (cleared), b set
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("id", 1L);
        m.put("i", null);
        m.put("b", false);
        store.upsert(id, List.of(Row.of(m)), WriteOrigin.LOCAL);
        Row got = store.get(id, Key.of(1L)).orElseThrow();
        assertThat(got.get("s")).isEqualTo(fullRow(1, BigDecimal.ONE).get("s"));
        assertThat(got.has("i")).isTrue();
        assertThat(got.get("i")).isNull();
        assertThat(got.get("b")).isEqualTo(false);
        // insert with few columns: the rest are present and null
        store.upsert(id, List.of(Row.builder().set("id", 2L).set("s", "x").build()), WriteOrigin.LOCAL);
        Row two = store.get(id, Key.of(2L)).orElseThrow();
        assertThat(two.values()).hasSize(11).containsEntry("s", "x").containsEntry("j", null);
        // key only: inserts, then is a no-op
        store.upsert(id, List.of(Row.builder().set("id", 3L).build()), WriteOrigin.LOCAL);
        store.upsert(id, List.of(Row.builder().set("id", 3L).build()), WriteOrigin.LOCAL);
        assertThat(store.get(id, Key.of(3L))).contains(nullRow(3));
    }

    @Test
    void batchKeepsOrderAcrossUpsertsAndDeletes() {
        Store store = track(openStore());
        TableId id = newTable("batch");
        store.ensureTable(allTypes(id));
        List<Mutation> batch = new ArrayList<>();
        for (long i = 1; i <= 50; i++) {
            batch.add(Mutation.Upsert.of(Row.builder().set("id", i).set("s", "a" + i).build()));
        }
        batch.add(Mutation.Delete.of(Key.of(7L)));
        batch.add(Mutation.Upsert.of(Row.builder().set("id", 8L).set("i", 8L).build()));
        batch.add(Mutation.Delete.of(Key.of(9L)));
        batch.add(Mutation.Upsert.of(Row.builder().set("id", 9L).set("s", "back").build()));
        batch.add(Mutation.Delete.of(Key.of(999L))); // missing: not an error
        store.apply(id, batch, WriteOrigin.LOCAL);
        assertThat(store.count(id)).isEqualTo(49);
        assertThat(store.get(id, Key.of(7L))).isEmpty();
        assertThat(store.get(id, Key.of(8L)).orElseThrow().get("s")).isEqualTo("a8");
        assertThat(store.get(id, Key.of(8L)).orElseThrow().get("i")).isEqualTo(8L);
        assertThat(store.get(id, Key.of(9L)).orElseThrow().get("s")).isEqualTo("back");
    }

    @Test
    void scanPagesByCompositeKeyReturnEveryRowOnceInOrder() {
        Store store = track(openStore());
        TableId id = newTable("scan");
        TableSchema schema = new TableSchema(id, List.of(new Column("region", ColumnType.STRING, false),
                new Column("n", ColumnType.INT64, false), Column.of("v", ColumnType.STRING)), List.of("region", "n"));
        store.ensureTable(schema);
        List<Row> rows = new ArrayList<>();
        for (String r : List.of("eu", "us", "ap")) {
            for (long n = 0; n < 11; n++) {
                rows.add(Row.builder().set("region", r).set("n", n).set("v", r + n).build());
            }
        }
        store.upsert(id, rows, WriteOrigin.LOCAL);
        List<Key> seen = new ArrayList<>();
        Key after = null;
        int pages = 0;
        while (true) {
            ScanPage p = store.scan(id, after, 7);
            pages++;
            p.rows().forEach(r -> seen.add(Key.of(r.get("region"), r.get("n"))));
            if (p.next().isEmpty()) {
                break;
            }
            after = p.next().get();
        }
        assertThat(seen).hasSize(33).doesNotHaveDuplicates().isSorted();
        assertThat(pages).isEqualTo(5);
        assertThat(store.count(id)).isEqualTo(33);
        assertThat(store.count(newTable("absent"))).isZero();
    }

    @Test
    void ensureTableAddsMissingColumnsAndRejectsAnotherKey() {
        Store store = track(openStore());
        TableId id = newTable("evolve");
        store.ensureTable(new TableSchema(id, List.of(new Column("id", ColumnType.INT64, false)), List.of("id")));
        TableSchema wider = new TableSchema(id, List.of(new Column("id", ColumnType.INT64, false),
                Column.of("note", ColumnType.STRING), Column.of("amount", ColumnType.DECIMAL)), List.of("id"));
        assertThat(store.ensureTable(wider)).isEqualTo(wider);
        store.upsert(id, List.of(Row.builder().set("id", 1L).set("amount", new BigDecimal("9.90")).build()),
                WriteOrigin.LOCAL);
        assertThat(store.get(id, Key.of(1L)).orElseThrow().get("amount")).isEqualTo(new BigDecimal("9.90"));
        TableSchema otherKey = new TableSchema(id, List.of(new Column("note", ColumnType.STRING, false)),
                List.of("note"));
        assertThatThrownBy(() -> store.ensureTable(otherKey)).isInstanceOf(InvalidDataException.class);
    }

    @Test
    void constraintViolationsAreInvalidData() throws Exception {
        Store store = track(openStore());
        TableId id = newTable("strict");
        store.ensureTable(new TableSchema(id, List.of(new Column("id", ColumnType.INT64, false),
                new Column("must", ColumnType.STRING, false)), List.of("id")));
        assertThatThrownBy(() -> store.upsert(id, List.of(Row.builder().set("id", 1L).build()), WriteOrigin.LOCAL))
                .isInstanceOf(InvalidDataException.class);
        assertThat(store.count(id)).isZero();
    }

    // ---------------------------------------------------------------- capture

    @Test
    void aTableWithoutPrimaryKeyIsKeyedByItsReplicaKeyOnlyWhenNotNullAndUnique() throws Exception {
        TableId good = newTable("rk");
        TableId nullable = newTable("rkn");
        TableId loose = newTable("rku");
        TableId keyed = newTable("rkp");
        TableId bare = newTable("rkb");
        String sku = quoted("sku");
        String wh = quoted("wh");
        List<String> key = List.of("sku", "wh");
        Store store = track(openStore(Map.of(TestStoreConfig.REPLICA_KEYS, Map.of(good, key, nullable, key,
                loose, key, keyed, key))));
        // a table of mqdb's own first, so the schema (database) exists for the plain CREATE TABLEs below
        store.ensureTable(new TableSchema(newTable("rkx"), List.of(new Column("id", ColumnType.INT64, false)),
                List.of("id")));
        String cols = " (" + sku + " varchar(100) NOT NULL, " + wh + " bigint NOT NULL, " + quoted("qty") + " bigint)";
        sql("CREATE TABLE " + sqlName(good) + cols,
                "CREATE UNIQUE INDEX " + good.table() + "_k ON " + sqlName(good) + " (" + wh + ", " + sku + ")",
                "CREATE TABLE " + sqlName(nullable) + " (" + sku + " varchar(100), " + wh + " bigint NOT NULL)",
                "CREATE UNIQUE INDEX " + nullable.table() + "_k ON " + sqlName(nullable) + " (" + sku + ", " + wh
                        + ")",
                "CREATE TABLE " + sqlName(loose) + cols,
                "CREATE UNIQUE INDEX " + loose.table() + "_k ON " + sqlName(loose) + " (" + sku + ")",
                "CREATE INDEX " + loose.table() + "_i ON " + sqlName(loose) + " (" + sku + ", " + wh + ")",
                "CREATE TABLE " + sqlName(keyed) + " (" + sku + " varchar(100) NOT NULL PRIMARY KEY, " + wh
                        + " bigint NOT NULL)",
                "CREATE TABLE " + sqlName(bare) + cols);

        TableSchema schema = store.describe(good).orElseThrow();
        assertThat(schema.primaryKey()).containsExactly("sku", "wh");
        assertThat(store.ensureTable(schema)).isEqualTo(schema);
        store.upsert(good, List.of(Row.builder().set("sku", "b").set("wh", 1L).set("qty", 1L).build(),
                Row.builder().set("sku", "a").set("wh", 2L).set("qty", 2L).build(),
                Row.builder().set("sku", "a").set("wh", 1L).set("qty", 3L).build()), WriteOrigin.LOCAL);
        store.upsert(good, List.of(Row.builder().set("sku", "b").set("wh", 1L).set("qty", 10L).build()),
                WriteOrigin.LOCAL);
        assertThat(store.get(good, Key.of("b", 1L)).orElseThrow().get("qty")).isEqualTo(10L);
        ScanPage first = store.scan(good, null, 2);
        assertThat(first.rows()).extracting(r -> Key.of(r.get("sku"), r.get("wh")))
                .containsExactly(Key.of("a", 1L), Key.of("a", 2L));
        assertThat(store.scan(good, first.next().orElseThrow(), 2).rows()).extracting(r -> r.get("qty"))
                .containsExactly(10L);
        store.delete(good, List.of(Key.of("a", 2L)), WriteOrigin.LOCAL);
        assertThat(store.count(good)).isEqualTo(2);

        assertThatThrownBy(() -> store.describe(nullable)).isInstanceOf(InvalidDataException.class)
                .hasMessageContaining(nullable + ": key [sku, wh] is refused for table ")
                .hasMessageContaining("column sku may be NULL");
        assertThatThrownBy(() -> store.describe(loose)).isInstanceOf(InvalidDataException.class)
                .hasMessageContaining(loose + ": key [sku, wh] is refused")
                .hasMessageContaining("no unique constraint or unique index has exactly the columns [sku, wh]");
        assertThatThrownBy(() -> store.describe(keyed)).isInstanceOf(InvalidDataException.class)
                .hasMessageContaining("the table has the primary key [sku]");
        assertThatThrownBy(() -> store.describe(bare)).isInstanceOf(InvalidDataException.class)
                .hasMessageContaining("has no primary key").hasMessageContaining("key: [col, ...]");
    }

    /** A column name quoted as this database quotes it, so that H2 keeps it lower case. */
    private String quoted(String column) {
        return sqlName(newTable("q")).startsWith("`") ? "`" + column + "`" : "\"" + column + "\"";
    }

    protected TableId capturedTable(Store store, String prefix) {
        TableId id = newTable(prefix);
        store.ensureTable(new TableSchema(id, List.of(new Column("id", ColumnType.INT64, false),
                Column.of("name", ColumnType.STRING), Column.of("amount", ColumnType.DECIMAL)), List.of("id")));
        store.capture().orElseThrow().enable(id);
        return id;
    }

    protected void sql(String... statements) throws SQLException {
        try (Connection c = plainConnection(); Statement st = c.createStatement()) {
            for (String s : statements) {
                st.execute(s);
            }
        }
    }

    /** Polls until {@code until} holds for the collected changes of one table, or 30 s. */
    protected static CapturePosition drain(ChangeCapture cap, CapturePosition from, TableId table,
                                           List<CapturedChange> into, java.util.function.Predicate<List<CapturedChange>> until)
            throws InterruptedException {
        long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
        CapturePosition pos = from;
        while (!until.test(into) && System.nanoTime() < deadline) {
            for (CapturedChange c : cap.poll(pos, 500, Duration.ofMillis(200))) {
                pos = c.position();
                if (c.table().equals(table)) {
                    into.add(c);
                }
            }
        }
        return pos;
    }

    static Connection connect(String url, String user, String password) throws SQLException {
        return DriverManager.getConnection(url, user, password);
    }
}
