package io.mqdb.distribution.bench.jmh;

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
import java.math.BigDecimal;
import java.time.Instant;
import java.time.LocalDate;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;

/** Test data of the microbenchmarks: batches of upserts of the 11-column {@code shop:orders} row. */
final class Batches {
    /** Events per batch: the channels' default {@code batch-size}. */
    static final int SIZE = 500;

    private Batches() {
    }

    static TableSchema ordersSchema() {
        return new TableSchema(TableId.parse("shop:orders"), List.of(new Column("id", ColumnType.INT64, false),
                new Column("customer", ColumnType.STRING, false), new Column("qty", ColumnType.INT64, false),
                Column.of("price", ColumnType.DECIMAL), new Column("paid", ColumnType.BOOLEAN, false),
                new Column("placed_at", ColumnType.TIMESTAMP, false), Column.of("ship_date", ColumnType.DATE),
                Column.of("ref", ColumnType.UUID), Column.of("score", ColumnType.DOUBLE),
                Column.of("note", ColumnType.STRING), Column.of("meta", ColumnType.JSON)), List.of("id"));
    }

    /** {@link #SIZE} upserts with ids from {@code firstId}. */
    static List<ChangeEvent> orders(long firstId) {
        TableId table = TableId.parse("shop:orders");
        List<ChangeEvent> out = new ArrayList<>(SIZE);
        for (long id = firstId; id < firstId + SIZE; id++) {
            Row row = Row.builder().set("id", id).set("customer", "customer " + (id % 997)).set("qty", id % 50)
                    .set("price", BigDecimal.valueOf(id * 7 % 100_000, 2)).set("paid", id % 2 == 0)
                    .set("placed_at", Instant.ofEpochSecond(1_709_200_000L + id, 123_456_000))
                    .set("ship_date", LocalDate.of(2024, 1, 1).plusDays(id % 400))
                    .set("ref", new UUID(id, ~id)).set("score", id / 100.0).set("note", "plain " + id)
                    .set("meta", new Json("{\"lines\":[" + id % 9 + ",2.50],\"gift\":true}")).build();
            out.add(new ChangeEvent(table, Op.UPSERT, Key.of(id), row, new Version(Version.pack(1_709_200_000_000L
                    + id, 0), "bench"), id));
        }
        return out;
    }
}
