package io.mqdb.signing;

import io.mqdb.spi.Version;
import java.util.ArrayDeque;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Map;
import java.util.Set;

/**
 * Refuses replays of signed requests: a request carries its signer's clock reading ({@code at}, a hybrid-clock
 * value, unique per node); it is accepted when that reading lies within {@code window} of this node's clock, either
 * side, and the same signer's same reading was not accepted before. A recorded request published again is therefore
 * refused while it is fresh (seen) and after (stale). Memory is bounded: per signer only the readings within the
 * window are kept, at most {@link #MAX_PER_SIGNER} (beyond it a signer's requests are refused until older ones age
 * out: no node asks that often), and at most {@link #MAX_SIGNERS} signers (trusted nodes only, since the signature is
 * checked first).
 *
 * <h2>Threads</h2>
 * Thread-safe; {@link #accept} is called on the transport's callback thread.
 */
public final class Freshness {
    /** The most readings kept per signer. */
    public static final int MAX_PER_SIGNER = 4096;
    /** The most signers kept. */
    public static final int MAX_SIGNERS = 1024;

    /** What {@link #accept} decided. */
    public enum Verdict {
        /** Fresh and not seen before: to be served. */
        FRESH,
        /** No reading, or one farther from this node's clock than the window. */
        STALE,
        /** The same signer's same reading was accepted before. */
        REPLAYED,
        /** Too many readings of this signer, or too many signers, within the window. */
        FULL
    }

    private final long windowMillis;
    private final Map<String, Seen> bySigner = new HashMap<>();

    /** @param windowMillis how far from this node's clock a reading may lie, either side; at least 1 */
    public Freshness(long windowMillis) {
        if (windowMillis < 1) {
            throw new IllegalArgumentException("window must be positive: " + windowMillis);
        }
        this.windowMillis = windowMillis;
    }

    /**
     * @param signer the verified signer
     * @param at the signer's hybrid-clock reading carried by the request, 0 when it carries none
     * @param nowMillis this node's wall clock
     * @return the verdict; only {@link Verdict#FRESH} readings are remembered
     */
    public synchronized Verdict accept(String signer, long at, long nowMillis) {
        long millis = at >>> Version.LOGICAL_BITS;
        if (at <= 0 || Math.abs(millis - nowMillis) > windowMillis) {
            return Verdict.STALE;
        }
        Seen seen = bySigner.get(signer);
        if (seen == null) {
            if (bySigner.size() >= MAX_SIGNERS) {
                bySigner.values().removeIf(s -> s.prune(nowMillis - windowMillis));
                if (bySigner.size() >= MAX_SIGNERS) {
                    return Verdict.FULL;
                }
            }
            seen = new Seen();
            bySigner.put(signer, seen);
        }
        seen.prune(nowMillis - windowMillis);
        if (seen.readings.contains(at)) {
            return Verdict.REPLAYED;
        }
        if (seen.readings.size() >= MAX_PER_SIGNER) {
            return Verdict.FULL;
        }
        seen.readings.add(at);
        seen.order.addLast(at);
        return Verdict.FRESH;
    }

    /** The readings of one signer within the window, in the order accepted. */
    private static final class Seen {
        final Set<Long> readings = new HashSet<>();
        final ArrayDeque<Long> order = new ArrayDeque<>();

        /**
         * Forgets readings older than a time. Readings arrive nearly in clock order, so the oldest sit at the front;
         * one that arrived late stays until those before it age out, which only keeps it longer.
         *
         * @return whether nothing is left
         */
        boolean prune(long beforeMillis) {
            while (!order.isEmpty() && (order.peekFirst() >>> Version.LOGICAL_BITS) < beforeMillis) {
                readings.remove(order.pollFirst());
            }
            return order.isEmpty();
        }
    }
}
