package io.mqdb.fault;

import io.mqdb.testing.ServerFixture;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * A {@code redis-server} of one test's own with an append-only file fsynced on every write, so that stopping and
 * starting it keeps its data: core's {@code RedisServer} runs without persistence and comes back empty, which would
 * make "the target equals the source after the outage" untestable.
 */
final class DurableRedis extends ServerFixture {
    private final int port;
    private List<String> command;
    private Path log;
    private Process process;

    private DurableRedis(int port) {
        this.port = port;
    }

    /** Starts a server on a free loopback port; {@link #close()} stops it and removes its folder. */
    static DurableRedis start() {
        Path bin = findBinary(List.of("redis-server"), List.of())
                .orElseThrow(() -> unavailable("local redis-server (to stop and restart it)", "MQDB_TEST_REDIS",
                        "redis-server (apt-get install redis-server)"));
        DurableRedis r = new DurableRedis(freePort());
        Path dir = r.tempDir("mqdb-fault-redis-");
        r.command = List.of(bin.toString(), "--port", Integer.toString(r.port), "--bind", "127.0.0.1", "--save", "",
                "--appendonly", "yes", "--appendfsync", "always", "--dir", dir.toString());
        r.log = dir.resolve("redis.log");
        r.startAgain();
        return r;
    }

    /** Starts the server (again) on its port; it loads its append-only file. */
    synchronized void startAgain() {
        process = startProcess(log, command);
        awaitPort("127.0.0.1", port, Duration.ofSeconds(20), process, log);
    }

    /** SIGTERM: Redis flushes its append-only file and exits. */
    synchronized void stop() throws InterruptedException {
        process.destroy();
        if (!process.waitFor(20, TimeUnit.SECONDS)) {
            process.destroyForcibly().waitFor(5, TimeUnit.SECONDS);
            throw new IllegalStateException("redis-server did not stop within 20 s of SIGTERM");
        }
    }

    /** @return {@code redis://127.0.0.1:port} */
    String uri() {
        return "redis://127.0.0.1:" + port;
    }
}
