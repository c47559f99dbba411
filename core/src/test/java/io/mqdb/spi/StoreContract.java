package io.mqdb.spi;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatCode;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.google.gson.JsonParser;
import java.math.BigDecimal;
import java.time.Duration;
import java.time.Instant;
import java.time.LocalDate;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Comparator;
import java.util.EnumSet;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Random;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInfo;

/**
 * The behaviour every {@link Store} must have: the contract test kit. An adapter's test extends this class and
 * implements {@link #openStore()}; every case here then runs against the adapter.
 *
 * <h2>Lifecycle</h2>
 * {@link #openStore()} is called before each test and the store is closed after it. A test that checks what survives
 * a restart closes the store and calls {@link #openStore()} again in the same test: that second call must open the
 * same data (same file, same server and schema). Stores on shared servers need not be fresh: every test uses its own
 * table, named {@code t_<test>_<random>}, and filters captured changes by that table.
 *
 * <h2>Opting out</h2>
 * An adapter may leave out values only through {@link #limits()}, each limit documented in {@link StoreLimit} and in
 * the adapter's page. No case is ever skipped (CI counts a skipped test as a failure): when a store does not claim a
 * capture ({@link #supportsCapture()} false), each capture case asserts that {@link Store#capture()} is empty instead;
 * an adapter that has a capture must pass them all.
 */
public abstract class StoreContract {
    /** How long capture cases wait for changes to show up. */
    protected static final Duration CAPTURE_TIMEOUT = Duration.ofSeconds(15);

    /** The store under test, opened before each test. */
    protected Store store;
    private String testName;
    private final Random random = new Random();

    /**
     * Opens the store under test. Called before each test, and again within a test after it closed the store, when
     * it must open the same data.
     *
     * @return an open store
     */
    protected abstract Store openStore();

    /** @return the schema the contract's tables live in; a store that needs it to exist overrides this */
    protected String schemaName() {
        return "contract";
    }

    /**
     * @return whether the store under test has a change capture: the capture cases then run against it, otherwise
     *     they check that it has none. The default trusts the store itself; an adapter should override this with
     *     what it promises for the configuration under test, so that a capture gone missing fails the contract.
     */
    protected boolean supportsCapture() {
        return store.capture().isPresent();
    }

    /** @return what this store cannot keep; see {@link StoreLimit}. None by default. */
    protected Set<StoreLimit> limits() {
        return EnumSet.noneOf(StoreLimit.class);
    }

    @BeforeEach
    void openStoreUnderTest(TestInfo info) {
        testName = info.getTestMethod().map(m -> m.getName()).orElse("test");
        store = openStore();
    }

    @AfterEach
    void closeStoreUnderTest() {
        if (store != null) {
            store.close();
        }
    }

    // ---------------------------------------------------------------- schema

    @Test
    void ensureTableCreatesTheTableThatDescribeReturns() {
        TableSchema schema = new TableSchema(newTable(), List.of(
                new Column("id", ColumnType.INT64, false),
                new Column("name", ColumnType.STRING, false),
                Column.of("price", ColumnType.DECIMAL),
                Column.of("payload", ColumnType.JSON)), List.of("id"));
        assertThat(store.describe(schema.table())).isEmpty();

        TableSchema created = store.ensureTable(schema);

        assertSameTable(created, schema);
        assertSameTable(store.describe(schema.table()).orElseThrow(), schema);
    }

    @Test
    void ensureTableCreatesCompositePrimaryKeysInKeyOrder() {
        TableSchema schema = new TableSchema(newTable(), List.of(
                new Column("region", ColumnType.STRING, false),
                new Column("seq", ColumnType.INT64, false),
                Column.of("note", ColumnType.STRING)), List.of("seq", "region"));

        store.ensureTable(schema);

        assertThat(store.describe(schema.table()).orElseThrow().primaryKey()).containsExactly("seq", "region");
    }

    @Test
    void ensureTableIsIdempotentAndKeepsRows() {
        TableSchema schema = simpleSchema(newTable());
        store.ensureTable(schema);
        upsert(schema.table(), row(1L, "one"));

        TableSchema again = store.ensureTable(schema);

        assertSameTable(again, schema);
        assertThat(store.get(schema.table(), Key.of(1L))).contains(row(1L, "one"));
    }

    @Test
    void ensureTableAddsMissingColumnsAsNullable() {
        TableSchema schema = simpleSchema(newTable());
        store.ensureTable(schema);
        upsert(schema.table(), row(1L, "one"));
        List<Column> grown = new ArrayList<>(schema.columns());
        grown.add(new Column("added", ColumnType.INT64, false));
        grown.add(Column.of("added_json", ColumnType.JSON));

        TableSchema after = store.ensureTable(new TableSchema(schema.table(), grown, schema.primaryKey()));

        assertThat(after.column("added")).contains(Column.of("added", ColumnType.INT64));
        assertThat(after.column("added_json")).contains(Column.of("added_json", ColumnType.JSON));
        assertSameTable(store.describe(schema.table()).orElseThrow(), after);
        assertThat(store.get(schema.table(), Key.of(1L)).orElseThrow().values())
                .containsEntry("name", "one").containsEntry("added", null).containsEntry("added_json", null);
        upsert(schema.table(), Row.builder().set("id", 2L).set("added", 7L).build());
        assertThat(store.get(schema.table(), Key.of(2L)).orElseThrow().get("added")).isEqualTo(7L);
    }

    @Test
    void ensureTableNeverDropsColumns() {
        TableSchema schema = simpleSchema(newTable());
        store.ensureTable(schema);
        upsert(schema.table(), row(1L, "one"));

        TableSchema after = store.ensureTable(new TableSchema(schema.table(),
                List.of(new Column("id", ColumnType.INT64, false)), List.of("id")));

        assertThat(after.column("name")).isPresent();
        assertThat(store.describe(schema.table()).orElseThrow().column("name")).isPresent();
        assertThat(store.get(schema.table(), Key.of(1L))).contains(row(1L, "one"));
    }

    @Test
    void ensureTableRejectsAnotherPrimaryKey() {
        TableSchema schema = simpleSchema(newTable());
        store.ensureTable(schema);

        TableSchema other = new TableSchema(schema.table(), schema.columns(), List.of("name"));

        assertThatThrownBy(() -> store.ensureTable(other)).isInstanceOf(InvalidDataException.class);
    }

    @Test
    void describeOfAMissingTableIsEmptyAndCountIsZero() {
        TableId missing = newTable();

        assertThat(store.describe(missing)).isEmpty();
        assertThat(store.count(missing)).isZero();
    }

    // ---------------------------------------------------------------- rows

    @Test
    void upsertInsertsAndGetReturnsEveryColumnWithNullsPresent() {
        TableSchema schema = wideSchema(newTable());
        store.ensureTable(schema);

        upsert(schema.table(), Row.builder().set("id", 1L).set("name", "one").build());

        Map<String, Object> expected = new LinkedHashMap<>();
        expected.put("id", 1L);
        expected.put("name", "one");
        expected.put("qty", null);
        expected.put("note", null);
        assertThat(store.get(schema.table(), Key.of(1L))).contains(Row.of(expected));
    }

    @Test
    void upsertUpdatesOnlyTheColumnsTheRowMentions() {
        TableSchema schema = wideSchema(newTable());
        store.ensureTable(schema);
        upsert(schema.table(), Row.builder().set("id", 1L).set("name", "one").set("qty", 5L).set("note", "n")
                .build());

        upsert(schema.table(), Row.builder().set("id", 1L).set("qty", 6L).set("note", null).build());

        Map<String, Object> expected = new LinkedHashMap<>();
        expected.put("id", 1L);
        expected.put("name", "one");
        expected.put("qty", 6L);
        expected.put("note", null);
        assertThat(store.get(schema.table(), Key.of(1L))).contains(Row.of(expected));
    }

    @Test
    void upsertOfOnlyTheKeyInsertsAllNullsAndLeavesAnExistingRowAlone() {
        TableSchema schema = wideSchema(newTable());
        store.ensureTable(schema);
        upsert(schema.table(), Row.builder().set("id", 1L).set("name", "one").set("qty", 5L).build());

        upsert(schema.table(), Row.builder().set("id", 1L).build(), Row.builder().set("id", 2L).build());

        assertThat(store.get(schema.table(), Key.of(1L)).orElseThrow().values())
                .containsEntry("name", "one").containsEntry("qty", 5L).containsEntry("note", null);
        assertThat(store.get(schema.table(), Key.of(2L)).orElseThrow().values())
                .containsOnlyKeys("id", "name", "qty", "note").containsEntry("name", null);
    }

    @Test
    void deleteRemovesTheRow() {
        TableSchema schema = simpleSchema(newTable());
        store.ensureTable(schema);
        upsert(schema.table(), row(1L, "one"), row(2L, "two"));

        store.delete(schema.table(), List.of(Key.of(1L)), WriteOrigin.LOCAL);

        assertThat(store.get(schema.table(), Key.of(1L))).isEmpty();
        assertThat(store.get(schema.table(), Key.of(2L))).contains(row(2L, "two"));
        assertThat(store.count(schema.table())).isEqualTo(1);
    }

    @Test
    void deletingAMissingKeyIsFine() {
        TableSchema schema = simpleSchema(newTable());
        store.ensureTable(schema);

        assertThatCode(() -> store.delete(schema.table(), List.of(Key.of(42L)), WriteOrigin.LOCAL))
                .doesNotThrowAnyException();
        assertThat(store.count(schema.table())).isZero();
    }

    @Test
    void getOfAMissingKeyIsEmpty() {
        TableSchema schema = simpleSchema(newTable());
        store.ensureTable(schema);
        upsert(schema.table(), row(1L, "one"));

        assertThat(store.get(schema.table(), Key.of(2L))).isEmpty();
    }

    @Test
    void writesThatCanNeverSucceedThrowInvalidData() {
        TableSchema schema = new TableSchema(newTable(), List.of(new Column("id", ColumnType.INT64, false),
                new Column("name", ColumnType.STRING, false)), List.of("id"));
        store.ensureTable(schema);

        assertThatThrownBy(() -> upsert(schema.table(), Row.builder().set("id", 1L).set("nope", "x").build()))
                .isInstanceOf(InvalidDataException.class);
        assertThatThrownBy(() -> upsert(schema.table(), Row.builder().set("name", "no key").build()))
                .isInstanceOf(InvalidDataException.class);
        assertThatThrownBy(() -> upsert(schema.table(), Row.builder().set("id", 1L).set("name", null).build()))
                .isInstanceOf(InvalidDataException.class);
        assertThat(store.count(schema.table())).isZero();
    }

    @Test
    void applyRunsMixedUpsertsAndDeletesInOrder() {
        TableSchema schema = simpleSchema(newTable());
        store.ensureTable(schema);
        upsert(schema.table(), row(3L, "three"));

        store.apply(schema.table(), List.of(
                Mutation.Upsert.of(row(1L, "a")),
                Mutation.Delete.of(Key.of(1L)),
                Mutation.Upsert.of(row(1L, "b")),
                Mutation.Upsert.of(row(2L, "x")),
                Mutation.Delete.of(Key.of(2L)),
                Mutation.Delete.of(Key.of(3L)),
                Mutation.Upsert.of(row(3L, "again")),
                Mutation.Upsert.of(Row.builder().set("id", 3L).set("name", "final").build())),
                WriteOrigin.LOCAL);

        assertThat(store.get(schema.table(), Key.of(1L))).contains(row(1L, "b"));
        assertThat(store.get(schema.table(), Key.of(2L))).isEmpty();
        assertThat(store.get(schema.table(), Key.of(3L))).contains(row(3L, "final"));
        assertThat(store.count(schema.table())).isEqualTo(2);
    }

    @Test
    void applyTakesALargeBatch() {
        TableSchema schema = simpleSchema(newTable());
        store.ensureTable(schema);
        List<Mutation> batch = new ArrayList<>();
        for (long i = 0; i < 5_000; i++) {
            batch.add(Mutation.Upsert.of(row(i, "row " + i)));
        }

        store.apply(schema.table(), batch, WriteOrigin.REPLICATED);

        assertThat(store.count(schema.table())).isEqualTo(5_000);
        assertThat(store.get(schema.table(), Key.of(4_999L))).contains(row(4_999L, "row 4999"));
    }

    @Test
    void versionedMutationsApplyLikeUnversionedOnes() {
        TableSchema schema = simpleSchema(newTable());
        store.ensureTable(schema);
        Version v = new Version(Version.pack(1_700_000_000_000L, 3), "node-a");

        store.apply(schema.table(), List.of(new Mutation.Upsert(row(1L, "one"), v),
                new Mutation.Upsert(row(2L, "two"), v), new Mutation.Delete(Key.of(2L), v)), WriteOrigin.REPLICATED);

        assertThat(store.get(schema.table(), Key.of(1L))).contains(row(1L, "one"));
        assertThat(store.get(schema.table(), Key.of(2L))).isEmpty();
    }

    // ---------------------------------------------------------------- scans

    @Test
    void scanPagesThroughEveryRowExactlyOnceInKeyOrder() {
        TableSchema schema = simpleSchema(newTable());
        store.ensureTable(schema);
        List<Long> ids = new ArrayList<>();
        for (long i = 0; i < 1_234; i++) {
            ids.add(i * 7 - 4_000); // negatives and positives, to catch signed or text order
        }
        List<Long> shuffled = new ArrayList<>(ids);
        java.util.Collections.shuffle(shuffled, random);
        List<Mutation> batch = new ArrayList<>();
        for (Long id : shuffled) {
            batch.add(Mutation.Upsert.of(row(id, "r" + id)));
        }
        store.apply(schema.table(), batch, WriteOrigin.LOCAL);

        List<Row> all = scanAll(schema.table(), 100);

        if (limits().contains(StoreLimit.SCAN_IN_STORE_ORDER)) {
            assertThat(all).extracting(r -> r.get("id")).containsExactlyInAnyOrderElementsOf(ids);
            assertThat(all.get(0)).isEqualTo(row((Long) all.get(0).get("id"), "r" + all.get(0).get("id")));
        } else {
            assertThat(all).extracting(r -> r.get("id")).containsExactlyElementsOf(ids);
            assertThat(all.get(0)).isEqualTo(row(ids.get(0), "r" + ids.get(0)));
        }
        assertThat(store.count(schema.table())).isEqualTo(1_234);
    }

    @Test
    void scanPageNextIsTheKeyOfTheLastRow() {
        TableSchema schema = simpleSchema(newTable());
        store.ensureTable(schema);
        upsert(schema.table(), row(1L, "a"), row(2L, "b"), row(3L, "c"));

        ScanPage first = store.scan(schema.table(), null, 2);
        ScanPage rest = store.scan(schema.table(), first.next().orElseThrow(), 2);

        if (limits().contains(StoreLimit.SCAN_IN_STORE_ORDER)) {
            assertThat(first.rows()).hasSize(2);
            assertThat(first.next()).contains(Key.of(first.rows().get(1).get("id")));
            assertThat(rest.rows()).hasSize(1);
            List<Row> both = new ArrayList<>(first.rows());
            both.addAll(rest.rows());
            assertThat(both).containsExactlyInAnyOrder(row(1L, "a"), row(2L, "b"), row(3L, "c"));
        } else {
            assertThat(first.rows()).containsExactly(row(1L, "a"), row(2L, "b"));
            assertThat(first.next()).contains(Key.of(2L));
            assertThat(rest.rows()).containsExactly(row(3L, "c"));
        }
        if (rest.next().isPresent()) {
            assertThat(store.scan(schema.table(), rest.next().get(), 2).rows()).isEmpty();
        }
    }

    @Test
    void scanAfterAKeyThatIsNotThereStartsAtTheNextKey() {
        TableSchema schema = simpleSchema(newTable());
        store.ensureTable(schema);
        upsert(schema.table(), row(10L, "a"), row(20L, "b"), row(30L, "c"));

        ScanPage page = store.scan(schema.table(), Key.of(15L), 10);

        if (limits().contains(StoreLimit.SCAN_IN_STORE_ORDER)) {
            // Where 15 falls is the store's business: the page is what follows some point of the full scan, and
            // after each existing key come exactly the rows that follow it in the full scan.
            List<Row> full = scanAll(schema.table(), 10);
            assertThat(full).containsExactlyInAnyOrder(row(10L, "a"), row(20L, "b"), row(30L, "c"));
            assertThat(page.rows()).containsExactlyElementsOf(full.subList(full.size() - page.rows().size(),
                    full.size()));
            for (int i = 0; i < full.size(); i++) {
                assertThat(store.scan(schema.table(), Key.of(full.get(i).get("id")), 10).rows())
                        .containsExactlyElementsOf(full.subList(i + 1, full.size()));
            }
        } else {
            assertThat(page.rows()).containsExactly(row(20L, "b"), row(30L, "c"));
        }
    }

    @Test
    void scanOfAnEmptyTableReturnsNoRowsAndNoCursor() {
        TableSchema schema = simpleSchema(newTable());
        store.ensureTable(schema);

        ScanPage page = store.scan(schema.table(), null, 100);

        assertThat(page.rows()).isEmpty();
        assertThat(page.next()).isEmpty();
        assertThat(store.count(schema.table())).isZero();
    }

    @Test
    void scanOfACompositeKeyFollowsKeyOrder() {
        TableSchema schema = new TableSchema(newTable(), List.of(
                new Column("region", ColumnType.STRING, false),
                new Column("seq", ColumnType.INT64, false),
                Column.of("note", ColumnType.STRING)), List.of("region", "seq"));
        store.ensureTable(schema);
        List<Key> keys = new ArrayList<>();
        for (String region : List.of("b", "a", "ab", "c")) {
            for (long seq : new long[] {100, -5, 3, 0, 10, Long.MIN_VALUE, Long.MAX_VALUE}) {
                keys.add(Key.of(region, seq));
            }
        }
        List<Row> rows = new ArrayList<>();
        for (Key k : keys) {
            rows.add(Row.builder().set("region", k.get(0)).set("seq", k.get(1)).set("note", k.toString()).build());
        }
        upsert(schema.table(), rows.toArray(Row[]::new));

        List<Row> all = scanAll(schema.table(), 5);

        List<Key> sorted = new ArrayList<>(keys);
        sorted.sort(Comparator.naturalOrder());
        if (limits().contains(StoreLimit.SCAN_IN_STORE_ORDER)) {
            assertThat(all).extracting(r -> Key.of(r.get("region"), r.get("seq")))
                    .containsExactlyInAnyOrderElementsOf(sorted);
        } else {
            assertThat(all).extracting(r -> Key.of(r.get("region"), r.get("seq"))).containsExactlyElementsOf(sorted);
        }
        assertThat(store.get(schema.table(), Key.of("ab", -5L)).orElseThrow().get("note")).isEqualTo("ab:-5");
        assertThat(store.count(schema.table())).isEqualTo(keys.size());
    }

    @Test
    void countCountsRows() {
        TableSchema schema = simpleSchema(newTable());
        store.ensureTable(schema);
        upsert(schema.table(), row(1L, "a"), row(2L, "b"), row(3L, "c"));
        store.delete(schema.table(), List.of(Key.of(2L)), WriteOrigin.LOCAL);

        assertThat(store.count(schema.table())).isEqualTo(2);
    }

    // ---------------------------------------------------------------- types

    @Test
    void roundTripsStrings() {
        List<Object> values = new ArrayList<>(List.of("", "plain", "ünïcödé ß", "日本語のテキスト", "emoji 😀👍🏽🇩🇪",
                "quotes ' \" ` and \\ backslash; DROP TABLE x; --", "line\nbreak\ttab\r", "a".repeat(10_000)));
        if (!limits().contains(StoreLimit.STRING_NUL_CHARACTER)) {
            values.add("nul \u0000 inside");
        }
        assertRoundTrips(ColumnType.STRING, values);
    }

    @Test
    void roundTripsInt64Extremes() {
        assertRoundTrips(ColumnType.INT64, List.of(0L, 1L, -1L, Long.MIN_VALUE, Long.MAX_VALUE, 9_007_199_254_740_993L));
    }

    @Test
    void roundTripsDoubles() {
        List<Object> values = new ArrayList<>(List.of(0.0, 1.5, -2.25, Math.PI, 1e-300, -1e300, Double.MAX_VALUE,
                Double.MIN_VALUE, 0.1 + 0.2));
        if (!limits().contains(StoreLimit.DOUBLE_NEGATIVE_ZERO)) {
            values.add(-0.0);
        }
        if (!limits().contains(StoreLimit.DOUBLE_NAN_AND_INFINITY)) {
            values.addAll(List.of(Double.NaN, Double.POSITIVE_INFINITY, Double.NEGATIVE_INFINITY));
        }
        assertRoundTrips(ColumnType.DOUBLE, values);
    }

    @Test
    void roundTripsDecimalsKeepingTheirScale() {
        assertRoundTrips(ColumnType.DECIMAL, List.of(new BigDecimal("1.50"), new BigDecimal("0.000001"),
                new BigDecimal("-12345678901234567890.123456789"), BigDecimal.ZERO, new BigDecimal("0.00"),
                new BigDecimal("100"), new BigDecimal("-0.5"), new BigDecimal("123456789012345678901234567890")));
    }

    @Test
    void roundTripsBooleans() {
        assertRoundTrips(ColumnType.BOOLEAN, List.of(true, false));
    }

    @Test
    void roundTripsBytes() {
        byte[] all = new byte[256];
        for (int i = 0; i < 256; i++) {
            all[i] = (byte) i;
        }
        byte[] big = new byte[100_000];
        random.nextBytes(big);
        assertRoundTrips(ColumnType.BYTES, List.of(Bytes.of(new byte[0]), Bytes.of(new byte[] {0}), Bytes.of(all),
                Bytes.of(big)));
    }

    @Test
    void roundTripsTimestampsWithMicroseconds() {
        assertRoundTrips(ColumnType.TIMESTAMP, List.of(Instant.parse("2024-02-29T23:59:59.123456Z"),
                Instant.parse("1969-12-31T23:59:59.999999Z"), Instant.EPOCH, Instant.parse("1900-01-01T00:00:00Z"),
                Instant.parse("2099-12-31T23:59:59.999999Z"), Instant.parse("2025-06-01T12:00:00.000001Z")));
    }

    @Test
    void roundTripsDates() {
        assertRoundTrips(ColumnType.DATE, List.of(LocalDate.of(1900, 1, 1), LocalDate.of(2099, 12, 31),
                LocalDate.of(1970, 1, 1), LocalDate.of(2024, 2, 29), LocalDate.of(1969, 12, 31)));
    }

    @Test
    void roundTripsUuids() {
        assertRoundTrips(ColumnType.UUID, List.of(UUID.randomUUID(), new UUID(0, 0), new UUID(-1, -1),
                UUID.fromString("123e4567-e89b-12d3-a456-426614174000")));
    }

    @Test
    void roundTripsJsonByMeaning() {
        List<Json> docs = List.of(new Json("{\"a\":1,\"b\":[true,null,\"x\"],\"c\":{\"d\":2.5}}"), new Json("[]"),
                new Json("{}"), new Json("\"text ü 😀\""), new Json("12.5"), new Json("[1, 2, {\"z\": \"y\"}]"),
                new Json("{\"zeta\": 1, \"alpha\": {\"nested\": [{}, []]}}"));
        TableSchema schema = valueSchema(newTable(), ColumnType.JSON);
        store.ensureTable(schema);
        List<Row> rows = new ArrayList<>();
        for (int i = 0; i < docs.size(); i++) {
            rows.add(Row.builder().set("id", (long) i).set("v", docs.get(i)).build());
        }
        upsert(schema.table(), rows.toArray(Row[]::new));

        List<Row> scanned = scanAllInKeyOrder(schema, 1000);
        for (int i = 0; i < docs.size(); i++) {
            Object got = store.get(schema.table(), Key.of((long) i)).orElseThrow().get("v");
            assertThat(got).isInstanceOf(Json.class);
            assertThat(JsonParser.parseString(((Json) got).text()))
                    .as("json %s", docs.get(i)).isEqualTo(JsonParser.parseString(docs.get(i).text()));
            assertThat(JsonParser.parseString(((Json) scanned.get(i).get("v")).text()))
                    .isEqualTo(JsonParser.parseString(docs.get(i).text()));
        }
    }

    @Test
    void storesNullInEveryNullableType() {
        List<Column> columns = new ArrayList<>();
        columns.add(new Column("id", ColumnType.INT64, false));
        for (ColumnType t : ColumnType.values()) {
            columns.add(Column.of("c_" + t.name().toLowerCase(Locale.ROOT), t));
        }
        TableSchema schema = new TableSchema(newTable(), columns, List.of("id"));
        store.ensureTable(schema);
        Map<String, Object> explicit = new LinkedHashMap<>();
        Map<String, Object> filled = new LinkedHashMap<>();
        explicit.put("id", 1L);
        filled.put("id", 2L);
        for (ColumnType t : ColumnType.values()) {
            explicit.put("c_" + t.name().toLowerCase(Locale.ROOT), null);
            filled.put("c_" + t.name().toLowerCase(Locale.ROOT), sampleValue(t));
        }
        upsert(schema.table(), Row.of(explicit), Row.of(filled));
        Map<String, Object> nulled = new LinkedHashMap<>(explicit);
        nulled.put("id", 2L);

        upsert(schema.table(), Row.of(nulled));

        assertThat(store.get(schema.table(), Key.of(1L))).contains(Row.of(explicit));
        assertThat(store.get(schema.table(), Key.of(2L))).contains(Row.of(nulled));
    }

    @Test
    void keysOfEveryKeyableTypeWork() {
        Map<ColumnType, List<Object>> keys = new LinkedHashMap<>();
        keys.put(ColumnType.STRING, List.of("", "a", "ä", "😀", "b"));
        keys.put(ColumnType.INT64, List.of(Long.MIN_VALUE, -1L, 0L, Long.MAX_VALUE));
        keys.put(ColumnType.UUID, List.of(new UUID(0, 0), new UUID(1, 2), UUID.fromString(
                "123e4567-e89b-12d3-a456-426614174000")));
        keys.put(ColumnType.DATE, List.of(LocalDate.of(1900, 1, 1), LocalDate.of(2099, 12, 31)));
        keys.put(ColumnType.TIMESTAMP, List.of(Instant.parse("1969-12-31T23:59:59.999999Z"), Instant.EPOCH,
                Instant.parse("2024-02-29T23:59:59.123456Z")));
        for (Map.Entry<ColumnType, List<Object>> e : keys.entrySet()) {
            TableSchema schema = new TableSchema(newTable(), List.of(new Column("k", e.getKey(), false),
                    Column.of("n", ColumnType.INT64)), List.of("k"));
            store.ensureTable(schema);
            List<Row> rows = new ArrayList<>();
            for (int i = 0; i < e.getValue().size(); i++) {
                rows.add(Row.builder().set("k", e.getValue().get(i)).set("n", (long) i).build());
            }
            upsert(schema.table(), rows.toArray(Row[]::new));

            for (int i = 0; i < e.getValue().size(); i++) {
                assertThat(store.get(schema.table(), Key.of(e.getValue().get(i))))
                        .as("%s key %s", e.getKey(), e.getValue().get(i)).contains(rows.get(i));
            }
            assertThat(scanAll(schema.table(), 2)).as("%s keys", e.getKey())
                    .containsExactlyInAnyOrderElementsOf(rows);
            store.delete(schema.table(), List.of(Key.of(e.getValue().get(0))), WriteOrigin.LOCAL);
            assertThat(store.get(schema.table(), Key.of(e.getValue().get(0)))).isEmpty();
            assertThat(store.count(schema.table())).isEqualTo(e.getValue().size() - 1);
        }
    }

    // ---------------------------------------------------------------- capture

    @Test
    void captureIsPresentWhenTheAdapterClaimsIt() {
        assertThat(store.capture().isPresent()).isEqualTo(supportsCapture());
    }

    @Test
    void captureReportsLocalUpsertsUpdatesAndDeletesInOrderWithFullRows() throws InterruptedException {
        ChangeCapture capture = captureUnderTest();
        if (capture == null) {
            return; // no capture: captureUnderTest() asserted that capture() is empty
        }
        TableSchema schema = wideSchema(newTable());
        store.ensureTable(schema);
        capture.enable(schema.table());
        CapturePosition from = capture.current();

        upsert(schema.table(), Row.builder().set("id", 1L).set("name", "one").set("qty", 1L).build());
        upsert(schema.table(), Row.builder().set("id", 2L).set("name", "two").build());
        upsert(schema.table(), Row.builder().set("id", 1L).set("qty", 2L).build());
        store.delete(schema.table(), List.of(Key.of(2L)), WriteOrigin.LOCAL);

        if (limits().contains(StoreLimit.CAPTURE_READS_ROWS_WHEN_POLLED)) {
            assertLastChangePerKeyIsTheFinalState(capture, from, schema.table(), Map.of(
                    Key.of(1L), Optional.of(wideRow(1L, "one", 2L, null)), Key.of(2L), Optional.empty()));
            return;
        }
        List<CapturedChange> changes = pollUntil(capture, from, schema.table(), 4);
        assertThat(changes).extracting(CapturedChange::op)
                .containsExactly(Op.UPSERT, Op.UPSERT, Op.UPSERT, Op.DELETE);
        assertThat(changes).extracting(CapturedChange::key)
                .containsExactly(Key.of(1L), Key.of(2L), Key.of(1L), Key.of(2L));
        assertThat(changes.get(0).row()).isEqualTo(wideRow(1L, "one", 1L, null));
        assertThat(changes.get(1).row()).isEqualTo(wideRow(2L, "two", null, null));
        assertThat(changes.get(2).row()).isEqualTo(wideRow(1L, "one", 2L, null));
        assertThat(changes.get(3).row()).isNull();
        assertThat(changes).allSatisfy(c -> assertThat(c.table()).isEqualTo(schema.table()));
    }

    @Test
    void captureNeverReportsReplicatedWrites() throws InterruptedException {
        ChangeCapture capture = captureUnderTest();
        if (capture == null) {
            return; // no capture: captureUnderTest() asserted that capture() is empty
        }
        TableSchema schema = simpleSchema(newTable());
        store.ensureTable(schema);
        capture.enable(schema.table());
        CapturePosition from = capture.current();

        upsert(schema.table(), WriteOrigin.REPLICATED, row(1L, "replicated"));
        store.delete(schema.table(), List.of(Key.of(1L)), WriteOrigin.REPLICATED);
        upsert(schema.table(), WriteOrigin.REPLICATED, row(2L, "replicated"));
        upsert(schema.table(), row(3L, "local marker"));

        List<CapturedChange> changes = pollUntil(capture, from, schema.table(), 1);
        assertThat(changes).extracting(CapturedChange::key).containsExactly(Key.of(3L));
    }

    @Test
    void captureIgnoresTablesThatAreNotEnabled() throws InterruptedException {
        ChangeCapture capture = captureUnderTest();
        if (capture == null) {
            return; // no capture: captureUnderTest() asserted that capture() is empty
        }
        TableSchema enabled = simpleSchema(newTable());
        TableSchema other = simpleSchema(newTable());
        store.ensureTable(enabled);
        store.ensureTable(other);
        capture.enable(enabled.table());
        CapturePosition from = capture.current();

        upsert(other.table(), row(1L, "not captured"));
        upsert(enabled.table(), row(2L, "marker"));

        List<CapturedChange> all = pollUntil(capture, from, null, changes -> changes.stream()
                .anyMatch(c -> c.table().equals(enabled.table())));
        assertThat(all).noneMatch(c -> c.table().equals(other.table()));
    }

    @Test
    void pollResumesAfterAnyPositionItReturned() throws InterruptedException {
        ChangeCapture capture = captureUnderTest();
        if (capture == null) {
            return; // no capture: captureUnderTest() asserted that capture() is empty
        }
        TableSchema schema = simpleSchema(newTable());
        store.ensureTable(schema);
        capture.enable(schema.table());
        CapturePosition from = capture.current();
        for (long i = 1; i <= 5; i++) {
            upsert(schema.table(), row(i, "r" + i));
        }
        List<CapturedChange> first = pollUntil(capture, from, schema.table(), 5);

        List<CapturedChange> fromSecond = pollUntil(capture, first.get(1).position(), schema.table(), 3);

        assertThat(fromSecond).extracting(CapturedChange::key).containsExactly(Key.of(3L), Key.of(4L), Key.of(5L));
        assertThat(fromSecond).extracting(CapturedChange::position)
                .containsExactlyElementsOf(first.subList(2, 5).stream().map(CapturedChange::position).toList());
    }

    @Test
    void pollReturnsAtMostMaxChanges() throws InterruptedException {
        ChangeCapture capture = captureUnderTest();
        if (capture == null) {
            return; // no capture: captureUnderTest() asserted that capture() is empty
        }
        TableSchema schema = simpleSchema(newTable());
        store.ensureTable(schema);
        capture.enable(schema.table());
        CapturePosition from = capture.current();
        for (long i = 1; i <= 5; i++) {
            upsert(schema.table(), row(i, "r" + i));
        }
        pollUntil(capture, from, schema.table(), 5);

        List<CapturedChange> two = capture.poll(from, 2, Duration.ofSeconds(5));

        assertThat(two).hasSizeBetween(1, 2);
    }

    @Test
    void acknowledgedChangesAreNotReturnedFromStart() throws InterruptedException {
        ChangeCapture capture = captureUnderTest();
        if (capture == null) {
            return; // no capture: captureUnderTest() asserted that capture() is empty
        }
        TableSchema schema = simpleSchema(newTable());
        store.ensureTable(schema);
        capture.enable(schema.table());
        CapturePosition from = capture.current();
        upsert(schema.table(), row(1L, "a"));
        upsert(schema.table(), row(2L, "b"));
        upsert(schema.table(), row(3L, "c"));
        List<CapturedChange> changes = pollUntil(capture, from, schema.table(), 3);

        capture.acknowledge(changes.get(1).position());

        List<CapturedChange> fromStart = pollUntil(capture, capture.start(), schema.table(), 1);
        assertThat(fromStart).extracting(CapturedChange::key).containsExactly(Key.of(3L));
    }

    @Test
    void startIsBeforeEveryUnacknowledgedChange() throws InterruptedException {
        ChangeCapture capture = captureUnderTest();
        if (capture == null) {
            return; // no capture: captureUnderTest() asserted that capture() is empty
        }
        TableSchema schema = simpleSchema(newTable());
        store.ensureTable(schema);
        capture.enable(schema.table());

        upsert(schema.table(), row(1L, "a"));
        upsert(schema.table(), row(2L, "b"));

        List<CapturedChange> fromStart = pollUntil(capture, capture.start(), schema.table(), 2);
        assertThat(fromStart).extracting(CapturedChange::key).containsExactly(Key.of(1L), Key.of(2L));
    }

    @Test
    void currentThenAWriteReturnsJustThatWrite() throws InterruptedException {
        ChangeCapture capture = captureUnderTest();
        if (capture == null) {
            return; // no capture: captureUnderTest() asserted that capture() is empty
        }
        TableSchema schema = simpleSchema(newTable());
        store.ensureTable(schema);
        capture.enable(schema.table());
        upsert(schema.table(), row(1L, "before"));
        upsert(schema.table(), row(2L, "before"));
        pollUntil(capture, capture.start(), schema.table(), 2);

        CapturePosition current = capture.current();
        upsert(schema.table(), row(3L, "after"));

        List<CapturedChange> changes = pollUntil(capture, current, schema.table(), 1);
        assertThat(changes).extracting(CapturedChange::key).containsExactly(Key.of(3L));
        assertThat(changes.get(0).row()).isEqualTo(row(3L, "after"));
    }

    @Test
    void enableIsIdempotentAndLosesNoChanges() throws InterruptedException {
        ChangeCapture capture = captureUnderTest();
        if (capture == null) {
            return; // no capture: captureUnderTest() asserted that capture() is empty
        }
        TableSchema schema = simpleSchema(newTable());
        store.ensureTable(schema);
        capture.enable(schema.table());
        CapturePosition from = capture.current();
        upsert(schema.table(), row(1L, "a"));

        capture.enable(schema.table());
        upsert(schema.table(), row(2L, "b"));

        List<CapturedChange> changes = pollUntil(capture, from, schema.table(), 2);
        assertThat(changes).extracting(CapturedChange::key).containsExactly(Key.of(1L), Key.of(2L));
    }

    @Test
    void pollWithNothingNewReturnsEmptyAfterWaiting() throws InterruptedException {
        ChangeCapture capture = captureUnderTest();
        if (capture == null) {
            return; // no capture: captureUnderTest() asserted that capture() is empty
        }
        TableSchema schema = simpleSchema(newTable());
        store.ensureTable(schema);
        capture.enable(schema.table());

        List<CapturedChange> changes = capture.poll(capture.current(), 10, Duration.ofMillis(200));

        assertThat(changes).noneMatch(c -> c.table().equals(schema.table()));
    }

    @Test
    void pollWakesUpWhenAChangeIsCommittedWhileItWaits() throws Exception {
        ChangeCapture capture = captureUnderTest();
        if (capture == null) {
            return; // no capture: captureUnderTest() asserted that capture() is empty
        }
        TableSchema schema = simpleSchema(newTable());
        store.ensureTable(schema);
        capture.enable(schema.table());
        CapturePosition from = capture.current();
        CompletableFuture<List<CapturedChange>> waiting = CompletableFuture.supplyAsync(() -> {
            try {
                return capture.poll(from, 10, Duration.ofSeconds(60));
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IllegalStateException(e);
            }
        });

        upsert(schema.table(), row(1L, "wake up"));

        assertThat(waiting.get(CAPTURE_TIMEOUT.toSeconds(), TimeUnit.SECONDS)).isNotEmpty();
    }

    @Test
    void pollThrowsInterruptedExceptionWhenInterruptedWhileWaiting() throws Exception {
        ChangeCapture capture = captureUnderTest();
        if (capture == null) {
            return; // no capture: captureUnderTest() asserted that capture() is empty
        }
        TableSchema schema = simpleSchema(newTable());
        store.ensureTable(schema);
        capture.enable(schema.table());
        CapturePosition from = capture.current();
        AtomicReference<Throwable> thrown = new AtomicReference<>();
        Thread poller = new Thread(() -> {
            try {
                capture.poll(from, 10, Duration.ofSeconds(60));
            } catch (Throwable t) {
                thrown.set(t);
            }
        }, "contract-poller");
        poller.start();

        poller.interrupt();
        poller.join(CAPTURE_TIMEOUT.toMillis());

        assertThat(poller.isAlive()).as("poll still waiting after interrupt").isFalse();
        assertThat(thrown.get()).isInstanceOf(InterruptedException.class);
    }

    @Test
    void captureSurvivesCloseAndReopen() throws InterruptedException {
        ChangeCapture capture = captureUnderTest();
        if (capture == null) {
            return; // no capture: captureUnderTest() asserted that capture() is empty
        }
        TableSchema schema = simpleSchema(newTable());
        store.ensureTable(schema);
        capture.enable(schema.table());
        CapturePosition from = capture.current();
        upsert(schema.table(), row(1L, "a"));
        upsert(schema.table(), row(2L, "b"));
        upsert(schema.table(), row(3L, "c"));
        List<CapturedChange> before = pollUntil(capture, from, schema.table(), 3);

        store.close();
        store = openStore();
        ChangeCapture reopened = store.capture().orElseThrow();
        reopened.enable(schema.table());

        assertThat(pollUntil(reopened, before.get(0).position(), schema.table(), 2))
                .extracting(CapturedChange::key).containsExactly(Key.of(2L), Key.of(3L));
        assertThat(pollUntil(reopened, reopened.start(), schema.table(), 3))
                .extracting(CapturedChange::key).containsExactly(Key.of(1L), Key.of(2L), Key.of(3L));
        upsert(schema.table(), row(4L, "d"));
        assertThat(pollUntil(reopened, before.get(2).position(), schema.table(), 1))
                .extracting(CapturedChange::key).containsExactly(Key.of(4L));
    }

    // ---------------------------------------------------------------- lifecycle

    @Test
    void closeIsIdempotent() {
        store.close();
        assertThatCode(store::close).doesNotThrowAnyException();
        store = null;
    }

    @Test
    void describeTargetSaysWhatTheStorePointsAt() {
        assertThat(store.describeTarget()).isNotBlank();
    }

    @Test
    void dataSurvivesCloseAndReopen() {
        TableSchema schema = wideSchema(newTable());
        store.ensureTable(schema);
        upsert(schema.table(), wideRow(1L, "one", 1L, "n"), wideRow(2L, "two", null, null));

        store.close();
        store = openStore();

        assertSameTable(store.describe(schema.table()).orElseThrow(), schema);
        assertThat(store.get(schema.table(), Key.of(1L))).contains(wideRow(1L, "one", 1L, "n"));
        assertThat(store.count(schema.table())).isEqualTo(2);
    }

    // ---------------------------------------------------------------- helpers for subclasses too

    /** @return a new table id in {@link #schemaName()}, unique to this test: {@code t_<test>_<random>} */
    protected TableId newTable() {
        String name = testName.toLowerCase(Locale.ROOT).replaceAll("[^a-z0-9_]", "_");
        if (name.length() > 40) {
            name = name.substring(0, 40);
        }
        return new TableId(schemaName(), "t_" + name + "_" + Long.toHexString(random.nextLong() >>> 24));
    }

    /**
     * @param table the table
     * @return {@code id INT64} (key), {@code name STRING}
     */
    protected static TableSchema simpleSchema(TableId table) {
        return new TableSchema(table, List.of(new Column("id", ColumnType.INT64, false),
                Column.of("name", ColumnType.STRING)), List.of("id"));
    }

    /**
     * @param table the table
     * @return {@code id INT64} (key), {@code name STRING}, {@code qty INT64}, {@code note STRING}
     */
    protected static TableSchema wideSchema(TableId table) {
        return new TableSchema(table, List.of(new Column("id", ColumnType.INT64, false),
                Column.of("name", ColumnType.STRING), Column.of("qty", ColumnType.INT64),
                Column.of("note", ColumnType.STRING)), List.of("id"));
    }

    /**
     * @param table the table
     * @param type the type of column {@code v}
     * @return {@code id INT64} (key), {@code v} of the type
     */
    protected static TableSchema valueSchema(TableId table, ColumnType type) {
        return new TableSchema(table, List.of(new Column("id", ColumnType.INT64, false), Column.of("v", type)),
                List.of("id"));
    }

    /** @return a row of {@link #simpleSchema} */
    protected static Row row(long id, String name) {
        return Row.builder().set("id", id).set("name", name).build();
    }

    /** @return a full row of {@link #wideSchema} */
    protected static Row wideRow(long id, String name, Long qty, String note) {
        return Row.builder().set("id", id).set("name", name).set("qty", qty).set("note", note).build();
    }

    /** Upserts local rows. */
    protected void upsert(TableId table, Row... rows) {
        upsert(table, WriteOrigin.LOCAL, rows);
    }

    /** Upserts rows. */
    protected void upsert(TableId table, WriteOrigin origin, Row... rows) {
        store.upsert(table, List.of(rows), origin);
    }

    /** @return every row of the table, read page by page through the cursor */
    protected List<Row> scanAll(TableId table, int pageSize) {
        List<Row> all = new ArrayList<>();
        Set<Key> cursors = new HashSet<>();
        Key after = null;
        while (true) {
            ScanPage page = store.scan(table, after, pageSize);
            assertThat(page.rows().size()).isLessThanOrEqualTo(pageSize);
            all.addAll(page.rows());
            if (page.next().isEmpty()) {
                return all;
            }
            after = page.next().get();
            assertThat(cursors.add(after)).as("scan cursor %s repeated", after).isTrue();
            assertThat(all.size()).as("scan does not end").isLessThan(10_000_000);
        }
    }

    /**
     * @return every row of the table through {@link #scanAll}; sorted by key when the store scans in its own order
     *     ({@link StoreLimit#SCAN_IN_STORE_ORDER}), so cases about values can compare row by row
     */
    protected List<Row> scanAllInKeyOrder(TableSchema schema, int pageSize) {
        List<Row> all = scanAll(schema.table(), pageSize);
        if (limits().contains(StoreLimit.SCAN_IN_STORE_ORDER)) {
            all = new ArrayList<>(all);
            all.sort(Comparator.comparing(schema::keyOf));
        }
        return all;
    }

    private void assertRoundTrips(ColumnType type, List<?> values) {
        TableSchema schema = valueSchema(newTable(), type);
        store.ensureTable(schema);
        List<Row> rows = new ArrayList<>();
        for (int i = 0; i < values.size(); i++) {
            rows.add(Row.builder().set("id", (long) i).set("v", values.get(i)).build());
        }
        store.upsert(schema.table(), rows, WriteOrigin.LOCAL);

        List<Row> scanned = scanAllInKeyOrder(schema, 3);
        assertThat(scanned).hasSize(values.size());
        for (int i = 0; i < values.size(); i++) {
            Object expected = values.get(i);
            Object got = store.get(schema.table(), Key.of((long) i)).orElseThrow().get("v");
            assertThat(got).as("%s #%d read back by get", type, i).isInstanceOf(type.javaType()).isEqualTo(expected);
            assertThat(scanned.get(i).get("v")).as("%s #%d read back by scan", type, i).isEqualTo(expected);
        }
    }

    private static Object sampleValue(ColumnType type) {
        return switch (type) {
            case STRING -> "s";
            case INT64 -> 1L;
            case DOUBLE -> 1.5;
            case DECIMAL -> new BigDecimal("1.50");
            case BOOLEAN -> true;
            case BYTES -> Bytes.of(new byte[] {1, 2});
            case TIMESTAMP -> Instant.parse("2024-02-29T23:59:59.123456Z");
            case DATE -> LocalDate.of(2024, 2, 29);
            case UUID -> new UUID(1, 2);
            case JSON -> new Json("{\"a\":1}");
        };
    }

    private void assertSameTable(TableSchema actual, TableSchema expected) {
        assertThat(actual.table()).isEqualTo(expected.table());
        assertThat(actual.primaryKey()).isEqualTo(expected.primaryKey());
        Collection<Column> wanted = expected.columns();
        if (limits().contains(StoreLimit.NOT_NULL_VALUE_COLUMNS)) {
            wanted = wanted.stream().map(c -> expected.primaryKey().contains(c.name()) ? c
                    : Column.of(c.name(), c.type())).toList();
        }
        // Column order is the store's: Cassandra, for one, lists key columns first.
        assertThat(actual.columns()).containsExactlyInAnyOrderElementsOf(wanted);
    }

    /**
     * The capture a capture case runs against. A store that does not claim one ({@link #supportsCapture()} false)
     * must really have none: this asserts that {@code capture()} is empty and returns null, and the case ends there,
     * passed. Nothing in the contract is ever skipped.
     */
    private ChangeCapture captureUnderTest() {
        if (!supportsCapture()) {
            assertThat(store.capture()).as("capture() of a store that claims none").isEmpty();
            return null;
        }
        return store.capture().orElseThrow(() -> new AssertionError("supportsCapture() but capture() is empty"));
    }

    /**
     * Polls from a position until {@code count} changes of {@code table} arrived; fails after
     * {@link #CAPTURE_TIMEOUT}. Waiting happens inside {@link ChangeCapture#poll}, never in a sleep.
     */
    private List<CapturedChange> pollUntil(ChangeCapture capture, CapturePosition from, TableId table, int count)
            throws InterruptedException {
        List<CapturedChange> all = pollUntil(capture, from, table,
                changes -> changes.stream().filter(c -> c.table().equals(table)).count() >= count);
        return all.stream().filter(c -> c.table().equals(table)).toList();
    }

    private List<CapturedChange> pollUntil(ChangeCapture capture, CapturePosition from, TableId table,
                                           java.util.function.Predicate<List<CapturedChange>> done)
            throws InterruptedException {
        long deadline = System.nanoTime() + CAPTURE_TIMEOUT.toNanos();
        List<CapturedChange> all = new ArrayList<>();
        CapturePosition after = from;
        while (!done.test(all)) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError("after " + CAPTURE_TIMEOUT.toSeconds() + " s polling from " + from
                        + (table == null ? "" : " for " + table) + " got only " + all);
            }
            List<CapturedChange> page = capture.poll(after, 100, Duration.ofMillis(250));
            if (!page.isEmpty()) {
                all.addAll(page);
                after = page.get(page.size() - 1).position();
            }
        }
        // Read a little further: nothing that should not be there may follow.
        List<CapturedChange> more = capture.poll(after, 100, Duration.ZERO);
        all.addAll(more);
        return all;
    }

    /**
     * Polls until the last change of each key of {@code expected} carries the key's final state: the row, or empty
     * for a delete. For {@link StoreLimit#CAPTURE_READS_ROWS_WHEN_POLLED}, where the changes in between may be merged.
     */
    private void assertLastChangePerKeyIsTheFinalState(ChangeCapture capture, CapturePosition from, TableId table,
                                                       Map<Key, Optional<Row>> expected)
            throws InterruptedException {
        List<CapturedChange> all = pollUntil(capture, from, table,
                changes -> finalStates(changes, table).equals(expected));
        assertThat(finalStates(all, table)).as("final state per key in %s", all).isEqualTo(expected);
        assertThat(all.stream().filter(c -> c.table().equals(table)))
                .allSatisfy(c -> assertThat(c.row() == null).as("row of %s", c).isEqualTo(c.op() == Op.DELETE));
    }

    private static Map<Key, Optional<Row>> finalStates(List<CapturedChange> changes, TableId table) {
        Map<Key, Optional<Row>> last = new LinkedHashMap<>();
        for (CapturedChange c : changes) {
            if (c.table().equals(table)) {
                last.put(c.key(), c.op() == Op.DELETE ? Optional.empty() : Optional.of(c.row()));
            }
        }
        return last;
    }

    /** @return the store's capture; fails the test when it has none */
    protected Optional<ChangeCapture> capture() {
        return store.capture();
    }
}
