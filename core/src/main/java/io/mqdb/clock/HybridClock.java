package io.mqdb.clock;

import io.mqdb.spi.Version;
import java.time.Clock;

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
    private final Clock wall;
    private long last;

    /** @param wall the wall clock; {@link Clock#systemUTC()} in production */
    public HybridClock(Clock wall) {
        this.wall = wall;
    }

    /** @return a clock on the system's UTC wall clock */
    public static HybridClock system() {
        return new HybridClock(Clock.systemUTC());
    }

    /** @return a reading greater than every earlier reading and every observed one */
    public synchronized long now() {
        long physical = Version.pack(wall.millis(), 0);
        last = physical > last ? physical : increment(last);
        return last;
    }

    /**
     * Moves the clock past a reading received from another node.
     *
     * @param remote the remote reading
     */
    public synchronized void observe(long remote) {
        if (remote > last) {
            last = remote;
        }
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
