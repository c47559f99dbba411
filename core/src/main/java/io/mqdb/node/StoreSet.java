package io.mqdb.node;

import io.mqdb.config.ChannelConfig;
import io.mqdb.config.ConfigException;
import io.mqdb.config.ConfigLoader;
import io.mqdb.config.StoreCheck;
import io.mqdb.config.ConfigProblem;
import io.mqdb.config.NodeConfig;
import io.mqdb.config.StoreSection;
import io.mqdb.config.StoreSettings;
import io.mqdb.config.TransformConfig;
import io.mqdb.plugin.LoadedProvider;
import io.mqdb.plugin.PluginRegistry;
import io.mqdb.spi.KeyPatternSource;
import io.mqdb.spi.MqdbException;
import io.mqdb.spi.Store;
import io.mqdb.spi.StoreConfig;
import io.mqdb.spi.StoreContext;
import io.mqdb.spi.TableId;
import io.mqdb.spi.TableSchema;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The node's open stores, by name. {@link #open} checks every store's type and settings first, reporting all problems
 * at once, then opens the stores in config order, each with its adapter's class loader as the context class loader.
 * Thread-safe for reads once open; closed once by the node.
 */
public final class StoreSet implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(StoreSet.class);
    private final Map<String, Opened> stores = new LinkedHashMap<>();

    /**
     * An open store with where it came from.
     *
     * @param name the store's name in config
     * @param type the adapter type
     * @param store the store
     * @param loader the adapter's class loader
     */
    record Opened(String name, String type, Store store, ClassLoader loader) {
    }

    private StoreSet() {
    }

    /**
     * Checks every configured store against the installed adapters, then opens them.
     *
     * @param config the node's config
     * @param plugins the installed adapters
     * @return the open stores
     * @throws ConfigException with every problem: unknown types (listing the types found), bad settings
     */
    static StoreSet open(NodeConfig config, PluginRegistry plugins) {
        Map<String, StoreConfig> checked = new LinkedHashMap<>();
        Map<String, LoadedProvider> providers = new LinkedHashMap<>();
        check(config, plugins, checked, providers);
        StoreSet set = new StoreSet();
        return set.openAll(config, checked, providers);
    }

    /**
     * The check of each store section against the installed adapters, for {@link ConfigLoader#load(Path,
     * StoreCheck)}: an unknown type (listing the installed ones) or settings the adapter does not accept.
     *
     * @param plugins the installed adapters
     * @return the check
     */
    public static StoreCheck checker(PluginRegistry plugins) {
        return (section, baseDir, problems) -> checkOne(section, plugins, baseDir, problems);
    }

    private static StoreConfig checkOne(StoreSection s, PluginRegistry plugins, Path baseDir,
                                        List<ConfigProblem> problems) {
        var provider = plugins.find(s.type());
        if (provider.isEmpty()) {
            problems.add(new ConfigProblem(s.typeLocation(), "unknown store type \"" + s.type()
                    + "\"; installed types: " + (plugins.types().isEmpty() ? "none"
                    : String.join(", ", plugins.types()))));
            return null;
        }
        return StoreSettings.validate(s, provider.get().provider().settings(), baseDir, problems);
    }

    private static void check(NodeConfig config, PluginRegistry plugins, Map<String, StoreConfig> checked,
                              Map<String, LoadedProvider> providers) {
        List<ConfigProblem> problems = new ArrayList<>();
        Path baseDir = config.source().toAbsolutePath().getParent();
        for (StoreSection s : config.stores().values()) {
            StoreConfig c = checkOne(s, plugins, baseDir, problems);
            if (c != null) {
                providers.put(s.name(), plugins.find(s.type()).orElseThrow());
                checked.put(s.name(), c);
            }
        }
        if (!problems.isEmpty()) {
            throw new ConfigException(config.source(), problems);
        }
    }

    private StoreSet openAll(NodeConfig config, Map<String, StoreConfig> checked,
                             Map<String, LoadedProvider> providers) {
        StoreSet set = this;
        try {
            for (Map.Entry<String, StoreConfig> e : checked.entrySet()) {
                LoadedProvider p = providers.get(e.getKey());
                Path dir = config.node().dataDir().resolve("stores").resolve(e.getKey());
                createDirectories(dir);
                Map<TableId, List<String>> keys = replicaKeys(config, e.getKey());
                Map<TableId, KeyPatternSource> patterns = keyPatterns(config, e.getKey());
                StoreContext context = new StoreContext() {
                    @Override
                    public String nodeName() {
                        return config.node().name();
                    }

                    @Override
                    public Path dataDir() {
                        return dir;
                    }

                    @Override
                    public Map<TableId, List<String>> replicaKeys() {
                        return keys;
                    }

                    @Override
                    public Map<TableId, KeyPatternSource> keyPatterns() {
                        return patterns;
                    }
                };
                Store store = p.call(() -> p.provider().open(e.getValue(), context));
                set.stores.put(e.getKey(), new Opened(e.getKey(), p.provider().type(), store, p.loader()));
                LOG.info("store {} ({}) open: {}", e.getKey(), p.provider().type(), store.describeTarget());
            }
        } catch (RuntimeException e) {
            set.close();
            throw e;
        }
        return set;
    }

    /** The {@code key:} of each channel of a store that names one. */
    private static Map<TableId, List<String>> replicaKeys(NodeConfig config, String store) {
        Map<TableId, List<String>> out = new LinkedHashMap<>();
        for (ChannelConfig ch : config.channels()) {
            if (ch.store().equals(store) && !ch.key().isEmpty()) {
                out.put(ch.table(), ch.key());
            }
        }
        return Map.copyOf(out);
    }

    /** The {@code transform.key} of each subscribed channel of a store that names one. */
    private static Map<TableId, KeyPatternSource> keyPatterns(NodeConfig config, String store) {
        Map<TableId, KeyPatternSource> out = new LinkedHashMap<>();
        for (ChannelConfig ch : config.channels()) {
            if (!ch.store().equals(store) || ch.transform().isEmpty()) {
                continue;
            }
            TransformConfig t = ch.transform().get();
            t.transform().keyPattern().ifPresent(p -> out.put(ch.table(),
                    new KeyPatternSource(p, t.keyAt().orElse(t.location()).toString())));
        }
        return Map.copyOf(out);
    }

    /**
     * Checks that each channel's transform asks of its store only what the store can do: a {@code transform.key}
     * needs {@link Store#takesKeyPatterns()}, a {@code transform.ttl} {@link Store#expiresRows()}. Called on the
     * start-up thread once the stores are open.
     *
     * @param config the node's config
     * @throws ConfigException naming file, line and key of each refused setting
     */
    public void checkTransforms(NodeConfig config) {
        List<ConfigProblem> problems = new ArrayList<>();
        for (ChannelConfig ch : config.channels()) {
            Opened s = stores.get(ch.store());
            if (s == null || ch.transform().isEmpty()) {
                continue;
            }
            TransformConfig t = ch.transform().get();
            if (t.transform().keyPattern().isPresent() && !s.store().takesKeyPatterns()) {
                problems.add(new ConfigProblem(t.keyAt().orElse(t.location()), "store " + s.name() + " ("
                        + s.type() + ") does not name rows by a key pattern; transform.key is for a redis store"));
            }
            if (t.transform().expires() && !s.store().expiresRows()) {
                problems.add(new ConfigProblem(t.ttlAt().orElse(t.location()), "store " + s.name() + " ("
                        + s.type() + ") cannot expire rows; transform.ttl is for a redis store"));
            }
        }
        if (!problems.isEmpty()) {
            throw new ConfigException(config.source(), problems);
        }
    }

    /**
     * Checks a described table against its channel's {@code key:}, for stores that do not honour
     * {@link StoreContext#replicaKeys()} themselves (a store that does has already refused a wrong key).
     *
     * @param channel the channel
     * @param schema the table as the store describes it
     * @throws MqdbException when the channel names a key other than the table's primary key
     */
    public static void checkKey(ChannelConfig channel, TableSchema schema) {
        if (!channel.key().isEmpty() && !channel.key().equals(schema.primaryKey())) {
            throw new MqdbException(channel.table() + ": key " + channel.key() + " is refused: the table's key is "
                    + schema.primaryKey() + " (key: can only name the primary key of a table that has one; remove it"
                    + " or make it " + schema.primaryKey() + ")");
        }
    }

    private static void createDirectories(Path dir) {
        try {
            Files.createDirectories(dir);
        } catch (IOException e) {
            throw new MqdbException("cannot create " + dir + ": " + e.getMessage(), e);
        }
    }

    /**
     * @param name a configured store name (the config checked it exists)
     * @return the open store
     */
    Opened get(String name) {
        Opened o = stores.get(name);
        if (o == null) {
            throw new IllegalArgumentException("no store " + name);
        }
        return o;
    }

    /** Closes every store, in reverse order. Idempotent. */
    @Override
    public void close() {
        List<Opened> list = new ArrayList<>(stores.values());
        for (int i = list.size() - 1; i >= 0; i--) {
            Opened o = list.get(i);
            ClassLoader previous = Thread.currentThread().getContextClassLoader();
            Thread.currentThread().setContextClassLoader(o.loader());
            try {
                o.store().close();
            } catch (RuntimeException e) {
                LOG.warn("closing store {}: {}", o.name(), e.getMessage(), e);
            } finally {
                Thread.currentThread().setContextClassLoader(previous);
            }
        }
        stores.clear();
    }
}
