package io.mqdb.clock;

import static org.assertj.core.api.Assertions.assertThat;

import io.mqdb.spi.Version;
import java.time.Clock;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

class HybridClockTest {
    private final AtomicLong wallMillis = new AtomicLong(1_700_000_000_000L);
    private final HybridClock clock = new HybridClock(new Clock() {
        @Override
        public ZoneOffset getZone() {
            return ZoneOffset.UTC;
        }

        @Override
        public Clock withZone(java.time.ZoneId zone) {
            return this;
        }

        @Override
        public Instant instant() {
            return Instant.ofEpochMilli(wallMillis.get());
        }
    });

    @Test
    void readingsFollowTheWallClock() {
        long r = clock.now();
        assertThat(new Version(r, "n").millis()).isEqualTo(wallMillis.get());
        wallMillis.addAndGet(5);
        assertThat(new Version(clock.now(), "n").millis()).isEqualTo(wallMillis.get());
    }

    @Test
    void readingsNeverGoBackwardsWhenTheWallClockStepsBack() {
        long first = clock.now();
        wallMillis.addAndGet(-10_000);
        long second = clock.now();
        long third = clock.now();
        assertThat(second).isGreaterThan(first);
        assertThat(third).isGreaterThan(second);
    }

    @Test
    void readingsPassObservedRemoteReadings() {
        long remote = Version.pack(wallMillis.get() + 60_000, 3);
        clock.observe(remote);
        assertThat(clock.now()).isGreaterThan(remote);
    }

    @Test
    void theLogicalCounterOverflowsIntoTheNextMillisecond() {
        clock.observe(Version.pack(wallMillis.get(), 0xFFFF));
        long next = clock.now();
        assertThat(new Version(next, "n").millis()).isEqualTo(wallMillis.get() + 1);
        assertThat(new Version(next, "n").logical()).isZero();
    }

    @Test
    void versionsOrderByClockThenOrigin() {
        assertThat(new Version(5, "b")).isGreaterThan(new Version(5, "a")).isLessThan(new Version(6, "a"));
        assertThat(new Version(5, "a").isNewerThan(null)).isTrue();
    }

    @Test
    void aReadingBeyondTheSkewBoundIsNeverAdopted() {
        long before = clock.now();
        long farFuture = Version.pack(wallMillis.get() + 60_001, 0);
        assertThat(clock.beyondSkewMillis(farFuture)).isEqualTo(1);
        assertThat(clock.observe(farFuture)).isFalse();
        assertThat(clock.observe(Long.MAX_VALUE)).isFalse();
        assertThat(clock.beyondSkewMillis(Long.MAX_VALUE)).isPositive();
        assertThat(clock.beyondSkewMillis(-1)).isEqualTo(Long.MAX_VALUE);
        assertThat(clock.beyondSkewMillis(farFuture, wallMillis.get() + 1)).as("against the caller's reading")
                .isZero();
        long after = clock.now();
        assertThat(after).isGreaterThan(before).isPositive();
        assertThat(new Version(after, "n").millis()).isEqualTo(wallMillis.get());
        assertThat(clock.beyondSkewMillis(Version.pack(wallMillis.get() - 1_000_000, 0))).as("the past").isZero();
    }
}
