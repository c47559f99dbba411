package io.mqdb.adapter.cassandra;

import com.datastax.oss.driver.api.core.CqlSession;
import com.datastax.oss.driver.api.core.DefaultConsistencyLevel;
import com.datastax.oss.driver.api.core.cql.PreparedStatement;
import io.mqdb.spi.Column;
import io.mqdb.spi.ColumnType;
import io.mqdb.spi.Mutation;
import io.mqdb.spi.Row;
import io.mqdb.spi.Store;
import io.mqdb.spi.TableId;
import io.mqdb.spi.TableSchema;
import io.mqdb.spi.Version;
import io.mqdb.spi.WriteOrigin;
import io.mqdb.testing.CassandraServer;
import java.math.BigDecimal;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Semaphore;
import org.junit.jupiter.api.Test;

/**
 * The raw driver's prepared insert (512 in flight) against {@link CassandraStore#apply} (versioned upserts in batches
 * of 1,000, {@code max-concurrency} 512), five-column rows, on the same node in the same run: first 20,000 rows each
 * to warm up (a fresh node is several times slower at first), then 100,000 rows each. Not a test of the build: run it
 * with {@code -Dit.test=CassandraApplyBenchmark} (see {@code docs/adapters/cassandra.md}) or its {@link #main}.
 */
public class CassandraApplyBenchmark {
    private static final int WARM_UP = Integer.getInteger("mqdb.bench.warmup", 20_000);
    private static final int ROWS = Integer.getInteger("mqdb.bench.rows", 100_000);
    private static final int BATCH = 1_000;
    private static final int IN_FLIGHT = 512;

    public static void main(String[] args) {
        new CassandraApplyBenchmark().run();
    }

    @Test
    void run() {
        CassandraServer server = CassandraServer.shared();
        String suffix = Long.toString(System.currentTimeMillis(), 36);
        try (Store store = CassandraStores.open();
             CqlSession raw = CqlSession.builder()
                     .addContactPoint(new InetSocketAddress(server.host(), server.port()))
                     .withLocalDatacenter(server.localDatacenter()).build()) {
            for (String phase : List.of("warm-up", "measured")) {
                int rows = phase.equals("warm-up") ? WARM_UP : ROWS;
                TableId rawTable = new TableId("bench", "raw_" + phase.charAt(0) + "_" + suffix);
                TableId applyTable = new TableId("bench", "apply_" + phase.charAt(0) + "_" + suffix);
                store.ensureTable(schema(rawTable)); // the same table shape for both
                store.ensureTable(schema(applyTable));
                report(phase, "raw driver prepared INSERT", rows, rawInsert(raw, rawTable, rows));
                report(phase, "CassandraStore.apply", rows, apply(store, applyTable, rows));
            }
        }
    }

    private static TableSchema schema(TableId t) {
        return new TableSchema(t, List.of(new Column("id", ColumnType.INT64, false), Column.of("name",
                ColumnType.STRING), Column.of("qty", ColumnType.INT64), Column.of("price", ColumnType.DECIMAL),
                Column.of("created", ColumnType.TIMESTAMP)), List.of("id"));
    }

    private static void report(String phase, String what, int rows, long nanos) {
        System.out.printf(Locale.ROOT, "%-9s %-28s %,10.0f rows/s  (%,d rows in %,d ms)%n", phase, what,
                rows / (nanos / 1e9), rows, nanos / 1_000_000);
    }

    private static long rawInsert(CqlSession raw, TableId t, int rows) {
        PreparedStatement insert = raw.prepare("INSERT INTO " + CassandraStore.qualified(t)
                + " (id, name, qty, price, created) VALUES (?, ?, ?, ?, ?)");
        Semaphore permits = new Semaphore(IN_FLIGHT);
        List<CompletableFuture<?>> pending = new ArrayList<>(rows);
        long start = System.nanoTime();
        for (long id = 0; id < rows; id++) {
            permits.acquireUninterruptibly();
            pending.add(raw.executeAsync(insert.bind(id, "customer " + id, id % 100, BigDecimal.valueOf(id, 2),
                            CqlTypes.micros(Instant.ofEpochSecond(1_700_000_000L + id)))
                            .setConsistencyLevel(DefaultConsistencyLevel.LOCAL_QUORUM)
                            .setTimeout(Duration.ofSeconds(30)))
                    .toCompletableFuture().whenComplete((r, e) -> permits.release()));
        }
        CompletableFuture.allOf(pending.toArray(CompletableFuture[]::new)).join();
        return System.nanoTime() - start;
    }

    private static long apply(Store store, TableId t, int rows) {
        long start = System.nanoTime();
        List<Mutation> batch = new ArrayList<>(BATCH);
        for (long id = 0; id < rows; id++) {
            Row row = Row.builder().set("id", id).set("name", "customer " + id).set("qty", id % 100)
                    .set("price", BigDecimal.valueOf(id, 2)).set("created", Instant.ofEpochSecond(1_700_000_000L + id))
                    .build();
            batch.add(new Mutation.Upsert(row, new Version(Version.pack(1_700_000_000_000L + id, 0), "bench")));
            if (batch.size() == BATCH) {
                store.apply(t, batch, WriteOrigin.REPLICATED);
                batch.clear();
            }
        }
        if (!batch.isEmpty()) {
            store.apply(t, batch, WriteOrigin.REPLICATED);
        }
        return System.nanoTime() - start;
    }
}
