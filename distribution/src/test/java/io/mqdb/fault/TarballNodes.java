package io.mqdb.fault;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.mqdb.plugin.LoadedProvider;
import io.mqdb.plugin.PluginRegistry;
import io.mqdb.spi.Store;
import io.mqdb.testing.MapStoreConfig;
import io.mqdb.testing.ServerFixture;
import io.mqdb.testing.TestStoreContext;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.TimeUnit;

/**
 * Nodes run as {@code bin/mqdb run} child processes of the built tarball, so a fault can kill one with SIGKILL; and
 * stores opened in this JVM with the tarball's own plugins, to read what the nodes wrote. {@link #close()} stops every
 * node still running and closes every store, whatever state a failed test left them in.
 */
final class TarballNodes implements AutoCloseable {
    private static final Duration START_TIMEOUT = Duration.ofSeconds(60);
    private final Path dir;
    private final Path home;
    private final Map<String, Process> running = new LinkedHashMap<>();
    private final List<Store> stores = new ArrayList<>();
    private PluginRegistry plugins;

    private TarballNodes(Path dir, Path home) {
        this.dir = dir;
        this.home = home;
    }

    /** Unpacks the tarball that {@code package} built into {@code dir/dist}. */
    static TarballNodes unpack(Path dir) throws IOException, InterruptedException {
        Path tarball = Path.of(System.getProperty("mqdb.tarball", "target/mqdb-0.1.0-SNAPSHOT.tar.gz"));
        assertThat(tarball).as("built by mvn package").isRegularFile();
        Path into = Files.createDirectories(dir.resolve("dist"));
        Process p = new ProcessBuilder("tar", "xzf", tarball.toAbsolutePath().toString(), "-C", into.toString())
                .inheritIO().start();
        assertThat(p.waitFor(60, TimeUnit.SECONDS) && p.exitValue() == 0).as("tar xzf " + tarball).isTrue();
        try (DirectoryStream<Path> s = Files.newDirectoryStream(into, "mqdb-*")) {
            for (Path home : s) {
                return new TarballNodes(dir, home);
            }
        }
        throw new IllegalStateException("the tarball holds no mqdb-* folder");
    }

    /** Writes {@code <dir>/<name>.yaml}; the node's data folder is {@link #dataDir}. */
    void config(String name, String yaml) throws IOException {
        Files.writeString(dir.resolve(name + ".yaml"), yaml);
    }

    /** @return the data folder of a node whose config says {@code data-dir: <name>-data} */
    Path dataDir(String name) {
        return dir.resolve(name + "-data");
    }

    Path log(String name) {
        return dir.resolve(name + ".log");
    }

    /**
     * Starts a node and waits until it logged {@code node <name> started}. The process is the JVM itself
     * ({@code bin/mqdb} ends in {@code exec java}), so killing it kills the node, not a shell.
     */
    Process start(String name) throws IOException {
        Path log = log(name);
        long startedBefore = count(log, "node " + name + " started");
        ProcessBuilder pb = new ProcessBuilder(home.resolve("bin/mqdb").toString(), "run", "--config",
                dir.resolve(name + ".yaml").toString())
                .redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile()));
        pb.environment().put("JAVA_OPTS", "-Xms32m -Xmx256m -XX:+UseSerialGC -XX:TieredStopAtLevel=1"
                + " -Dmqdb.status.interval.ms=2000");
        pb.environment().remove("MQDB_OPTS");
        Process p = pb.start();
        running.put(name, p);
        await().atMost(START_TIMEOUT).pollInterval(Duration.ofMillis(100)).until(() -> {
            if (!p.isAlive()) {
                throw new IllegalStateException(name + " exited with " + p.exitValue() + ServerFixture.tail(log));
            }
            return count(log, "node " + name + " started") > startedBefore;
        });
        // checked once started: until the launcher script's exec, the process is still the shell
        assertThat(p.info().command().orElse("")).as("the child process of " + name + " is the JVM, not a shell")
                .endsWith("/java");
        return p;
    }

    /** SIGKILL: the node gets no chance to save or flush anything. */
    void kill(String name) throws InterruptedException {
        Process p = running.remove(name);
        p.destroyForcibly();
        assertThat(p.waitFor(10, TimeUnit.SECONDS)).as(name + " dies on SIGKILL").isTrue();
    }

    /** SIGTERM: the node closes cleanly. */
    void stop(String name) throws InterruptedException {
        Process p = running.remove(name);
        p.destroy();
        if (!p.waitFor(30, TimeUnit.SECONDS)) {
            p.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
            throw new AssertionError(name + " did not stop within 30 s of SIGTERM" + ServerFixture.tail(log(name)));
        }
    }

    /** @return whether a node started here is still alive */
    boolean alive(String name) {
        Process p = running.get(name);
        return p != null && p.isAlive();
    }

    /** Opens a store in this JVM with the tarball's plugin of that type, closed by {@link #close()}. */
    Store store(String type, Map<String, ?> settings) throws IOException {
        if (plugins == null) {
            plugins = PluginRegistry.load(Optional.of(home.resolve("plugins")), TarballNodes.class.getClassLoader());
        }
        LoadedProvider p = plugins.find(type).orElseThrow();
        Path storeDir = Files.createDirectories(dir.resolve("checker-" + stores.size()));
        Store s = p.call(() -> p.provider().open(new MapStoreConfig("checker", type, p.provider().settings(),
                settings), new TestStoreContext("checker", storeDir)));
        stores.add(s);
        return s;
    }

    /** Store settings of a PostgreSQL database, read only: the checker never installs capture. */
    static Map<String, Object> postgres(String url, String user, String password) {
        Map<String, Object> m = new LinkedHashMap<>(Map.of("url", url, "username", user, "capture", "none"));
        if (password != null && !password.isEmpty()) {
            m.put("password", password);
        }
        return m;
    }

    /** The YAML of a jdbc store for a node config, flow style. */
    static String postgresYaml(String url, String user, String password) {
        return "{ type: jdbc, url: \"" + url + "\", username: \"" + user + "\""
                + (password == null || password.isEmpty() ? "" : ", password: \"" + password + "\"")
                + ", poll-interval: 50ms }";
    }

    private static long count(Path log, String text) {
        if (!Files.exists(log)) {
            return 0;
        }
        try {
            String s = Files.readString(log);
            long n = 0;
            for (int i = s.indexOf(text); i >= 0; i = s.indexOf(text, i + 1)) {
                n++;
            }
            return n;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    @Override
    public void close() {
        for (Process p : running.values()) {
            p.destroy();
        }
        for (Process p : running.values()) {
            try {
                if (!p.waitFor(15, TimeUnit.SECONDS)) {
                    p.destroyForcibly().waitFor(5, TimeUnit.SECONDS);
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                p.destroyForcibly();
            }
        }
        running.clear();
        for (Store s : stores) {
            try {
                s.close();
            } catch (RuntimeException ignored) {
                // best effort at the end of a test
            }
        }
        stores.clear();
    }
}
