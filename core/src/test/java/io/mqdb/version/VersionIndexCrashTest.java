package io.mqdb.version;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.mqdb.spi.Key;
import io.mqdb.spi.TableId;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Kills a child JVM ({@link VersionIndexCrashChild}) with kill -9 at random moments while two threads record and
 * commit, then reopens the index and checks that it holds every event up to each table's committed counter: no
 * acknowledged commit lost, no counter ahead of its versions, and no rebuild. Versions may run ahead of a counter (a
 * commit writes every thread's records, as group commit does).
 */
class VersionIndexCrashTest {
    private static final int ROUNDS = 6;

    @TempDir
    Path dir;

    @Test
    void commitSurvivesKillNine() throws Exception {
        Path file = dir.resolve("versions.db");
        long seed = System.nanoTime();
        System.out.println("VersionIndexCrashTest seed " + seed);
        Random random = new Random(seed);
        Map<TableId, Long> acknowledged = new HashMap<>();
        long checked = 0;
        for (int round = 0; round < ROUNDS; round++) {
            List<String> lines = runAndKill(file, 300 + random.nextInt(900));
            for (String line : lines.subList(1, lines.size())) {
                assertThat(line).as("child output in round %d", round).doesNotStartWith("BAD");
                String[] f = line.split(" ");
                if (f.length == 3 && f[0].equals("C")) { // the last line may be cut by the kill
                    acknowledged.merge(TableId.parse(f[1]), Long.parseLong(f[2]), Math::max);
                }
            }
            VersionIndex index = VersionIndex.open(file, VersionIndexCrashChild.CHECKPOINT_LOG_BYTES);
            for (TableId t : VersionIndexCrashChild.TABLES) {
                long committed = index.counter(VersionIndexCrashChild.counter(t));
                assertThat(committed).as("%s: the counter covers every acknowledged commit (round %d)", t, round)
                        .isGreaterThanOrEqualTo(acknowledged.getOrDefault(t, 0L));
                Map<Key, Long> last = new HashMap<>();
                for (long n = 1; n <= committed; n++) {
                    last.put(VersionIndexCrashChild.key(n), n);
                }
                for (Map.Entry<Key, Long> e : last.entrySet()) {
                    Optional<VersionIndex.Entry> held = index.get(t, e.getKey());
                    assertThat(held).as("%s %s", t, e.getKey()).isPresent();
                    // at least the version the counter covers; a later one when another thread's commit took this
                    // thread's records along before its own commit (versions may run ahead of a counter, never behind)
                    long n = held.get().version().hlc() - 1_000;
                    assertThat(n).as("%s %s", t, e.getKey()).isGreaterThanOrEqualTo(e.getValue());
                    assertThat(VersionIndexCrashChild.key(n)).isEqualTo(e.getKey());
                    assertThat(held.get().version()).isEqualTo(VersionIndexCrashChild.version(n));
                    assertThat(held.get().deleted()).isEqualTo(VersionIndexCrashChild.deleted(n));
                    checked++;
                }
            }
            if (round % 2 == 0) {
                index.abandon(); // leave the log as the crash left it for the next child
            } else {
                index.close();
            }
        }
        try (Stream<Path> s = Files.list(dir)) {
            assertThat(s.map(p -> p.getFileName().toString()).filter(n -> n.startsWith("versions.db.")))
                    .as("nothing moved aside, nothing rebuilt").isEmpty();
        }
        System.out.printf("VersionIndexCrashTest: rounds=%d acknowledged=%s keysChecked=%d%n", ROUNDS, acknowledged,
                checked);
        assertThat(acknowledged.values()).as("the children committed something").allMatch(n -> n > 0);
    }

    /** Starts the child, lets it run {@code millis} after it opened the index, kills it, returns all it printed. */
    private List<String> runAndKill(Path file, long millis) throws Exception {
        String name = "child-" + System.nanoTime();
        Path stdout = dir.resolve(name + ".out"); // a file, not a pipe: it keeps all the child wrote before the kill
        Path stderr = dir.resolve(name + ".err");
        Process child = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-Xmx256m", "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1",
                "-cp", System.getProperty("java.class.path"),
                VersionIndexCrashChild.class.getName(), file.toString())
                .redirectOutput(stdout.toFile()).redirectError(stderr.toFile()).start();
        try {
            await().atMost(Duration.ofSeconds(20))
                    .failFast("the child exited early, see " + stderr, () -> !child.isAlive())
                    .until(() -> Files.size(stdout) > 0);
            TimeUnit.MILLISECONDS.sleep(millis); // the random moment of the crash, not a wait for a condition
        } finally {
            child.destroyForcibly();
            assertThat(child.waitFor(20, TimeUnit.SECONDS)).isTrue();
        }
        List<String> lines = Files.readAllLines(stdout, StandardCharsets.UTF_8).stream()
                .filter(l -> l.equals("R") || l.startsWith("C ") || l.startsWith("BAD")).toList(); // not the logs
        assertThat(lines).first().isEqualTo("R");
        return lines;
    }
}
