package io.mqdb.testkit;

import io.mqdb.config.ConfigLoader;
import io.mqdb.config.NodeConfig;
import io.mqdb.node.MqdbNode;
import io.mqdb.node.StoreSet;
import io.mqdb.plugin.PluginRegistry;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.stream.Stream;

/**
 * Nodes of one cluster ({@code mqdb}) in the test's JVM, on one {@link InMemoryBroker}, each with one store
 * {@code local} of type {@code memory}. A node's config names an external broker that the in-memory transport
 * factory ignores, so no broker is started; its data dir is {@code <dir>/<node>}; its store's data is the
 * {@link InMemoryData} {@link #store(String)} returns, which survives the node (a restart, or a wiped data dir,
 * finds the same rows).
 *
 * <p>Used from the test's thread; {@link #close} stops every node and forgets their data.
 */
public final class TestCluster implements AutoCloseable {
    /** The cluster's name, in every topic. */
    public static final String CLUSTER = "mqdb";
    private final Path dir;
    private final InMemoryBroker broker = new InMemoryBroker();
    private final PluginRegistry plugins = InMemoryStoreProvider.registry();
    private final String id = UUID.randomUUID().toString();
    private final Map<String, MqdbNode> nodes = new LinkedHashMap<>();
    private final List<String> instances = new ArrayList<>();

    /** @param dir a folder of the test's own, holding the nodes' data dirs */
    public TestCluster(Path dir) {
        this.dir = dir;
    }

    /** @return the broker every node is connected to */
    public InMemoryBroker broker() {
        return broker;
    }

    /**
     * Starts a node.
     *
     * @param name the node's name
     * @param channels the YAML of its {@code channels:} list, e.g.
     *     {@code [ { name: shop:items, store: local, publish: true } ]}
     * @return the running node
     * @throws InterruptedException when interrupted while it starts
     */
    public MqdbNode start(String name, String channels) throws InterruptedException {
        return start(name, "", channels);
    }

    /**
     * Starts a node with more {@code node:} settings.
     *
     * @param name the node's name
     * @param nodeSettings more settings of the {@code node:} map, e.g. {@code resend-window-mb: 0}, or empty
     * @param channels the YAML of its {@code channels:} list
     * @return the running node
     * @throws InterruptedException when interrupted while it starts
     */
    public MqdbNode start(String name, String nodeSettings, String channels) throws InterruptedException {
        if (nodes.containsKey(name)) {
            throw new IllegalStateException("node " + name + " is running");
        }
        String instance = instance(name);
        if (!instances.contains(instance)) {
            instances.add(instance);
        }
        String yaml = """
                node: { name: %s, cluster: %s, data-dir: "%s"%s }
                broker: { uris: [ "tcp://in-memory.invalid:1883" ] }
                stores: { local: { type: memory, instance: "%s" } }
                channels: %s
                """.formatted(name, CLUSTER, dataDir(name).toString().replace("\\", "/"),
                nodeSettings.isBlank() ? "" : ", " + nodeSettings, instance, channels);
        NodeConfig config = ConfigLoader.parse(yaml, dir.resolve(name + ".yaml"), Map.of(),
                StoreSet.checker(plugins));
        MqdbNode node = MqdbNode.start(config, plugins, broker::transport);
        nodes.put(name, node);
        return node;
    }

    /**
     * @param name a node's name
     * @return its running node
     */
    public MqdbNode node(String name) {
        MqdbNode n = nodes.get(name);
        if (n == null) {
            throw new IllegalArgumentException("node " + name + " is not running");
        }
        return n;
    }

    /**
     * Stops a node cleanly; its data dir and its store's data stay.
     *
     * @param name the node's name
     */
    public void stop(String name) {
        MqdbNode n = nodes.remove(name);
        if (n != null) {
            n.close();
        }
    }

    /**
     * Deletes a stopped node's data dir (state, outbox, version index, dead letters); its store's data stays.
     *
     * @param name the node's name
     */
    public void wipeDataDir(String name) {
        if (nodes.containsKey(name)) {
            throw new IllegalStateException("stop node " + name + " first");
        }
        Path d = dataDir(name);
        if (!Files.exists(d)) {
            return;
        }
        try (Stream<Path> files = Files.walk(d)) {
            for (Path f : (Iterable<Path>) files.sorted(Comparator.reverseOrder())::iterator) {
                Files.delete(f);
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /**
     * @param name a node's name
     * @return the data of its store {@code local}, running or not
     */
    public InMemoryData store(String name) {
        return InMemoryData.named(instance(name));
    }

    /**
     * @param name a node's name
     * @return its data dir
     */
    public Path dataDir(String name) {
        return dir.resolve(name).toAbsolutePath();
    }

    /**
     * @param name a node's name
     * @return the client id of its control session ({@code mqdb-<cluster>-<node>})
     */
    public static String clientId(String name) {
        return "mqdb-" + CLUSTER + "-" + name;
    }

    /**
     * @param name a node's name
     * @param channel {@code schema:table}
     * @return the client id of the node's session for that subscribed channel
     */
    public static String channelClientId(String name, String channel) {
        return clientId(name) + "-ch-" + channel.replace(':', '.');
    }

    private String instance(String name) {
        return id + "/" + name + "/local";
    }

    /** Stops every node and forgets their stores' data. */
    @Override
    public void close() {
        List<String> names = new ArrayList<>(nodes.keySet());
        for (int i = names.size() - 1; i >= 0; i--) {
            stop(names.get(i));
        }
        for (String instance : instances) {
            InMemoryData.forget(instance);
        }
    }
}
