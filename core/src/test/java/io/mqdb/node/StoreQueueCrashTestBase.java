package io.mqdb.node;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.mqdb.spi.Store;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Random;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Kills a child JVM that puts, takes or both on a {@link StoreQueue} ({@link StoreQueueCrashChild}) with kill -9 at
 * random moments, then drains the queue in this JVM and compares with what the children acknowledged: every
 * acknowledged put is taken (acknowledged) or still queued, except at most the one entry a child was taking when it
 * was killed (its take may have committed; it must then be the entry right after the last acknowledged take);
 * nothing acknowledged as taken is ever seen again; takes come in put order.
 */
public abstract class StoreQueueCrashTestBase {
    private static final String[] MODES = {"put", "both", "take", "both", "put", "both", "both", "take"};

    @TempDir
    protected Path dir;

    /** @return the store the children use, opened in this JVM (after the children were killed) */
    protected abstract Store openStore();

    /**
     * @return the child's main class and its arguments before {@code mode round}; the main class opens the store
     *     and calls {@link StoreQueueCrashChild#run}
     */
    protected abstract List<String> childCommand();

    /** @return the longest random run of a child after it opened the queue */
    protected int maxRunMillis() {
        return 900;
    }

    @Test
    void acknowledgedPutsSurviveKillNineAndCommittedTakesNeverComeBack() throws Exception {
        long seed = System.nanoTime();
        System.out.println(getClass().getSimpleName() + ": seed " + seed);
        Random random = new Random(seed);
        Map<String, Long> putSeq = new HashMap<>(); // acknowledged puts: payload -> seq
        List<String> taken = new ArrayList<>(); // acknowledged takes, in order
        List<String> lastTakenAtKill = new ArrayList<>(); // per round with a consumer: the last take acknowledged so far
        for (int round = 0; round < MODES.length; round++) {
            List<String> lines = runAndKill(MODES[round], round, 150 + random.nextInt(maxRunMillis()));
            for (String line : lines.subList(1, lines.size())) {
                if (line.startsWith("P ")) {
                    String[] f = line.split(" ", 3);
                    putSeq.put(f[2], Long.parseLong(f[1]));
                } else if (line.startsWith("T ")) {
                    taken.add(line.substring(2));
                }
            }
            if (!MODES[round].equals("put")) {
                lastTakenAtKill.add(taken.isEmpty() ? null : taken.get(taken.size() - 1));
            }
        }
        List<String> remaining = new ArrayList<>();
        try (Store store = openStore()) {
            StoreQueue q = StoreQueue.open(store, getClass().getClassLoader(), StoreQueueCrashChild.QUEUE);
            long size = q.size();
            for (Optional<byte[]> e = q.poll(Duration.ZERO); e.isPresent(); e = q.poll(Duration.ZERO)) {
                remaining.add(new String(e.get(), UTF_8));
            }
            assertThat(remaining).as("size() after reopening counts what is queued").hasSize((int) size);
        }
        Set<String> takenSet = new HashSet<>(taken);
        Set<String> remainingSet = new HashSet<>(remaining);
        long duplicated = (taken.size() - takenSet.size()) + (remaining.size() - remainingSet.size())
                + takenSet.stream().filter(remainingSet::contains).count();
        // FIFO: every payload is round:i, and rounds and i only grow in put order
        List<String> order = new ArrayList<>(taken);
        order.addAll(remaining);
        long outOfOrder = 0;
        for (int i = 1; i < order.size(); i++) {
            if (compare(order.get(i - 1), order.get(i)) >= 0) {
                outOfOrder++;
            }
        }
        // The entry a consumer was taking at a kill: the first acknowledged put after its last acknowledged take.
        // (Put order is round:i order, which also places the puts a child made but did not acknowledge.)
        Set<String> inFlight = new HashSet<>();
        List<String> acknowledgedInOrder = putSeq.keySet().stream().sorted(StoreQueueCrashTestBase::compare)
                .toList();
        for (String last : lastTakenAtKill) {
            acknowledgedInOrder.stream().filter(p -> last == null || compare(p, last) > 0).findFirst()
                    .ifPresent(inFlight::add);
        }
        long lost = 0;
        long takenAtKill = 0;
        for (String p : putSeq.keySet()) {
            if (!takenSet.contains(p) && !remainingSet.contains(p)) {
                if (inFlight.contains(p)) {
                    takenAtKill++;
                } else {
                    lost++;
                }
            }
        }
        System.out.printf("%s: rounds=%d acknowledgedPuts=%d acknowledgedTakes=%d remaining=%d "
                + "takenAtKill=%d lost=%d duplicated=%d outOfOrder=%d%n", getClass().getSimpleName(), MODES.length,
                putSeq.size(), taken.size(), remaining.size(), takenAtKill, lost, duplicated, outOfOrder);
        assertThat(putSeq).as("the children put something").isNotEmpty();
        assertThat(taken).as("the children took something").isNotEmpty();
        assertThat(lost).isZero();
        assertThat(duplicated).isZero();
        assertThat(outOfOrder).isZero();
    }

    /**
     * @return the child's protocol lines ({@code R}, {@code P ...}, {@code T ...}), without its log lines (the
     *     store's logs go to standard output too) and without a last line the kill cut short
     */
    private static List<String> protocol(Path stdout) throws java.io.IOException {
        String all = Files.readString(stdout, UTF_8);
        int end = all.lastIndexOf('\n');
        List<String> out = new ArrayList<>();
        for (String line : all.substring(0, end + 1).split("\n")) {
            if (line.equals("R") || line.matches("P \\d+ \\d+:\\d+") || line.matches("T \\d+:\\d+")) {
                out.add(line);
            }
        }
        return out;
    }

    /** @return the child's thread dump ({@code jcmd Thread.print}), for a failure message */
    private static String threads(Process child) {
        try {
            Process jcmd = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "jcmd").toString(),
                    Long.toString(child.pid()), "Thread.print").redirectErrorStream(true).start();
            String dump = new String(jcmd.getInputStream().readAllBytes(), UTF_8);
            jcmd.waitFor(30, TimeUnit.SECONDS);
            return dump;
        } catch (java.io.IOException e) {
            return "(no thread dump: " + e + ")";
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return "(no thread dump: interrupted)";
        }
    }

    /** @return the last 40 lines of a file, for a failure message */
    private static String tail(Path file) {
        try {
            List<String> lines = Files.readAllLines(file, UTF_8);
            return String.join("\n", lines.subList(Math.max(0, lines.size() - 40), lines.size()));
        } catch (java.io.IOException e) {
            return "(" + file + ": " + e + ")";
        }
    }

    /** Orders payloads {@code round:i} by round, then i. */
    private static int compare(String a, String b) {
        String[] x = a.split(":");
        String[] y = b.split(":");
        int c = Integer.compare(Integer.parseInt(x[0]), Integer.parseInt(y[0]));
        return c != 0 ? c : Long.compare(Long.parseLong(x[1]), Long.parseLong(y[1]));
    }

    /** Starts the child, lets it run {@code millis} after it opened the queue, kills it, returns all it printed. */
    private List<String> runAndKill(String mode, int round, long millis) throws Exception {
        String name = "child-" + round + "-" + mode;
        Path stdout = dir.resolve(name + ".out"); // a file, not a pipe: it keeps all the child wrote before the kill
        Path stderr = dir.resolve(name + ".err");
        List<String> command = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java")
                .toString(), "-Xmx256m", "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1", "-cp",
                System.getProperty("java.class.path")));
        command.addAll(childCommand());
        command.add(mode);
        command.add(Integer.toString(round));
        Process child = new ProcessBuilder(command).redirectOutput(stdout.toFile()).redirectError(stderr.toFile())
                .start();
        try {
            try {
                await().atMost(Duration.ofSeconds(60))
                        .failFast("the child exited early, see " + stdout + " and " + stderr, () -> !child.isAlive())
                        .until(() -> protocol(stdout).contains("R"));
            } catch (org.awaitility.core.ConditionTimeoutException | AssertionError e) {
                throw new AssertionError("round " + round + " (" + mode + "): the child did not open the queue; "
                        + "its threads:\n" + threads(child) + "\nits output:\n" + tail(stdout) + "\n" + tail(stderr),
                        e);
            }
            TimeUnit.MILLISECONDS.sleep(millis); // the random moment of the crash, not a wait for a condition
        } finally {
            child.destroyForcibly(); // SIGKILL on Linux: no shutdown hook, no close
            assertThat(child.waitFor(20, TimeUnit.SECONDS)).isTrue();
        }
        List<String> lines = protocol(stdout);
        assertThat(lines).first().isEqualTo("R");
        return lines;
    }
}
