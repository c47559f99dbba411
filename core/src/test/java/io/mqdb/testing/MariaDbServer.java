package io.mqdb.testing;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.List;
import java.util.Optional;

/**
 * A MariaDB server for integration tests: {@code MQDB_TEST_MARIADB} (a JDBC URL; user and password from
 * {@code MQDB_TEST_MARIADB_USER}/{@code _PASSWORD}), else the local {@code mariadbd} started on a free loopback port
 * in a temporary folder with a test user {@code mqdb}/{@code mqdb}, else Testcontainers.
 *
 * <p>{@link #shared()} runs without a binary log ({@code --skip-log-bin}); {@link #sharedWithBinlog()} is a second
 * server for {@code capture: log}, with a row-format binary log ({@code MQDB_TEST_MARIADB_BINLOG}, else local or
 * Testcontainers, started like the first with {@link #BINLOG_ARGS}).
 */
public final class MariaDbServer extends ServerFixture {
    private static MariaDbServer shared;
    private static MariaDbServer sharedWithBinlog;

    /** The server options of {@link #sharedWithBinlog()}: a row-format binary log with full row images and metadata. */
    public static final List<String> BINLOG_ARGS = List.of("--log-bin=mariadb-bin", "--binlog-format=ROW",
            "--binlog-row-image=FULL", "--binlog-row-metadata=FULL", "--server-id=1");

    private final String baseUrl;
    private final String user;
    private final String password;
    /** Milliseconds it took to get the server, for reports. */
    public long startMillis;

    private MariaDbServer(String baseUrl, String user, String password) {
        this.baseUrl = baseUrl;
        this.user = user;
        this.password = password;
    }

    /** @return the server shared by every test of this JVM, started on first use */
    public static synchronized MariaDbServer shared() {
        if (shared == null) {
            long t0 = System.nanoTime();
            shared = start();
            shared.startMillis = (System.nanoTime() - t0) / 1_000_000;
        }
        return shared;
    }

    /**
     * @return a server with a row-format binary log ({@link #BINLOG_ARGS}), shared by every test of this JVM that
     *     needs one, started on first use; a different server from {@link #shared()}
     */
    public static synchronized MariaDbServer sharedWithBinlog() {
        if (sharedWithBinlog == null) {
            long t0 = System.nanoTime();
            sharedWithBinlog = start("MQDB_TEST_MARIADB_BINLOG", BINLOG_ARGS);
            sharedWithBinlog.startMillis = (System.nanoTime() - t0) / 1_000_000;
        }
        return sharedWithBinlog;
    }

    private static MariaDbServer start() {
        return start("MQDB_TEST_MARIADB", List.of("--skip-log-bin"));
    }

    private static MariaDbServer start(String envName, List<String> serverArgs) {
        Optional<String> url = env(envName);
        if (url.isPresent()) {
            return new MariaDbServer(url.get(), env(envName + "_USER").orElse("root"),
                    env(envName + "_PASSWORD").orElse(""));
        }
        Optional<Path> server = findBinary(List.of("mariadbd", "mysqld"), List.of());
        Optional<Path> install = findBinary(List.of("mariadb-install-db", "mysql_install_db"), List.of());
        if (server.isPresent() && install.isPresent()) {
            return startLocal(server.get(), install.get(), serverArgs);
        }
        if (dockerAvailable()) {
            return startContainer(serverArgs.contains("--skip-log-bin") ? List.of() : serverArgs);
        }
        throw unavailable("MariaDB", envName, "MariaDB 10.11 (apt-get install mariadb-server)");
    }

    private static MariaDbServer startLocal(Path server, Path install, List<String> serverArgs) {
        int port = freePort();
        // Connector/J 4 asks for TLS by default; the test server has none.
        String url = "jdbc:mariadb://127.0.0.1:" + port + "/?sslMode=disable";
        MariaDbServer s = new MariaDbServer(url, "mqdb", "mqdb");
        Path dir = s.tempDir("mqdb-mariadb");
        Path data = dir.resolve("data");
        Path log = dir.resolve("server.log");
        String osUser = "root".equals(System.getProperty("user.name")) ? "root" : System.getProperty("user.name");
        try {
            Process p = new ProcessBuilder(install.toString(), "--no-defaults", "--datadir=" + data,
                    "--user=" + osUser, "--auth-root-authentication-method=normal", "--skip-test-db")
                    .redirectErrorStream(true).redirectOutput(dir.resolve("install.log").toFile()).start();
            if (p.waitFor() != 0) {
                throw new IllegalStateException("mariadb-install-db failed" + tail(dir.resolve("install.log")));
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted", e);
        }
        List<String> command = new java.util.ArrayList<>(List.of(server.toString(), "--no-defaults",
                "--datadir=" + data, "--socket=" + dir.resolve("mysqld.sock"), "--pid-file=" + dir.resolve("mysqld.pid"),
                "--port=" + port, "--bind-address=127.0.0.1", "--skip-networking=0", "--user=" + osUser));
        command.addAll(serverArgs);
        command.addAll(List.of("--innodb-buffer-pool-size=128M", "--innodb-flush-log-at-trx-commit=2",
                "--character-set-server=utf8mb4", "--collation-server=utf8mb4_bin", "--max-connections=300",
                "--skip-name-resolve=0", "--log-error=" + log));
        Process p = s.startProcess(log, command);
        awaitPort("127.0.0.1", port, Duration.ofSeconds(60), p, log);
        long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
        while (true) {
            try (Connection c = DriverManager.getConnection(url, "root", ""); Statement st = c.createStatement()) {
                st.execute("CREATE USER IF NOT EXISTS 'mqdb'@'%' IDENTIFIED BY 'mqdb'");
                st.execute("GRANT ALL PRIVILEGES ON *.* TO 'mqdb'@'%' WITH GRANT OPTION");
                st.execute("CREATE USER IF NOT EXISTS 'mqdb'@'localhost' IDENTIFIED BY 'mqdb'");
                st.execute("GRANT ALL PRIVILEGES ON *.* TO 'mqdb'@'localhost' WITH GRANT OPTION");
                break;
            } catch (SQLException e) {
                if (System.nanoTime() > deadline) {
                    throw new IllegalStateException("MariaDB did not accept connections" + tail(log), e);
                }
                pause(100);
            }
        }
        return s;
    }

    private static MariaDbServer startContainer(List<String> serverArgs) {
        @SuppressWarnings("resource")
        org.testcontainers.containers.GenericContainer<?> c =
                new org.testcontainers.containers.GenericContainer<>("mariadb:10.11")
                        .withEnv("MARIADB_ROOT_PASSWORD", "mqdb").withExposedPorts(3306);
        if (!serverArgs.isEmpty()) { // the image's default server with these options added
            List<String> command = new java.util.ArrayList<>(List.of("mariadbd"));
            command.addAll(serverArgs);
            c.withCommand(command.toArray(String[]::new));
        }
        c.start();
        MariaDbServer s = new MariaDbServer(
                "jdbc:mariadb://" + c.getHost() + ":" + c.getMappedPort(3306) + "/?sslMode=disable",
                "root", "mqdb");
        s.closeLater(c);
        return s;
    }

    /** @return the JDBC URL of the server, without a database */
    public String jdbcUrl() {
        return baseUrl;
    }

    /** @return the user to connect as */
    public String user() {
        return user;
    }

    /** @return the password */
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
            st.execute("CREATE DATABASE IF NOT EXISTS `" + name + "`");
        } catch (SQLException e) {
            throw new IllegalStateException("cannot create database " + name, e);
        }
        int q = baseUrl.indexOf('?');
        String base = q < 0 ? baseUrl : baseUrl.substring(0, q);
        if (!base.endsWith("/")) {
            base = base.substring(0, base.lastIndexOf('/') + 1);
        }
        return base + name + (q < 0 ? "" : baseUrl.substring(q));
    }

}
