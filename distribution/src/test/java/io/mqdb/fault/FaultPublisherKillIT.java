package io.mqdb.fault;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.mqdb.testing.RedisServer;
import java.time.Duration;
import java.util.Random;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * Source PostgreSQL (node {@code pub}) → broker Mosquitto → target Redis (node {@code sub}). The publisher's JVM is
 * killed with SIGKILL at six random points of a write stream and started again each time. Every committed change must
 * reach Redis exactly once in effect: the rows are equal, the writer's per-row {@code counter} included.
 * {@code -Dfault.seed=N} replays a run.
 */
class FaultPublisherKillIT extends PgToRedisFaultTest {
    private static final int KILLS = 6;

    @Test
    void aPublisherKilledSixTimesStillDeliversEveryCommittedChange() throws Exception {
        long seed = Long.getLong("fault.seed", System.nanoTime());
        Random random = new Random(seed);
        flow = new PgToRedisFlow(dir, "pubkill", 2_000, RedisServer.shared().uri(), "7d");
        ChangeWriter writer = flow.writer(seed, 10_000, Long.MAX_VALUE, 5, 2_000);
        Future<Long> writing = flow.run(writer);
        StringBuilder points = new StringBuilder();
        for (int k = 1; k <= KILLS; k++) {
            long at = writer.done.get() + 500 + random.nextInt(4_000);
            await().atMost(Duration.ofSeconds(30)).pollInterval(Duration.ofMillis(5))
                    .until(() -> writer.done.get() >= at);
            flow.nodes.kill("pub");
            points.append(k == 1 ? "" : ",").append(writer.done.get());
            flow.nodes.start("pub");
        }
        writer.stop = true;
        writing.get(30, TimeUnit.SECONDS);
        String injected = "publisher kill -9 x" + KILLS + " at changes " + points + " (seed " + seed + ") during "
                + writer.summary() + ", source PostgreSQL, target Redis, broker Mosquitto";
        FaultCheck.awaitEqual("FaultPublisherKillIT", injected, Duration.ofSeconds(60), flow::compare);
        long sourceCounters = FaultCheck.sum(FaultCheck.rows(flow.source, flow.table), "counter");
        long targetCounters = FaultCheck.sum(FaultCheck.rows(flow.target, flow.table), "counter");
        System.out.printf("FaultPublisherKillIT: counter sum source=%d target=%d%n", sourceCounters, targetCounters);
        assertThat(targetCounters).isEqualTo(sourceCounters);
    }
}
