package io.mqdb.adapter.redis;

import io.mqdb.spi.Column;
import io.mqdb.spi.ColumnType;
import io.mqdb.spi.Key;
import io.mqdb.spi.Mutation;
import io.mqdb.spi.Row;
import io.mqdb.spi.Store;
import io.mqdb.spi.TableId;
import io.mqdb.spi.TableSchema;
import io.mqdb.spi.WriteOrigin;
import io.mqdb.testing.RedisServer;
import java.math.BigDecimal;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.junit.jupiter.api.Test;
import redis.clients.jedis.RedisClient;
import redis.clients.jedis.Pipeline;

/**
 * Raw pipelined Jedis {@code HSET} against {@link RedisStore#apply}, 200,000 five-column rows in batches of 1,000,
 * on the same Redis ({@code MQDB_TEST_REDIS} or a local {@code redis-server}). Not a test of the build: run it with
 * {@code -Dit.test=RedisApplyBenchmark} (see {@code docs/adapters/redis.md}) or its {@link #main}.
 */
public class RedisApplyBenchmark {
    private static final int ROWS = Integer.getInteger("mqdb.bench.rows", 200_000);
    private static final int BATCH = 1000;
    private static final int ROUNDS = 3;

    public static void main(String[] args) {
        new RedisApplyBenchmark().run();
    }

    @Test
    void run() {
        RedisServer server = RedisServer.shared();
        String suffix = Long.toString(System.currentTimeMillis(), 36);
        try (RedisClient raw = RedisClient.create(server.host(), server.port())) {
            for (int round = 1; round <= ROUNDS; round++) {
                report("raw pipelined HSET", round, rawHset(raw, "bench_raw_" + suffix + "_" + round));
                for (String format : List.of("hash", "json")) {
                    RedisStoreProvider p = new RedisStoreProvider();
                    try (Store store = p.open(TestStoreConfig.of(p, Map.of(RedisSettings.URI, server.uri(),
                            RedisSettings.FORMAT, format)), TestStoreConfig.context())) {
                        TableId t = new TableId("bench", format + "_" + suffix + "_" + round);
                        report("RedisStore.apply (" + format + ")", round, apply(store, t));
                        long start = System.nanoTime();
                        List<Key> keys = new ArrayList<>();
                        for (long id = 0; id < ROWS; id++) {
                            keys.add(Key.of(id));
                            if (keys.size() == BATCH) {
                                store.delete(t, keys, WriteOrigin.REPLICATED);
                                keys.clear();
                            }
                        }
                        report("RedisStore.apply deletes (" + format + ")", round, System.nanoTime() - start);
                    }
                }
            }
        }
    }

    private static void report(String what, int round, long nanos) {
        System.out.printf(Locale.ROOT, "round %d  %-34s %,10.0f rows/s  (%,d rows in %,d ms)%n", round, what,
                ROWS / (nanos / 1e9), ROWS, nanos / 1_000_000);
    }

    private static long rawHset(RedisClient raw, String prefix) {
        List<Map<String, String>> rows = new ArrayList<>(ROWS);
        for (long id = 0; id < ROWS; id++) {
            Map<String, String> h = new LinkedHashMap<>();
            h.put("id", Long.toString(id));
            h.put("name", "customer " + id);
            h.put("qty", Long.toString(id % 100));
            h.put("price", BigDecimal.valueOf(id, 2).toPlainString());
            h.put("created", Instant.ofEpochSecond(1_700_000_000L + id).toString());
            rows.add(h);
        }
        long start = System.nanoTime();
        for (int from = 0; from < ROWS; from += BATCH) {
            try (Pipeline p = raw.pipelined()) {
                for (int i = from; i < from + BATCH; i++) {
                    p.hset(prefix + ":" + i, rows.get(i));
                }
                p.sync();
            }
        }
        long elapsed = System.nanoTime() - start;
        for (int from = 0; from < ROWS; from += BATCH) {
            try (Pipeline p = raw.pipelined()) {
                for (int i = from; i < from + BATCH; i++) {
                    p.unlink(prefix + ":" + i);
                }
                p.sync();
            }
        }
        return elapsed;
    }

    private static long apply(Store store, TableId t) {
        store.ensureTable(new TableSchema(t, List.of(Column.of("id", ColumnType.INT64),
                Column.of("name", ColumnType.STRING), Column.of("qty", ColumnType.INT64),
                Column.of("price", ColumnType.DECIMAL), Column.of("created", ColumnType.TIMESTAMP)), List.of("id")));
        List<List<Mutation>> batches = new ArrayList<>();
        List<Mutation> batch = new ArrayList<>(BATCH);
        for (long id = 0; id < ROWS; id++) {
            batch.add(Mutation.Upsert.of(Row.builder().set("id", id).set("name", "customer " + id)
                    .set("qty", id % 100).set("price", BigDecimal.valueOf(id, 2))
                    .set("created", Instant.ofEpochSecond(1_700_000_000L + id)).build()));
            if (batch.size() == BATCH) {
                batches.add(batch);
                batch = new ArrayList<>(BATCH);
            }
        }
        long start = System.nanoTime();
        for (List<Mutation> b : batches) {
            store.apply(t, b, WriteOrigin.REPLICATED);
        }
        return System.nanoTime() - start;
    }
}
