package io.mqdb.fault;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.mqdb.testing.RedisServer;
import java.nio.file.Files;
import java.time.Duration;
import java.util.Random;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/**
 * Source PostgreSQL (node {@code pub}) → broker Mosquitto → target Redis (node {@code sub}). The subscriber's JVM is
 * killed with SIGKILL at three random points of a write stream and started again each time. Its version index must
 * reopen at its last commit, without a rebuild: the subscriber never asks an origin to publish again from number 1
 * (what an empty index would do), the publisher makes no snapshot, and the rows converge within seconds of the last
 * restart (the time is printed). {@code -Dfault.seed=N} replays a run.
 */
class FaultSubscriberKillIT extends PgToRedisFaultTest {
    private static final int KILLS = 3;
    /** The CI scale (100,000 of its 1,000,000 rows): the index the kills must not lose holds them all. */
    private static final int INITIAL_ROWS = 100_000;
    private static final Pattern INDEX_REOPENED = Pattern.compile("version index \\S+: [1-9]\\d* keys");
    private static final Pattern RESEND_FROM_ONE = Pattern.compile("publish again from 1( |\\R|$)");

    @Test
    void aSubscriberKilledThreeTimesResumesFromItsLastCommit() throws Exception {
        long seed = Long.getLong("fault.seed", System.nanoTime());
        Random random = new Random(seed);
        flow = new PgToRedisFlow(dir, "subkill", INITIAL_ROWS, RedisServer.shared().uri(), "7d");
        long loadStart = System.nanoTime();
        await().atMost(Duration.ofSeconds(180)).pollInterval(Duration.ofSeconds(1)).until(() -> flow.compare().clean());
        System.out.printf("FaultSubscriberKillIT: initial load of %,d rows into Redis in %d ms%n", INITIAL_ROWS,
                (System.nanoTime() - loadStart) / 1_000_000);
        ChangeWriter writer = flow.writer(seed, 10_000, Long.MAX_VALUE, 5, 2_000);
        Future<Long> writing = flow.run(writer);
        await().atMost(Duration.ofSeconds(30)).until(() -> writer.done.get() >= 1_000);
        long logBeforeKills = Files.size(flow.nodes.log("sub"));
        long pubLogBeforeKills = Files.size(flow.nodes.log("pub"));
        StringBuilder points = new StringBuilder();
        for (int k = 1; k <= KILLS; k++) {
            long at = writer.done.get() + 500 + random.nextInt(3_000);
            await().atMost(Duration.ofSeconds(30)).pollInterval(Duration.ofMillis(5))
                    .until(() -> writer.done.get() >= at);
            flow.nodes.kill("sub");
            points.append(k == 1 ? "" : ",").append(writer.done.get());
            flow.nodes.start("sub");
        }
        long restarted = System.nanoTime();
        writer.stop = true;
        writing.get(30, TimeUnit.SECONDS);
        String injected = "subscriber kill -9 x" + KILLS + " at changes " + points + " (seed " + seed + ") during "
                + writer.summary() + ", source PostgreSQL, target Redis, broker Mosquitto";
        AtomicReference<FaultCheck.Report> last = new AtomicReference<>();
        await().atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofMillis(100)).pollDelay(Duration.ZERO)
                .until(() -> {
                    last.set(flow.compare());
                    return last.get().clean();
                });
        long catchUpMs = (System.nanoTime() - restarted) / 1_000_000;
        System.out.println(last.get().line("FaultSubscriberKillIT", injected));
        System.out.printf("FaultSubscriberKillIT: Redis equal to PostgreSQL %d ms after the subscriber's last start"
                + "%n", catchUpMs);
        String publisher = Files.readString(flow.nodes.log("pub")).substring((int) pubLogBeforeKills);
        assertThat(publisher).as("the publisher answered the kills without a snapshot")
                .doesNotContain("publishing a fresh snapshot").doesNotContain(": snapshot of");
        assertThat(Duration.ofMillis(catchUpMs)).as("catch-up after the last restart")
                .isLessThanOrEqualTo(Duration.ofSeconds(10));
        String afterKills = Files.readString(flow.nodes.log("sub")).substring((int) logBeforeKills);
        assertThat(RESEND_FROM_ONE.matcher(afterKills).find())
                .as("after a kill -9 the subscriber resumes from its last commit, not from 1").isFalse();
        assertThat(INDEX_REOPENED.matcher(afterKills).find()).as("the index reopened holding keys").isTrue();
        assertThat(afterKills).doesNotContain("unclean").doesNotContain(".corrupt-");
    }
}
