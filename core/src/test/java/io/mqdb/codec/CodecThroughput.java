package io.mqdb.codec;

import io.mqdb.spi.ChangeEvent;
import io.mqdb.spi.Column;
import io.mqdb.spi.ColumnType;
import io.mqdb.spi.Key;
import io.mqdb.spi.Op;
import io.mqdb.spi.Row;
import io.mqdb.spi.TableId;
import io.mqdb.spi.TableSchema;
import io.mqdb.spi.Version;
import java.math.BigDecimal;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Measures encode and decode throughput for 5-column rows on one thread; prints events per second. Not a test and
 * not a benchmark harness: run it by hand ({@code java -cp ... io.mqdb.codec.CodecThroughput}) for a rough figure.
 */
public final class CodecThroughput {
    private CodecThroughput() {
    }

    public static void main(String[] args) {
        TableId t = new TableId("shop", "orders");
        TableSchema schema = new TableSchema(t, List.of(new Column("id", ColumnType.INT64, false),
                Column.of("item", ColumnType.STRING), Column.of("price", ColumnType.DECIMAL),
                Column.of("qty", ColumnType.INT64), Column.of("at", ColumnType.TIMESTAMP)), List.of("id"));
        int batchSize = args.length > 0 ? Integer.parseInt(args[0]) : 100;
        List<ChangeEvent> batch = new ArrayList<>();
        Instant at = Instant.parse("2024-05-01T10:00:00.123456Z");
        for (int i = 0; i < batchSize; i++) {
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("id", (long) i);
            m.put("item", "pencil sharpener " + i);
            m.put("price", new BigDecimal("12.50"));
            m.put("qty", (long) (i % 7));
            m.put("at", at.plusMillis(i));
            batch.add(new ChangeEvent(t, Op.UPSERT, Key.of((long) i), Row.of(m),
                    new Version(Version.pack(1_714_557_600_000L + i, 0), "node-a"), i + 1));
        }
        EventCodec codec = new EventCodec();
        byte[] payload = codec.encodeBatch("node-a", schema, false, batch);
        System.out.printf("batch of %d events: %d bytes (%d per event)%n", batchSize, payload.length,
                payload.length / batchSize);
        for (int round = 0; round < 5; round++) {
            long sink = 0;
            int batches = 200_000 / batchSize * 5;
            long t0 = System.nanoTime();
            for (int i = 0; i < batches; i++) {
                sink += codec.encodeBatch("node-a", schema, false, batch).length;
            }
            long t1 = System.nanoTime();
            for (int i = 0; i < batches; i++) {
                WireBatch b = codec.decode(payload, t);
                for (WireEvent e : b.events()) {
                    sink += codec.toEvent(e, schema, 0).sequence();
                }
            }
            long t2 = System.nanoTime();
            double events = (double) batches * batchSize;
            System.out.printf("round %d: encode %,.0f events/s, decode+toEvent %,.0f events/s (sink %d)%n", round,
                    events / ((t1 - t0) / 1e9), events / ((t2 - t1) / 1e9), sink % 10);
        }
    }
}
