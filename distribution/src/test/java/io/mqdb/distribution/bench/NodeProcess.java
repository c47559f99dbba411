package io.mqdb.distribution.bench;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * One mqdb node run as a user runs it: {@code bin/mqdb run --config FILE} of an unpacked tarball, in its own JVM with
 * the launcher's default {@code JAVA_OPTS}. The benchmark learns its progress from the status line the node logs
 * ({@code -Dmqdb.status.interval.ms=100} in {@code MQDB_OPTS}) and its footprint from {@code /proc/<pid>} and
 * {@code jcmd}. With a JFR file, the node records {@code jdk.ExecutionSample} and friends and dumps them when stopped.
 */
final class NodeProcess implements AutoCloseable {
    /** The node's status line; its counters are read one by one, so new ones in the line do not break it. */
    private static final Pattern STATUS = Pattern.compile("node \\S+: published=(\\d+)");
    private static final Pattern APPLIED = Pattern.compile(", applied=(\\d+)");
    private static final Pattern DEAD_LETTERS = Pattern.compile(", dead letters=(\\d+)");
    private static final long CLOCK_TICKS_PER_S = 100; // USER_HZ on Linux

    private static final Set<NodeProcess> LIVE = ConcurrentHashMap.newKeySet();

    static {
        ScheduledExecutorService sampler = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "bench-rss-sampler");
            t.setDaemon(true);
            return t;
        });
        sampler.scheduleAtFixedRate(() -> LIVE.forEach(NodeProcess::sampleRss), 200, 200, TimeUnit.MILLISECONDS);
    }

    final String name;
    private final long startNanos;
    private final AtomicLong peakRss = new AtomicLong(-1);
    private final Process process;
    private final Path log;
    private volatile long published;
    private volatile long applied;
    private volatile long deadLetters;
    private volatile boolean started;
    private volatile String lastLine = "";

    private NodeProcess(String name, long startNanos, Process process, Path log) {
        this.name = name;
        this.startNanos = startNanos;
        this.process = process;
        this.log = log;
    }

    /**
     * Writes {@code yaml} to {@code dir/<name>.yaml} and starts the node; returns once it logged "started".
     *
     * @param home the unpacked tarball
     * @param jfr where the node dumps its flight recording when it stops, or null for none
     */
    static NodeProcess start(Path home, Path dir, String name, String yaml, Path jfr) throws IOException {
        Files.createDirectories(dir);
        Path config = dir.resolve(name + ".yaml");
        Files.writeString(config, yaml);
        ProcessBuilder pb = new ProcessBuilder(home.resolve("bin/mqdb").toString(), "run", "--config",
                config.toString()).directory(dir.toFile()).redirectErrorStream(true);
        String opts = "-Dmqdb.status.interval.ms=100";
        if (jfr != null) {
            Files.createDirectories(jfr.getParent());
            opts += " -XX:StartFlightRecording=filename=" + jfr + ",dumponexit=true,settings=profile";
        }
        pb.environment().put("MQDB_OPTS", opts);
        pb.environment().remove("JAVA_OPTS"); // the launcher's defaults: what a user gets
        Path log = dir.resolve(name + ".log");
        NodeProcess node = new NodeProcess(name, System.nanoTime(), pb.start(), log);
        LIVE.add(node);
        Thread reader = new Thread(node::readOutput, "bench-log-" + name);
        reader.setDaemon(true);
        reader.start();
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(120);
        while (!node.started) {
            if (!node.process.isAlive() || System.nanoTime() > deadline) {
                throw new IllegalStateException("node " + name + " did not start; log " + log + ":\n"
                        + node.tail());
            }
            LockSupport.parkNanos(20_000_000);
        }
        return node;
    }

    private void readOutput() {
        try (BufferedReader in = new BufferedReader(new InputStreamReader(process.getInputStream(),
                StandardCharsets.UTF_8)); PrintWriter out = new PrintWriter(Files.newBufferedWriter(log), true)) {
            String line;
            while ((line = in.readLine()) != null) {
                out.println(line);
                lastLine = line;
                Matcher m = STATUS.matcher(line);
                if (m.find()) {
                    published = Long.parseLong(m.group(1));
                    Matcher a = APPLIED.matcher(line);
                    Matcher d = DEAD_LETTERS.matcher(line);
                    if (a.find() && d.find()) {
                        applied = Long.parseLong(a.group(1));
                        deadLetters = Long.parseLong(d.group(1));
                    }
                } else if (line.contains("node " + name + " started")) {
                    started = true;
                }
            }
        } catch (IOException e) {
            lastLine = "log reader: " + e;
        }
    }

    /** @return {@link System#nanoTime()} just before the process was started */
    long startNanos() {
        return startNanos;
    }

    private void sampleRss() {
        long rss = statusMb("VmRSS");
        peakRss.accumulateAndGet(rss, Math::max);
    }

    /** @return the largest {@code VmRSS} sampled (every 200 ms) since the last {@link #resetPeakRss()} */
    long peakRssMb() {
        sampleRss();
        return peakRss.get();
    }

    void resetPeakRss() {
        peakRss.set(-1);
        sampleRss();
    }

    long published() {
        return published;
    }

    long applied() {
        return applied;
    }

    long deadLetters() {
        return deadLetters;
    }

    long pid() {
        return process.pid();
    }

    /** Fails when the node process has exited. */
    void checkAlive() {
        if (!process.isAlive()) {
            throw new IllegalStateException("node " + name + " exited with " + process.exitValue() + "; log " + log
                    + ":\n" + tail());
        }
    }

    /** @return a field of {@code /proc/<pid>/status} in MB ({@code VmRSS}, {@code VmHWM}), or -1 */
    long statusMb(String field) {
        try {
            for (String l : Files.readAllLines(Path.of("/proc/" + pid() + "/status"))) {
                if (l.startsWith(field + ":")) {
                    return Long.parseLong(l.replaceAll("[^0-9]", "")) / 1024;
                }
            }
        } catch (IOException | RuntimeException e) {
            // gone, or not Linux
        }
        return -1;
    }

    /** @return user + system CPU time the process used so far, in milliseconds, or -1 */
    long cpuMillis() {
        try {
            String stat = Files.readString(Path.of("/proc/" + pid() + "/stat"));
            String[] f = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
            return (Long.parseLong(f[11]) + Long.parseLong(f[12])) * 1000 / CLOCK_TICKS_PER_S;
        } catch (IOException | RuntimeException e) {
            return -1;
        }
    }

    /** @return heap used and committed in MB from {@code jcmd <pid> GC.heap_info}, or {-1, -1} */
    long[] heapMb() {
        try {
            Process p = new ProcessBuilder("jcmd", Long.toString(pid()), "GC.heap_info").redirectErrorStream(true)
                    .start();
            String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            p.waitFor(20, TimeUnit.SECONDS);
            Matcher m = Pattern.compile("heap\\s+total (\\d+)K, used (\\d+)K").matcher(out);
            if (m.find()) {
                return new long[] {Long.parseLong(m.group(2)) / 1024, Long.parseLong(m.group(1)) / 1024};
            }
        } catch (IOException e) {
            // no jcmd
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        return new long[] {-1, -1};
    }

    /** Stops the node as Ctrl-C would (SIGTERM, its shutdown hook closes it) and waits for it. */
    @Override
    public void close() {
        LIVE.remove(this);
        process.destroy();
        try {
            if (!process.waitFor(60, TimeUnit.SECONDS)) {
                process.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    String tail() {
        try {
            List<String> lines = Files.exists(log) ? Files.readAllLines(log) : new ArrayList<>();
            return String.join("\n", lines.subList(Math.max(0, lines.size() - 30), lines.size()));
        } catch (IOException e) {
            return lastLine;
        }
    }
}
