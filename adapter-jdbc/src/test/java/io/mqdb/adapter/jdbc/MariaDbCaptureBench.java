package io.mqdb.adapter.jdbc;

import io.mqdb.spi.CapturePosition;
import io.mqdb.spi.CapturedChange;
import io.mqdb.spi.ChangeCapture;
import io.mqdb.spi.Store;
import io.mqdb.spi.TableId;
import io.mqdb.testing.MariaDbServer;
import java.math.BigDecimal;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * The cost and speed of {@code capture: log} against {@code capture: trigger} on MariaDB, one server with a row-format
 * binlog (the fixture's {@link MariaDbServer#sharedWithBinlog()}), in one run (not a JUnit test;
 * {@code scripts/bench-mariadb-capture.sh}). Per round and capture mode: inserts/s into a captured table by one JDBC
 * writer (batches of 500 rows, a commit per batch), then captured changes/s draining them from the start with
 * {@code poll} + {@code acknowledge}. Prints each round and the medians.
 */
public final class MariaDbCaptureBench {
    private static final int ROWS = Integer.getInteger("rows", 50_000);
    private static final int BATCH = 500;
    private static final int POLL = 5000;
    private static final int ROUNDS = 3;

    private MariaDbCaptureBench() {
    }

    public static void main(String[] args) throws Exception {
        MariaDbServer m = MariaDbServer.sharedWithBinlog();
        String url = m.createDatabase("mqdb_bench_binlog");
        System.out.printf(Locale.ROOT, "MariaDB with binlog ready in %d ms; %,d rows per figure, %d rounds%n",
                m.startMillis, ROWS, ROUNDS);
        List<double[]> rounds = new ArrayList<>();
        try (Connection c = DriverManager.getConnection(url, m.user(), m.password())) {
            exec(c, "DROP DATABASE IF EXISTS bench", "CREATE DATABASE bench");
            try (Store log = open(url, "log"); Store trigger = open(url, "trigger")) {
                round(c, log, trigger, "warmup", Math.min(ROWS, 10_000)); // JIT, caches; not reported
                for (int r = 0; r < ROUNDS; r++) {
                    double[] f = round(c, log, trigger, "r" + r, ROWS);
                    rounds.add(f);
                    System.out.printf(Locale.ROOT, "round %d: capture log: %,.0f inserts/s, %,.0f changes/s;"
                            + " capture trigger: %,.0f inserts/s, %,.0f changes/s%n", r + 1, f[0], f[1], f[2], f[3]);
                }
            }
        }
        double[] median = new double[4];
        for (int f = 0; f < 4; f++) {
            List<Double> v = new ArrayList<>();
            for (double[] r : rounds) {
                v.add(r[f]);
            }
            v.sort(null);
            median[f] = v.get(v.size() / 2);
        }
        System.out.printf(Locale.ROOT, "median: capture log: %,.0f inserts/s, %,.0f changes/s; capture trigger:"
                + " %,.0f inserts/s, %,.0f changes/s%n", median[0], median[1], median[2], median[3]);
        m.close();
    }

    private static Store open(String url, String capture) {
        MariaDbServer m = MariaDbServer.sharedWithBinlog();
        Map<String, Object> s = Map.of("url", url, "username", m.user(), "password", m.password(), "capture", capture,
                "binlog-server-id", 9000L + ProcessHandle.current().pid() % 100_000, "poll-interval",
                Duration.ofMillis(1));
        return new JdbcStoreProvider().open(TestStoreConfig.of(s), TestStoreConfig.context(java.nio.file.Path.of(
                "target"), s));
    }

    /** @return inserts/s and changes/s with the binlog, then the same with triggers */
    private static double[] round(Connection c, Store log, Store trigger, String name, int rows)
            throws SQLException, InterruptedException {
        double[] out = new double[4];
        int i = 0;
        for (Store store : List.of(log, trigger)) {
            String table = (store == log ? "binlog_" : "trig_") + name;
            exec(c, "CREATE TABLE bench." + table + " (id bigint PRIMARY KEY, name longtext, amount decimal(12,2),"
                    + " at datetime(6), qty bigint) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin");
            ChangeCapture capture = store.capture().orElseThrow();
            TableId id = new TableId("bench", table);
            capture.enable(id);
            CapturePosition from = capture.current();
            out[i++] = insert(c, "bench." + table, rows);
            out[i++] = drain(capture, from, id, rows);
            exec(c, "DROP TABLE bench." + table);
        }
        return out;
    }

    private static double insert(Connection c, String table, int rows) throws SQLException {
        long t0 = System.nanoTime();
        c.setAutoCommit(false);
        try (PreparedStatement ps = c.prepareStatement("INSERT INTO " + table
                + " (id, name, amount, at, qty) VALUES (?, ?, ?, ?, ?)")) {
            for (int i = 1; i <= rows; i++) {
                ps.setLong(1, i);
                ps.setString(2, "customer " + i);
                ps.setBigDecimal(3, BigDecimal.valueOf(i, 2));
                ps.setString(4, "2024-05-01 00:00:00." + String.format("%06d", i % 1_000_000));
                ps.setLong(5, i % 7);
                ps.addBatch();
                if (i % BATCH == 0 || i == rows) {
                    ps.executeBatch();
                    c.commit();
                }
            }
        } finally {
            c.setAutoCommit(true);
        }
        return rows / ((System.nanoTime() - t0) / 1e9);
    }

    /** Polls from {@code from} until {@code rows} changes of the table came back, acknowledging each poll. */
    private static double drain(ChangeCapture capture, CapturePosition from, TableId id, int rows)
            throws InterruptedException {
        CapturePosition position = from;
        long t0 = System.nanoTime();
        int seen = 0;
        while (seen < rows) {
            List<CapturedChange> changes = capture.poll(position, POLL, Duration.ofSeconds(5));
            if (changes.isEmpty()) {
                throw new IllegalStateException("capture returned nothing after " + seen + " of " + rows);
            }
            for (CapturedChange ch : changes) {
                if (ch.table().equals(id)) {
                    seen++;
                }
            }
            position = changes.get(changes.size() - 1).position();
            capture.acknowledge(position);
        }
        return seen / ((System.nanoTime() - t0) / 1e9);
    }

    private static void exec(Connection c, String... statements) throws SQLException {
        try (Statement st = c.createStatement()) {
            for (String s : statements) {
                st.execute(s);
            }
        }
    }
}
