package io.mqdb.queue;

import io.mqdb.queue.DurableQueue.Entry;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.LocalDate;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.stream.Stream;

/**
 * Measures {@link DurableQueue} throughput: for each prefill size, fills a fresh queue ({@value #FILL_BATCH} per
 * commit), closes it, times the reopen (the scan that checks every record), then times append and take (peek +
 * markDelivered) of 200-byte entries, 100 per commit and 1 per commit. Not a test; run by hand:
 *
 * <pre>
 * mvn -q -pl core test-compile dependency:build-classpath -Dmdep.outputFile=/tmp/cp.txt
 * java -cp core/target/test-classes:core/target/classes:$(cat /tmp/cp.txt) io.mqdb.queue.QueueBench \
 *     --out bench-results --sizes 0,1000000[,10000000] [--seconds 3]
 * </pre>
 *
 * Prints a table and writes {@code DIR/queue-<yyyy-MM-dd>.json}.
 */
public final class QueueBench {
    private static final int PAYLOAD_BYTES = 200;
    private static final int FILL_BATCH = 1_000;

    private QueueBench() {
    }

    /** One measured figure. */
    record Result(long prefill, String op, int batch, long entries, double seconds, double entriesPerSecond) {
    }

    public static void main(String[] args) throws Exception {
        Path out = Path.of("bench-results");
        long[] sizes = {0, 1_000_000};
        double seconds = 3;
        for (int i = 0; i + 1 < args.length; i += 2) {
            switch (args[i]) {
                case "--out" -> out = Path.of(args[i + 1]);
                case "--sizes" -> sizes = Arrays.stream(args[i + 1].split(",")).mapToLong(Long::parseLong).toArray();
                case "--seconds" -> seconds = Double.parseDouble(args[i + 1]);
                default -> throw new IllegalArgumentException("unknown option " + args[i]);
            }
        }
        List<Result> results = new ArrayList<>();
        List<String> sizeRows = new ArrayList<>();
        System.out.printf(Locale.ROOT, "%-10s %-7s %6s %10s %8s %12s%n", "prefill", "op", "batch", "entries",
                "seconds", "entries/s");
        for (long size : sizes) {
            Path dir = Files.createTempDirectory("queue-bench");
            Path file = dir.resolve("queue.db");
            if (size > 0) {
                try (DurableQueue q = DurableQueue.open(file, Long.MAX_VALUE, 0)) {
                    results.add(print(time(size, "fill", FILL_BATCH, size, Double.MAX_VALUE, q, true)));
                }
            }
            long opening = System.nanoTime();
            try (DurableQueue q = DurableQueue.open(file, Long.MAX_VALUE, 0)) {
                double openSeconds = (System.nanoTime() - opening) / 1e9;
                results.add(print(new Result(size, "open", 0, q.undeliveredCount(), openSeconds,
                        q.undeliveredCount() / openSeconds)));
                for (int batch : new int[] {100, 1}) {
                    long max = batch == 100 ? 1_000_000 : 20_000;
                    Result append = print(time(size, "append", batch, max, seconds, q, true));
                    results.add(append);
                    results.add(print(time(size, "take", batch, append.entries(), seconds, q, false)));
                }
                sizeRows.add(String.format(Locale.ROOT, "{\"prefill\": %d, \"diskMB\": %.1f, \"rssMB\": %.1f}",
                        size, diskBytes(dir) / 1e6, rssKb() / 1e3));
                System.out.println("  prefill " + size + ": " + sizeRows.get(sizeRows.size() - 1));
            } finally {
                delete(dir);
            }
        }
        Files.createDirectories(out);
        Path json = out.resolve("queue-" + LocalDate.now() + ".json");
        StringBuilder sb = new StringBuilder();
        sb.append("{\n  \"bench\": \"QueueBench\",\n  \"storage\": \"segmented log, one fsync per commit\",")
                .append("\n  \"payloadBytes\": ").append(PAYLOAD_BYTES)
                .append(",\n  \"java\": \"").append(System.getProperty("java.version"))
                .append("\",\n  \"cores\": ").append(Runtime.getRuntime().availableProcessors())
                .append(",\n  \"sizes\": [\n    ").append(String.join(",\n    ", sizeRows))
                .append("\n  ],\n  \"results\": [\n");
        for (int i = 0; i < results.size(); i++) {
            Result r = results.get(i);
            sb.append(String.format(Locale.ROOT,
                    "    {\"prefill\": %d, \"op\": \"%s\", \"batch\": %d, \"entries\": %d, \"seconds\": %.3f, "
                            + "\"entriesPerSecond\": %.0f}%s%n",
                    r.prefill(), r.op(), r.batch(), r.entries(), r.seconds(), r.entriesPerSecond(),
                    i + 1 < results.size() ? "," : ""));
        }
        sb.append("  ]\n}\n");
        Files.writeString(json, sb);
        System.out.println("wrote " + json);
    }

    /** Appends (or takes) up to {@code max} entries in batches, stopping early after {@code seconds}. */
    private static Result time(long prefill, String op, int batch, long max, double seconds, DurableQueue q,
            boolean append) throws InterruptedException {
        byte[] payload = new byte[PAYLOAD_BYTES];
        List<byte[]> entries = new ArrayList<>();
        for (int i = 0; i < batch; i++) {
            entries.add(payload);
        }
        long deadline = System.nanoTime() + (long) Math.min(seconds * 1e9, Long.MAX_VALUE / 2.0);
        long start = System.nanoTime();
        long done = 0;
        while (done < max && System.nanoTime() < deadline) {
            if (append) {
                q.append(entries, Map.of("pos", done));
                done += batch;
            } else {
                List<Entry> got = q.peek(batch, Duration.ZERO);
                if (got.isEmpty()) {
                    break;
                }
                q.markDelivered(got.get(got.size() - 1).index());
                done += got.size();
            }
        }
        double elapsed = (System.nanoTime() - start) / 1e9;
        return new Result(prefill, op, batch, done, elapsed, done / elapsed);
    }

    private static Result print(Result r) {
        System.out.printf(Locale.ROOT, "%-10d %-7s %6d %10d %8.2f %12.0f%n", r.prefill(), r.op(), r.batch(),
                r.entries(), r.seconds(), r.entriesPerSecond());
        return r;
    }

    private static long diskBytes(Path dir) throws IOException {
        try (Stream<Path> files = Files.walk(dir)) {
            return files.filter(Files::isRegularFile).mapToLong(f -> {
                try {
                    return Files.size(f);
                } catch (IOException e) {
                    throw new UncheckedIOException(e);
                }
            }).sum();
        }
    }

    /** @return this process's resident set in kB, from /proc/self/status; 0 where there is none */
    static long rssKb() {
        try {
            for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
                if (line.startsWith("VmRSS:")) {
                    return Long.parseLong(line.replaceAll("[^0-9]", ""));
                }
            }
        } catch (IOException | RuntimeException e) {
            return 0;
        }
        return 0;
    }

    private static void delete(Path dir) throws IOException {
        try (Stream<Path> files = Files.walk(dir)) {
            for (Path p : files.sorted(Comparator.reverseOrder()).toList()) {
                Files.delete(p);
            }
        }
    }
}
