package io.mqdb.cli;

import io.mqdb.config.ConfigLoader;
import io.mqdb.config.NodeConfig;
import io.mqdb.node.MqdbNode;
import io.mqdb.node.StoreSet;
import io.mqdb.node.TableCheck;
import java.io.PrintWriter;
import io.mqdb.plugin.PluginRegistry;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/**
 * {@code mqdb check-config FILE [--connect]}: checks a config completely (syntax, keys, names, store types and their
 * settings) without connecting to anything; prints every problem with file, line and key. With {@code --connect} it
 * then connects to the stores and checks every channel's table as the node would use it ({@link TableCheck}): a
 * published table without a primary key, say, is reported here rather than at run time.
 */
@Command(name = "check-config", mixinStandardHelpOptions = true,
        description = "Check a config file and print every problem, without starting anything.")
final class CheckConfigCommand implements Callable<Integer> {
    @Parameters(index = "0", description = "the YAML config file")
    private Path file;

    @Option(names = "--connect", description = "also connect to the stores and check every channel's table")
    private boolean connect;

    @Spec
    private picocli.CommandLine.Model.CommandSpec spec;

    @Override
    public Integer call() {
        PluginRegistry plugins = PluginRegistry.load(MqdbNode.defaultPluginsDir(), Main.class.getClassLoader());
        NodeConfig config = ConfigLoader.load(file, StoreSet.checker(plugins));
        PrintWriter out = spec.commandLine().getOut();
        if (!connect) {
            out.printf("%s: OK (node %s, %d store(s), %d channel(s))%n", file, config.node().name(),
                    config.stores().size(), config.channels().size());
            return 0;
        }
        TableCheck.Report r = TableCheck.run(config, plugins);
        for (String n : r.notes()) {
            out.printf("%s: note: %s%n", file, n);
        }
        PrintWriter err = spec.commandLine().getErr();
        for (String p : r.problems()) {
            err.printf("%s: %s%n", file, p);
        }
        if (!r.problems().isEmpty()) {
            err.printf("%s: %d of %d channel(s) cannot run%n", file, r.problems().size(), r.checked());
            return 1;
        }
        out.printf("%s: OK (node %s, %d store(s), %d channel(s), every table checked in its store)%n", file,
                config.node().name(), config.stores().size(), config.channels().size());
        return 0;
    }
}
