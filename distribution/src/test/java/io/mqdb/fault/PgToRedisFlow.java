package io.mqdb.fault;

import io.mqdb.spi.Store;
import io.mqdb.spi.TableId;
import io.mqdb.testing.PostgresServer;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

/**
 * The flow most fault tests break: a PostgreSQL table (trigger capture) published by tarball node {@code pub}, applied
 * to Redis by tarball node {@code sub}, both connected to an external Mosquitto of the test's own. The subscriber
 * starts first, so its session exists before the publisher's initial load.
 */
final class PgToRedisFlow implements AutoCloseable {
    final PostgresServer pg = PostgresServer.shared();
    final KillableMosquitto broker;
    final TarballNodes nodes;
    final TableId table;
    final String url;
    final Store source;
    final Store target;
    private final ExecutorService writers = Executors.newCachedThreadPool();

    /**
     * @param dir the test's temporary folder
     * @param schema the table's schema, also the database's name: unique per test
     * @param initialRows rows {@code 1..initialRows} present before the publisher starts (its initial load)
     * @param redisUri the target Redis
     * @param sessionExpiry the subscriber's {@code broker.session-expiry}
     */
    PgToRedisFlow(Path dir, String schema, long initialRows, String redisUri, String sessionExpiry) throws Exception {
        this(dir, schema, initialRows, redisUri, sessionExpiry, false);
    }

    /**
     * The same, with the broker on Mosquitto's own defaults when {@code stockBroker} (see
     * {@link KillableMosquitto#start(boolean)}) and the nodes on theirs (no batch-size or flush-interval).
     */
    PgToRedisFlow(Path dir, String schema, long initialRows, String redisUri, String sessionExpiry,
                  boolean stockBroker) throws Exception {
        broker = KillableMosquitto.start(stockBroker);
        String tuning = stockBroker ? "" : ", batch-size: 1000, flush-interval: 20ms";
        String pubTuning = stockBroker ? "" : ", batch-size: 1000";
        table = TableId.parse(schema + ":items");
        url = pg.createDatabase("fault_" + schema);
        TarballNodes started = null;
        try {
            try (Connection c = DriverManager.getConnection(url, pg.user(), pg.password())) {
                ChangeWriter.createTable(c, schema, "items", initialRows);
            }
            started = TarballNodes.unpack(dir);
            started.config("sub", """
                    node: { name: sub, data-dir: sub-data }
                    broker: { uris: [ "%s" ], session-expiry: %s }
                    stores: { cache: { type: redis, uri: "%s" } }
                    channels: [ { name: %s, store: cache, subscribe: true%s } ]
                    """.formatted(broker.uri(), sessionExpiry, redisUri, table, tuning));
            started.config("pub", """
                    node: { name: pub, data-dir: pub-data }
                    broker: { uris: [ "%s" ] }
                    stores: { pg: %s }
                    channels: [ { name: %s, store: pg, publish: true%s } ]
                    """.formatted(broker.uri(), TarballNodes.postgresYaml(url, pg.user(), pg.password()), table,
                    pubTuning));
            started.start("sub");
            started.start("pub");
            source = started.store("jdbc", TarballNodes.postgres(url, pg.user(), pg.password()));
            target = started.store("redis", Map.of("uri", redisUri));
        } catch (Exception | Error e) {
            // the test never sees this object, so nothing else would stop what started
            if (started != null) {
                started.close();
            }
            broker.close();
            throw e;
        }
        nodes = started;
    }

    /** A writer on the source table; see {@link ChangeWriter}. */
    ChangeWriter writer(long seed, long keySpace, long maxChanges, int changesPerCommit, int perSecond) {
        return new ChangeWriter(url, pg.user(), pg.password(), table.schema() + "." + table.table(), seed, 1,
                keySpace, maxChanges, changesPerCommit, perSecond, false, "w");
    }

    /** Starts a writer on its own thread; {@link #close()} interrupts it if the test did not stop it. */
    Future<Long> run(ChangeWriter writer) {
        return writers.submit(writer);
    }

    FaultCheck.Report compare() {
        return FaultCheck.compare(source, target, table);
    }

    @Override
    public void close() {
        writers.shutdownNow();
        try {
            nodes.close();
        } finally {
            broker.close();
        }
    }
}
