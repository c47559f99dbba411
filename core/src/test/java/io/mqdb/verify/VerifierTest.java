package io.mqdb.verify;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.mqdb.spi.Column;
import io.mqdb.spi.ColumnType;
import io.mqdb.spi.Json;
import io.mqdb.spi.Key;
import io.mqdb.spi.Mutation;
import io.mqdb.spi.Row;
import io.mqdb.spi.TableId;
import io.mqdb.spi.TableSchema;
import io.mqdb.spi.WriteOrigin;
import io.mqdb.testkit.InMemoryData;
import io.mqdb.testkit.InMemoryStore;
import java.math.BigDecimal;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class VerifierTest {
    private static final TableSchema SCHEMA = new TableSchema(TableId.parse("shop:items"), List.of(
            new Column("id", ColumnType.INT64, false), Column.of("name", ColumnType.STRING),
            Column.of("price", ColumnType.DECIMAL), Column.of("doc", ColumnType.JSON)), List.of("id"));

    private static InMemoryStore store(int rows) {
        InMemoryStore s = new InMemoryStore(InMemoryData.named("verify-" + System.nanoTime()));
        s.ensureTable(SCHEMA);
        List<Mutation> batch = new ArrayList<>();
        for (long i = 1; i <= rows; i++) {
            batch.add(Mutation.Upsert.of(Row.of(Map.of("id", i, "name", "item " + i,
                    "price", new BigDecimal(i).movePointLeft(2), "doc", new Json("{\"a\":" + i + ",\"b\":true}")))));
        }
        s.apply(SCHEMA.table(), batch, WriteOrigin.LOCAL);
        return s;
    }

    @Test
    void equalStoresAreReadOnceAndFoundEqual() {
        Verifier.Result r = new Verifier(SCHEMA, 256).compare(store(5_000), store(5_000));
        assertThat(r.same()).isTrue();
        assertThat(r.differingBuckets()).isZero();
        assertThat(r.rowsRead()).as("one scan of each side").isEqualTo(10_000);
    }

    @Test
    void findsExactlyTheMissingExtraAndStaleRowsReadingLittleMore() {
        InMemoryStore source = store(5_000);
        InMemoryStore target = store(5_000);
        target.apply(SCHEMA.table(), List.of(Mutation.Delete.of(Key.of(17L)),
                Mutation.Upsert.of(Row.of(Map.of("id", 9_999L, "name", "extra"))),
                Mutation.Upsert.of(Row.of(Map.of("id", 42L, "name", "stale"))),
                Mutation.Upsert.of(Row.of(Map.of("id", 43L, "price", new BigDecimal("0.430")))), // scale differs
                Mutation.Upsert.of(Row.of(Map.of("id", 44L, "doc", new Json("{\"b\": true, \"a\": 44}"))))),
                WriteOrigin.LOCAL);
        Verifier.Result r = new Verifier(SCHEMA, 4096).compare(source, target);
        assertThat(r.missing()).containsExactly(Key.of(17L));
        assertThat(r.extra()).containsExactly(Key.of(9_999L));
        assertThat(r.stale()).as("the same JSON with its members reordered is not a difference")
                .containsExactly(Key.of(42L), Key.of(43L));
        assertThat(r.differingBuckets()).isBetween(1, 4);
        assertThat(r.rowsRead()).as("pass 2 keeps the rows of the differing buckets only").isLessThan(10_100);
        assertThat(r.sourceRows()).isEqualTo(5_000);
        assertThat(r.targetRows()).isEqualTo(5_000);
    }

    @Test
    void bucketsAndDigestsDependOnValuesNotOnTheirJavaBoxing() {
        assertThat(RowDigest.bucket(Key.of(5L), 1024)).isEqualTo(RowDigest.bucket(Key.of(5), 1024));
        RowDigest d = new RowDigest(SCHEMA.columns());
        assertThat(d.of(Row.of(Map.of("id", 1L, "name", "x")))).isEqualTo(d.of(Row.of(Map.of("id", 1, "name", "x"))));
        assertThat(d.of(Row.of(Map.of("id", 1L)))).as("a missing column and a null alike")
                .isEqualTo(d.of(Row.builder().set("id", 1L).set("name", null).build()));
        assertThat(d.of(Row.of(Map.of("id", 1L, "name", "")))).isNotEqualTo(d.of(Row.of(Map.of("id", 1L))));
    }

    @Test
    void theBucketCountIsAPowerOfTwo() {
        assertThatThrownBy(() -> new Verifier(SCHEMA, 1000)).hasMessageContaining("power of two");
    }
}
