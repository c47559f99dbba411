package io.mqdb.clock;

import io.mqdb.spi.Version;
import java.time.Clock;
import java.time.Duration;

/**
 * A hybrid logical clock (Kulkarni et al.): readings that follow wall-clock time but never go backwards on this
 * node, and that move past every reading observed from other nodes, so a change made after seeing another node's
 * change always gets a greater version.
 *
 * <p>Thread-safe: {@link #now()} is called by capture threads and application threads, {@link #observe(long)} by apply
 * threads.
 */
public final class HybridClock {
    private static final int MAX_LOGICAL = 0xFFFF;
    /** The default bound on how far ahead of the wall clock an observed reading may be. */
    public static final Duration DEFAULT_MAX_SKEW = Duration.ofMinutes(1);

    private final Clock wall;
    private final long maxSkewMillis;
    private long last;

    /** @param wall the wall clock; {@link Clock#systemUTC()} in production; skew bound {@link #DEFAULT_MAX_SKEW} */
    public HybridClock(Clock wall) {
        this(wall, DEFAULT_MAX_SKEW);
    }

    /**
     * @param wall the wall clock
     * @param maxSkew how far ahead of the wall clock a reading from another node may be and still be observed
     */
    public HybridClock(Clock wall, Duration maxSkew) {
        if (maxSkew.isNegative() || maxSkew.isZero()) {
            throw new IllegalArgumentException("maxSkew must be positive, got " + maxSkew);
        }
        this.wall = wall;
        this.maxSkewMillis = maxSkew.toMillis();
    }

    /** @return a clock on the system's UTC wall clock, skew bound {@link #DEFAULT_MAX_SKEW} */
    public static HybridClock system() {
        return new HybridClock(Clock.systemUTC());
    }

    /**
     * @param maxSkew the skew bound
     * @return a clock on the system's UTC wall clock with that bound
     */
    public static HybridClock system(Duration maxSkew) {
        return new HybridClock(Clock.systemUTC(), maxSkew);
    }

    /**
     * @param remote a reading received from another node
     * @return how many milliseconds it is ahead of this node's wall clock beyond the skew bound (it must not be
     *     observed nor applied), or 0 when it is within the bound
     */
    public long beyondSkewMillis(long remote) {
        return beyondSkewMillis(remote, wall.millis());
    }

    /**
     * As {@link #beyondSkewMillis(long)} against a wall-clock reading the caller already took (one per received
     * message rather than one per event).
     *
     * @param remote a reading received from another node
     * @param nowMillis this node's wall clock, in milliseconds since the epoch
     * @return how many milliseconds it is beyond the bound, 0 within it, {@link Long#MAX_VALUE} for a negative reading
     */
    public long beyondSkewMillis(long remote, long nowMillis) {
        if (remote < 0) {
            return Long.MAX_VALUE;
        }
        long ahead = (remote >>> Version.LOGICAL_BITS) - nowMillis;
        return Math.max(0, ahead - maxSkewMillis);
    }

    /** @return a reading greater than every earlier reading and every observed one */
    public synchronized long now() {
        long physical = Version.pack(wall.millis(), 0);
        last = physical > last ? physical : increment(last);
        return last;
    }

    /**
     * Moves the clock past a reading received from another node, unless it lies beyond the skew bound (then the clock
     * stays: adopting it would stamp every later local change with that far-future time, and a reading near the
     * largest value would overflow).
     *
     * @param remote the remote reading
     * @return whether it was within the bound
     */
    public synchronized boolean observe(long remote) {
        if (beyondSkewMillis(remote) > 0) {
            return false;
        }
        if (remote > last) {
            last = remote;
        }
        return true;
    }

    private static long increment(long reading) {
        int logical = (int) (reading & MAX_LOGICAL);
        if (logical == MAX_LOGICAL) {
            // 65,536 readings within one millisecond: borrow the next millisecond rather than overflow.
            return Version.pack((reading >>> Version.LOGICAL_BITS) + 1, 0);
        }
        return reading + 1;
    }
}
