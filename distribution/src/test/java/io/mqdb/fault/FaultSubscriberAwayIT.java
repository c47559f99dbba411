package io.mqdb.fault;

import static org.awaitility.Awaitility.await;

import io.mqdb.testing.RedisServer;
import java.time.Duration;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * Source PostgreSQL (node {@code pub}) → broker Mosquitto → target Redis (node {@code sub}, broker session expiry
 * 1 s, the least {@code broker.session-expiry} allows). The subscriber is stopped for much longer than its session
 * lives, so the broker forgets it and drops what is published meanwhile, while the source inserts, updates and
 * deletes. Started again, the subscriber must catch up by itself (per-origin sequence gap detection and a resend
 * request): nothing missing, nothing resurrected, deleted rows stay deleted.
 */
class FaultSubscriberAwayIT extends PgToRedisFaultTest {
    private static final Duration AWAY = Duration.ofSeconds(8);

    @Test
    void aSubscriberAwayLongerThanItsSessionCatchesUpByItself() throws Exception {
        flow = new PgToRedisFlow(dir, "subaway", 3_000, RedisServer.shared().uri(), "1s");
        ChangeWriter writer = flow.writer(5, 5_000, Long.MAX_VALUE, 5, 1_000);
        Future<Long> writing = flow.run(writer);
        await().atMost(Duration.ofSeconds(30)).until(() -> writer.done.get() >= 2_000);
        flow.nodes.stop("sub");
        long atStop = writer.done.get();
        Thread.sleep(AWAY.toMillis()); // the fault's duration, not a wait for a condition
        long whileAway = writer.done.get() - atStop;
        flow.nodes.start("sub");
        long atStart = writer.done.get();
        await().atMost(Duration.ofSeconds(30)).until(() -> writer.done.get() >= atStart + 2_000);
        writer.stop = true;
        writing.get(30, TimeUnit.SECONDS);
        String injected = "subscriber stopped for " + AWAY.toSeconds() + " s with session expiry 1 s, "
                + whileAway + " changes made meanwhile, " + writer.summary()
                + " in all; source PostgreSQL, target Redis, broker Mosquitto";
        FaultCheck.awaitEqual("FaultSubscriberAwayIT", injected, Duration.ofSeconds(45), flow::compare);
    }
}
