package io.mqdb.signing;

import io.mqdb.codec.CodecLimits;
import io.mqdb.codec.EventCodec;
import io.mqdb.codec.WireBatch;
import io.mqdb.codec.WireEvent;
import io.mqdb.codec.WireForm;
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
import java.security.KeyPair;
import java.time.Instant;
import java.time.LocalDate;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;

/**
 * What signing costs per change: the 500-row binary batch of {@code io.mqdb.codec.CodecThroughput} (the 11-column
 * row of the JMH {@code CodecBench}), encoded and sealed on the publisher's side, opened, decoded and converted on
 * the subscriber's, per second of this thread's CPU time, with and without signing. Not a test: run it by hand
 * ({@code java -cp core/target/classes:core/target/test-classes:<gson jar> io.mqdb.signing.SigningThroughput
 * [rounds]}; {@code docs/security.md}, "What signing costs", has the figures).
 */
public final class SigningThroughput {
    private SigningThroughput() {
    }

    public static void main(String[] args) {
        int rounds = args.length > 0 ? Integer.parseInt(args[0]) : 6;
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
        KeyPair pub = Keys.generate();
        KeyPair sub = Keys.generate();
        TrustList trust = new TrustList(Map.of("bench", List.of(pub.getPublic()), "sub", List.of(sub.getPublic())));
        Signing publisher = new Signing("bench", pub.getPrivate(), trust);
        Signing subscriber = new Signing("sub", sub.getPrivate(), trust);
        String topic = "mqdb/mqdb/ch/shop/orders";
        EventCodec codec = new EventCodec(WireForm.BINARY, CodecLimits.DEFAULTS);
        byte[] payload = codec.encodeBatch("bench", schema, batch);
        byte[] sealed = publisher.seal(topic, payload);
        System.out.printf("binary batch of %d: %d bytes, signed %d (+%d)%n", batch.size(), payload.length,
                sealed.length, sealed.length - payload.length);
        ThreadMXBean cpu = ManagementFactory.getThreadMXBean();
        int batches = 2000;
        double events = (double) batches * batch.size();
        for (int round = 0; round < rounds; round++) {
            long sink = 0;
            long t0 = cpu.getCurrentThreadCpuTime();
            for (int i = 0; i < batches; i++) {
                sink += codec.encodeBatch("bench", schema, batch).length;
            }
            long t1 = cpu.getCurrentThreadCpuTime();
            for (int i = 0; i < batches; i++) {
                sink += publisher.seal(topic, payload).length;
            }
            long t2 = cpu.getCurrentThreadCpuTime();
            for (int i = 0; i < batches; i++) {
                sink += subscriber.open(topic, sealed).payload().length;
            }
            long t3 = cpu.getCurrentThreadCpuTime();
            for (int i = 0; i < batches; i++) {
                WireBatch b = codec.decode(payload, t);
                for (WireEvent e : b.events()) {
                    sink += codec.toEvent(e, schema, 0).sequence();
                }
            }
            long t4 = cpu.getCurrentThreadCpuTime();
            double encode = (t1 - t0) / 1e9;
            double seal = (t2 - t1) / 1e9;
            double open = (t3 - t2) / 1e9;
            double decode = (t4 - t3) / 1e9;
            System.out.printf("round %d: per batch sign %.0f us, verify %.0f us, encode %.0f us, decode+toEvent "
                    + "%.0f us | publisher %,.0f -> %,.0f events/CPU-s (%.1f%%), subscriber %,.0f -> %,.0f "
                    + "events/CPU-s (%.1f%%) (sink %d)%n", round, seal / batches * 1e6, open / batches * 1e6,
                    encode / batches * 1e6, decode / batches * 1e6, events / encode, events / (encode + seal),
                    100 * seal / encode, events / decode, events / (decode + open), 100 * open / decode, sink % 10);
        }
    }
}
