package io.mqdb.fault;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.mqdb.spi.Key;
import io.mqdb.spi.Row;
import java.nio.file.Files;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * Source PostgreSQL (node {@code pub}) → broker Mosquitto → target Redis (node {@code sub}, a Redis with an
 * append-only file, so it keeps its data over the outage). Redis is stopped for 20 seconds while changes flow (the
 * issue's outage), then started again: the changes wait (the subscriber retries, its messages unacknowledged) and
 * apply afterwards, in order: Redis equals PostgreSQL row by row, each row's {@code version} (incremented by every
 * update) included. Recovery is measured, not only its result: Redis must equal PostgreSQL within 2 s of accepting
 * connections again (the subscriber probes at least every second), and the subscriber's log must hold exactly one
 * line for the outage's start and one for its end.
 */
class FaultTargetDownIT extends PgToRedisFaultTest {
    private static final Duration OUTAGE = Duration.ofSeconds(20);
    private static final Duration CATCH_UP = Duration.ofSeconds(2);

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
    void changesMadeWhileRedisIsDownApplyInOrderWithinTwoSecondsOfItsReturn() throws Exception {
        redis = DurableRedis.start();
        flow = new PgToRedisFlow(dir, "targetdown", 2_000, redis.uri(), "7d");
        // few keys, many updates each: an update applied out of order would leave a lower version behind
        ChangeWriter writer = flow.writer(3, 1_000, Long.MAX_VALUE, 5, 500);
        Future<Long> writing = flow.run(writer);
        await().atMost(Duration.ofSeconds(30)).until(() -> writer.done.get() >= 2_000);
        redis.stop();
        long atStop = writer.done.get();
        Thread.sleep(OUTAGE.toMillis()); // the fault's duration, not a wait for a condition
        writer.stop = true; // the changes to catch up with are those of the outage
        writing.get(30, TimeUnit.SECONDS);
        long duringOutage = writer.done.get() - atStop;
        redis.startAgain();
        long back = System.nanoTime();
        String injected = "Redis stopped for " + OUTAGE.toSeconds() + " s after " + atStop + " changes, "
                + duringOutage + " changes made meanwhile, " + writer.summary()
                + " in all; source PostgreSQL, target Redis, broker Mosquitto";
        AtomicReference<FaultCheck.Report> last = new AtomicReference<>();
        await().atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofMillis(50)).pollDelay(Duration.ZERO)
                .ignoreException(io.mqdb.spi.RetriableException.class) // the test's own pooled connections
                .until(() -> {
                    last.set(flow.compare());
                    return last.get().clean();
                });
        long catchUpMs = (System.nanoTime() - back) / 1_000_000;
        System.out.println(last.get().line("FaultTargetDownIT", injected));
        System.out.printf("FaultTargetDownIT: caught up %d ms after Redis accepted connections again%n", catchUpMs);
        assertThat(flow.nodes.alive("sub")).as("the subscriber survived the outage").isTrue();
        Map<Key, Row> source = FaultCheck.rows(flow.source, flow.table);
        Map<Key, Row> target = FaultCheck.rows(flow.target, flow.table);
        long versions = FaultCheck.sum(source, "version");
        System.out.printf("FaultTargetDownIT: version sum source=%d target=%d, %d rows updated at least once%n",
                versions, FaultCheck.sum(target, "version"),
                source.values().stream().filter(r -> ((Number) r.get("version")).longValue() > 1).count());
        assertThat(FaultCheck.sum(target, "version")).isEqualTo(versions);
        assertThat(Duration.ofMillis(catchUpMs)).as("time from Redis's return to Redis equal to PostgreSQL")
                .isLessThanOrEqualTo(CATCH_UP);

        List<String> log = Files.readAllLines(flow.nodes.log("sub"));
        List<String> started = log.stream().filter(l -> l.contains("failed, retrying at least every")).toList();
        List<String> ended = log.stream().filter(l -> l.contains("succeeded again after an outage")).toList();
        List<String> between = log.stream().filter(l -> l.contains(" WARN ") || l.contains(" ERROR ")).toList();
        System.out.printf("FaultTargetDownIT: the subscriber logged the outage as:%n  %s%n  %s%n",
                String.join("\n  ", started), String.join("\n  ", ended));
        assertThat(started).as("lines for the outage's start").hasSize(1);
        assertThat(ended).as("lines for the outage's end").hasSize(1);
        assertThat(between).as("WARN and ERROR lines of the subscriber").hasSize(1);
    }
}
