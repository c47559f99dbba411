package io.mqdb.adapter.jdbc;

import io.mqdb.spi.CapturePosition;
import io.mqdb.spi.CapturedChange;
import io.mqdb.spi.ChangeCapture;
import io.mqdb.spi.Column;
import io.mqdb.spi.ColumnType;
import io.mqdb.spi.Store;
import io.mqdb.spi.TableId;
import io.mqdb.spi.TableSchema;
import io.mqdb.testing.PostgresServer;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.time.LocalDate;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * The cost and speed of trigger capture on PostgreSQL, in one run (not a JUnit test; {@code scripts/bench-jdbc.sh}
 * runs it, {@code docs/benchmarks.md} explains the figures):
 * <ol>
 *   <li>plain inserts/s: a client inserting {@code rows} rows of five columns by plain JDBC, batches of 500 rows per
 *   transaction, into a table without triggers;</li>
 *   <li>the same into a table with mqdb's capture triggers (each insert also appends to the change log);</li>
 *   <li>captured changes/s: how fast {@link ChangeCapture#poll} (change log, then the rows by key) drains those
 *   changes, 1,000 per poll as the node does: once without pruning, once with {@link ChangeCapture#acknowledge}
 *   after every poll, which is what a publishing node does (minus MQTT).</li>
 * </ol>
 * Three rounds; the JSON file gets every round and the medians. Arguments: the JSON file to write. System property
 * {@code rows} (default 100000).
 */
public final class JdbcCaptureBench {
    private static final int ROWS = Integer.getInteger("rows", 100_000);
    private static final int BATCH = 500;
    private static final int POLL = 1000;
    private static final int ROUNDS = 3;
    private static final String[] FIGURES = {"plain_inserts_per_s", "triggered_inserts_per_s",
        "captured_changes_per_s_poll", "captured_changes_per_s_poll_ack"};

    private JdbcCaptureBench() {
    }

    public static void main(String[] args) throws Exception {
        Path out = Path.of(args.length > 0 ? args[0] : "bench-results/jdbc-" + LocalDate.now() + ".json");
        String loadBefore = loadAverage();
        PostgresServer pg = PostgresServer.shared();
        System.out.printf("PostgreSQL ready in %d ms; %,d rows per figure, %d rounds; load average %s%n",
                pg.startMillis, ROWS, ROUNDS, loadBefore);
        String url = pg.createDatabase("mqdb_bench_capture");
        String version;
        double[][] rounds = new double[ROUNDS][];
        try (Connection c = DriverManager.getConnection(url, pg.user(), pg.password())) {
            exec(c, "DROP SCHEMA IF EXISTS bench CASCADE", "DROP TABLE IF EXISTS public.mqdb_changelog",
                    "CREATE SCHEMA bench");
            version = query(c, "SHOW server_version");
            try (Store store = PostgresStoreIT.open(url, Map.of())) {
                ChangeCapture capture = store.capture().orElseThrow();
                round(c, store, capture, "warmup", Math.min(ROWS, 20_000)); // JIT, caches; not reported
                for (int r = 0; r < ROUNDS; r++) {
                    rounds[r] = round(c, store, capture, "r" + r, ROWS);
                    System.out.printf(Locale.ROOT, "round %d: %s%n", r + 1, line(rounds[r]));
                }
            }
        }
        String loadAfter = loadAverage();
        double[] median = new double[FIGURES.length];
        for (int f = 0; f < FIGURES.length; f++) {
            List<Double> v = new ArrayList<>();
            for (double[] round : rounds) {
                v.add(round[f]);
            }
            v.sort(null);
            median[f] = v.get(v.size() / 2);
        }
        printTable(rounds, median);
        Files.createDirectories(out.toAbsolutePath().getParent());
        Files.writeString(out, json(version, loadBefore, loadAfter, rounds, median));
        System.out.println("wrote " + out);
        pg.close();
    }

    /** @return the four figures of one round, each in per-second units */
    private static double[] round(Connection c, Store store, ChangeCapture capture, String name, int rows)
            throws SQLException, InterruptedException {
        exec(c, "CREATE TABLE bench.plain_" + name + " (id bigint PRIMARY KEY, name text, amount numeric,"
                        + " at timestamp(6), qty bigint)",
                "CREATE TABLE bench.trig_" + name + " (id bigint PRIMARY KEY, name text, amount numeric,"
                        + " at timestamp(6), qty bigint)");
        capture.enable(new TableId("bench", "trig_" + name));
        double plain = insert(c, "bench.plain_" + name, rows);
        double triggered = insert(c, "bench.trig_" + name, rows);
        double poll = drain(capture, rows, false);
        double pollAck = drain(capture, rows, true);
        exec(c, "DROP TABLE bench.plain_" + name, "DROP TABLE bench.trig_" + name);
        return new double[] {plain, triggered, poll, pollAck};
    }

    private static double insert(Connection c, String table, int rows) throws SQLException {
        long t0 = System.nanoTime();
        c.setAutoCommit(false);
        try (PreparedStatement ps = c.prepareStatement("INSERT INTO " + table
                + " (id, name, amount, at, qty) VALUES (?, ?, ?, ?, ?)")) {
            for (int i = 1; i <= rows; i++) {
                ps.setLong(1, i);
                ps.setString(2, "customer " + i);
                ps.setBigDecimal(3, java.math.BigDecimal.valueOf(i, 2));
                ps.setObject(4, OffsetDateTime.of(2024, 5, 1, 0, 0, 0, 0, ZoneOffset.UTC).plusSeconds(i)
                        .toLocalDateTime());
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
        return rows / seconds(t0);
    }

    /** Polls from the start until {@code rows} changes came back; acknowledges each poll when asked. */
    private static double drain(ChangeCapture capture, int rows, boolean acknowledge) throws InterruptedException {
        CapturePosition position = capture.start();
        long t0 = System.nanoTime();
        int seen = 0;
        while (seen < rows) {
            List<CapturedChange> changes = capture.poll(position, POLL, Duration.ofSeconds(5));
            if (changes.isEmpty()) {
                throw new IllegalStateException("capture returned nothing after " + seen + " of " + rows);
            }
            seen += changes.size();
            position = changes.get(changes.size() - 1).position();
            if (acknowledge) {
                capture.acknowledge(position);
            }
        }
        return seen / seconds(t0);
    }

    private static double seconds(long t0) {
        return (System.nanoTime() - t0) / 1e9;
    }

    private static String line(double[] r) {
        return String.format(Locale.ROOT, "plain %,.0f inserts/s, with triggers %,.0f inserts/s (%.0f%%),"
                + " captured %,.0f changes/s (poll), %,.0f changes/s (poll + acknowledge)", r[0], r[1],
                100 * r[1] / r[0], r[2], r[3]);
    }

    private static void printTable(double[][] rounds, double[] median) {
        String[] labels = {"plain inserts/s (no triggers)", "inserts/s with mqdb triggers",
            "captured changes/s (poll)", "captured changes/s (poll + ack)"};
        System.out.printf(Locale.ROOT, "%n%-32s", "figure");
        for (int r = 0; r < rounds.length; r++) {
            System.out.printf(Locale.ROOT, "%12s", "round " + (r + 1));
        }
        System.out.printf(Locale.ROOT, "%12s%n", "median");
        for (int f = 0; f < labels.length; f++) {
            System.out.printf(Locale.ROOT, "%-32s", labels[f]);
            for (double[] round : rounds) {
                System.out.printf(Locale.ROOT, "%,12.0f", round[f]);
            }
            System.out.printf(Locale.ROOT, "%,12.0f%n", median[f]);
        }
    }

    private static String json(String version, String loadBefore, String loadAfter, double[][] rounds,
                               double[] median) {
        StringBuilder s = new StringBuilder("{\n");
        s.append("  \"benchmark\": \"jdbc trigger capture, PostgreSQL\",\n");
        s.append("  \"date\": \"").append(OffsetDateTime.now(ZoneOffset.UTC)).append("\",\n");
        s.append("  \"postgresql\": \"").append(version).append("\",\n");
        s.append("  \"java\": \"").append(System.getProperty("java.version")).append("\",\n");
        s.append("  \"cpus\": ").append(Runtime.getRuntime().availableProcessors()).append(",\n");
        s.append("  \"load_average_before\": \"").append(loadBefore).append("\",\n");
        s.append("  \"load_average_after\": \"").append(loadAfter).append("\",\n");
        s.append("  \"rows\": ").append(ROWS).append(", \"insert_batch\": ").append(BATCH)
                .append(", \"poll_max_changes\": ").append(POLL).append(",\n");
        s.append("  \"rounds\": [\n");
        for (int r = 0; r < rounds.length; r++) {
            s.append("    ").append(figures(rounds[r])).append(r + 1 < rounds.length ? ",\n" : "\n");
        }
        s.append("  ],\n  \"median\": ").append(figures(median)).append("\n}\n");
        return s.toString();
    }

    private static String figures(double[] values) {
        StringBuilder s = new StringBuilder("{");
        for (int f = 0; f < FIGURES.length; f++) {
            s.append(f == 0 ? "" : ", ").append('"').append(FIGURES[f]).append("\": ").append(Math.round(values[f]));
        }
        return s.append('}').toString();
    }

    private static String loadAverage() {
        try {
            String[] p = Files.readString(Path.of("/proc/loadavg")).trim().split("\\s+");
            return p[0] + " " + p[1] + " " + p[2];
        } catch (IOException e) {
            return "unknown";
        }
    }

    private static void exec(Connection c, String... statements) throws SQLException {
        try (Statement st = c.createStatement()) {
            for (String s : statements) {
                st.execute(s);
            }
        }
    }

    private static String query(Connection c, String sql) throws SQLException {
        try (Statement st = c.createStatement(); ResultSet rs = st.executeQuery(sql)) {
            rs.next();
            return rs.getString(1);
        }
    }
}
