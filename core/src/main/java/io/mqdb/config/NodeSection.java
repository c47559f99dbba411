package io.mqdb.config;

import java.nio.file.Path;
import java.util.Objects;

/**
 * The {@code node:} section: who this node is. Part of {@link NodeConfig}; immutable.
 *
 * @param name the node's name, {@code [A-Za-z0-9_-]{1,64}}; unique in the cluster, used in MQTT client ids and topics
 *     and as the origin of the changes it makes
 * @param cluster the cluster's name, same characters; the topic prefix {@code mqdb/<cluster>/...}
 * @param dataDir where the node keeps its state, absolute
 */
public record NodeSection(String name, String cluster, Path dataDir) {
    /** Rejects nulls. */
    public NodeSection {
        Objects.requireNonNull(name, "name");
        Objects.requireNonNull(cluster, "cluster");
        Objects.requireNonNull(dataDir, "dataDir");
    }
}
