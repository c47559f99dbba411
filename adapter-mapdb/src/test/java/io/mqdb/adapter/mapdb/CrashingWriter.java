package io.mqdb.adapter.mapdb;

import io.mqdb.spi.Column;
import io.mqdb.spi.ColumnType;
import io.mqdb.spi.Row;
import io.mqdb.spi.Store;
import io.mqdb.spi.TableId;
import io.mqdb.spi.TableSchema;
import io.mqdb.spi.WriteOrigin;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * Run in a child JVM by {@link MapDbStoreTest}: commits {@link #BATCHES} captured batches, then halts the JVM
 * without closing the store, as a crash would.
 */
public final class CrashingWriter {
    static final TableId TABLE = new TableId("crash", "rows");
    static final int BATCHES = 20;
    static final int BATCH_SIZE = 100;
    static final int EXIT_CODE = 77;

    private CrashingWriter() {
    }

    /** @param args the store's data folder */
    public static void main(String[] args) {
        Store store = MapDbStoreTest.open(Path.of(args[0]));
        store.ensureTable(new TableSchema(TABLE, List.of(new Column("id", ColumnType.INT64, false),
                Column.of("name", ColumnType.STRING)), List.of("id")));
        store.capture().orElseThrow().enable(TABLE);
        for (int b = 0; b < BATCHES; b++) {
            List<Row> rows = new ArrayList<>();
            for (int i = 0; i < BATCH_SIZE; i++) {
                long id = (long) b * BATCH_SIZE + i;
                rows.add(Row.builder().set("id", id).set("name", "row " + id).build());
            }
            store.upsert(TABLE, rows, WriteOrigin.LOCAL);
        }
        System.out.println("committed " + BATCHES);
        System.out.flush();
        Runtime.getRuntime().halt(EXIT_CODE);
    }
}
