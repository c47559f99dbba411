package io.mqdb.cli;

import io.mqdb.config.ConfigLoader;
import io.mqdb.config.NodeConfig;
import io.mqdb.node.MqdbNode;
import io.mqdb.node.StoreSet;
import io.mqdb.plugin.PluginRegistry;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code mqdb run --config FILE}: runs a node until it is stopped (SIGTERM, Ctrl-C) or fails. */
@Command(name = "run", mixinStandardHelpOptions = true, description = "Run a node until stopped.")
final class RunCommand implements Callable<Integer> {
    @Option(names = {"-c", "--config"}, required = true, description = "the node's YAML config file")
    private Path config;

    @Override
    public Integer call() throws InterruptedException {
        PluginRegistry plugins = PluginRegistry.load(MqdbNode.defaultPluginsDir(), MqdbNode.class.getClassLoader());
        NodeConfig c = ConfigLoader.load(config, StoreSet.checker(plugins));
        LogFormats.use(c.node().logFormat());
        MqdbNode node = MqdbNode.start(c, plugins);
        Thread hook = new Thread(node::close, "shutdown");
        Runtime.getRuntime().addShutdownHook(hook);
        node.awaitTermination();
        return node.failure().isPresent() ? Main.FAILURE : 0;
    }
}
