package io.mqdb.config;

import java.nio.file.Path;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * A node's whole configuration, as read by {@link ConfigLoader} on the start-up thread and then handed, read-only,
 * to the parts of the runtime. Every value has been checked and defaulted, except the adapter settings of each store,
 * which {@link StoreSettings#validate} checks once the store's provider is known. Immutable.
 *
 * @param source the config file, absolute
 * @param node who this node is
 * @param broker how the node reaches MQTT
 * @param stores the stores by name, in the order written
 * @param channels the replicated tables, in the order written; names are unique
 */
public record NodeConfig(Path source, NodeSection node, BrokerConfig broker, Map<String, StoreSection> stores,
                         List<ChannelConfig> channels) {
    /** Rejects nulls; copies the collections, keeping the order of the stores. */
    public NodeConfig {
        Objects.requireNonNull(source, "source");
        Objects.requireNonNull(node, "node");
        Objects.requireNonNull(broker, "broker");
        stores = Collections.unmodifiableMap(new LinkedHashMap<>(stores));
        channels = List.copyOf(channels);
    }

    /** @return the folder of the config file, against which relative paths are resolved */
    public Path baseDir() {
        return ConfigParser.baseDirOf(source);
    }
}
