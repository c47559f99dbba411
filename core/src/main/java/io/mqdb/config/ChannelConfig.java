package io.mqdb.config;

import io.mqdb.spi.TableId;
import java.time.Duration;
import java.util.Objects;

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
 */
public record ChannelConfig(TableId table, String store, boolean publish, boolean subscribe, int batchSize,
                            Duration flushInterval, Location location) {
    /** Rejects nulls. */
    public ChannelConfig {
        Objects.requireNonNull(table, "table");
        Objects.requireNonNull(store, "store");
        Objects.requireNonNull(flushInterval, "flushInterval");
        Objects.requireNonNull(location, "location");
    }
}
