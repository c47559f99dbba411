package io.mqdb.node;

import io.mqdb.spi.TableId;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.LongAdder;
import java.util.function.LongSupplier;

/**
 * Counters of one node, read by the status log line and by tests. Thread-safe; any thread increments.
 */
public final class NodeMetrics {
    /** Changes published on channels (captured changes and initial-load rows). */
    public final LongAdder published = new LongAdder();
    /** MQTT messages the outbox delivered (each a batch of changes), so changes per message = published / this. */
    public final LongAdder publishedMessages = new LongAdder();
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
    /**
     * Replicated events not applied because this node had handled their origin's sequence number already: the same
     * batch through a second broker ({@code broker.mode: mirror}), a redelivery, or a resend of what had arrived.
     */
    public final LongAdder skippedDuplicates = new LongAdder();
    /** Replicated events not applied because the target holds a newer version of the key (last writer wins). */
    public final LongAdder skippedOlder = new LongAdder();
    /** Resend requests this node sent because it found a gap in an origin's sequence numbers. */
    public final LongAdder resendRequests = new LongAdder();
    /** Messages this node published again on request. */
    public final LongAdder resent = new LongAdder();
    /** Times a subscribed store was found to have lost what this node applied to it (its marker was gone). */
    public final LongAdder targetLosses = new LongAdder();
    /** Channels that could not be started (a published table without a primary key, say); the others go on. */
    public final LongAdder channelErrors = new LongAdder();
    /** Snapshots this node started for a single node that asked for numbers its resend window no longer held. */
    public final LongAdder targetedSnapshots = new LongAdder();
    /** Rows this node published in snapshots made for a single node (on its direct topic). */
    public final LongAdder targetedSnapshotRows = new LongAdder();
    /** Resend requests merged into one already queued for the same node and channel. */
    public final LongAdder requestsCoalesced = new LongAdder();
    /** Resend requests not served because a snapshot for that node, running or not yet confirmed, covers them. */
    public final LongAdder requestsCovered = new LongAdder();
    /**
     * Resend requests refused before being served: beyond the rate bound of the node's resend topic, or, with
     * node.signing on, replays (a reading seen before, or not fresh).
     */
    public final LongAdder requestsRefused = new LongAdder();
    /** Dead letters kept without their payload: the dead-letter folder was over node.dead-letter-max-mb. */
    public final LongAdder deadLetterPayloadsDropped = new LongAdder();
    /** Rows removed by snapshot merges: rows an origin no longer has. */
    public final LongAdder mergeDeletes = new LongAdder();

    /** Events dead-lettered because their version was further ahead of this node's clock than the skew bound. */
    public final LongAdder clockSkewRefused = new LongAdder();

    /**
     * Messages refused for their signature (node.signing on): batches dead-lettered as unsigned, forged or signed by
     * another node than the origin they claim, and positions and resend requests ignored for the same reasons.
     */
    public final LongAdder signatureRefused = new LongAdder();
    /** Events of plain (unsigned) writes applied on channels with accept-plain-writes, stamped by this node. */
    public final LongAdder plainWrites = new LongAdder();

    /** Times a send thread waited because a subscriber was a flow window behind on a channel. */
    public final LongAdder flowWaits = new LongAdder();

    /** Per store, the number of changes in its outbox not yet acknowledged by the broker. */
    public final Map<String, LongSupplier> outboxDepth = new ConcurrentHashMap<>();
    /** Keys published again on a repair's request (mqdb verify --repair). */
    public final LongAdder republished = new LongAdder();
    /** Reads over MQTT answered with rows (docs/reads.md). */
    public final LongAdder readsServed = new LongAdder();
    /** Reads over MQTT refused or answered with an error. */
    public final LongAdder readsRefused = new LongAdder();
    /** Receipts of acknowledged writes sent (one per message asking for one, after the store committed it). */
    public final LongAdder receiptsSent = new LongAdder();
    /** Writes that asked for a receipt on a topic or with correlation data a node does not answer on. */
    public final LongAdder receiptsRefused = new LongAdder();
    /** Per publishing store: the bytes of its outbox (and its targeted-snapshot outbox) not yet delivered. */
    public final Map<String, LongSupplier> outboxBytes = new ConcurrentHashMap<>();
    /** Per store, whether its capture waits for disk space (node.min-free-disk-mb). */
    public final Map<String, java.util.function.BooleanSupplier> diskPaused = new ConcurrentHashMap<>();

    /** Per channel, the changes of {@link #published} delivered to the broker on it. */
    private final Map<TableId, LongAdder> publishedByChannel = new ConcurrentHashMap<>();
    /** Per channel, the messages or events of {@link #deadLetters} that arrived on it. */
    private final Map<TableId, LongAdder> deadLettersByChannel = new ConcurrentHashMap<>();

    /**
     * @param channel a channel
     * @return the changes this node delivered to the broker on it (created at 0 when first asked)
     */
    public LongAdder published(TableId channel) {
        return publishedByChannel.computeIfAbsent(channel, c -> new LongAdder());
    }

    /**
     * @param channel a channel
     * @return the messages or events of the channel that went to the dead letters (created at 0 when first asked)
     */
    public LongAdder deadLetters(TableId channel) {
        return deadLettersByChannel.computeIfAbsent(channel, c -> new LongAdder());
    }

    /** @return the changes waiting in every outbox */
    public long outboxDepth() {
        long n = 0;
        for (LongSupplier s : outboxDepth.values()) {
            n += s.getAsLong();
        }
        return n;
    }

    @Override
    public String toString() {
        return "published=" + published.sum() + " (initial load " + snapshotRows.sum() + ", resent " + resent.sum()
                + "), targeted snapshots=" + targetedSnapshots.sum() + " (rows " + targetedSnapshotRows.sum()
                + ", requests coalesced " + requestsCoalesced.sum() + ", covered " + requestsCovered.sum()
                + ", refused " + requestsRefused.sum() + "), outbox=" + outboxDepth() + ", applied=" + applied.sum() + " (older skipped "
                + skippedOlder.sum() + ", duplicates skipped " + skippedDuplicates.sum() + ", merge deletes "
                + mergeDeletes.sum() + "), resend requests="
                + resendRequests.sum() + ", dead letters=" + deadLetters.sum() + " (clock skew " + clockSkewRefused.sum()
                + "), retries=" + retries.sum() + ", flow waits=" + flowWaits.sum()
                + ", signature refused=" + signatureRefused.sum() + ", plain writes=" + plainWrites.sum()
                + ", channel errors=" + channelErrors.sum() + ", target losses=" + targetLosses.sum();
    }
}
