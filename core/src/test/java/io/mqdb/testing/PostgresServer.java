package io.mqdb.testing;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * A PostgreSQL server for integration tests: {@code MQDB_TEST_POSTGRES} (a JDBC URL, user and password as URL
 * parameters or {@code MQDB_TEST_POSTGRES_USER}/{@code _PASSWORD}), else the local PostgreSQL binaries started on a
 * free loopback port in a temporary folder (as user {@code postgres} when the tests run as root), else Testcontainers.
 * The local server runs with {@code wal_level=logical} and 20 replication slots and WAL senders, for
 * {@code capture: log}; a server given by {@code MQDB_TEST_POSTGRES} needs the same for those tests.
 */
public final class PostgresServer extends ServerFixture {
    private static final List<String> BIN_DIRS = List.of("/usr/lib/postgresql/17/bin", "/usr/lib/postgresql/16/bin",
            "/usr/lib/postgresql/15/bin", "/usr/local/pgsql/bin");
    private static PostgresServer shared;

    private final String host;
    private final int port;
    private final String user;
    private final String password;
    private final String baseUrl;
    /** Milliseconds it took to get the server, for reports. */
    public long startMillis;

    private PostgresServer(String baseUrl, String host, int port, String user, String password, long startMillis) {
        this.baseUrl = baseUrl;
        this.host = host;
        this.port = port;
        this.user = user;
        this.password = password;
        this.startMillis = startMillis;
    }

    /** @return the server shared by every test of this JVM, started on first use */
    public static synchronized PostgresServer shared() {
        if (shared == null) {
            shared = start();
        }
        return shared;
    }

    private static PostgresServer start() {
        long t0 = System.nanoTime();
        Optional<String> url = env("MQDB_TEST_POSTGRES");
        if (url.isPresent()) {
            return new PostgresServer(url.get(), null, -1, env("MQDB_TEST_POSTGRES_USER").orElse("postgres"),
                    env("MQDB_TEST_POSTGRES_PASSWORD").orElse(""), ms(t0));
        }
        Optional<Path> postgres = findBinary(List.of("postgres"), BIN_DIRS);
        Optional<Path> initdb = findBinary(List.of("initdb"), BIN_DIRS);
        if (postgres.isPresent() && initdb.isPresent()) {
            return startLocal(postgres.get(), initdb.get(), t0);
        }
        if (dockerAvailable()) {
            return startContainer(t0);
        }
        throw unavailable("PostgreSQL", "MQDB_TEST_POSTGRES", "PostgreSQL 15 (apt-get install postgresql)");
    }

    private static long ms(long t0) {
        return (System.nanoTime() - t0) / 1_000_000;
    }

    private static PostgresServer startLocal(Path postgres, Path initdb, long t0) {
        boolean root = "root".equals(System.getProperty("user.name"));
        int port = freePort();
        PostgresServer s = new PostgresServer("jdbc:postgresql://127.0.0.1:" + port + "/postgres", "127.0.0.1",
                port, "postgres", "", 0);
        Path dir = s.tempDir("mqdb-pg");
        Path data = dir.resolve("data");
        Path log = dir.resolve("server.log");
        try {
            if (root) {
                run(List.of("chown", "-R", "postgres:postgres", dir.toString()));
            }
            run(asUser(root, List.of(initdb.toString(), "-D", data.toString(), "-A", "trust", "-E", "UTF8",
                    "--no-locale", "-U", "postgres")));
            if (root) {
                run(List.of("chown", "postgres:postgres", dir.toString()));
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        Process p = s.startProcess(log, asUser(root, List.of(postgres.toString(), "-D", data.toString(),
                "-p", Integer.toString(port), "-c", "listen_addresses=127.0.0.1", "-c", "unix_socket_directories=" + dir,
                "-c", "fsync=off", "-c", "synchronous_commit=off", "-c", "full_page_writes=off",
                "-c", "max_connections=200", "-c", "shared_buffers=64MB",
                // logical decoding for capture: log; initdb's pg_hba.conf already trusts replication on 127.0.0.1
                "-c", "wal_level=logical", "-c", "max_replication_slots=20", "-c", "max_wal_senders=20")));
        Path pgCtl = postgres.resolveSibling("pg_ctl");
        s.closeLater(() -> {
            // pg_ctl stops at once; a SIGTERM through runuser would wait for clients to disconnect
            new ProcessBuilder(asUser(root, List.of(pgCtl.toString(), "stop", "-D", data.toString(), "-m",
                    "immediate"))).redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.DISCARD).start()
                    .waitFor();
        });
        awaitPort("127.0.0.1", port, Duration.ofSeconds(30), p, log);
        awaitSql(s, log);
        s.startMillis = ms(t0);
        return s;
    }

    private static void awaitSql(PostgresServer s, Path log) {
        long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
        while (true) {
            try (Connection c = DriverManager.getConnection(s.baseUrl, s.user, s.password)) {
                return;
            } catch (SQLException e) {
                if (System.nanoTime() > deadline) {
                    throw new IllegalStateException("PostgreSQL did not accept connections" + tail(log), e);
                }
                pause(50);
            }
        }
    }

    private static PostgresServer startContainer(long t0) {
        @SuppressWarnings("resource")
        org.testcontainers.containers.GenericContainer<?> c =
                new org.testcontainers.containers.GenericContainer<>("postgres:15")
                        .withEnv("POSTGRES_HOST_AUTH_METHOD", "trust").withExposedPorts(5432)
                        .withCommand("postgres", "-c", "wal_level=logical", "-c", "max_replication_slots=20",
                                "-c", "max_wal_senders=20");
        c.start();
        PostgresServer s = new PostgresServer("jdbc:postgresql://" + c.getHost() + ":" + c.getMappedPort(5432)
                + "/postgres", c.getHost(), c.getMappedPort(5432), "postgres", "", ms(t0));
        s.closeLater(c);
        return s;
    }

    private static List<String> asUser(boolean root, List<String> command) {
        if (!root) {
            return command;
        }
        List<String> out = new ArrayList<>(List.of("runuser", "-u", "postgres", "--"));
        out.addAll(command);
        return out;
    }

    private static void run(List<String> command) throws IOException {
        Path out = Files.createTempFile("mqdb-cmd", ".log");
        try {
            Process p = new ProcessBuilder(command).redirectErrorStream(true)
                    .redirectOutput(out.toFile()).start();
            if (p.waitFor() != 0) {
                throw new IllegalStateException(command + " failed: " + Files.readString(out));
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted", e);
        } finally {
            Files.deleteIfExists(out);
        }
    }

    /** @return the JDBC URL of the server's {@code postgres} database */
    public String jdbcUrl() {
        return baseUrl;
    }

    /** @return the user to connect as */
    public String user() {
        return user;
    }

    /** @return the password, possibly empty */
    public String password() {
        return password;
    }

    /**
     * Creates a database when missing.
     *
     * @param name a database name (letters, digits, _)
     * @return the JDBC URL of that database
     */
    public String createDatabase(String name) {
        if (!name.matches("[A-Za-z_][A-Za-z0-9_]*")) {
            throw new IllegalArgumentException("bad database name " + name);
        }
        try (Connection c = DriverManager.getConnection(baseUrl, user, password); Statement st = c.createStatement()) {
            var rs = st.executeQuery("SELECT 1 FROM pg_database WHERE datname = '" + name + "'");
            if (!rs.next()) {
                st.execute("CREATE DATABASE \"" + name + "\"");
            }
        } catch (SQLException e) {
            throw new IllegalStateException("cannot create database " + name, e);
        }
        int slash = baseUrl.lastIndexOf('/');
        int q = baseUrl.indexOf('?', slash);
        return baseUrl.substring(0, slash + 1) + name + (q < 0 ? "" : baseUrl.substring(q));
    }
}
