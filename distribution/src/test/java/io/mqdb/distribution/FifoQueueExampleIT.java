package io.mqdb.distribution;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.mqdb.config.ConfigLoader;
import io.mqdb.node.StoreSet;
import io.mqdb.plugin.PluginRegistry;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The walk-through of {@code examples/fifo-queue/README.md}, automated with the built tarball: {@code Frames.java}
 * (the source launcher, the tarball's {@code lib/} and plugins) puts, is killed with kill -9 while putting, and the
 * queue in MapDB is drained in put order with every acknowledged put in it; the server-store configs pass
 * check-config against the tarball's plugins.
 */
class FifoQueueExampleIT {
    private static final Path EXAMPLE = Path.of("..", "examples", "fifo-queue");

    @TempDir
    Path dir;

    @Test
    void framesSurviveAKillNineAndDrainInPutOrder() throws Exception {
        Path home = Tarball.unpacked(dir.resolve("dist"));
        Path ex = dir.resolve("fifo-queue");
        Files.createDirectories(ex);
        try (Stream<Path> files = Files.list(EXAMPLE)) {
            for (Path f : (Iterable<Path>) files::iterator) {
                Files.copy(f, ex.resolve(f.getFileName().toString()));
            }
        }
        List<String> first = frames(home, ex, "put", "20");
        assertThat(first).contains("put seq=20");

        // the README's kill -9 while putting
        Path out = ex.resolve("put.log");
        Process putter = start(home, ex, out, "put", "100000");
        try {
            await().atMost(Duration.ofSeconds(90)).failFast("the putter exited", () -> !putter.isAlive())
                    .until(() -> Files.readAllLines(out, UTF_8).stream().filter(l -> l.startsWith("put seq="))
                            .count() >= 50);
        } finally {
            putter.destroyForcibly();
            assertThat(putter.waitFor(20, TimeUnit.SECONDS)).isTrue();
        }
        long lastAcknowledged = Files.readAllLines(out, UTF_8).stream().filter(l -> l.matches("put seq=\\d+"))
                .mapToLong(l -> Long.parseLong(l.substring("put seq=".length()))).max().orElseThrow();

        List<String> drained = frames(home, ex, "drain").stream().filter(l -> l.startsWith("took ")).toList();
        System.out.printf("FifoQueueExampleIT: last acknowledged seq %d, drained %d%n", lastAcknowledged,
                drained.size());
        assertThat((long) drained.size()).as("every acknowledged put is in the queue").isGreaterThanOrEqualTo(
                lastAcknowledged);
        assertThat(drained.size()).as("no more than the putter could have committed").isLessThanOrEqualTo(
                (int) lastAcknowledged + 1);
        // put order: the first run's frames 1..20, then the killed run's 1, 2, 3, ...
        List<String> expected = new ArrayList<>();
        for (int i = 1; i <= drained.size(); i++) {
            expected.add("frame-" + (i <= 20 ? i : i - 20));
        }
        assertThat(drained.stream().map(l -> l.substring("took ".length()).split(" ")[0]).toList())
                .isEqualTo(expected);
        assertThat(frames(home, ex, "size")).contains("size 0");
    }

    @Test
    void theServerStoreConfigsPassCheckConfig() throws Exception {
        PluginRegistry plugins = PostgresToRedisIT.tarballPlugins(dir);
        for (String file : List.of("mapdb.yaml", "postgres.yaml", "redis.yaml", "cassandra.yaml")) {
            Path p = EXAMPLE.resolve(file).toAbsolutePath();
            var config = ConfigLoader.parse(Files.readString(p), p, Map.of("PGUSER", "me", "PGPASSWORD", "secret"),
                    StoreSet.checker(plugins));
            assertThat(config.stores()).as(file).containsOnlyKeys("local");
            assertThat(config.channels()).as(file).isEmpty();
        }
    }

    /** Runs {@code Frames.java} to its end and returns its output. */
    private static List<String> frames(Path home, Path ex, String... args) throws Exception {
        Path out = Files.createTempFile(ex, "frames", ".log");
        Process p = start(home, ex, out, args);
        assertThat(p.waitFor(120, TimeUnit.SECONDS)).as("Frames " + String.join(" ", args) + " ended").isTrue();
        List<String> lines = Files.readAllLines(out, UTF_8);
        assertThat(p.exitValue()).as("Frames %s exit; output %s", String.join(" ", args), lines).isZero();
        return lines;
    }

    private static Process start(Path home, Path ex, Path out, String... args) throws Exception {
        List<String> command = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java")
                .toString(), "-Xmx256m", "-cp", home.resolve("lib") + "/*", "-Dmqdb.home=" + home,
                "-Dlogback.configurationFile=" + home.resolve("conf").resolve("logback.xml"), "Frames.java",
                "mapdb.yaml"));
        command.addAll(List.of(args));
        return new ProcessBuilder(command).directory(ex.toFile()).redirectErrorStream(true)
                .redirectOutput(out.toFile()).start();
    }
}
