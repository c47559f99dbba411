package io.mqdb.testing;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Optional;
import java.util.stream.Stream;

/**
 * The one way tests get a real server. Each kind of server (Redis, PostgreSQL, MariaDB, Mosquitto, Cassandra) is a
 * subclass that resolves its address in this order:
 * <ol>
 *   <li>an address given by an environment variable (e.g. {@code MQDB_TEST_REDIS=127.0.0.1:6379});</li>
 *   <li>else a binary found on this machine, started on a free loopback port in a temporary folder, stopped (and
 *   the folder removed) by {@link #close()} or at JVM exit;</li>
 *   <li>else Testcontainers, where a Docker engine answers.</li>
 * </ol>
 * When none works the fixture fails the test with what to install: integration tests are never skipped, so CI runs
 * every one of them.
 *
 * <p>Fixtures are shared per JVM through each subclass's {@code shared()} method; tests must not assume a fresh
 * server and use their own tables or key prefixes.
 */
public abstract class ServerFixture implements AutoCloseable {
    private final List<Process> processes = new ArrayList<>();
    private final List<Path> tempDirs = new ArrayList<>();
    private final List<AutoCloseable> others = new ArrayList<>();
    private volatile boolean closed;

    protected ServerFixture() {
        Runtime.getRuntime().addShutdownHook(new Thread(this::close, getClass().getSimpleName() + "-stop"));
    }

    /** @return a port on 127.0.0.1 that was free a moment ago */
    public static int freePort() {
        try (ServerSocket s = new ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
            s.setReuseAddress(true);
            return s.getLocalPort();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /**
     * @param names binary names, tried in order
     * @param extraDirs folders to look in beside the PATH (e.g. {@code /usr/lib/postgresql/15/bin})
     * @return the first executable found
     */
    public static Optional<Path> findBinary(List<String> names, List<String> extraDirs) {
        List<String> dirs = new ArrayList<>(extraDirs);
        String path = System.getenv("PATH");
        if (path != null) {
            dirs.addAll(List.of(path.split(java.io.File.pathSeparator)));
        }
        dirs.addAll(List.of("/usr/local/sbin", "/usr/local/bin", "/usr/sbin", "/usr/bin", "/sbin", "/bin"));
        for (String name : names) {
            for (String d : dirs) {
                Path p = Path.of(d, name);
                if (Files.isExecutable(p)) {
                    return Optional.of(p);
                }
            }
        }
        return Optional.empty();
    }

    /** @return the value of an environment variable if set and not blank */
    public static Optional<String> env(String name) {
        String v = System.getenv(name);
        return v == null || v.isBlank() ? Optional.empty() : Optional.of(v.trim());
    }

    /** @return whether a Docker engine answers (so Testcontainers can be used) */
    public static boolean dockerAvailable() {
        try {
            return org.testcontainers.DockerClientFactory.instance().isDockerAvailable();
        } catch (Throwable t) {
            return false;
        }
    }

    /**
     * Waits until a TCP port accepts connections.
     *
     * @param host the host
     * @param port the port
     * @param timeout how long to wait
     * @param process the server process, checked for an early exit; may be null
     * @param logFile the server's log, quoted in the error; may be null
     */
    public static void awaitPort(String host, int port, Duration timeout, Process process, Path logFile) {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (System.nanoTime() < deadline) {
            if (process != null && !process.isAlive()) {
                throw new IllegalStateException("server exited with " + process.exitValue() + " before " + host
                        + ":" + port + " opened" + tail(logFile));
            }
            try (Socket s = new Socket()) {
                s.connect(new InetSocketAddress(host, port), 200);
                return;
            } catch (IOException e) {
                pause(50);
            }
        }
        throw new IllegalStateException(host + ":" + port + " did not open within " + timeout + tail(logFile));
    }

    /** Sleeps without swallowing an interrupt; for polling loops in fixtures only (tests use Awaitility). */
    protected static void pause(long millis) {
        try {
            Thread.sleep(millis);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted", e);
        }
    }

    /** @return the last lines of a log file, prefixed for an error message, or "" */
    public static String tail(Path logFile) {
        if (logFile == null || !Files.exists(logFile)) {
            return "";
        }
        try {
            List<String> lines = Files.readAllLines(logFile);
            return "\n--- " + logFile + " (tail) ---\n"
                    + String.join("\n", lines.subList(Math.max(0, lines.size() - 30), lines.size()));
        } catch (IOException | RuntimeException e) {
            return "";
        }
    }

    /** @return a new temporary folder, removed on {@link #close()} */
    protected Path tempDir(String prefix) {
        try {
            Path d = Files.createTempDirectory(prefix);
            tempDirs.add(d);
            return d;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /**
     * Starts a server process with its output appended to a log file; it is destroyed on {@link #close()}.
     *
     * @param log where stdout and stderr go
     * @param command the command line
     * @return the process
     */
    protected Process startProcess(Path log, List<String> command) {
        try {
            ProcessBuilder pb = new ProcessBuilder(command).redirectErrorStream(true)
                    .redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile()));
            Process p = pb.start();
            processes.add(p);
            return p;
        } catch (IOException e) {
            throw new UncheckedIOException("cannot start " + command, e);
        }
    }

    /** Registers something to close with the fixture (a container, a client). */
    protected void closeLater(AutoCloseable c) {
        others.add(c);
    }

    /** The message for a server that could not be had. */
    protected static IllegalStateException unavailable(String what, String envVar, String install) {
        return new IllegalStateException("no " + what + " for the integration tests: set " + envVar
                + " to an address, or install " + install + " (CI installs it in .ci/run), or run a Docker engine");
    }

    /** Stops the processes (gracefully, then forcibly) and removes the temporary folders. Idempotent. */
    @Override
    public synchronized void close() {
        if (closed) {
            return;
        }
        closed = true;
        for (AutoCloseable c : others) {
            try {
                c.close();
            } catch (Exception ignored) {
                // best effort at shutdown
            }
        }
        for (Process p : processes) {
            p.destroy();
        }
        for (Process p : processes) {
            try {
                if (!p.waitFor(10, java.util.concurrent.TimeUnit.SECONDS)) {
                    p.destroyForcibly().waitFor(5, java.util.concurrent.TimeUnit.SECONDS);
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                p.destroyForcibly();
            }
        }
        for (Path d : tempDirs) {
            deleteTree(d);
        }
    }

    /** Removes a folder and everything in it; best effort. */
    public static void deleteTree(Path dir) {
        if (!Files.exists(dir)) {
            return;
        }
        try (Stream<Path> s = Files.walk(dir)) {
            s.sorted(Comparator.reverseOrder()).forEach(p -> {
                try {
                    Files.deleteIfExists(p);
                } catch (IOException ignored) {
                    // best effort
                }
            });
        } catch (IOException ignored) {
            // best effort
        }
    }
}
