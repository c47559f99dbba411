package io.mqdb.testing;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;

/**
 * A Mosquitto 2 broker for the integration tests: {@code MQDB_TEST_MQTT=host:port}, else {@code /usr/sbin/mosquitto}
 * on a free loopback port with persistence in a temporary folder, else Testcontainers {@code eclipse-mosquitto:2}.
 *
 * <p>Configuration of a local broker: anonymous clients allowed, persistence on (written on a clean stop, so
 * {@link #restart()} keeps sessions and queued messages), {@code max_inflight_messages 500} (below the nodes' receive maximum of 1000: Mosquitto 2.0.11 can overrun its own quota),
 * {@code max_queued_messages 0} (unlimited), TCP_NODELAY. As root it would drop to user {@code mosquitto} and could
 * not write its root-owned temporary folder, so the configuration says {@code user root} (ignored when not root).
 */
public final class MosquittoServer extends ServerFixture {
    private static MosquittoServer shared;

    private final String host;
    private final int port;
    private int webSocketPort = -1;
    private final Path binary;
    private Path dir;
    private Process process;

    private MosquittoServer(String host, int port, Path binary) {
        this.host = host;
        this.port = port;
        this.binary = binary;
    }

    /** @return the broker shared by this JVM's tests */
    public static synchronized MosquittoServer shared() {
        if (shared == null) {
            shared = create();
        }
        return shared;
    }

    /** @return a broker of its own (for tests that restart it), stopped by {@link #close()} */
    public static MosquittoServer startNew() {
        Optional<Path> bin = findBinary(List.of("mosquitto"), List.of("/usr/sbin"));
        if (bin.isEmpty()) {
            throw unavailable("local mosquitto binary (needed to restart it)", "MQDB_TEST_MQTT",
                    "mosquitto (apt-get install mosquitto)");
        }
        return local(bin.get());
    }

    /**
     * @return a broker of its own, as {@link #startNew()}, that also saves its persistence file every second
     *     ({@code autosave_interval 1}), so that after a {@link #kill()} and {@link #startAgain()} on the same port its
     *     sessions and queued messages are back, bar what it took in its last second; stopped by {@link #close()}
     */
    public static MosquittoServer startKillable() {
        Optional<Path> bin = findBinary(List.of("mosquitto"), List.of("/usr/sbin"));
        if (bin.isEmpty()) {
            throw unavailable("local mosquitto binary (needed to kill and restart it)", "MQDB_TEST_MQTT",
                    "mosquitto (apt-get install mosquitto)");
        }
        return local(bin.get(), List.of("autosave_interval 1"));
    }

    /**
     * @return a broker of its own with Mosquitto's stock flow control ({@code max_inflight_messages 20},
     *     {@code max_queued_messages 1000}) and a WebSocket listener ({@link #webSocketUri()}); stopped by
     *     {@link #close()}
     */
    public static MosquittoServer startStock() {
        Optional<Path> bin = findBinary(List.of("mosquitto"), List.of("/usr/sbin"));
        if (bin.isEmpty()) {
            throw unavailable("local mosquitto binary (for its stock configuration)", "MQDB_TEST_MQTT",
                    "mosquitto (apt-get install mosquitto)");
        }
        int port = freePort();
        MosquittoServer server = new MosquittoServer("127.0.0.1", port, bin.get());
        server.webSocketPort = freePort();
        Path dir = server.tempDir("mqdb-mosquitto-stock-");
        server.dir = dir;
        String conf = String.join("\n",
                "listener " + port + " 127.0.0.1",
                "listener " + server.webSocketPort + " 127.0.0.1",
                "protocol websockets",
                "allow_anonymous true",
                "persistence true",
                "persistence_location " + dir + "/",
                "log_dest stdout",
                "log_type error",
                "log_type warning",
                "user root",
                "");
        try {
            Files.writeString(dir.resolve("mosquitto.conf"), conf);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        server.startProcess();
        return server;
    }

    /**
     * @param aclFile a Mosquitto ACL file
     * @param users user name → password, written with {@code mosquitto_passwd}
     * @return a broker of its own that lets in only these users, each limited by the ACL file; stopped by
     *     {@link #close()}
     */
    public static MosquittoServer startWithAccessControl(Path aclFile, java.util.Map<String, String> users) {
        Optional<Path> bin = findBinary(List.of("mosquitto"), List.of("/usr/sbin"));
        if (bin.isEmpty()) {
            throw unavailable("local mosquitto binary (for access control)", "MQDB_TEST_MQTT",
                    "mosquitto (apt-get install mosquitto)");
        }
        int port = freePort();
        MosquittoServer server = new MosquittoServer("127.0.0.1", port, bin.get());
        Path dir = server.tempDir("mqdb-mosquitto-acl-");
        server.dir = dir;
        Path passwords = dir.resolve("passwords");
        try {
            Files.writeString(passwords, "");
            for (java.util.Map.Entry<String, String> u : users.entrySet()) {
                Process p = new ProcessBuilder("mosquitto_passwd", "-b", passwords.toString(), u.getKey(),
                        u.getValue()).redirectErrorStream(true).start();
                String out = new String(p.getInputStream().readAllBytes(), java.nio.charset.StandardCharsets.UTF_8);
                if (p.waitFor() != 0) {
                    throw new IllegalStateException("mosquitto_passwd failed: " + out);
                }
            }
            Files.writeString(dir.resolve("mosquitto.conf"), String.join("\n",
                    "listener " + port + " 127.0.0.1",
                    "allow_anonymous false",
                    "password_file " + passwords,
                    "acl_file " + aclFile.toAbsolutePath(),
                    "persistence false",
                    "max_inflight_messages 500",
                    "max_queued_messages 0",
                    "set_tcp_nodelay true",
                    "log_dest stdout",
                    "log_type error",
                    "log_type warning",
                    "user root",
                    ""));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while writing the password file", e);
        }
        server.startProcess();
        return server;
    }

    private static MosquittoServer create() {
        Optional<String> address = env("MQDB_TEST_MQTT");
        if (address.isPresent()) {
            String a = address.get();
            int colon = a.lastIndexOf(':');
            return new MosquittoServer(a.substring(0, colon), Integer.parseInt(a.substring(colon + 1)), null);
        }
        Optional<Path> bin = findBinary(List.of("mosquitto"), List.of("/usr/sbin"));
        if (bin.isPresent()) {
            return local(bin.get());
        }
        if (dockerAvailable()) {
            return container();
        }
        throw unavailable("MQTT broker", "MQDB_TEST_MQTT", "mosquitto (apt-get install mosquitto)");
    }

    private static MosquittoServer local(Path binary) {
        return local(binary, List.of());
    }

    private static MosquittoServer local(Path binary, List<String> extraLines) {
        int port = freePort();
        MosquittoServer server = new MosquittoServer("127.0.0.1", port, binary);
        Path dir = server.tempDir("mqdb-mosquitto-");
        server.dir = dir;
        String conf = String.join("\n",
                "listener " + port + " 127.0.0.1",
                "allow_anonymous true",
                "persistence true",
                "persistence_location " + dir + "/",
                "max_inflight_messages 500", // below the nodes' receive maximum (1000): Mosquitto 2.0.11 can overrun its own quota
                "max_queued_messages 0",
                "set_tcp_nodelay true",
                "log_dest stdout",
                "log_type error",
                "log_type warning",
                "user root",
                "");
        conf += extraLines.isEmpty() ? "" : String.join("\n", extraLines) + "\n";
        try {
            Files.writeString(dir.resolve("mosquitto.conf"), conf);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        server.startProcess();
        return server;
    }

    @SuppressWarnings("resource")
    private static MosquittoServer container() {
        org.testcontainers.containers.GenericContainer<?> c =
                new org.testcontainers.containers.GenericContainer<>("eclipse-mosquitto:2")
                        .withExposedPorts(1883)
                        .withCopyToContainer(org.testcontainers.images.builder.Transferable.of(
                                "listener 1883\nallow_anonymous true\nmax_inflight_messages 1000\n"
                                        + "max_queued_messages 0\nset_tcp_nodelay true\n"),
                                "/mosquitto/config/mosquitto.conf");
        c.start();
        MosquittoServer s = new MosquittoServer(c.getHost(), c.getMappedPort(1883), null);
        s.closeLater(c);
        return s;
    }

    private void startProcess() {
        Path log = dir.resolve("mosquitto.log");
        process = startProcess(log, List.of(binary.toString(), "-c", dir.resolve("mosquitto.conf").toString()));
        awaitPort(host, port, Duration.ofSeconds(10), process, log);
    }

    /** @return {@code tcp://host:port} */
    public String uri() {
        return "tcp://" + host + ":" + port;
    }

    /** @return {@code ws://host:port/mqtt} of a {@link #startStock()} broker */
    public String webSocketUri() {
        if (webSocketPort < 0) {
            throw new UnsupportedOperationException("mosquitto at " + uri() + " has no WebSocket listener");
        }
        return "ws://" + host + ":" + webSocketPort + "/mqtt";
    }

    /** @return the host */
    public String host() {
        return host;
    }

    /** @return the port */
    public int port() {
        return port;
    }

    /**
     * Stops the broker cleanly (it saves its persistence file) and starts it again on the same port. Only for a
     * broker this fixture started.
     */
    public synchronized void restart() {
        stop();
        startProcess();
    }

    /**
     * Kills a broker this fixture started with SIGKILL ({@code kill -9}): it saves nothing, its clients' sockets are
     * reset; {@link #startAgain()} starts it.
     */
    public synchronized void kill() {
        if (process == null) {
            throw new UnsupportedOperationException("mosquitto at " + uri() + " was not started by this fixture");
        }
        process.destroyForcibly(); // SIGKILL on Unix
        try {
            if (!process.waitFor(10, TimeUnit.SECONDS)) {
                throw new IllegalStateException("mosquitto at " + uri() + " did not die of SIGKILL within 10 s");
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while killing mosquitto", e);
        }
    }

    /**
     * Freezes a broker this fixture started with SIGSTOP: its sockets stay open but it answers nothing, not even a
     * keep-alive ping (a hung host, a silent network); {@link #thaw()} lets it go on.
     */
    public synchronized void freeze() {
        signal("STOP");
    }

    /** Lets a {@link #freeze()}d broker go on (SIGCONT). */
    public synchronized void thaw() {
        signal("CONT");
    }

    private void signal(String name) {
        if (process == null || !process.isAlive()) {
            throw new UnsupportedOperationException("mosquitto at " + uri() + " is not a running process of this fixture");
        }
        try {
            Process k = new ProcessBuilder("kill", "-" + name, Long.toString(process.pid())).inheritIO().start();
            if (!k.waitFor(10, TimeUnit.SECONDS) || k.exitValue() != 0) {
                throw new IllegalStateException("kill -" + name + " " + process.pid() + " failed");
            }
        } catch (java.io.IOException e) {
            throw new IllegalStateException("cannot run kill -" + name, e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while signalling mosquitto", e);
        }
    }

    /** Starts a broker that was {@link #stop()}ped or {@link #kill()}ed again, on the same port and files. */
    public synchronized void startAgain() {
        if (process == null) {
            throw new UnsupportedOperationException("mosquitto at " + uri() + " was not started by this fixture");
        }
        if (process.isAlive()) {
            throw new IllegalStateException("mosquitto at " + uri() + " is running");
        }
        startProcess();
    }

    /** Stops a broker this fixture started (clean SIGTERM, so it saves its state); {@link #restart()} starts it. */
    public synchronized void stop() {
        if (process == null) {
            throw new UnsupportedOperationException("mosquitto at " + uri() + " was not started by this fixture");
        }
        process.destroy();
        try {
            if (!process.waitFor(10, TimeUnit.SECONDS)) {
                process.destroyForcibly().waitFor(5, TimeUnit.SECONDS);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while stopping mosquitto", e);
        }
    }
}
