package io.mqdb.adapter.jdbc;

import io.mqdb.spi.Column;
import io.mqdb.spi.ColumnType;
import io.mqdb.spi.Mutation;
import io.mqdb.spi.Row;
import io.mqdb.spi.Store;
import io.mqdb.spi.TableId;
import io.mqdb.spi.TableSchema;
import io.mqdb.spi.WriteOrigin;
import io.mqdb.testing.PostgresServer;
import java.math.BigDecimal;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * PostgreSQL inserts per second through {@link JdbcStore#apply} with and without capture triggers: 50,000 rows of
 * five columns in batches of 500, each batch one transaction. Not a JUnit test; see docs/adapters/jdbc.md.
 */
public final class TriggerOverheadBench {
    private static final int ROWS = 50_000;
    private static final int BATCH = 500;

    private TriggerOverheadBench() {
    }

    public static void main(String[] args) {
        PostgresServer pg = PostgresServer.shared();
        System.out.println("PostgreSQL ready in " + pg.startMillis + " ms");
        String url = pg.createDatabase("mqdb_bench");
        try (Store store = PostgresStoreIT.open(url, Map.of())) {
            for (int round = 0; round < 3; round++) {
                double plain = run(store, "plain_" + round, false);
                double triggered = run(store, "trig_" + round, true);
                System.out.printf("round %d: without triggers %,.0f inserts/s, with triggers %,.0f inserts/s"
                        + " (%.0f%% of plain)%n", round + 1, plain, triggered, 100 * triggered / plain);
            }
        }
        pg.close();
    }

    private static double run(Store store, String name, boolean triggers) {
        TableId id = new TableId("bench", name + "_" + System.nanoTime() % 100000);
        store.ensureTable(new TableSchema(id, List.of(new Column("id", ColumnType.INT64, false),
                Column.of("name", ColumnType.STRING), Column.of("amount", ColumnType.DECIMAL),
                Column.of("at", ColumnType.TIMESTAMP), Column.of("qty", ColumnType.INT64)), List.of("id")));
        if (triggers) {
            store.capture().orElseThrow().enable(id);
        }
        long t0 = System.nanoTime();
        for (int from = 0; from < ROWS; from += BATCH) {
            List<Mutation> batch = new ArrayList<>(BATCH);
            for (long i = from; i < from + BATCH; i++) {
                batch.add(Mutation.Upsert.of(Row.builder().set("id", i).set("name", "customer " + i)
                        .set("amount", BigDecimal.valueOf(i, 2)).set("at", Instant.ofEpochSecond(1_700_000_000L + i))
                        .set("qty", i % 7).build()));
            }
            store.apply(id, batch, WriteOrigin.LOCAL);
        }
        return ROWS / ((System.nanoTime() - t0) / 1e9);
    }
}
