package io.mqdb.fault;

import io.mqdb.testing.RedisServer;
import java.time.Duration;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * The sync on a Mosquitto as users run it: its own defaults (20 messages in flight per client, 1,000 queued, no
 * TCP_NODELAY) and the nodes' defaults. With Paho and mqdb's receive maximum of 1,000 the subscriber used to stall
 * until its keep-alive gave up, over and over (1,509 of 10,000 rows missing after 3 minutes). Source PostgreSQL →
 * Mosquitto → Redis; 50,000 changes; Redis must equal PostgreSQL row by row.
 */
class StockMosquittoSyncIT extends PgToRedisFaultTest {
    private static final long CHANGES = 50_000;

    @Test
    void theSyncRunsOnAStockMosquittoConfig() throws Exception {
        flow = new PgToRedisFlow(dir, "stockmosq", 2_000, RedisServer.shared().uri(), "7d", true);
        ChangeWriter writer = flow.writer(7, 10_000, CHANGES, 10, 5_000);
        Future<Long> writing = flow.run(writer);
        writing.get(120, TimeUnit.SECONDS);
        FaultCheck.awaitEqual("StockMosquittoSyncIT", writer.summary() + " on a stock Mosquitto config (no inflight or "
                + "queue settings), node defaults, source PostgreSQL, target Redis", Duration.ofSeconds(60),
                flow::compare);
    }
}
