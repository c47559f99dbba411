package io.mqdb.fault;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.mqdb.spi.Key;
import io.mqdb.spi.Row;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * Source PostgreSQL (node {@code pub}) → broker Mosquitto → target Redis (node {@code sub}, a Redis with an
 * append-only file, so it keeps its data over the outage). Redis is stopped for 30 seconds while changes flow, then
 * started again: the changes wait (the subscriber retries, its messages unacknowledged) and apply afterwards, in
 * order: Redis equals PostgreSQL row by row, each row's {@code version} (incremented by every update) included.
 */
class FaultTargetDownIT extends PgToRedisFaultTest {
    private static final Duration OUTAGE = Duration.ofSeconds(30);

    private DurableRedis redis;

    @AfterEach
    void stopRedis() {
        // JUnit runs a subclass's @AfterEach before its superclass's: stop the flow first, so that the subscriber
        // does not spend its last seconds retrying against a Redis that is gone
        if (flow != null) {
            flow.close();
        }
        if (redis != null) {
            redis.close();
        }
    }

    @Test
    void changesMadeWhileRedisIsDownApplyInOrderWhenItReturns() throws Exception {
        redis = DurableRedis.start();
        flow = new PgToRedisFlow(dir, "targetdown", 2_000, redis.uri(), "7d");
        // few keys, many updates each: an update applied out of order would leave a lower version behind
        ChangeWriter writer = flow.writer(3, 1_000, Long.MAX_VALUE, 5, 1_000);
        Future<Long> writing = flow.run(writer);
        await().atMost(Duration.ofSeconds(30)).until(() -> writer.done.get() >= 3_000);
        redis.stop();
        long atStop = writer.done.get();
        Thread.sleep(OUTAGE.toMillis()); // the fault's duration, not a wait for a condition
        long duringOutage = writer.done.get() - atStop;
        redis.startAgain();
        long atStart = writer.done.get();
        await().atMost(Duration.ofSeconds(30)).until(() -> writer.done.get() >= atStart + 3_000);
        writer.stop = true;
        writing.get(30, TimeUnit.SECONDS);
        assertThat(flow.nodes.alive("sub")).as("the subscriber survived the outage").isTrue();
        String injected = "Redis stopped for " + OUTAGE.toSeconds() + " s after " + atStop + " changes, "
                + duringOutage + " changes made meanwhile, " + writer.summary()
                + " in all; source PostgreSQL, target Redis, broker Mosquitto";
        FaultCheck.awaitEqual("FaultTargetDownIT", injected, Duration.ofSeconds(60), flow::compare);
        Map<Key, Row> source = FaultCheck.rows(flow.source, flow.table);
        Map<Key, Row> target = FaultCheck.rows(flow.target, flow.table);
        long versions = FaultCheck.sum(source, "version");
        System.out.printf("FaultTargetDownIT: version sum source=%d target=%d, %d rows updated at least once%n",
                versions, FaultCheck.sum(target, "version"),
                source.values().stream().filter(r -> ((Number) r.get("version")).longValue() > 1).count());
        assertThat(FaultCheck.sum(target, "version")).isEqualTo(versions);
    }
}
