package io.mqdb.node.apply;

import io.mqdb.node.catchup.Control;
import io.mqdb.spi.TableId;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.LongAdder;
import java.util.function.LongSupplier;

/**
 * How far one subscribed channel is applied, as the figures its lag is computed from: per origin, the last sequence
 * number the origin's retained position announced and the last number up to which everything was applied; the
 * version time of the newest event applied, and of the oldest event known and not yet applied (a batch held while
 * its store is retried). Read by the node's metrics, its readiness check and the applied position it publishes
 * ({@code mqdb/<cluster>/applied/...}).
 *
 * <h2>Threads</h2>
 * Thread-safe. {@link #position} runs on the channel session's callback thread (so positions keep arriving while the
 * apply thread waits for a store), the other updates on the channel's apply thread; {@link #snapshot()} on any
 * thread.
 */
public final class ApplyProgress {
    /** Told of every batch the apply thread committed. */
    @FunctionalInterface
    public interface BatchListener {
        /**
         * @param nanos how long the batch took, from decoding its messages to the store commit and index commit
         * @param events how many events it held
         */
        void batchApplied(long nanos, int events);
    }

    private final TableId channel;
    private final BatchListener listener;
    private final Map<String, Long> published = new ConcurrentHashMap<>();
    private final Map<String, Long> epochs = new ConcurrentHashMap<>();
    private final Map<String, Long> applied = new ConcurrentHashMap<>();
    private final Map<String, Control.Snapshot> loads = new ConcurrentHashMap<>();
    private final LongAdder appliedEvents = new LongAdder();
    private volatile long lastAppliedMillis;
    private volatile long oldestUnappliedMillis;

    /**
     * @param channel the channel
     * @param listener told of every committed batch (the node's apply latency timer)
     */
    public ApplyProgress(TableId channel, BatchListener listener) {
        this.channel = channel;
        this.listener = listener;
    }

    /** @return the channel */
    public TableId channel() {
        return channel;
    }

    /**
     * A position an origin published on the channel (verified when signing is on). Callback thread.
     *
     * @param p the position
     * @param appliedSoFar how far this node applied the origin, read when the origin is not known yet
     */
    void position(Control.Position p, LongSupplier appliedSoFar) {
        published.merge(p.node(), p.seq(), Math::max);
        if (p.epoch() > 0) {
            epochs.merge(p.node(), p.epoch(), Math::max);
        }
        applied.computeIfAbsent(p.node(), o -> appliedSoFar.getAsLong());
        p.snapshot().ifPresent(sn -> loads.merge(p.node(), sn, (a, b) -> b.startHlc() >= a.startHlc() ? b : a));
    }

    /** The origin's contiguous applied number moved (up, or down to 0 after a target loss). Apply thread. */
    void applied(String origin, long seq) {
        applied.put(origin, seq);
    }

    /** A batch whose oldest event has this version time waits to be applied. Apply thread. */
    void unapplied(long oldestMillis) {
        oldestUnappliedMillis = oldestMillis;
    }

    /**
     * A batch was committed (or handled: all its events skipped or dead-lettered). Apply thread.
     *
     * @param newestMillis the version time of its newest applied event, 0 when none was applied
     * @param events the events it applied
     * @param nanos how long it took
     */
    void batchDone(long newestMillis, int events, long nanos) {
        oldestUnappliedMillis = 0;
        if (newestMillis > lastAppliedMillis) {
            lastAppliedMillis = newestMillis;
        }
        appliedEvents.add(events);
        if (events > 0) {
            listener.batchApplied(nanos, events);
        }
    }

    /** @return the events this node applied on the channel since it started */
    public long appliedEvents() {
        return appliedEvents.sum();
    }

    /** @return the figures now, copied */
    public Snapshot snapshot() {
        return new Snapshot(channel, Map.copyOf(published), Map.copyOf(epochs), Map.copyOf(applied),
                lastAppliedMillis, oldestUnappliedMillis, Map.copyOf(loads));
    }

    /**
     * The figures of one moment.
     *
     * @param channel the channel
     * @param published per origin, the last sequence number its retained position announced
     * @param epochs per origin that announced one, the number before its first (numbers up to it do not exist)
     * @param applied per origin, the number up to which this node applied everything
     * @param lastAppliedMillis the version time (ms since the epoch) of the newest event applied, 0 when none
     * @param oldestUnappliedMillis the version time of the oldest event known and not applied yet, 0 when none
     * @param loads per origin that announced one, its last snapshot of the channel (an initial load or a re-sync)
     */
    public record Snapshot(TableId channel, Map<String, Long> published, Map<String, Long> epochs,
                           Map<String, Long> applied, long lastAppliedMillis, long oldestUnappliedMillis,
                           Map<String, Control.Snapshot> loads) {
    }
}
