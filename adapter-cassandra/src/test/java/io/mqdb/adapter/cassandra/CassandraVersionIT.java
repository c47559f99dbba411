package io.mqdb.adapter.cassandra;

import static org.assertj.core.api.Assertions.assertThat;

import io.mqdb.spi.Column;
import io.mqdb.spi.ColumnType;
import io.mqdb.spi.Key;
import io.mqdb.spi.Mutation;
import io.mqdb.spi.Row;
import io.mqdb.spi.Store;
import io.mqdb.spi.TableId;
import io.mqdb.spi.TableSchema;
import io.mqdb.spi.Version;
import io.mqdb.spi.WriteOrigin;
import java.util.List;
import java.util.concurrent.ThreadLocalRandom;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Writes carry their version as Cassandra's write time, so Cassandra's last-write-wins agrees with mqdb's order of
 * versions whatever order the writes arrive in.
 */
class CassandraVersionIT {
    private static final long MILLIS = 1_700_000_000_000L;
    private Store store;
    private TableSchema schema;

    @BeforeEach
    void open() {
        store = CassandraStores.open();
        schema = new TableSchema(new TableId("versions", "t_" + Long.toHexString(ThreadLocalRandom.current()
                .nextLong() >>> 16)), List.of(new Column("id", ColumnType.INT64, false),
                Column.of("name", ColumnType.STRING), Column.of("qty", ColumnType.INT64)), List.of("id"));
        store.ensureTable(schema);
    }

    @AfterEach
    void close() {
        store.close();
    }

    private static Version v(long millis, int logical) {
        return new Version(Version.pack(millis, logical), "node-a");
    }

    private void upsert(Row row, Version version) {
        store.apply(schema.table(), List.of(new Mutation.Upsert(row, version)), WriteOrigin.REPLICATED);
    }

    private void delete(long id, Version version) {
        store.apply(schema.table(), List.of(new Mutation.Delete(Key.of(id), version)), WriteOrigin.REPLICATED);
    }

    private static Row row(long id, String name) {
        return Row.builder().set("id", id).set("name", name).build();
    }

    @Test
    void aLateOlderUpsertDoesNotUndoADelete() {
        upsert(row(1L, "first"), v(MILLIS, 0));
        delete(1L, v(MILLIS + 10, 0));

        upsert(row(1L, "late"), v(MILLIS + 5, 0));

        assertThat(store.get(schema.table(), Key.of(1L))).isEmpty();
        assertThat(store.count(schema.table())).isZero();
    }

    @Test
    void aNewerUpsertBringsADeletedRowBack() {
        upsert(row(1L, "first"), v(MILLIS, 0));
        delete(1L, v(MILLIS + 10, 0));
        upsert(row(1L, "late"), v(MILLIS + 5, 0));

        upsert(row(1L, "again"), v(MILLIS + 11, 0));

        assertThat(store.get(schema.table(), Key.of(1L)).orElseThrow().values())
                .containsEntry("name", "again").containsEntry("qty", null);
    }

    @Test
    void theLogicalCounterOrdersChangesOfOneMillisecond() {
        upsert(row(1L, "logical 2"), v(MILLIS, 2));
        upsert(row(1L, "logical 1"), v(MILLIS, 1));
        delete(2L, v(MILLIS, 7));
        upsert(row(2L, "logical 6"), v(MILLIS, 6));

        assertThat(store.get(schema.table(), Key.of(1L)).orElseThrow().get("name")).isEqualTo("logical 2");
        assertThat(store.get(schema.table(), Key.of(2L))).isEmpty();
    }

    @Test
    void anOlderUpsertOfOneColumnLosesOnlyThatColumn() {
        upsert(Row.builder().set("id", 1L).set("name", "new").set("qty", 2L).build(), v(MILLIS + 10, 0));

        upsert(Row.builder().set("id", 1L).set("name", "old").build(), v(MILLIS, 0));
        upsert(Row.builder().set("id", 1L).set("qty", 3L).build(), v(MILLIS + 20, 0));

        assertThat(store.get(schema.table(), Key.of(1L)).orElseThrow().values())
                .containsEntry("name", "new").containsEntry("qty", 3L);
    }

    @Test
    void writeTimeIsMillisTimesAThousandPlusTheLogicalCounter() {
        assertThat(CassandraStore.writeTime(v(MILLIS, 0))).isEqualTo(MILLIS * 1_000);
        assertThat(CassandraStore.writeTime(v(MILLIS, 999))).isEqualTo(MILLIS * 1_000 + 999);
    }
}
