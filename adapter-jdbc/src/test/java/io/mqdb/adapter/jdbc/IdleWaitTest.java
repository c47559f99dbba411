package io.mqdb.adapter.jdbc;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class IdleWaitTest {
    @Test
    void sleepDoublesFromOneMillisecondUpToThePollInterval() throws InterruptedException {
        IdleWait w = new IdleWait(200);
        assertThat(w.nextSleepMs()).isEqualTo(1);
        long[] expected = {2, 4, 8, 16, 32, 64, 128, 200, 200};
        for (long e : expected) {
            w.sleep(1_000_000L); // 1 ms left of the caller's wait: the test sleeps 1 ms a step
            assertThat(w.nextSleepMs()).isEqualTo(e);
        }
    }

    @Test
    void aPollThatFoundChangesStartsAgainAtOneMillisecond() throws InterruptedException {
        IdleWait w = new IdleWait(200);
        for (int i = 0; i < 5; i++) {
            w.sleep(1_000_000L);
        }
        assertThat(w.nextSleepMs()).isEqualTo(32);
        w.busy();
        assertThat(w.nextSleepMs()).isEqualTo(1);
    }

    @Test
    void neverSleepsPastTheCallersDeadline() throws InterruptedException {
        IdleWait w = new IdleWait(10_000);
        for (int i = 0; i < 14; i++) {
            w.sleep(1_000_000L); // 1 ms left each time: sleeps 1 ms, yet the next sleep still doubles
        }
        assertThat(w.nextSleepMs()).isEqualTo(10_000);
        long t0 = System.nanoTime();
        w.sleep(3_000_000L); // 3 ms left of the caller's wait although the next sleep would be 10 s
        assertThat((System.nanoTime() - t0) / 1_000_000).isLessThan(1_000);
    }

    @Test
    void withinASecondOfAPollThatFoundChangesTheSleepStaysShort() throws InterruptedException {
        IdleWait w = new IdleWait(200);
        w.busy();
        for (int i = 0; i < 8; i++) {
            w.sleep(1_000_000L);
        }
        assertThat(w.nextSleepMs()).isEqualTo(200);
        long t0 = System.nanoTime();
        w.sleep(1_000_000_000L); // would be 200 ms; capped at BUSY_MAX_MS so soon after a change
        assertThat((System.nanoTime() - t0) / 1_000_000).isLessThan(150);
    }
}
