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
 * @param brokers the node's further broker connections ({@code brokers:}), by name in the order written: an edge
 *     node's upstream, which channels name in {@code publish-via} and {@code subscribe-via}; none run a broker
 */
public record NodeConfig(Path source, NodeSection node, BrokerConfig broker, Map<String, StoreSection> stores,
                         List<ChannelConfig> channels, Map<String, BrokerConfig> brokers) {
    /** A node with one broker connection. */
    public NodeConfig(Path source, NodeSection node, BrokerConfig broker, Map<String, StoreSection> stores,
                      List<ChannelConfig> channels) {
        this(source, node, broker, stores, channels, Map.of());
    }

    /** Rejects nulls; copies the collections, keeping the order of the stores. */
    public NodeConfig {
        brokers = Collections.unmodifiableMap(new LinkedHashMap<>(brokers));
        Objects.requireNonNull(source, "source");
        Objects.requireNonNull(node, "node");
        Objects.requireNonNull(broker, "broker");
        stores = Collections.unmodifiableMap(new LinkedHashMap<>(stores));
        channels = List.copyOf(channels);
    }

    /**
     * @param name {@link ChannelConfig#MAIN_BROKER} or a name of {@code brokers:}
     * @return that connection's config
     * @throws IllegalArgumentException for another name (the config checked every channel's)
     */
    public BrokerConfig brokerNamed(String name) {
        if (ChannelConfig.MAIN_BROKER.equals(name)) {
            return broker;
        }
        BrokerConfig b = brokers.get(name);
        if (b == null) {
            throw new IllegalArgumentException("no broker connection named " + name);
        }
        return b;
    }

    /** @return the folder of the config file, against which relative paths are resolved */
    public Path baseDir() {
        return ConfigParser.baseDirOf(source);
    }
}
