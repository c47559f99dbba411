package io.mqdb.adapter.jdbc;

import static org.assertj.core.api.Assertions.assertThat;

import io.mqdb.spi.CapturePosition;
import io.mqdb.spi.CapturedChange;
import io.mqdb.spi.ChangeCapture;
import io.mqdb.spi.Column;
import io.mqdb.spi.ColumnType;
import io.mqdb.spi.Key;
import io.mqdb.spi.Op;
import io.mqdb.spi.Row;
import io.mqdb.spi.ScanPage;
import io.mqdb.spi.Store;
import io.mqdb.spi.TableId;
import io.mqdb.spi.TableSchema;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

/**
 * 8 writer threads, 20,000 committed changes, transactions that sleep while open (in SQL) so their change-log ids
 * commit out of order, plus deadlock rollbacks; the capture's mirror must equal the source row by row.
 */
abstract class ConcurrentCaptureITBase {
    static final int THREADS = 8;
    static final int CHANGES = 20_000;
    static final int KEYS = 2_000;

    protected abstract Store openStore(Map<String, Object> extra);

    protected abstract Connection plainConnection() throws SQLException;

    protected abstract String sqlName(TableId id);

    /** @return an upsert of (id, name, v) with three parameters */
    protected abstract String upsertSql(String table);

    /** @return a statement sleeping for one parameter in seconds (a double) */
    protected abstract String sleepSql();

    @Test
    void everyChangeOfEightWritersIsCapturedAndTheMirrorMatchesTheSource() throws Exception {
        try (Store store = openStore(Map.of("gap-timeout", Duration.ofSeconds(3), "pool-size", 4))) {
            TableId id = new TableId("shop", "conc_" + ProcessHandle.current().pid() % 1000 + "_"
                    + System.nanoTime() % 100000);
            store.ensureTable(new TableSchema(id, List.of(new Column("id", ColumnType.INT64, false),
                    Column.of("name", ColumnType.STRING), Column.of("v", ColumnType.INT64)), List.of("id")));
            ChangeCapture cap = store.capture().orElseThrow();
            cap.enable(id);
            CapturePosition start = cap.current();
            String table = sqlName(id);
            AtomicInteger committed = new AtomicInteger();
            AtomicInteger rollbacks = new AtomicInteger();
            AtomicLong seq = new AtomicLong();
            List<Thread> writers = new ArrayList<>();
            List<Throwable> failures = new java.util.concurrent.CopyOnWriteArrayList<>();
            long t0 = System.nanoTime();
            for (int w = 0; w < THREADS; w++) {
                Thread t = new Thread(() -> {
                    try (Connection c = plainConnection()) {
                        write(c, table, committed, rollbacks, seq);
                    } catch (Throwable e) {
                        failures.add(e);
                    }
                }, "writer-" + w);
                t.start();
                writers.add(t);
            }
            Map<Long, Row> mirror = new HashMap<>();
            CapturePosition pos = start;
            long captured = 0;
            long quietSince = -1;
            long deadline = System.nanoTime() + Duration.ofMinutes(4).toNanos();
            while (System.nanoTime() < deadline) {
                List<CapturedChange> batch = cap.poll(pos, 1000, Duration.ofMillis(200));
                for (CapturedChange ch : batch) {
                    pos = ch.position();
                    if (!ch.table().equals(id)) {
                        continue;
                    }
                    captured++;
                    if (ch.op() == Op.UPSERT) {
                        mirror.put((Long) ch.key().get(0), ch.row());
                    } else {
                        mirror.remove((Long) ch.key().get(0));
                    }
                }
                if (!batch.isEmpty()) {
                    cap.acknowledge(pos);
                }
                boolean done = writers.stream().noneMatch(Thread::isAlive);
                if (done && batch.isEmpty()) {
                    if (quietSince < 0) {
                        quietSince = System.nanoTime();
                    } else if (System.nanoTime() - quietSince > Duration.ofSeconds(4).toNanos()) {
                        break;
                    }
                } else {
                    quietSince = -1;
                }
            }
            long elapsedMs = (System.nanoTime() - t0) / 1_000_000;
            assertThat(failures).isEmpty();
            Map<Long, Row> source = new HashMap<>();
            Key after = null;
            while (true) {
                ScanPage p = store.scan(id, after, 1000);
                p.rows().forEach(r -> source.put((Long) r.get("id"), r));
                if (p.next().isEmpty()) {
                    break;
                }
                after = p.next().get();
            }
            int mismatches = 0;
            for (long k = 0; k < KEYS; k++) {
                if (!java.util.Objects.equals(source.get(k), mirror.get(k))) {
                    mismatches++;
                }
            }
            System.out.printf("%s: %d committed changes by %d writers, %d rollbacks, %d captured events, %d rows,"
                    + " %d ms until caught up, mismatches %d%n", getClass().getSimpleName(), committed.get(),
                    THREADS, rollbacks.get(), captured, source.size(), elapsedMs, mismatches);
            assertThat(committed.get()).isGreaterThanOrEqualTo(CHANGES);
            assertThat(mismatches).isZero();
        }
    }

    private void write(Connection c, String table, AtomicInteger committed, AtomicInteger rollbacks,
                       AtomicLong seq) throws SQLException {
        c.setAutoCommit(false);
        ThreadLocalRandom r = ThreadLocalRandom.current();
        try (PreparedStatement up = c.prepareStatement(upsertSql(table));
             PreparedStatement upd = c.prepareStatement("UPDATE " + table + " SET v = v + 1 WHERE id = ?");
             PreparedStatement del = c.prepareStatement("DELETE FROM " + table + " WHERE id = ?");
             PreparedStatement sleep = c.prepareStatement(sleepSql())) {
            while (committed.get() < CHANGES) {
                int n = 1 + r.nextInt(4);
                try {
                    for (int i = 0; i < n; i++) {
                        long key = r.nextInt(KEYS);
                        int what = r.nextInt(100);
                        if (what < 60) {
                            long s = seq.incrementAndGet();
                            up.setLong(1, key);
                            up.setString(2, "n" + s);
                            up.setLong(3, s);
                            up.executeUpdate();
                        } else if (what < 85) {
                            upd.setLong(1, key);
                            upd.executeUpdate();
                        } else {
                            del.setLong(1, key);
                            del.executeUpdate();
                        }
                        if (r.nextInt(100) < 15) {
                            sleep.setDouble(1, r.nextInt(12) / 1000.0);
                            sleep.execute();
                        }
                    }
                    if (r.nextInt(100) < 3) {
                        c.rollback(); // a rolled-back transaction leaves a gap in the change-log ids
                        rollbacks.incrementAndGet();
                        continue;
                    }
                    c.commit();
                    committed.addAndGet(n);
                } catch (SQLException e) {
                    c.rollback();
                    String state = e.getSQLState() == null ? "" : e.getSQLState();
                    if (!state.startsWith("40") && e.getErrorCode() != 1213 && e.getErrorCode() != 1205) {
                        throw e;
                    }
                    rollbacks.incrementAndGet();
                }
            }
        }
    }
}
