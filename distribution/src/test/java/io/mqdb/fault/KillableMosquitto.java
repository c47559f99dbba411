package io.mqdb.fault;

import io.mqdb.testing.ServerFixture;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * A Mosquitto broker of one test's own that can be killed with SIGKILL and started again on the same port, which
 * core's {@code MosquittoServer} cannot (it stops with SIGTERM only and keeps its process to itself). Configured like
 * that fixture, with the strongest durability Mosquitto 2.0 offers: persistence on and a snapshot every second
 * ({@code autosave_interval 1}); a SIGKILL loses what reached the broker since its last snapshot.
 */
final class KillableMosquitto extends ServerFixture {
    private final Path binary;
    private final int port;
    private Path dir;
    private Process process;

    private KillableMosquitto(Path binary, int port) {
        this.binary = binary;
        this.port = port;
    }

    /** Starts a broker on a free loopback port; {@link #close()} stops it and removes its folder. */
    static KillableMosquitto start() {
        return start(false);
    }

    /**
     * @param stock whether to run with Mosquitto's own defaults (no {@code max_inflight_messages},
     *     {@code max_queued_messages} or {@code set_tcp_nodelay}: 20 messages in flight and 1,000 queued per client),
     *     as a user's broker would; persistence stays on
     * @return a broker on a free loopback port; {@link #close()} stops it and removes its folder
     */
    static KillableMosquitto start(boolean stock) {
        Path bin = findBinary(List.of("mosquitto"), List.of("/usr/sbin"))
                .orElseThrow(() -> unavailable("local mosquitto binary (to kill and restart it)", "MQDB_TEST_MQTT",
                        "mosquitto (apt-get install mosquitto)"));
        KillableMosquitto m = new KillableMosquitto(bin, freePort());
        m.dir = m.tempDir("mqdb-fault-mosquitto-");
        String conf = String.join("\n",
                "listener " + m.port + " 127.0.0.1",
                "allow_anonymous true",
                "persistence true",
                "persistence_location " + m.dir + "/",
                stock ? "" : "autosave_interval 1",
                stock ? "" : "max_inflight_messages 500", // below the receive maximum: 2.0.11 overruns its quota
                stock ? "" : "max_queued_messages 0",
                stock ? "" : "set_tcp_nodelay true",
                "log_dest stdout",
                "log_type error",
                "log_type warning",
                "user root",
                "");
        try {
            Files.writeString(m.dir.resolve("mosquitto.conf"), conf);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        m.startAgain();
        return m;
    }

    /** Starts the broker (again) on its port, with whatever its persistence file holds. */
    synchronized void startAgain() {
        Path log = dir.resolve("mosquitto.log");
        process = startProcess(log, List.of(binary.toString(), "-c", dir.resolve("mosquitto.conf").toString()));
        awaitPort("127.0.0.1", port, Duration.ofSeconds(10), process, log);
    }

    /** SIGKILL: no final snapshot is written. */
    synchronized void kill() throws InterruptedException {
        process.destroyForcibly();
        if (!process.waitFor(10, TimeUnit.SECONDS)) {
            throw new IllegalStateException("mosquitto survived SIGKILL for 10 s");
        }
    }

    /** SIGTERM: a clean stop, which writes the persistence file. */
    synchronized void stop() throws InterruptedException {
        process.destroy();
        if (!process.waitFor(10, TimeUnit.SECONDS)) {
            process.destroyForcibly().waitFor(5, TimeUnit.SECONDS);
        }
    }

    /** @return {@code tcp://127.0.0.1:port} */
    String uri() {
        return "tcp://127.0.0.1:" + port;
    }
}
