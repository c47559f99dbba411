package io.mqdb.fault;

import static org.awaitility.Awaitility.await;

import io.mqdb.testing.RedisServer;
import java.time.Duration;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * Source PostgreSQL (node {@code pub}, trigger capture) → broker: an external Mosquitto → target Redis (node
 * {@code sub}). While a writer makes 50,000 changes, the broker is killed with SIGKILL twice and started again on the
 * same port; afterwards Redis must equal PostgreSQL row by row.
 */
class FaultBrokerKillIT extends PgToRedisFaultTest {
    private static final long CHANGES = 50_000;
    private static final long KEYS = 20_000;
    private static final Duration BROKER_DOWN = Duration.ofSeconds(2);

    @Test
    void aBrokerKilledTwiceMidStreamLosesNoChange() throws Exception {
        flow = new PgToRedisFlow(dir, "brokerkill", 2_000, RedisServer.shared().uri(), "7d");
        ChangeWriter writer = flow.writer(1, KEYS, CHANGES, 10, 2_500);
        Future<Long> writing = flow.run(writer);
        for (long at : new long[] {15_000, 35_000}) {
            await().atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofMillis(20))
                    .until(() -> writer.done.get() >= at || writing.isDone());
            flow.broker.kill();
            System.out.printf("FaultBrokerKillIT: broker killed (SIGKILL) after %d changes%n", writer.done.get());
            Thread.sleep(BROKER_DOWN.toMillis()); // the fault's duration, not a wait for a condition
            flow.broker.startAgain();
        }
        writing.get(120, TimeUnit.SECONDS);
        FaultCheck.awaitEqual("FaultBrokerKillIT", "broker kill -9 x2 (down " + BROKER_DOWN.toSeconds()
                + " s each) during " + writer.summary() + ", source PostgreSQL, target Redis, broker Mosquitto",
                Duration.ofSeconds(60), flow::compare);
    }
}
