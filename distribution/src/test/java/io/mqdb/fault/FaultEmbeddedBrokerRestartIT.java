package io.mqdb.fault;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.mqdb.spi.Store;
import io.mqdb.spi.TableId;
import io.mqdb.testing.PostgresServer;
import io.mqdb.testing.RedisServer;
import io.mqdb.testing.ServerFixture;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.CleanupMode;
import org.junit.jupiter.api.io.TempDir;

/**
 * Source PostgreSQL (node {@code pub}, trigger capture) → target Redis (node {@code sub}), where {@code sub} also
 * hosts the MQTT broker: the embedded HiveMQ with its default persistence (in memory). While three JDBC writers make
 * inserts, updates and deletes on disjoint key ranges, {@code sub} is killed with SIGKILL twice and started again,
 * and changes go on after each restart: each time the broker loses every session, queue and retained position, and
 * the subscriber its unflushed batch. The publisher's outbox and the subscriber's gap detection (resend or snapshot)
 * must make Redis equal PostgreSQL row by row. {@code -Dfault.seed=N} replays a run.
 *
 * <p>Not covered here: a broker restart that loses the last changes of a stream that then stays idle. The subscriber
 * learns of them from the publisher's positions, which the restart erased and which the publisher republishes every
 * 10 s whether they moved or not (OutboxSender.publishPositions); this test keeps writes flowing after each restart.
 */
class FaultEmbeddedBrokerRestartIT {
    private static final int WRITERS = 3;
    private static final long KEYS_PER_WRITER = 4_000;
    private static final long CHANGES_BETWEEN = 4_000;
    private static final int KILLS = 2;
    private static final int PER_SECOND_PER_WRITER = 700;

    @TempDir(cleanup = CleanupMode.ON_SUCCESS) // a failed run keeps the nodes' logs
    Path dir;
    private TarballNodes nodes;
    private final ExecutorService writing = Executors.newCachedThreadPool();

    @AfterEach
    void stop() {
        writing.shutdownNow();
        if (nodes != null) {
            nodes.close();
        }
    }

    @Test
    void theBrokerHostKilledTwiceMidStreamLosesNoChange() throws Exception {
        long seed = Long.getLong("fault.seed", System.nanoTime());
        PostgresServer pg = PostgresServer.shared();
        String schema = "ebrestart";
        TableId table = TableId.parse(schema + ":items");
        String url = pg.createDatabase("fault_" + schema);
        try (Connection c = DriverManager.getConnection(url, pg.user(), pg.password())) {
            ChangeWriter.createTable(c, schema, "items", 2_000);
        }
        String redisUri = RedisServer.shared().uri();
        int port = ServerFixture.freePort();
        nodes = TarballNodes.unpack(dir);
        nodes.config("sub", """
                node: { name: sub, data-dir: sub-data }
                broker: { embedded: { port: %d } }
                stores: { cache: { type: redis, uri: "%s" } }
                channels: [ { name: %s, store: cache, subscribe: true, batch-size: 1000, flush-interval: 20ms } ]
                """.formatted(port, redisUri, table));
        nodes.config("pub", """
                node: { name: pub, data-dir: pub-data }
                broker: { uris: [ "tcp://127.0.0.1:%d" ] }
                stores: { pg: %s }
                channels: [ { name: %s, store: pg, publish: true, batch-size: 1000 } ]
                """.formatted(port, TarballNodes.postgresYaml(url, pg.user(), pg.password()), table));
        nodes.start("sub");
        assertThat(Files.readString(nodes.log("sub"))).as("the broker's default persistence, logged at start")
                .contains("persistence in-memory");
        nodes.start("pub");
        Store source = nodes.store("jdbc", TarballNodes.postgres(url, pg.user(), pg.password()));
        Store target = nodes.store("redis", Map.of("uri", redisUri));

        List<ChangeWriter> writers = new ArrayList<>();
        List<Future<Long>> futures = new ArrayList<>();
        for (int w = 0; w < WRITERS; w++) {
            ChangeWriter writer = new ChangeWriter(url, pg.user(), pg.password(), schema + ".items", seed + w,
                    1 + w * KEYS_PER_WRITER, KEYS_PER_WRITER, Long.MAX_VALUE, 5, PER_SECOND_PER_WRITER, false,
                    "w" + w);
            writers.add(writer);
            futures.add(writing.submit(writer));
        }
        // each kill comes CHANGES_BETWEEN changes after the node is up again, so changes flow before, during and
        // after every restart
        StringBuilder points = new StringBuilder();
        long upAt = 0;
        for (int k = 0; k < KILLS; k++) {
            long at = upAt + CHANGES_BETWEEN;
            await().atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofMillis(20)).until(() -> done(writers) >= at);
            nodes.kill("sub");
            points.append(k == 0 ? "" : ",").append(done(writers));
            nodes.start("sub");
            upAt = done(writers);
        }
        long lastUp = upAt;
        await().atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofMillis(20))
                .until(() -> done(writers) >= lastUp + CHANGES_BETWEEN);
        for (ChangeWriter w : writers) {
            w.stop = true;
        }
        for (Future<Long> f : futures) {
            f.get(30, TimeUnit.SECONDS);
        }
        String injected = "kill -9 of the node hosting the embedded broker (persistence in-memory) x" + KILLS + " at changes "
                + points + " (seed " + seed + ") during " + summary(writers) + " from " + WRITERS
                + " JDBC writers, source PostgreSQL, target Redis";
        System.out.println("FaultEmbeddedBrokerRestartIT: nodes' folder " + dir);
        FaultCheck.awaitEqual("FaultEmbeddedBrokerRestartIT", injected, Duration.ofSeconds(60),
                () -> FaultCheck.compare(source, target, table));
        System.out.printf("FaultEmbeddedBrokerRestartIT: publisher answered %d resend requests, %d with a snapshot%n",
                count(nodes.log("pub"), " again for "), count(nodes.log("pub"), "publishing a fresh snapshot"));
    }

    private static long done(List<ChangeWriter> writers) {
        return writers.stream().mapToLong(w -> w.done.get()).sum();
    }

    private static String summary(List<ChangeWriter> writers) {
        long inserts = writers.stream().mapToLong(w -> w.inserts.get()).sum();
        long updates = writers.stream().mapToLong(w -> w.updates.get()).sum();
        long deletes = writers.stream().mapToLong(w -> w.deletes.get()).sum();
        return "%d changes (%d inserts, %d updates, %d deletes)".formatted(done(writers), inserts, updates, deletes);
    }

    private static long count(Path log, String text) {
        try {
            String s = Files.readString(log);
            long n = 0;
            for (int i = s.indexOf(text); i >= 0; i = s.indexOf(text, i + 1)) {
                n++;
            }
            return n;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
