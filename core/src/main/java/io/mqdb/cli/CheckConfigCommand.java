package io.mqdb.cli;

import io.mqdb.config.ConfigLoader;
import io.mqdb.config.NodeConfig;
import io.mqdb.node.MqdbNode;
import io.mqdb.node.StoreSet;
import io.mqdb.plugin.PluginRegistry;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/**
 * {@code mqdb check-config FILE}: checks a config completely (syntax, keys, names, store types and their settings)
 * without connecting to anything; prints every problem with file, line and key.
 */
@Command(name = "check-config", mixinStandardHelpOptions = true,
        description = "Check a config file and print every problem, without starting anything.")
final class CheckConfigCommand implements Callable<Integer> {
    @Parameters(index = "0", description = "the YAML config file")
    private Path file;

    @Spec
    private picocli.CommandLine.Model.CommandSpec spec;

    @Override
    public Integer call() {
        PluginRegistry plugins = PluginRegistry.load(MqdbNode.defaultPluginsDir(), Main.class.getClassLoader());
        NodeConfig config = ConfigLoader.load(file, StoreSet.checker(plugins));
        spec.commandLine().getOut().printf("%s: OK (node %s, %d store(s), %d channel(s))%n", file,
                config.node().name(), config.stores().size(), config.channels().size());
        return 0;
    }
}
