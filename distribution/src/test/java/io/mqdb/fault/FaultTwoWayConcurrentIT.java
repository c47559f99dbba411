package io.mqdb.fault;

import io.mqdb.spi.Store;
import io.mqdb.spi.TableId;
import io.mqdb.testing.PostgresServer;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Two-way: PostgreSQL database A (node {@code node-a}) ⇄ broker Mosquitto ⇄ PostgreSQL database B (node
 * {@code node-b}); each node publishes and subscribes the same channel. Two SQL writers, one per database, update
 * the same 200 keys concurrently. When they stop, both databases must hold the same row for every key, whichever
 * write won (last-writer-wins by version).
 */
class FaultTwoWayConcurrentIT {
    private static final TableId TABLE = TableId.parse("twoway:items");
    private static final long KEYS = 200;
    private static final long CHANGES_PER_SIDE = 3_000;

    @TempDir
    Path dir;
    private KillableMosquitto broker;
    private TarballNodes nodes;
    private final ExecutorService writers = Executors.newFixedThreadPool(2);

    @AfterEach
    void stop() {
        writers.shutdownNow();
        try {
            if (nodes != null) {
                nodes.close();
            }
        } finally {
            if (broker != null) {
                broker.close();
            }
        }
    }

    @Test
    void concurrentUpdatesOfTheSameKeysOnBothSidesConverge() throws Exception {
        PostgresServer pg = PostgresServer.shared();
        String urlA = pg.createDatabase("fault_twoway_a");
        String urlB = pg.createDatabase("fault_twoway_b");
        for (String url : List.of(urlA, urlB)) {
            try (Connection c = DriverManager.getConnection(url, pg.user(), pg.password())) {
                ChangeWriter.createTable(c, "twoway", "items", KEYS);
            }
        }
        broker = KillableMosquitto.start();
        nodes = TarballNodes.unpack(dir);
        for (String side : List.of("a", "b")) {
            nodes.config("node-" + side, """
                    node: { name: node-%s, data-dir: node-%s-data }
                    broker: { uris: [ "%s" ] }
                    stores: { pg: %s }
                    channels: [ { name: %s, store: pg, publish: true, subscribe: true, batch-size: 1000 } ]
                    """.formatted(side, side, broker.uri(), TarballNodes.postgresYaml(side.equals("a") ? urlA : urlB,
                    pg.user(), pg.password()), TABLE));
        }
        nodes.start("node-a");
        nodes.start("node-b");
        Store a = nodes.store("jdbc", TarballNodes.postgres(urlA, pg.user(), pg.password()));
        Store b = nodes.store("jdbc", TarballNodes.postgres(urlB, pg.user(), pg.password()));

        ChangeWriter onA = new ChangeWriter(urlA, pg.user(), pg.password(), "twoway.items", 11, 1, KEYS,
                CHANGES_PER_SIDE, 1, 300, true, "a");
        ChangeWriter onB = new ChangeWriter(urlB, pg.user(), pg.password(), "twoway.items", 12, 1, KEYS,
                CHANGES_PER_SIDE, 1, 300, true, "b");
        Future<Long> writingA = writers.submit(onA);
        Future<Long> writingB = writers.submit(onB);
        writingA.get(60, TimeUnit.SECONDS);
        writingB.get(60, TimeUnit.SECONDS);
        FaultCheck.awaitEqual("FaultTwoWayConcurrentIT", "concurrent updates of the same " + KEYS + " keys, "
                + onA.summary() + " on A and " + onB.summary() + " on B; two-way PostgreSQL A <-> PostgreSQL B,"
                + " broker Mosquitto (source = A, target = B)", Duration.ofSeconds(30),
                () -> FaultCheck.compare(a, b, TABLE));
    }
}
