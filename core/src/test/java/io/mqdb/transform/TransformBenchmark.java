package io.mqdb.transform;

import static org.assertj.core.api.Assertions.assertThat;

import io.mqdb.spi.ChangeEvent;
import io.mqdb.spi.ColumnType;
import io.mqdb.spi.Key;
import io.mqdb.spi.Op;
import io.mqdb.spi.Row;
import io.mqdb.spi.TableId;
import io.mqdb.spi.Version;
import java.time.Clock;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import org.junit.jupiter.api.Test;

/**
 * The apply-side cost of a transform with a filter, a rename and a computed column, per event, on whole rows (what
 * mqdb's captures send: no read-back), in memory. Not a test of the build: run it with
 * {@code -Dtest=TransformBenchmark} (figures in {@code docs/transforms.md}).
 */
public class TransformBenchmark {
    private static final int EVENTS = 1_000_000;

    @Test
    void costPerEvent() throws Exception {
        Map<String, ColumnType> source = new LinkedHashMap<>();
        source.put("id", ColumnType.INT64);
        source.put("status", ColumnType.STRING);
        source.put("amount", ColumnType.DOUBLE);
        source.put("customer_id", ColumnType.INT64);
        source.put("note", ColumnType.STRING);
        ExpressionCompiler c = new ExpressionCompiler(source);
        ChannelTransform t = new ChannelTransform(source, Set.of(), Set.of("note"), Map.of("customer_id", "customer"),
                Map.of("amount_cents", c.compile("int(amount * 100.0)", ExpressionCompiler.Result.COLUMN)),
                Optional.of(c.compile("status != 'draft' && amount > 0.0", ExpressionCompiler.Result.BOOLEAN)),
                Optional.empty(), Optional.of("order:{id}"), Clock.systemUTC());
        TableId table = TableId.parse("shop:orders");
        List<ChangeEvent> events = new ArrayList<>(EVENTS);
        for (int i = 0; i < EVENTS; i++) {
            Map<String, Object> row = new LinkedHashMap<>();
            row.put("id", (long) i);
            row.put("status", i % 4 == 0 ? "draft" : "paid");
            row.put("amount", i * 0.25);
            row.put("customer_id", (long) (i % 997));
            row.put("note", "note " + i);
            events.add(new ChangeEvent(table, Op.UPSERT, Key.of((long) i), Row.of(row), new Version(i + 1, "a"),
                    i + 1));
        }
        EventTransformer tx = new EventTransformer(t, k -> Optional.empty());
        for (int round = 0; round < 3; round++) {
            long kept = 0;
            long start = System.nanoTime();
            for (int i = 0; i < EVENTS; i++) {
                if (tx.transform(events.get(i)).event().op() == Op.UPSERT) {
                    kept++;
                }
                if (i % 1000 == 999) {
                    tx.batchDone();
                }
            }
            long nanos = System.nanoTime() - start;
            System.out.printf("round %d: %d events in %d ms: %.0f ns per event, %.0f events/s; %d kept%n", round,
                    EVENTS, nanos / 1_000_000, (double) nanos / EVENTS, EVENTS * 1e9 / nanos, kept);
            assertThat(kept).isEqualTo(EVENTS - EVENTS / 4); // the drafts are filtered (row 0, amount 0, is one)
        }
        assertThat(tx.readBacks()).isZero();
    }
}
