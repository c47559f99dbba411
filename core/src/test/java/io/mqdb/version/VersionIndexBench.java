package io.mqdb.version;

import io.mqdb.spi.Key;
import io.mqdb.spi.TableId;
import io.mqdb.spi.Version;
import java.io.IOException;
import java.lang.management.BufferPoolMXBean;
import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.SplittableRandom;
import java.util.stream.Stream;

/**
 * Measures the version index on the applier's path: fills an index with N keys ({@value #BATCH} per commit), then
 * applies events to uniformly random existing keys as {@code ChannelApplier} does ({@code get}, then {@code record}
 * of a newer version; one {@code commit} per {@value #BATCH} events), and times {@code get + record} per event and
 * {@code commit} per batch separately; then the reopen after a clean close and after a crash. {@code --impl mapdb}
 * runs the previous implementation ({@link LegacyMapDbVersionIndex}) for comparison. One size per run, so the memory
 * figures (heap after GC, direct buffers, RSS) are this index's. Not a test; run by hand:
 *
 * <pre>
 * mvn -q -o -pl core test-compile dependency:build-classpath -Dmdep.outputFile=/tmp/cp.txt
 * java -Xmx512m -cp core/target/test-classes:core/target/classes:$(cat /tmp/cp.txt) io.mqdb.version.VersionIndexBench \
 *     --impl log|mapdb --keys 1000000 [--events 1000000]
 * </pre>
 */
public final class VersionIndexBench {
    private static final int BATCH = 500;
    private static final TableId TABLE = TableId.parse("bench:rows");

    private VersionIndexBench() {
    }

    /** The operations both implementations have. */
    private interface Index extends AutoCloseable {
        Optional<Version> get(Key key);

        void record(Key key, Version v);

        void commit();

        @Override
        void close();
    }

    public static void main(String[] args) throws Exception {
        String impl = "log";
        long keys = 1_000_000;
        long events = 1_000_000;
        for (int i = 0; i + 1 < args.length; i += 2) {
            switch (args[i]) {
                case "--impl" -> impl = args[i + 1];
                case "--keys" -> keys = Long.parseLong(args[i + 1]);
                case "--events" -> events = Long.parseLong(args[i + 1]);
                default -> throw new IllegalArgumentException("unknown option " + args[i]);
            }
        }
        Path dir = Files.createTempDirectory(Path.of("target").toAbsolutePath(), "version-bench");
        Path file = dir.resolve("versions.db");
        try {
            run(impl, file, keys, events);
        } finally {
            delete(dir);
        }
    }

    private static void run(String impl, Path file, long keys, long events) {
        String origin = "node-a";
        long hlc = 1;
        long t0 = System.nanoTime();
        try (Index index = open(impl, file)) {
            for (long k = 0; k < keys; k++) {
                index.record(Key.of(k), new Version(hlc++, origin));
                if ((k + 1) % BATCH == 0) {
                    index.commit();
                }
            }
            index.commit();
            double fillSeconds = (System.nanoTime() - t0) / 1e9;
            String memory = memory();
            SplittableRandom random = new SplittableRandom(7);
            long cpu0 = cpu();
            long applyNanos = 0;
            long commitNanos = 0;
            long commits = 0;
            long skipped = 0;
            for (long e = 0; e < events; ) {
                long a = System.nanoTime();
                for (int i = 0; i < BATCH && e < events; i++, e++) {
                    Key key = Key.of(random.nextLong(keys));
                    Version v = new Version(hlc++, origin);
                    Optional<Version> held = index.get(key);
                    if (held.isPresent() && held.get().compareTo(v) > 0) {
                        skipped++;
                        continue;
                    }
                    index.record(key, v);
                }
                long b = System.nanoTime();
                index.commit();
                commitNanos += System.nanoTime() - b;
                applyNanos += b - a;
                commits++;
            }
            double cpuPerEvent = (cpu() - cpu0) / (double) events;
            System.out.printf(Locale.ROOT, "%s keys=%d fill=%.1fs (%.0f keys/s) | get+record %.0f ns/event | "
                            + "commit %.0f us/batch of %d (%.0f ns/event) | total %.0f ns/event, %.0f events/s | "
                            + "CPU %.0f ns/event | %s | skipped %d | load %s%n", impl, keys, fillSeconds, keys / fillSeconds,
                    applyNanos / (double) events, commitNanos / 1e3 / commits, BATCH, commitNanos / (double) events,
                    (applyNanos + commitNanos) / (double) events, events / ((applyNanos + commitNanos) / 1e9),
                    cpuPerEvent, memory, skipped, load());
            if (index instanceof LogIndex log) {
                log.index.abandon(); // as a kill -9 leaves it: the log since the last checkpoint
                log.index = null; // so its direct buffers can be freed before the reopen needs as many
                long c = System.nanoTime();
                long cc = cpu();
                VersionIndex again = VersionIndex.open(file);
                System.out.printf(Locale.ROOT, "%s keys=%d reopen after a crash %.0f ms, CPU %.0f ms (%s)%n", impl,
                        keys, (System.nanoTime() - c) / 1e6, (cpu() - cc) / 1e6, again.describe());
                long d = System.nanoTime();
                again.close();
                System.out.printf(Locale.ROOT, "%s keys=%d close (checkpoint) %.0f ms%n", impl, keys,
                        (System.nanoTime() - d) / 1e6);
                long f = System.nanoTime();
                long fc = cpu();
                VersionIndex clean = VersionIndex.open(file);
                System.out.printf(Locale.ROOT, "%s keys=%d reopen after a clean close %.0f ms, CPU %.0f ms, "
                        + "folder %d MiB%n", impl, keys, (System.nanoTime() - f) / 1e6, (cpu() - fc) / 1e6,
                        size(file) >> 20);
                log.index = clean;
            }
        }
    }

    private static long cpu() {
        return ManagementFactory.getThreadMXBean().getCurrentThreadCpuTime();
    }

    private static String load() {
        return String.format(Locale.ROOT, "%.1f", ManagementFactory.getOperatingSystemMXBean().getSystemLoadAverage());
    }

    private static String memory() {
        System.gc();
        long heap = ManagementFactory.getMemoryMXBean().getHeapMemoryUsage().getUsed();
        long direct = 0;
        for (BufferPoolMXBean p : ManagementFactory.getPlatformMXBeans(BufferPoolMXBean.class)) {
            if (p.getName().equals("direct")) {
                direct = p.getMemoryUsed();
            }
        }
        long rss = -1;
        try {
            for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
                if (line.startsWith("VmRSS:")) {
                    rss = Long.parseLong(line.replaceAll("\\D", "")) / 1024;
                }
            }
        } catch (IOException e) {
            // not Linux
        }
        return String.format(Locale.ROOT, "heap after GC %d MiB, direct %d MiB, RSS %d MiB", heap >> 20,
                direct >> 20, rss);
    }

    private static Index open(String impl, Path file) {
        if (impl.equals("mapdb")) {
            LegacyMapDbVersionIndex m = LegacyMapDbVersionIndex.open(file);
            return new Index() {
                public Optional<Version> get(Key key) {
                    return m.get(TABLE, key).map(LegacyMapDbVersionIndex.Entry::version);
                }

                public void record(Key key, Version v) {
                    m.record(TABLE, key, v, false);
                }

                public void commit() {
                    m.commit();
                }

                public void close() {
                    m.close();
                }
            };
        }
        return new LogIndex(VersionIndex.open(file));
    }

    private static final class LogIndex implements Index {
        VersionIndex index;

        LogIndex(VersionIndex index) {
            this.index = index;
        }

        public Optional<Version> get(Key key) {
            return index.get(TABLE, key).map(VersionIndex.Entry::version);
        }

        public void record(Key key, Version v) {
            index.record(TABLE, key, v, false);
        }

        public void commit() {
            index.commit();
        }

        public void close() {
            if (index != null) {
                index.close();
            }
        }
    }

    private static long size(Path dir) {
        try (Stream<Path> s = Files.walk(dir)) {
            return s.filter(Files::isRegularFile).mapToLong(p -> p.toFile().length()).sum();
        } catch (IOException e) {
            return -1;
        }
    }

    private static void delete(Path dir) throws IOException {
        try (Stream<Path> s = Files.walk(dir)) {
            for (Path p : s.sorted(Comparator.reverseOrder()).toList()) {
                Files.deleteIfExists(p);
            }
        }
    }
}
