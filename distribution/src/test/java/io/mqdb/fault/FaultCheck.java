package io.mqdb.fault;

import static org.awaitility.Awaitility.await;

import io.mqdb.spi.Key;
import io.mqdb.spi.Row;
import io.mqdb.spi.Store;
import io.mqdb.spi.TableId;
import io.mqdb.spi.TableSchema;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Supplier;
import org.awaitility.core.ConditionTimeoutException;

/**
 * The Jepsen-style verdict of the fault suite: a source table compared with a target table row by row, by primary key
 * and every column, after the faults. One summary line per test, in the same shape for every test:
 * {@code FaultBrokerKillIT: injected=...; rows checked=N mismatches=N missing=N extra=N}.
 */
final class FaultCheck {
    private static final int LISTED = 10;

    private FaultCheck() {
    }

    /**
     * The result of one comparison.
     *
     * @param rowsChecked keys in the source or the target
     * @param mismatches keys in both whose rows differ in some column
     * @param missing keys in the source but not in the target
     * @param extra keys in the target but not in the source (resurrected or phantom rows)
     * @param first the first differences, for the failure message
     */
    record Report(int rowsChecked, int mismatches, int missing, int extra, List<String> first) {
        boolean clean() {
            return mismatches == 0 && missing == 0 && extra == 0;
        }

        String line(String test, String injected) {
            return "%s: injected=%s; rows checked=%d mismatches=%d missing=%d extra=%d".formatted(test, injected,
                    rowsChecked, mismatches, missing, extra);
        }
    }

    /** @return every row of the table by key; empty when the store has no such table (yet) */
    static Map<Key, Row> rows(Store store, TableId table) {
        Map<Key, Row> out = new TreeMap<>();
        Optional<TableSchema> schema = store.describe(table);
        if (schema.isEmpty()) {
            return out;
        }
        Key after = null;
        do {
            var page = store.scan(table, after, 2000);
            for (Row r : page.rows()) {
                out.put(schema.get().keyOf(r), r);
            }
            after = page.next().orElse(null);
        } while (after != null);
        return out;
    }

    /** Compares two tables read from their stores. */
    static Report compare(Store source, Store target, TableId table) {
        return compare(rows(source, table), rows(target, table));
    }

    /** Compares what should be ({@code source}) with what is ({@code target}). */
    static Report compare(Map<Key, Row> source, Map<Key, Row> target) {
        TreeSet<Key> keys = new TreeSet<>(source.keySet());
        keys.addAll(target.keySet());
        int mismatches = 0;
        int missing = 0;
        int extra = 0;
        List<String> first = new ArrayList<>();
        for (Key k : keys) {
            Row want = source.get(k);
            Row got = target.get(k);
            String problem = null;
            if (got == null) {
                missing++;
                problem = "missing " + k + ": source " + want;
            } else if (want == null) {
                extra++;
                problem = "extra " + k + ": target " + got;
            } else if (!Objects.equals(want, got)) {
                mismatches++;
                problem = "mismatch " + k + ": source " + want + ", target " + got;
            }
            if (problem != null && first.size() < LISTED) {
                first.add(problem);
            }
        }
        return new Report(keys.size(), mismatches, missing, extra, List.copyOf(first));
    }

    /**
     * Waits until the check comes out clean, prints the summary line either way, and fails with the first
     * differences listed when it never does.
     *
     * @param test the test's name, first word of the summary line
     * @param injected what faults were injected, for the summary line
     * @param atMost how long convergence may take after the faults
     * @param check one comparison
     * @return the clean report
     */
    static Report awaitEqual(String test, String injected, Duration atMost, Supplier<Report> check) {
        AtomicReference<Report> last = new AtomicReference<>();
        try {
            await().atMost(atMost).pollInterval(Duration.ofSeconds(1)).pollDelay(Duration.ZERO)
                    .until(() -> {
                        last.set(check.get());
                        return last.get().clean();
                    });
        } catch (ConditionTimeoutException e) {
            Report r = last.get() != null ? last.get() : check.get();
            System.out.println(r.line(test, injected));
            throw new AssertionError(r.line(test, injected) + "; not equal after " + atMost + "; first differences:\n  "
                    + String.join("\n  ", r.first()));
        }
        System.out.println(last.get().line(test, injected));
        return last.get();
    }

    /** @return the sum of an INT64 column over the rows, e.g. the writer's counters */
    static long sum(Map<Key, Row> rows, String column) {
        long s = 0;
        for (Row r : rows.values()) {
            Object v = r.get(column);
            s += v == null ? 0 : ((Number) v).longValue();
        }
        return s;
    }
}
