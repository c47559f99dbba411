package io.mqdb.adapter.cassandra;

import static org.assertj.core.api.Assertions.assertThat;

import io.mqdb.spi.Column;
import io.mqdb.spi.ColumnType;
import io.mqdb.spi.InvalidDataException;
import io.mqdb.spi.Key;
import io.mqdb.spi.Row;
import io.mqdb.spi.ScanPage;
import io.mqdb.spi.Store;
import io.mqdb.spi.TableId;
import io.mqdb.spi.TableSchema;
import io.mqdb.spi.WriteOrigin;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.assertj.core.api.Assertions;
import org.junit.jupiter.api.Test;

/** Tables whose primary key is split into partition and clustering columns by {@code clustering-columns}. */
class CassandraClusteringIT {
    private static final TableId EVENTS = new TableId("clustering", "events");
    private static final TableId BAD = new TableId("clustering", "bad");

    @Test
    void scanPagesThroughPartitionsAndTheirRowsExactlyOnce() {
        try (Store store = CassandraStores.open(Map.of(CassandraSettings.CLUSTERING_COLUMNS,
                Map.of(EVENTS.toString(), "seq")))) {
            TableSchema schema = new TableSchema(EVENTS, List.of(new Column("device", ColumnType.STRING, false),
                    new Column("seq", ColumnType.INT64, false), Column.of("v", ColumnType.STRING)),
                    List.of("device", "seq"));
            store.ensureTable(schema);
            store.delete(EVENTS, scanKeys(store, schema), WriteOrigin.LOCAL); // the table may survive a run
            List<Row> rows = new ArrayList<>();
            for (String device : List.of("", "a", "b", "c", "d")) {
                for (long seq = -3; seq < 4; seq++) {
                    rows.add(Row.builder().set("device", device).set("seq", seq).set("v", device + seq).build());
                }
            }
            store.upsert(EVENTS, rows, WriteOrigin.LOCAL);

            List<Row> scanned = new ArrayList<>();
            Key after = null;
            do {
                ScanPage page = store.scan(EVENTS, after, 3);
                scanned.addAll(page.rows());
                after = page.next().orElse(null);
            } while (after != null);

            assertThat(scanned).containsExactlyInAnyOrderElementsOf(rows);
            assertThat(store.count(EVENTS)).isEqualTo(rows.size());
            assertThat(store.describe(EVENTS).orElseThrow().primaryKey()).containsExactly("device", "seq");
            assertThat(store.get(EVENTS, Key.of("", -3L)).orElseThrow().get("v")).isEqualTo("-3");
        }
    }

    @Test
    void aClusteringColumnOutsideThePrimaryKeyIsRejected() {
        try (Store store = CassandraStores.open(Map.of(CassandraSettings.CLUSTERING_COLUMNS,
                Map.of(BAD.toString(), "v")))) {
            TableSchema schema = new TableSchema(BAD, List.of(new Column("id", ColumnType.INT64, false),
                    Column.of("v", ColumnType.STRING)), List.of("id"));
            Assertions.assertThatThrownBy(() -> store.ensureTable(schema)).isInstanceOf(InvalidDataException.class)
                    .hasMessageContaining("clustering column v");
        }
    }

    private static List<Key> scanKeys(Store store, TableSchema schema) {
        Set<Key> keys = new HashSet<>();
        Key after = null;
        do {
            ScanPage page = store.scan(schema.table(), after, 100);
            page.rows().forEach(r -> keys.add(schema.keyOf(r)));
            after = page.next().orElse(null);
        } while (after != null);
        return keys.isEmpty() ? List.of(Key.of("none", 0L)) : new ArrayList<>(keys);
    }
}
