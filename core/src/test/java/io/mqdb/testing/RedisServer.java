package io.mqdb.testing;

import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * A standalone Redis for integration tests: {@code MQDB_TEST_REDIS=host:port}, else {@code redis-server} started on a
 * free loopback port without persistence, else a {@code redis:7.0} container.
 *
 * <p>{@link #shared()} is one server per JVM. Tests that stop the server or need a password get a private one from
 * {@link #startPrivate()} or {@link #startWithPassword}, and close it.
 */
public final class RedisServer extends ServerFixture {
    /** The environment variable naming an external server. */
    public static final String ENV = "MQDB_TEST_REDIS";
    private static RedisServer shared;

    private final String host;
    private final int port;
    private final String user;
    private final String password;
    private List<String> command;
    private Path log;
    private Path caFile;
    private Process process;

    private RedisServer(String host, int port, String user, String password, List<String> command, Path log) {
        this.host = host;
        this.port = port;
        this.user = user;
        this.password = password;
        this.command = command;
        this.log = log;
    }

    /** @return the server shared by every test of this JVM */
    public static synchronized RedisServer shared() {
        if (shared == null) {
            Optional<String> env = env(ENV);
            if (env.isPresent()) {
                String a = env.get();
                int colon = a.lastIndexOf(':');
                shared = new RedisServer(a.substring(0, colon), Integer.parseInt(a.substring(colon + 1)), null, null,
                        null, null);
            } else if (findBinary(List.of("redis-server"), List.of()).isPresent()) {
                shared = local(null, null);
            } else {
                shared = container(null);
            }
        }
        return shared;
    }

    /** @return a new server of its own (a local process), e.g. to stop and restart it; the caller closes it */
    public static RedisServer startPrivate() {
        return local(null, null);
    }

    /**
     * @param password the password of the default user ({@code --requirepass})
     * @return a new password-protected server; the caller closes it
     */
    public static RedisServer startWithPassword(String password) {
        return findBinary(List.of("redis-server"), List.of()).isPresent() ? local(null, password)
                : container(password);
    }

    /**
     * @param user an ACL user with every permission; the default user is disabled
     * @param password its password
     * @return a new server requiring that user; the caller closes it
     */
    public static RedisServer startWithUser(String user, String password) {
        return local(user, password);
    }

    /**
     * Starts a server that speaks only TLS, with a throw-away CA and a certificate for 127.0.0.1 made by
     * {@code openssl}; clients need not present a certificate.
     *
     * @return the server; {@link #caFile()} is the CA to trust; the caller closes it
     */
    public static RedisServer startWithTls() {
        RedisServer s = local(null, null, false);
        Path dir = s.log.getParent();
        TestPki pki = TestPki.create(dir);
        TestPki.Pair server = pki.server();
        List<String> cmd = new ArrayList<>(s.command);
        int i = cmd.indexOf("--port");
        cmd.set(i + 1, "0");
        cmd.addAll(List.of("--tls-port", Integer.toString(s.port), "--tls-cert-file",
                server.cert().toString(), "--tls-key-file", server.key().toString(),
                "--tls-ca-cert-file", pki.ca().toString(), "--tls-auth-clients", "no"));
        s.command = List.copyOf(cmd);
        s.caFile = pki.ca();
        s.start();
        return s;
    }

    private static RedisServer local(String user, String password) {
        return local(user, password, true);
    }

    private static RedisServer local(String user, String password, boolean start) {
        Path bin = findBinary(List.of("redis-server"), List.of())
                .orElseThrow(() -> unavailable("redis-server", ENV, "redis-server (apt-get install redis-server)"));
        int port = freePort();
        List<String> cmd = new ArrayList<>(List.of(bin.toString(), "--port", Integer.toString(port), "--bind",
                "127.0.0.1", "--save", "", "--appendonly", "no"));
        if (user != null) {
            cmd.addAll(List.of("--user", "default", "off", "--user", user, "on", ">" + password, "~*", "&*",
                    "+@all"));
        } else if (password != null) {
            cmd.addAll(List.of("--requirepass", password));
        }
        RedisServer s = new RedisServer("127.0.0.1", port, user, password, null, null);
        Path dir = s.tempDir("mqdb-redis-");
        cmd.addAll(List.of("--dir", dir.toString()));
        s.command = List.copyOf(cmd);
        s.log = dir.resolve("redis.log");
        if (start) {
            s.start();
        }
        return s;
    }

    private static RedisServer container(String password) {
        if (!dockerAvailable()) {
            throw unavailable("Redis", ENV, "redis-server (apt-get install redis-server)");
        }
        org.testcontainers.containers.GenericContainer<?> c =
                new org.testcontainers.containers.GenericContainer<>("redis:7.0").withExposedPorts(6379);
        if (password != null) {
            c.withCommand("redis-server", "--requirepass", password);
        }
        c.start();
        RedisServer s = new RedisServer(c.getHost(), c.getMappedPort(6379), null, password, null, null);
        s.closeLater(c);
        return s;
    }

    /** Starts the server process (again, on the same port). */
    public synchronized void start() {
        requireLocal();
        process = startProcess(log, command);
        awaitPort(host, port, Duration.ofSeconds(20), process, log);
    }

    /** Stops the server process and waits until it has exited; its data is gone (no persistence). */
    public synchronized void stop() {
        requireLocal();
        if (process != null) {
            process.destroy();
            try {
                if (!process.waitFor(10, java.util.concurrent.TimeUnit.SECONDS)) {
                    process.destroyForcibly().waitFor();
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IllegalStateException("interrupted while stopping redis", e);
            }
            process = null;
        }
    }

    /** Stops the server and starts it again on the same port. */
    public void restart() {
        stop();
        start();
    }

    private void requireLocal() {
        if (command == null) {
            throw new IllegalStateException("only a server started by this fixture can be stopped; use"
                    + " RedisServer.startPrivate()");
        }
    }

    /** @return the CA certificate (PEM) of a server from {@link #startWithTls()} */
    public Optional<Path> caFile() {
        return Optional.ofNullable(caFile);
    }

    /** @return the host */
    public String host() {
        return host;
    }

    /** @return the port */
    public int port() {
        return port;
    }

    /** @return {@code host:port} */
    public String address() {
        return host + ":" + port;
    }

    /** @return {@code redis://host:port}, without credentials */
    public String uri() {
        return "redis://" + host + ":" + port;
    }

    /** @return the ACL user, if the server requires one */
    public Optional<String> user() {
        return Optional.ofNullable(user);
    }

    /** @return the password, if the server requires one */
    public Optional<String> password() {
        return Optional.ofNullable(password);
    }
}
