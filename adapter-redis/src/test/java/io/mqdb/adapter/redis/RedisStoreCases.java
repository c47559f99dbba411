package io.mqdb.adapter.redis;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.mqdb.spi.Bytes;
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
import java.time.Instant;
import java.time.LocalDate;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Random;
import java.util.TreeMap;
import java.util.UUID;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import redis.clients.jedis.UnifiedJedis;

/**
 * The cases every Redis deployment (standalone hash, standalone json, cluster) must pass. Written so that it can later
 * extend the shared {@code io.mqdb.spi.StoreContract}: the store comes from {@link #openStore()}.
 */
abstract class RedisStoreCases {
    private static final AtomicInteger TABLES = new AtomicInteger();
    private static final String RUN = Long.toString(System.currentTimeMillis() % 1_000_000, 36);

    protected Store store;

    /** @return a new store over the deployment under test, with these settings on top of the connection's */
    protected abstract Store openStore(Map<String, Object> settings);

    /** @return a raw client to the same deployment, for checks below the SPI */
    protected abstract UnifiedJedis raw();

    /** @return a new store with default settings */
    protected Store openStore() {
        return openStore(Map.of());
    }

    @BeforeEach
    void open() {
        store = openStore();
    }

    @AfterEach
    void closeStore() {
        store.close();
    }

    /** @return a table name no other test (or earlier run on a shared server) uses */
    protected static TableId newTable(String prefix) {
        return new TableId("it", prefix + "_" + RUN + "_" + TABLES.incrementAndGet());
    }

    protected static TableSchema orders(TableId t) {
        return new TableSchema(t, List.of(Column.of("id", ColumnType.INT64), Column.of("name", ColumnType.STRING),
                Column.of("qty", ColumnType.INT64), Column.of("price", ColumnType.DECIMAL),
                Column.of("note", ColumnType.STRING)), List.of("id"));
    }

    protected static Row order(long id, String name, long qty, String price) {
        return Row.builder().set("id", id).set("name", name).set("qty", qty).set("price", new BigDecimal(price))
                .set("note", null).build();
    }

    protected void upsert(TableId t, Row... rows) {
        store.upsert(t, List.of(rows), WriteOrigin.REPLICATED);
    }

    protected Row get(TableId t, Object... key) {
        return store.get(t, Key.of(key)).orElseThrow(() -> new AssertionError("no row " + List.of(key)));
    }

    @Test
    void ensureTableCreatesDescribesAndAddsColumns() {
        TableId t = newTable("ensure");
        assertThat(store.describe(t)).isEmpty();
        assertThat(store.count(t)).isZero();
        TableSchema s = orders(t);
        assertThat(store.ensureTable(s)).isEqualTo(s);
        assertThat(store.describe(t)).contains(s);
        assertThat(store.ensureTable(s)).isEqualTo(s);

        List<Column> more = new ArrayList<>(s.columns());
        more.add(new Column("shipped", ColumnType.BOOLEAN, false));
        TableSchema wider = store.ensureTable(new TableSchema(t, more, List.of("id")));
        assertThat(wider.columns()).hasSize(6);
        assertThat(wider.column("shipped")).contains(Column.of("shipped", ColumnType.BOOLEAN));
        try (Store other = openStore()) {
            assertThat(other.describe(t)).contains(wider);
        }
        assertThatThrownBy(() -> store.ensureTable(new TableSchema(t, s.columns(), List.of("name"))))
                .isInstanceOf(InvalidDataException.class).hasMessageContaining("primary key");
    }

    @Test
    void upsertInsertsThenGetReturnsEveryColumn() {
        TableId t = newTable("upsert");
        store.ensureTable(orders(t));
        upsert(t, Row.builder().set("id", 1L).set("name", "apple").build());
        Row r = get(t, 1L);
        assertThat(r.values()).containsExactly(Map.entry("id", 1L), Map.entry("name", "apple"),
                entryNull("qty"), entryNull("price"), entryNull("note"));
        assertThat(store.get(t, Key.of(2L))).isEmpty();
        assertThat(store.count(t)).isEqualTo(1);
    }

    private static Map.Entry<String, Object> entryNull(String k) {
        return new java.util.AbstractMap.SimpleEntry<>(k, null);
    }

    @Test
    void partialUpdateKeepsMissingColumns() {
        TableId t = newTable("partial");
        store.ensureTable(orders(t));
        upsert(t, order(1, "apple", 3, "1.50"));
        upsert(t, Row.builder().set("id", 1L).set("qty", 7L).build());
        assertThat(get(t, 1L)).isEqualTo(order(1, "apple", 7, "1.50"));
    }

    @Test
    void nullClearsAColumnWhileMissingKeepsIt() {
        TableId t = newTable("nulls");
        store.ensureTable(orders(t));
        upsert(t, order(1, "apple", 3, "1.50").merge(Row.builder().set("note", "fresh").build()));
        upsert(t, Row.builder().set("id", 1L).set("name", null).set("note", null).build());
        Row r = get(t, 1L);
        assertThat(r.has("name")).isTrue();
        assertThat(r.get("name")).isNull();
        assertThat(r.get("note")).isNull();
        assertThat(r.get("qty")).isEqualTo(3L);
        assertThat(r.get("price")).isEqualTo(new BigDecimal("1.50"));
        assertThat(storedFields(t, "1")).containsOnlyKeys("id", "qty", "price");
    }

    /** @return the columns stored for a row under the default key pattern, read raw */
    protected abstract Map<String, String> storedFields(TableId t, String pk);

    @Test
    void deleteRemovesTheRowAndIsIdempotent() {
        TableId t = newTable("delete");
        store.ensureTable(orders(t));
        upsert(t, order(1, "a", 1, "1"), order(2, "b", 2, "2"));
        store.delete(t, List.of(Key.of(1L), Key.of(99L)), WriteOrigin.REPLICATED);
        assertThat(store.get(t, Key.of(1L))).isEmpty();
        assertThat(store.count(t)).isEqualTo(1);
        assertThat(raw().exists("it:" + t.table() + ":1")).isFalse();
        store.delete(t, List.of(Key.of(1L)), WriteOrigin.REPLICATED);
        assertThat(scanAll(t, 10)).containsExactly(order(2, "b", 2, "2"));
    }

    @Test
    void mixedBatchOf5000MatchesAModel() {
        TableId t = newTable("mixed");
        store.ensureTable(orders(t));
        Random rnd = new Random(42);
        TreeMap<Long, Row> model = new TreeMap<>();
        List<Mutation> batch = new ArrayList<>();
        for (int i = 0; i < 5000; i++) {
            long id = rnd.nextInt(1500) - 200;
            if (rnd.nextInt(4) == 0) {
                batch.add(Mutation.Delete.of(Key.of(id)));
                model.remove(id);
            } else if (model.containsKey(id) && rnd.nextBoolean()) {
                Row partial = Row.builder().set("id", id).set("qty", (long) i).set("note", null).build();
                batch.add(Mutation.Upsert.of(partial));
                model.put(id, model.get(id).merge(partial));
            } else {
                Row full = order(id, "n" + i, i, i + ".25");
                batch.add(Mutation.Upsert.of(full));
                model.put(id, full);
            }
        }
        store.apply(t, batch, WriteOrigin.REPLICATED);
        assertThat(store.count(t)).isEqualTo(model.size());
        assertThat(scanAll(t, 333)).containsExactlyElementsOf(model.values());
    }

    @Test
    void scanPages1234RowsInKeyOrder() {
        TableId t = newTable("scan");
        store.ensureTable(orders(t));
        List<Long> ids = new ArrayList<>();
        for (long i = -600; i < 634; i++) {
            ids.add(i * 7);
        }
        Collections.shuffle(ids, new Random(1));
        List<Row> rows = new ArrayList<>();
        for (long id : ids) {
            rows.add(order(id, "n" + id, id, "0.1"));
        }
        store.upsert(t, rows, WriteOrigin.REPLICATED);
        List<Long> seen = new ArrayList<>();
        Key after = null;
        int pages = 0;
        while (true) {
            ScanPage page = store.scan(t, after, 100);
            pages++;
            page.rows().forEach(r -> seen.add((Long) r.get("id")));
            if (page.next().isEmpty()) {
                break;
            }
            after = page.next().get();
        }
        Collections.sort(ids);
        assertThat(seen).containsExactlyElementsOf(ids);
        assertThat(pages).isEqualTo(13);
        assertThat(store.count(t)).isEqualTo(1234);
    }

    @Test
    void compositeKeysWithSeparatorsInValuesStayDistinct() {
        TableId t = newTable("composite");
        TableSchema s = new TableSchema(t, List.of(Column.of("region", ColumnType.STRING),
                Column.of("code", ColumnType.STRING), Column.of("seq", ColumnType.INT64),
                Column.of("v", ColumnType.STRING)), List.of("region", "code", "seq"));
        store.ensureTable(s);
        String[][] keys = {{"a", "b:c"}, {"a:b", "c"}, {"a\\", ":c"}, {"a", "b\\:c"}, {"", ""}, {"a", "\0"},
            {"a", ""}, {"é", "日本"}};
        List<Row> rows = new ArrayList<>();
        List<Key> expected = new ArrayList<>();
        for (int i = 0; i < keys.length; i++) {
            rows.add(Row.builder().set("region", keys[i][0]).set("code", keys[i][1]).set("seq", (long) -i)
                    .set("v", "row" + i).build());
            expected.add(Key.of(keys[i][0], keys[i][1], (long) -i));
        }
        store.upsert(t, rows, WriteOrigin.REPLICATED);
        assertThat(store.count(t)).isEqualTo(keys.length);
        for (int i = 0; i < keys.length; i++) {
            assertThat(get(t, keys[i][0], keys[i][1], (long) -i).get("v")).isEqualTo("row" + i);
        }
        assertThat(raw().exists("it:" + t.table() + ":a\\\\:\\:c:-2")).isTrue();
        Collections.sort(expected);
        List<Key> scanned = new ArrayList<>();
        for (Row r : scanAll(t, 3)) {
            scanned.add(s.keyOf(r));
        }
        assertThat(scanned).containsExactlyElementsOf(expected);
    }

    @Test
    void everyPortableTypeRoundTripsExactly() {
        TableId t = newTable("types");
        List<Column> cols = new ArrayList<>(List.of(Column.of("id", ColumnType.INT64)));
        for (ColumnType ct : ColumnType.values()) {
            cols.add(Column.of("c_" + ct.name().toLowerCase(java.util.Locale.ROOT), ct));
        }
        store.ensureTable(new TableSchema(t, cols, List.of("id")));
        Map<ColumnType, List<Object>> samples = TypeSamples.values();
        int n = samples.values().stream().mapToInt(List::size).max().orElseThrow();
        List<Row> rows = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            Row.Builder b = Row.builder().set("id", (long) i);
            for (ColumnType ct : ColumnType.values()) {
                List<Object> v = samples.get(ct);
                b.set("c_" + ct.name().toLowerCase(java.util.Locale.ROOT), i < v.size() ? v.get(i) : null);
            }
            rows.add(b.build());
        }
        store.upsert(t, rows, WriteOrigin.REPLICATED);
        for (Row r : rows) {
            assertThat(get(t, r.get("id"))).isEqualTo(r);
        }
        assertThat(scanAll(t, 4)).containsExactlyElementsOf(rows);
    }

    @Test
    void keysOfEveryOrderedTypeScanInKeyOrder() {
        for (ColumnType ct : List.of(ColumnType.INT64, ColumnType.DOUBLE, ColumnType.STRING, ColumnType.TIMESTAMP,
                ColumnType.DATE, ColumnType.UUID, ColumnType.BYTES, ColumnType.BOOLEAN)) {
            TableId t = newTable("key_" + ct.name().toLowerCase(java.util.Locale.ROOT));
            TableSchema s = new TableSchema(t, List.of(Column.of("k", ct), Column.of("v", ColumnType.INT64)),
                    List.of("k"));
            store.ensureTable(s);
            List<Key> keys = new ArrayList<>();
            List<Row> rows = new ArrayList<>();
            for (Object v : new LinkedHashMap<>(dedupe(TypeSamples.values().get(ct))).keySet()) {
                if (ct == ColumnType.STRING && ((String) v).codePoints().anyMatch(c -> c > 0xFFFF)) {
                    continue; // documented: UTF-8 order, not UTF-16
                }
                keys.add(Key.of(v));
                rows.add(Row.builder().set("k", v).set("v", 1L).build());
            }
            store.upsert(t, rows, WriteOrigin.REPLICATED);
            Collections.sort(keys);
            List<Key> scanned = new ArrayList<>();
            for (Row r : scanAll(t, 2)) {
                scanned.add(s.keyOf(r));
            }
            assertThat(scanned).as(ct.name()).containsExactlyElementsOf(keys);
        }
    }

    private static Map<Object, Boolean> dedupe(List<Object> values) {
        Map<Object, Boolean> m = new LinkedHashMap<>();
        values.forEach(v -> m.put(v, true));
        return m;
    }

    @Test
    void invalidRowsAreInvalidData() {
        TableId t = newTable("invalid");
        store.ensureTable(orders(t));
        assertThatThrownBy(() -> upsert(t, Row.builder().set("id", 1L).set("colour", "red").build()))
                .isInstanceOf(InvalidDataException.class).hasMessageContaining("colour");
        assertThatThrownBy(() -> upsert(t, Row.builder().set("id", 1L).set("qty", "many").build()))
                .isInstanceOf(InvalidDataException.class).hasMessageContaining("qty");
        assertThatThrownBy(() -> upsert(t, Row.builder().set("name", "no key").build()))
                .isInstanceOf(InvalidDataException.class);
        assertThatThrownBy(() -> store.upsert(newTable("missing"), List.of(order(1, "a", 1, "1")),
                WriteOrigin.LOCAL)).isInstanceOf(InvalidDataException.class).hasMessageContaining("does not exist");
    }

    @Test
    void aKeyOfAnotherRedisTypeIsInvalidData() {
        TableId t = newTable("wrongtype");
        store.ensureTable(orders(t));
        raw().rpush("it:" + t.table() + ":5", "not a row");
        assertThatThrownBy(() -> upsert(t, order(5, "x", 1, "1"))).isInstanceOf(InvalidDataException.class)
                .hasMessageContaining("WRONGTYPE");
    }

    @Test
    void ttlIsSetAndRefreshedOnEveryUpsert() {
        TableId t = newTable("ttl");
        try (Store withTtl = openStore(Map.of(RedisSettings.TTL, java.time.Duration.ofMinutes(10)))) {
            withTtl.ensureTable(orders(t));
            withTtl.upsert(t, List.of(order(1, "a", 1, "1")), WriteOrigin.REPLICATED);
            String key = "it:" + t.table() + ":1";
            long pttl = raw().pttl(key);
            assertThat(pttl).isBetween(9 * 60_000L, 10 * 60_000L);
            raw().pexpire(key, 5_000);
            withTtl.upsert(t, List.of(Row.builder().set("id", 1L).set("qty", 2L).build()), WriteOrigin.REPLICATED);
            assertThat(raw().pttl(key)).isGreaterThan(9 * 60_000L);
        }
        assertThat(raw().pttl("mqdb:idx:it:" + t.table())).isEqualTo(-1);
    }

    @Test
    void customKeyPatternNamesTheRedisKeys() {
        TableId t = newTable("pattern");
        String prefix = "shop_" + t.table();
        try (Store custom = openStore(Map.of(RedisSettings.KEY_PATTERNS, Map.of(t.toString(), prefix + ":{id}")))) {
            custom.ensureTable(orders(t));
            custom.upsert(t, List.of(order(42, "a", 1, "1")), WriteOrigin.REPLICATED);
            assertThat(raw().exists(prefix + ":42")).isTrue();
            assertThat(raw().exists("it:" + t.table() + ":42")).isFalse();
            assertThat(custom.get(t, Key.of(42L))).contains(order(42, "a", 1, "1"));
            assertThat(custom.scan(t, null, 10).rows()).containsExactly(order(42, "a", 1, "1"));
        }
        TableId bad = newTable("badpattern");
        try (Store custom = openStore(Map.of(RedisSettings.KEY_PATTERNS, Map.of(bad.toString(), "x:{name}")))) {
            assertThatThrownBy(() -> custom.ensureTable(orders(bad))).isInstanceOf(InvalidDataException.class)
                    .hasMessageContaining("not a primary-key column");
        }
    }

    @Test
    void captureIsNotOffered() {
        assertThat(store.capture()).isEmpty();
        assertThat(store.describeTarget()).startsWith("redis").doesNotContain("secret");
    }

    protected List<Row> scanAll(TableId t, int pageSize) {
        List<Row> out = new ArrayList<>();
        Key after = null;
        while (true) {
            ScanPage page = store.scan(t, after, pageSize);
            out.addAll(page.rows());
            Optional<Key> next = page.next();
            if (next.isEmpty()) {
                return out;
            }
            after = next.get();
        }
    }

    /** Values of every portable type, edge cases first. */
    static final class TypeSamples {
        static Map<ColumnType, List<Object>> values() {
            Map<ColumnType, List<Object>> m = new HashMap<>();
            m.put(ColumnType.STRING, List.of("", "plain", "a:b\\c", "tab\tnew\nline", "nul\0x", "日本語", "emoji 😀",
                    "\"quoted\" {json}"));
            m.put(ColumnType.INT64, List.of(Long.MIN_VALUE, -1L, 0L, 1L, 42L, Long.MAX_VALUE, 9_007_199_254_740_993L));
            m.put(ColumnType.DOUBLE, List.of(Double.NEGATIVE_INFINITY, -1.5, -0.0, 0.0, Double.MIN_VALUE, 0.1,
                    1e300, Double.MAX_VALUE, Double.POSITIVE_INFINITY, Double.NaN, 1.0 / 3));
            m.put(ColumnType.DECIMAL, List.of(new BigDecimal("1.50"), new BigDecimal("-0.000"), new BigDecimal("0"),
                    new BigDecimal("1E+3"), new BigDecimal("123456789012345678901234567890.123456789"),
                    new BigDecimal("-7.1")));
            m.put(ColumnType.BOOLEAN, List.of(true, false));
            m.put(ColumnType.BYTES, List.of(Bytes.of(new byte[0]), Bytes.of(new byte[] {0, -1, 127, -128}),
                    Bytes.of("hello".getBytes(java.nio.charset.StandardCharsets.UTF_8))));
            m.put(ColumnType.TIMESTAMP, List.of(Instant.parse("1969-12-31T23:59:59.999999Z"), Instant.EPOCH,
                    Instant.parse("2024-02-29T12:34:56Z"), Instant.parse("2024-02-29T12:34:56.000001Z"),
                    Instant.parse("2024-02-29T12:34:56.120000Z"), Instant.parse("+10000-01-01T00:00:00Z"),
                    Instant.parse("0001-01-01T00:00:00Z")));
            m.put(ColumnType.DATE, List.of(LocalDate.of(1, 1, 1), LocalDate.of(1969, 12, 31), LocalDate.EPOCH,
                    LocalDate.of(2024, 2, 29), LocalDate.of(9999, 12, 31)));
            m.put(ColumnType.UUID, List.of(new UUID(0, 0), UUID.fromString("00000000-0000-0000-8000-000000000000"),
                    UUID.fromString("ffffffff-ffff-ffff-ffff-ffffffffffff"),
                    UUID.fromString("7fffffff-ffff-ffff-7fff-ffffffffffff"),
                    UUID.fromString("123e4567-e89b-12d3-a456-426614174000")));
            m.put(ColumnType.JSON, List.of(new Json("{\"a\":[1,2.50,{\"b\":null}],\"big\":9007199254740993}"),
                    new Json("[]"), new Json("\"text\""), new Json("12345678901234567890.5")));
            return m;
        }
    }
}
