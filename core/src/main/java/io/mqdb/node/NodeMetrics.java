package io.mqdb.node;

import java.util.concurrent.atomic.LongAdder;

/**
 * Counters of one node, read by the status log line and by tests. Thread-safe; any thread increments.
 */
public final class NodeMetrics {
    /** Changes published on channels (captured changes and initial-load rows). */
    public final LongAdder published = new LongAdder();
    /** Rows published by initial loads. */
    public final LongAdder snapshotRows = new LongAdder();
    /** Events applied to local stores from other nodes. */
    public final LongAdder applied = new LongAdder();
    /** Events skipped because this node made them. */
    public final LongAdder skippedOwn = new LongAdder();
    /** Messages or events that went to the dead letters. */
    public final LongAdder deadLetters = new LongAdder();
    /** Store or broker operations retried after a retriable failure. */
    public final LongAdder retries = new LongAdder();

    @Override
    public String toString() {
        return "published=" + published.sum() + " (initial load " + snapshotRows.sum() + "), applied=" + applied.sum()
                + ", dead letters=" + deadLetters.sum() + ", retries=" + retries.sum();
    }
}
