package io.mqdb.observe;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.Map;
import org.junit.jupiter.api.Test;

/** The lag arithmetic the node and {@code mqdb status} share. */
class LagTest {
    private static final long NOW = 1_800_000_000_000L;

    @Test
    void eventsBehindAreThePublishedNumberMinusTheAppliedOneSummedOverOrigins() {
        Lag lag = Lag.of(Map.of("a", 120L, "b", 50L), Map.of(), Map.of("a", 100L, "b", 45L), NOW - 3_000, 0, NOW);
        assertThat(lag.events()).isEqualTo(25);
        assertThat(lag.seconds()).isEqualTo(3.0);
    }

    @Test
    void aSubscriberAheadOfARetainedPositionIsNotNegativelyBehind() {
        Lag lag = Lag.of(Map.of("a", 100L, "b", 10L), Map.of(), Map.of("a", 110L, "b", 4L), NOW - 1_000, 0, NOW);
        assertThat(lag.events()).isEqualTo(6);
    }

    @Test
    void numbersUpToAnOriginsEpochAreNotMissing() {
        long epoch = 1L << 40;
        Lag lag = Lag.of(Map.of("a", epoch + 7), Map.of("a", epoch), Map.of(), 0, 0, NOW);
        assertThat(lag.events()).isEqualTo(7);
        assertThat(lag.seconds()).as("nothing applied, nothing held: unknown").isNaN();
    }

    @Test
    void caughtUpIsZeroSecondsHoweverOldTheLastEvent() {
        assertThat(Lag.of(Map.of("a", 100L), Map.of(), Map.of("a", 100L), NOW - 3_600_000, 0, NOW))
                .isEqualTo(Lag.NONE);
    }

    @Test
    void theOldestHeldEventCountsWhenItIsOlderThanTheLastApplied() {
        Lag lag = Lag.of(Map.of("a", 100L), Map.of(), Map.of("a", 90L), NOW - 2_000, NOW - 9_500, NOW);
        assertThat(lag.seconds()).isEqualTo(9.5);
        Lag held = Lag.of(Map.of(), Map.of(), Map.of(), 0, NOW - 4_000, NOW);
        assertThat(held).isEqualTo(new Lag(0, 4.0));
    }

    @Test
    void aVersionAheadOfThisClockIsNotNegativeTime() {
        assertThat(Lag.of(Map.of("a", 2L), Map.of(), Map.of("a", 1L), NOW + 5_000, 0, NOW).seconds()).isZero();
    }

    @Test
    void residentMemoryIsReadFromProcStatus() {
        assertThat(ProcessMemory.residentBytes("Name:\tjava\nVmPeak:\t 9 kB\nVmRSS:\t  123456 kB\nThreads:\t3\n"))
                .isEqualTo(123456 * 1024.0);
        assertThat(ProcessMemory.residentBytes("Name:\tjava\n")).isNaN();
    }
}
