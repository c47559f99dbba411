package io.mqdb.cli;

import io.mqdb.config.ConfigException;
import io.mqdb.config.ConfigLoader;
import io.mqdb.config.ConfigProblem;
import io.mqdb.config.NodeConfig;
import io.mqdb.config.StoreSection;
import io.mqdb.config.StoreSettings;
import io.mqdb.node.StoreSet;
import io.mqdb.plugin.LoadedProvider;
import io.mqdb.plugin.PluginRegistry;
import io.mqdb.spi.MqdbException;
import io.mqdb.spi.Store;
import io.mqdb.spi.StoreConfig;
import io.mqdb.spi.StoreContext;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import picocli.CommandLine;

/**
 * One store of a node's config, opened by a command the way the node opens it (its adapter's class loader, its
 * folder under the data dir as context), for commands that work on a store without running a node: {@code uninstall},
 * {@code verify}. The caller closes it with {@link #close()}.
 *
 * @param provider the store's adapter, to run its calls in the adapter's class loader
 * @param store the open store
 * @param config the config it was named in
 * @param name its name under {@code stores:}
 */
record OpenedStore(LoadedProvider provider, Store store, NodeConfig config, String name) implements AutoCloseable {

    /**
     * @param spec the command, for usage errors
     * @param plugins the adapters
     * @param file the config file
     * @param name the store's name under {@code stores:}
     * @return the open store
     * @throws CommandLine.ParameterException when the config names no such store
     * @throws ConfigException when the store's settings are invalid
     */
    static OpenedStore open(CommandLine.Model.CommandSpec spec, PluginRegistry plugins, Path file, String name) {
        NodeConfig config = ConfigLoader.load(file, StoreSet.checker(plugins));
        StoreSection section = config.stores().get(name);
        if (section == null) {
            throw new CommandLine.ParameterException(spec.commandLine(), file + ": no store \"" + name
                    + "\"; stores: " + String.join(", ", config.stores().keySet()));
        }
        LoadedProvider provider = plugins.find(section.type()).orElseThrow(); // the checker found it
        List<ConfigProblem> problems = new ArrayList<>();
        StoreConfig settings = StoreSettings.validate(section, provider.provider().settings(), config.baseDir(),
                problems);
        if (!problems.isEmpty()) {
            throw new ConfigException(config.source(), problems);
        }
        StoreContext context = context(config, name);
        return new OpenedStore(provider, provider.call(() -> provider.provider().open(settings, context)), config,
                name);
    }

    /** The same context the node gives the store (its folder under the data dir), so file stores open alike. */
    private static StoreContext context(NodeConfig config, String name) {
        Path dir = config.node().dataDir().resolve("stores").resolve(name);
        try {
            Files.createDirectories(dir);
        } catch (IOException e) {
            throw new MqdbException("cannot create " + dir + ": " + e.getMessage(), e);
        }
        String node = config.node().name();
        return new StoreContext() {
            @Override
            public String nodeName() {
                return node;
            }

            @Override
            public Path dataDir() {
                return dir;
            }
        };
    }

    /** @return the store's type, as the config gives it */
    String type() {
        return config.stores().get(name).type();
    }

    @Override
    public void close() {
        provider.run(store::close);
    }
}
