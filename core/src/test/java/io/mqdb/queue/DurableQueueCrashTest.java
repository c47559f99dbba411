package io.mqdb.queue;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.mqdb.queue.DurableQueue.Entry;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Random;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Kills a child JVM ({@link DurableQueueCrashChild}) with kill -9 at random moments while it appends, consumes or
 * both, then reopens the queue and checks that nothing it acknowledged was lost, reordered or duplicated, and that
 * the byte counts and the counter committed with the entries match what is held.
 */
class DurableQueueCrashTest {
    private static final String[] MODES = {"append", "consume", "both", "append", "both", "consume"};

    @TempDir
    Path dir;

    @Test
    void acknowledgedEntriesSurviveKillNineInOrderWithoutDuplicates() throws Exception {
        Path file = dir.resolve("crash.db");
        Random random = new Random();
        Set<Long> acknowledged = new HashSet<>();
        long deliveredThrough = 0;
        long checked = 0;
        long lost = 0;
        long duplicated = 0;
        for (int round = 0; round < MODES.length; round++) {
            List<String> lines = runAndKill(file, MODES[round], 150 + random.nextInt(600));
            for (String line : lines.subList(1, lines.size())) {
                assertThat(line).as("child output in round %d", round).doesNotStartWith("BAD");
                long index = Long.parseLong(line.substring(2));
                if (line.startsWith("A ")) {
                    if (!acknowledged.add(index)) {
                        duplicated++;
                    }
                } else {
                    deliveredThrough = Math.max(deliveredThrough, index);
                }
            }
            try (DurableQueue q = DurableQueue.open(file, DurableQueueCrashChild.MAX_UNDELIVERED_BYTES,
                    DurableQueueCrashChild.RETAIN_DELIVERED_BYTES)) {
                assertThat(q.head()).as("delivered and committed entries never come back to the head")
                        .isGreaterThan(deliveredThrough);
                assertThat(q.counter(DurableQueueCrashChild.APPENDED)).as("counter committed with its entries")
                        .isEqualTo(q.nextIndex() - 1);
                List<Entry> held = readAll(q);
                assertThat(held).extracting(Entry::index).as("held entries are consecutive, in order")
                        .isEqualTo(range(q.firstRetained(), q.nextIndex()));
                long undelivered = 0;
                long delivered = 0;
                for (Entry e : held) {
                    if (!Arrays.equals(e.payload(), DurableQueueCrashChild.payload(e.index()))) {
                        duplicated++; // another entry's payload under this index
                    }
                    if (e.index() >= q.head()) {
                        undelivered += e.payload().length;
                    } else {
                        delivered += e.payload().length;
                    }
                }
                assertThat(q.undeliveredBytes()).isEqualTo(undelivered);
                assertThat(q.retainedDeliveredBytes()).isEqualTo(delivered);
                for (long index : acknowledged) {
                    checked++;
                    if (index >= q.nextIndex()) {
                        lost++; // acknowledged, yet neither held nor delivered
                    }
                }
            }
        }
        System.out.printf("DurableQueueCrashTest: rounds=%d appended=%d checked=%d lost=%d duplicated=%d "
                + "deliveredThrough=%d%n", MODES.length, acknowledged.size(), checked, lost, duplicated, deliveredThrough);
        assertThat(acknowledged).as("the children appended something").isNotEmpty();
        assertThat(deliveredThrough).as("the children delivered something").isPositive();
        assertThat(lost).isZero();
        assertThat(duplicated).isZero();
    }

    /** Starts the child, lets it run {@code millis} after it opened the queue, kills it, returns all it printed. */
    private List<String> runAndKill(Path file, String mode, long millis) throws Exception {
        String name = "child-" + mode + "-" + System.nanoTime();
        Path stdout = dir.resolve(name + ".out"); // a file, not a pipe: it keeps all the child wrote before the kill
        Path stderr = dir.resolve(name + ".err");
        Process child = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-Xmx256m", "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1",
                "-cp", System.getProperty("java.class.path"),
                DurableQueueCrashChild.class.getName(), file.toString(), mode)
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
        List<String> lines = Files.readAllLines(stdout, StandardCharsets.UTF_8);
        assertThat(lines).first().isEqualTo("R");
        return lines;
    }

    private static List<Entry> readAll(DurableQueue q) {
        List<Entry> all = new ArrayList<>();
        for (long from = q.firstRetained(); from < q.nextIndex(); ) {
            List<Entry> page = q.read(from, 1_000).orElseThrow();
            all.addAll(page);
            from += page.size();
        }
        return all;
    }

    private static List<Long> range(long from, long to) {
        List<Long> out = new ArrayList<>();
        for (long i = from; i < to; i++) {
            out.add(i);
        }
        return out;
    }
}
