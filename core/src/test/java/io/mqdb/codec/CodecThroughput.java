package io.mqdb.codec;

import io.mqdb.spi.ChangeEvent;
import io.mqdb.spi.Column;
import io.mqdb.spi.ColumnType;
import io.mqdb.spi.Json;
import io.mqdb.spi.Key;
import io.mqdb.spi.Op;
import io.mqdb.spi.Row;
import io.mqdb.spi.TableId;
import io.mqdb.spi.TableSchema;
import io.mqdb.spi.Version;
import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.math.BigDecimal;
import java.time.Instant;
import java.time.LocalDate;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;

/**
 * Measures encode and decode throughput of both wire forms on batches of 500 upserts of the 11-column row of the JMH
 * {@code CodecBench}, per second of this thread's CPU time: a figure that holds on a machine busy with other work,
 * where JMH's wall-clock throughput does not. Not a test: run it by hand
 * ({@code java -cp core/target/classes:core/target/test-classes:<gson jar> io.mqdb.codec.CodecThroughput [rounds]};
 * {@code docs/wire-format.md}, "Sizes and speed", has the figures).
 */
public final class CodecThroughput {
    private CodecThroughput() {
    }

    public static void main(String[] args) {
        int rounds = args.length > 0 ? Integer.parseInt(args[0]) : 8;
        TableId t = TableId.parse("shop:orders");
        TableSchema schema = new TableSchema(t, List.of(new Column("id", ColumnType.INT64, false),
                new Column("customer", ColumnType.STRING, false), new Column("qty", ColumnType.INT64, false),
                Column.of("price", ColumnType.DECIMAL), new Column("paid", ColumnType.BOOLEAN, false),
                new Column("placed_at", ColumnType.TIMESTAMP, false), Column.of("ship_date", ColumnType.DATE),
                Column.of("ref", ColumnType.UUID), Column.of("score", ColumnType.DOUBLE),
                Column.of("note", ColumnType.STRING), Column.of("meta", ColumnType.JSON)), List.of("id"));
        List<ChangeEvent> batch = new ArrayList<>();
        for (long id = 1; id <= 500; id++) {
            Row row = Row.builder().set("id", id).set("customer", "customer " + (id % 997)).set("qty", id % 50)
                    .set("price", BigDecimal.valueOf(id * 7 % 100_000, 2)).set("paid", id % 2 == 0)
                    .set("placed_at", Instant.ofEpochSecond(1_709_200_000L + id, 123_456_000))
                    .set("ship_date", LocalDate.of(2024, 1, 1).plusDays(id % 400))
                    .set("ref", new UUID(id, ~id)).set("score", id / 100.0).set("note", "plain " + id)
                    .set("meta", new Json("{\"lines\":[" + id % 9 + ",2.50],\"gift\":true}")).build();
            batch.add(new ChangeEvent(t, Op.UPSERT, Key.of(id), row, new Version(Version.pack(1_709_200_000_000L
                    + id, 0), "bench"), id));
        }
        ThreadMXBean cpu = ManagementFactory.getThreadMXBean();
        for (WireForm form : WireForm.values()) {
            EventCodec codec = new EventCodec(form, CodecLimits.DEFAULTS);
            byte[] payload = codec.encodeBatch("bench", schema, batch);
            System.out.printf("%s: %d bytes per batch of %d (%d per event)%n", form, payload.length, batch.size(),
                    payload.length / batch.size());
            int batches = form == WireForm.BINARY ? 4000 : 600;
            for (int round = 0; round < rounds; round++) {
                long sink = 0;
                long t0 = cpu.getCurrentThreadCpuTime();
                for (int i = 0; i < batches; i++) {
                    sink += codec.encodeBatch("bench", schema, batch).length;
                }
                long t1 = cpu.getCurrentThreadCpuTime();
                for (int i = 0; i < batches; i++) {
                    WireBatch b = codec.decode(payload, t);
                    for (WireEvent e : b.events()) {
                        sink += codec.toEvent(e, schema, 0).sequence();
                    }
                }
                long t2 = cpu.getCurrentThreadCpuTime();
                double events = (double) batches * batch.size();
                System.out.printf("  %s round %d: encode %,.0f events per CPU-s, decode+toEvent %,.0f (sink %d)%n",
                        form, round, events / ((t1 - t0) / 1e9), events / ((t2 - t1) / 1e9), sink % 10);
            }
        }
    }
}
