package io.mqdb.observe;

import io.mqdb.node.apply.ApplyProgress;
import java.util.Map;

/**
 * How far one subscriber is behind on one channel, computed the same way by the node (its metrics and readiness)
 * and by {@code mqdb status} (from the retained positions and applied positions on the broker). Pure; immutable.
 *
 * <p><b>Events behind</b>: the sum over the channel's origins of the origin's last published sequence number (its
 * retained position) minus the number up to which this subscriber applied everything from it, never below 0; numbers
 * up to an origin's epoch do not exist and are never counted as missing.
 *
 * <p><b>Seconds behind</b>: 0 when nothing is behind and nothing known waits; else the largest of now minus the
 * version time of the last applied event and now minus the version time of the oldest event known and not applied
 * yet; {@link Double#NaN} when neither is known (nothing applied yet, nothing held). Never below 0 (clock skew).
 *
 * @param events events published and not applied yet
 * @param seconds seconds behind, or NaN when unknown
 */
public record Lag(long events, double seconds) {
    /** A subscriber that is caught up. */
    public static final Lag NONE = new Lag(0, 0);

    /**
     * @param published per origin, its last published sequence number
     * @param epochs per origin, the number before its first (0 or absent: none)
     * @param applied per origin, the number up to which the subscriber applied everything (absent: nothing)
     * @param lastAppliedMillis the version time of the newest applied event, 0 when none
     * @param oldestUnappliedMillis the version time of the oldest event known and not applied, 0 when none
     * @param nowMillis the time now
     * @return the lag
     */
    public static Lag of(Map<String, Long> published, Map<String, Long> epochs, Map<String, Long> applied,
            long lastAppliedMillis, long oldestUnappliedMillis, long nowMillis) {
        long events = 0;
        for (Map.Entry<String, Long> e : published.entrySet()) {
            long have = Math.max(applied.getOrDefault(e.getKey(), 0L), epochs.getOrDefault(e.getKey(), 0L));
            events += Math.max(0, e.getValue() - have);
        }
        if (events == 0 && oldestUnappliedMillis == 0) {
            return NONE;
        }
        double seconds = Double.NaN;
        if (lastAppliedMillis > 0) {
            seconds = Math.max(0, nowMillis - lastAppliedMillis) / 1000.0;
        }
        if (oldestUnappliedMillis > 0) {
            double waiting = Math.max(0, nowMillis - oldestUnappliedMillis) / 1000.0;
            seconds = Double.isNaN(seconds) ? waiting : Math.max(seconds, waiting);
        }
        return new Lag(events, seconds);
    }

    /**
     * @param s a channel's progress on this node
     * @param nowMillis the time now
     * @return its lag
     */
    public static Lag of(ApplyProgress.Snapshot s, long nowMillis) {
        return of(s.published(), s.epochs(), s.applied(), s.lastAppliedMillis(), s.oldestUnappliedMillis(),
                nowMillis);
    }
}
