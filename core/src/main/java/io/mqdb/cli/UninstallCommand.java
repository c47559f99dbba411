package io.mqdb.cli;

import io.mqdb.node.MqdbNode;
import io.mqdb.plugin.LoadedProvider;
import io.mqdb.plugin.PluginRegistry;
import io.mqdb.spi.CaptureInstallation;
import io.mqdb.spi.Store;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code mqdb uninstall --config FILE --store NAME [--yes]}: lists what change capture installed in one store's
 * database (triggers, functions, change log) and, with {@code --yes}, removes it. Opens only that store, through its
 * adapter's {@link CaptureInstallation}; a store type without that ability is an error (exit 1). Stop the nodes
 * publishing from the database first.
 */
@Command(name = "uninstall", mixinStandardHelpOptions = true,
        description = "List, and with --yes remove, what change capture installed in a store's database.")
final class UninstallCommand implements Callable<Integer> {
    @Option(names = {"-c", "--config"}, required = true, description = "the node's YAML config file")
    private Path file;

    @Option(names = "--store", required = true, description = "the name of the store under stores:")
    private String storeName;

    @Option(names = "--yes", description = "remove what is listed; without it nothing changes")
    private boolean yes;

    @Spec
    private CommandLine.Model.CommandSpec spec;

    @Override
    public Integer call() {
        PrintWriter out = spec.commandLine().getOut();
        PluginRegistry plugins = PluginRegistry.load(MqdbNode.defaultPluginsDir(), Main.class.getClassLoader());
        OpenedStore opened = OpenedStore.open(spec, plugins, file, storeName);
        Store store = opened.store();
        LoadedProvider provider = opened.provider();
        try {
            if (!(store instanceof CaptureInstallation installation)) {
                spec.commandLine().getErr().printf("error: store %s (type %s) cannot list or remove what its"
                        + " capture installed: its adapter has no uninstall%n", storeName, opened.type());
                return Main.FAILURE;
            }
            List<String> installed = provider.call(installation::installed);
            String where = "store " + storeName + " (" + store.describeTarget() + ")";
            if (installed.isEmpty()) {
                out.printf("%s: nothing installed by mqdb%n", where);
                return 0;
            }
            out.printf("%s: mqdb installed %d object(s):%n", where, installed.size());
            installed.forEach(i -> out.println("  " + i));
            if (!yes) {
                out.println("nothing removed; stop the nodes publishing from it, then run again with --yes");
                return 0;
            }
            provider.run(installation::uninstall);
            out.printf("removed %d object(s)%n", installed.size());
            return 0;
        } finally {
            opened.close();
            out.flush();
        }
    }
}
