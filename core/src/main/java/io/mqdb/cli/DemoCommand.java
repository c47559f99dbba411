package io.mqdb.cli;

import io.mqdb.config.ConfigLoader;
import io.mqdb.node.LocalTable;
import io.mqdb.node.MqdbNode;
import io.mqdb.node.StoreSet;
import io.mqdb.plugin.LoadedProvider;
import io.mqdb.plugin.PluginRegistry;
import io.mqdb.spi.Key;
import io.mqdb.spi.MqdbException;
import io.mqdb.spi.Row;
import java.io.IOException;
import java.io.PrintWriter;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.Driver;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Instant;
import java.util.HashMap;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.Callable;
import java.util.concurrent.ThreadLocalRandom;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code mqdb demo}: the headline flow on embedded defaults. A "legacy" SQLite database with sample data
 * ({@code legacy.db}, table {@code orders}) is synced into a MapDB store on a second node over the embedded broker:
 * node {@code legacy} captures the table with triggers and publishes its existing rows (the initial load), then every
 * change; node {@code mirror} applies them. The demo shows progress and the final count, then keeps following the
 * changes that any client makes to {@code legacy.db} (with {@code --writer}, a simulated legacy application makes
 * some), printing both counts, until stopped or {@code --follow} seconds have passed; it then compares both sides
 * and exits 0 when they are identical.
 */
@Command(name = "demo", mixinStandardHelpOptions = true,
        description = "Sync a legacy SQLite database into a MapDB node over the embedded broker, and keep following it.")
final class DemoCommand implements Callable<Integer> {
    private static final String CHANNEL = "main:orders";

    @Option(names = "--rows", defaultValue = "10000", description = "sample rows in a new legacy.db (default ${DEFAULT-VALUE})")
    private int rows;

    @Option(names = "--dir", description = "working folder; an existing legacy.db there is used as it is (default: a new temporary folder)")
    private Path dir;

    @Option(names = "--follow", defaultValue = "0",
            description = "seconds to keep following changes after the initial sync; 0 = until Ctrl-C (default)")
    private int followSeconds;

    @Option(names = "--writer", negatable = true, defaultValue = "true", fallbackValue = "true",
            description = "simulate a legacy application writing to legacy.db while following (default: on)")
    private boolean writer;

    @Option(names = "--timeout", defaultValue = "300", description = "seconds to wait for the initial sync")
    private int timeoutSeconds;

    @Spec
    private picocli.CommandLine.Model.CommandSpec spec;

    private volatile boolean stop;

    @Override
    public Integer call() throws IOException, InterruptedException, SQLException {
        PrintWriter out = spec.commandLine().getOut();
        Path work = (dir != null ? Files.createDirectories(dir) : Files.createTempDirectory("mqdb-demo"))
                .toAbsolutePath();
        Path legacy = work.resolve("legacy.db");
        PluginRegistry plugins = PluginRegistry.load(MqdbNode.defaultPluginsDir(), Main.class.getClassLoader());
        LoadedProvider jdbc = plugins.find("jdbc").orElseThrow(() -> new MqdbException(
                "the demo needs the jdbc adapter; installed: " + plugins.types()));
        Driver sqlite = jdbc.call(() -> {
            try {
                return (Driver) jdbc.loader().loadClass("org.sqlite.JDBC").getDeclaredConstructor().newInstance();
            } catch (ReflectiveOperationException e) {
                throw new MqdbException("the jdbc plugin has no SQLite driver: " + e, e);
            }
        });
        String url = "jdbc:sqlite:" + legacy;
        if (!Files.exists(legacy)) {
            createLegacyDatabase(sqlite, url, out);
        }
        int port = freePort();
        Path legacyConf = work.resolve("legacy-node.yaml");
        Path mirrorConf = work.resolve("mirror-node.yaml");
        Files.writeString(legacyConf, """
                # node "legacy": captures the SQLite database with triggers and publishes main:orders
                node: { name: legacy, data-dir: legacy-data }
                broker: { uris: [ "tcp://127.0.0.1:%d" ] }
                stores:
                  legacy: { type: jdbc, url: "%s" }
                channels:
                  - { name: %s, store: legacy, publish: true }
                """.formatted(port, url, CHANNEL));
        Files.writeString(mirrorConf, """
                # node "mirror": runs the embedded broker and applies main:orders to its own MapDB store
                node: { name: mirror, data-dir: mirror-data }
                broker: { embedded: { port: %d } }
                stores:
                  local: { type: mapdb }
                channels:
                  - { name: %s, store: local, subscribe: true }
                """.formatted(port, CHANNEL));
        out.printf("mqdb demo in %s%n  legacy SQLite database: %s (table orders)%n"
                + "  node legacy -> node mirror (MapDB, embedded broker on 127.0.0.1:%d)%n", work, legacy, port);
        out.flush();
        Runtime.getRuntime().addShutdownHook(new Thread(() -> stop = true));
        // The subscriber starts first: the broker queues the initial load only for sessions that exist.
        try (MqdbNode mirror = MqdbNode.start(ConfigLoader.load(mirrorConf, StoreSet.checker(plugins)), plugins);
             MqdbNode source = MqdbNode.start(ConfigLoader.load(legacyConf, StoreSet.checker(plugins)), plugins);
             Connection app = sqlite.connect(url, new Properties())) {
            LocalTable copy = mirror.table(CHANNEL);
            long start = System.nanoTime();
            long expected = count(app);
            long deadline = start + timeoutSeconds * 1_000_000_000L;
            long n = 0;
            while (n != expected || !identical(app, copy)) {
                if (System.nanoTime() > deadline || stop) {
                    out.printf("mirror did not catch up within %d s (%d of %d rows)%n", timeoutSeconds, n, expected);
                    return Main.FAILURE;
                }
                Thread.sleep(1000);
                n = copy.schema().isPresent() ? copy.count() : 0;
                expected = count(app);
                out.printf("  initial load: mirror has %,d of %,d rows%n", n, expected);
                out.flush();
            }
            double s = (System.nanoTime() - start) / 1e9;
            out.printf("synced: mirror holds all %,d rows of legacy.db, identical, in %.1f s%n", n, s);
            out.printf("following changes to %s by any client (e.g. sqlite3 %s \"update orders set status='paid' "
                    + "where id=1\")%s%n", legacy, legacy, followSeconds == 0 ? "; Ctrl-C to stop" : "");
            out.flush();
            long followEnd = followSeconds == 0 ? Long.MAX_VALUE : System.nanoTime() + followSeconds * 1_000_000_000L;
            long changes = 0;
            long last = -1;
            int ticks = 0;
            while (!stop && System.nanoTime() < followEnd) {
                if (writer) {
                    changes += legacyApplicationWrites(app);
                }
                Thread.sleep(500);
                long now = copy.count();
                if (now != last || ++ticks % 4 == 0) {
                    out.printf("  legacy.db: %,d rows, mirror: %,d rows%s%n", count(app), now,
                            writer ? " (" + changes + " changes made by the simulated legacy application)" : "");
                    out.flush();
                    last = now;
                }
            }
            long waitUntil = System.nanoTime() + 30_000_000_000L;
            while (!identical(app, copy) && System.nanoTime() < waitUntil) {
                Thread.sleep(200);
            }
            boolean same = identical(app, copy);
            out.printf("%s: legacy.db %,d rows, mirror %,d rows%n", same ? "identical" : "DIFFERENT", count(app),
                    copy.count());
            return same ? 0 : Main.FAILURE;
        }
    }

    private void createLegacyDatabase(Driver sqlite, String url, PrintWriter out) throws SQLException {
        try (Connection c = sqlite.connect(url, new Properties()); Statement st = c.createStatement()) {
            st.execute("CREATE TABLE orders (id INTEGER PRIMARY KEY, customer TEXT NOT NULL, amount REAL, "
                    + "status TEXT, created TEXT)");
            c.setAutoCommit(false);
            try (PreparedStatement ps = c.prepareStatement(
                    "INSERT INTO orders (id, customer, amount, status, created) VALUES (?, ?, ?, ?, ?)")) {
                String[] statuses = {"new", "paid", "shipped", "delivered"};
                for (int i = 1; i <= rows; i++) {
                    ps.setLong(1, i);
                    ps.setString(2, "customer " + (i % 977));
                    ps.setDouble(3, (i % 10_000) / 100.0);
                    ps.setString(4, statuses[i % statuses.length]);
                    ps.setString(5, Instant.ofEpochSecond(1_700_000_000L + i).toString());
                    ps.addBatch();
                    if (i % 1000 == 0) {
                        ps.executeBatch();
                    }
                }
                ps.executeBatch();
            }
            c.commit();
        }
        out.printf("created legacy.db with %,d sample orders (plain SQL, before mqdb saw it)%n", rows);
    }

    /** One insert, one update and one delete, as a legacy application would make them, in plain SQL. */
    private static int legacyApplicationWrites(Connection c) throws SQLException {
        ThreadLocalRandom r = ThreadLocalRandom.current();
        try (Statement st = c.createStatement()) {
            st.executeUpdate("INSERT INTO orders (customer, amount, status, created) VALUES ('walk-in', "
                    + r.nextInt(100) + ", 'new', '" + Instant.now() + "')");
            st.executeUpdate("UPDATE orders SET status = 'paid' WHERE id = (SELECT id FROM orders "
                    + "WHERE status = 'new' ORDER BY id LIMIT 1)");
            st.executeUpdate("DELETE FROM orders WHERE id = (SELECT min(id) FROM orders)");
        }
        return 3;
    }

    private static long count(Connection c) throws SQLException {
        try (Statement st = c.createStatement(); ResultSet rs = st.executeQuery("SELECT count(*) FROM orders")) {
            rs.next();
            return rs.getLong(1);
        }
    }

    /** Compares every row of legacy.db with the mirror: same keys, same customer and status. */
    private static boolean identical(Connection c, LocalTable copy) throws SQLException {
        if (copy.schema().isEmpty()) {
            return false;
        }
        Map<Long, String> source = new HashMap<>();
        try (Statement st = c.createStatement();
             ResultSet rs = st.executeQuery("SELECT id, customer, status FROM orders")) {
            while (rs.next()) {
                source.put(rs.getLong(1), rs.getString(2) + "|" + rs.getString(3));
            }
        }
        long seen = 0;
        Key after = null;
        do {
            var page = copy.scan(after, 5000);
            for (Row row : page.rows()) {
                String v = source.get((Long) row.get("id"));
                if (v == null || !v.equals(row.get("customer") + "|" + row.get("status"))) {
                    return false;
                }
                seen++;
            }
            after = page.next().orElse(null);
        } while (after != null);
        return seen == source.size();
    }

    private static int freePort() throws IOException {
        try (ServerSocket s = new ServerSocket(0)) {
            return s.getLocalPort();
        }
    }
}
