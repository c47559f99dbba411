package io.mqdb.config;

import io.mqdb.spi.TableId;
import java.time.Duration;
import java.util.List;
import java.util.Objects;
import java.util.Optional;

/**
 * One entry of {@code channels:}: a table this node replicates, the store that holds it and which ways it flows.
 * Read by the router on the start-up thread; immutable.
 *
 * @param table the table, which is also the channel name
 * @param store the name of the store holding the table; a key of {@link NodeConfig#stores()}
 * @param publish whether the node publishes the table's local changes
 * @param subscribe whether the node applies the changes other nodes publish; at least one of the two is true
 * @param batchSize the most changes written to the store or published in one batch, 1 to 100000; default 500
 * @param flushInterval how long a subscriber waits for more messages to fill a batch; default 0 (apply at once)
 * @param location where the channel is written: the line of its entry, key {@code channels[i]}
 * @param onError what a subscriber does with an event it can never apply: dead-letter it and go on (the default), or
 *     stop the channel (strict mode)
 * @param key the replica key ({@code key:}): the columns that identify the table's rows when the table has no primary
 *     key of its own, in key order; empty when not given (the table's primary key is used). The store checks them
 *     when it describes the table (they must exist, be NOT NULL and be the columns of one unique constraint or
 *     index), and a table with a primary key accepts only that key; see {@link io.mqdb.spi.StoreContext#replicaKeys()}
 * @param acceptPlainWrites with {@code node.signing} on: whether the subscriber applies unsigned change batches (plain
 *     MQTT writes) at all; they are stamped by this node (origin {@code plain:<channel>}, this node's clock, no
 *     sequence number) so they can never move an origin's numbering nor take part in a merge. Default false: an
 *     unsigned batch is dead-lettered
 * @param plainWrites which operations a plain write may carry: all (default) or upserts only
 * @param reads whether the node answers reads of the table over MQTT ({@code reads: true}; default false:
 *     {@code docs/reads.md})
 * @param publishVia the broker connection the node publishes the table on ({@code publish-via}): {@value #MAIN_BROKER}
 *     (the {@code broker} section, the default) or a name of {@code brokers:} ({@code docs/topologies.md#edge-nodes})
 * @param subscribeVia the broker connection the node receives the table's changes from ({@code subscribe-via}),
 *     likewise
 * @param transform the channel's {@code transform:} ({@code docs/transforms.md}): on a subscribed channel columns,
 *     filter, key and ttl, run before the store write; on a published channel only the filter, run before
 *     publishing; empty to apply or publish rows as they come
 */
public record ChannelConfig(TableId table, String store, boolean publish, boolean subscribe, int batchSize,
                            Duration flushInterval, Location location, OnError onError, List<String> key,
                            boolean acceptPlainWrites, PlainWrites plainWrites, boolean reads, String publishVia,
                            String subscribeVia, Optional<TransformConfig> transform) {
    /** The name of the node's main broker connection, its {@code broker} section. */
    public static final String MAIN_BROKER = "main";

    /** The operations a plain (unsigned) write may carry, {@code plain-writes}. */
    public enum PlainWrites {
        /** Upserts and deletes. */
        ALL,
        /** Upserts only; a plain delete is dead-lettered. */
        UPSERTS
    }

    /** What to do with an event that can never be applied. */
    public enum OnError {
        /** Write it with its reason to the dead letters and go on (the default). */
        DEAD_LETTER,
        /** Stop the channel (and the node) with the reason: strict mode. */
        STOP
    }

    /** A channel that dead-letters what it cannot apply. */
    public ChannelConfig(TableId table, String store, boolean publish, boolean subscribe, int batchSize,
                         Duration flushInterval, Location location) {
        this(table, store, publish, subscribe, batchSize, flushInterval, location, OnError.DEAD_LETTER);
    }

    /** A channel keyed by its table's primary key. */
    public ChannelConfig(TableId table, String store, boolean publish, boolean subscribe, int batchSize,
                         Duration flushInterval, Location location, OnError onError) {
        this(table, store, publish, subscribe, batchSize, flushInterval, location, onError, List.of());
    }

    /** A channel that takes no plain writes when signing is on. */
    public ChannelConfig(TableId table, String store, boolean publish, boolean subscribe, int batchSize,
                         Duration flushInterval, Location location, OnError onError, List<String> key) {
        this(table, store, publish, subscribe, batchSize, flushInterval, location, onError, key, false,
                PlainWrites.ALL);
    }

    /** A channel on the node's main broker connection. */
    public ChannelConfig(TableId table, String store, boolean publish, boolean subscribe, int batchSize,
                         Duration flushInterval, Location location, OnError onError, List<String> key,
                         boolean acceptPlainWrites, PlainWrites plainWrites, boolean reads,
                         Optional<TransformConfig> transform) {
        this(table, store, publish, subscribe, batchSize, flushInterval, location, onError, key, acceptPlainWrites,
                plainWrites, reads, MAIN_BROKER, MAIN_BROKER, transform);
    }

    /** A channel that answers no reads over MQTT. */
    public ChannelConfig(TableId table, String store, boolean publish, boolean subscribe, int batchSize,
                         Duration flushInterval, Location location, OnError onError, List<String> key,
                         boolean acceptPlainWrites, PlainWrites plainWrites) {
        this(table, store, publish, subscribe, batchSize, flushInterval, location, onError, key, acceptPlainWrites,
                plainWrites, false);
    }

    /** A channel on the node's main broker connection, without a transform. */
    public ChannelConfig(TableId table, String store, boolean publish, boolean subscribe, int batchSize,
                         Duration flushInterval, Location location, OnError onError, List<String> key,
                         boolean acceptPlainWrites, PlainWrites plainWrites, boolean reads) {
        this(table, store, publish, subscribe, batchSize, flushInterval, location, onError, key, acceptPlainWrites,
                plainWrites, reads, MAIN_BROKER, MAIN_BROKER, Optional.empty());
    }

    /**
     * @return whether the node forwards what it receives on one broker connection to another: it subscribes and
     *     publishes the table on different connections (an edge node), so what it applies is published again
     */
    public boolean relays() {
        return publish && subscribe && !publishVia.equals(subscribeVia);
    }

    /** Rejects nulls; copies the key. */
    public ChannelConfig {
        Objects.requireNonNull(publishVia, "publishVia");
        Objects.requireNonNull(subscribeVia, "subscribeVia");
        Objects.requireNonNull(plainWrites, "plainWrites");
        Objects.requireNonNull(transform, "transform");
        key = List.copyOf(Objects.requireNonNull(key, "key"));
        Objects.requireNonNull(onError, "onError");
        Objects.requireNonNull(table, "table");
        Objects.requireNonNull(store, "store");
        Objects.requireNonNull(flushInterval, "flushInterval");
        Objects.requireNonNull(location, "location");
    }
}
