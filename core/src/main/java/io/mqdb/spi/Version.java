package io.mqdb.spi;

import java.util.Objects;

/**
 * The version of a change: a hybrid logical clock reading plus the origin that made it, the tie-break. Versions are
 * totally ordered; of two changes to one key, the one with the greater version wins everywhere.
 *
 * <p>The clock packs wall-clock milliseconds since the epoch in the high 48 bits and a logical counter in the low 16
 * bits, so versions made on different nodes compare by time first and stay monotonic on each node even when its wall
 * clock steps back.
 *
 * @param hlc the hybrid logical clock reading
 * @param origin the name of the node (or client) that made the change
 */
public record Version(long hlc, String origin) implements Comparable<Version> {
    /** Bits of the logical counter. */
    public static final int LOGICAL_BITS = 16;

    /** Rejects a null origin. */
    public Version {
        Objects.requireNonNull(origin, "origin");
    }

    /**
     * @param millis wall-clock milliseconds since the epoch
     * @param logical the logical counter, 0 to 65535
     * @return the packed clock reading
     */
    public static long pack(long millis, int logical) {
        return (millis << LOGICAL_BITS) | (logical & 0xFFFF);
    }

    /** @return the wall-clock part, milliseconds since the epoch */
    public long millis() {
        return hlc >>> LOGICAL_BITS;
    }

    /** @return the logical counter */
    public int logical() {
        return (int) (hlc & 0xFFFF);
    }

    @Override
    public int compareTo(Version o) {
        int c = Long.compare(hlc, o.hlc);
        return c != 0 ? c : origin.compareTo(o.origin);
    }

    /**
     * @param other another version, or null
     * @return whether this version is strictly newer; every version is newer than null
     */
    public boolean isNewerThan(Version other) {
        return other == null || compareTo(other) > 0;
    }
}
