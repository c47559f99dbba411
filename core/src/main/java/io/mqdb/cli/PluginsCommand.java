package io.mqdb.cli;

import io.mqdb.node.MqdbNode;
import io.mqdb.plugin.LoadedProvider;
import io.mqdb.plugin.PluginRegistry;
import io.mqdb.spi.Setting;
import java.io.PrintWriter;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** {@code mqdb plugins}: lists the installed store types, where each comes from and, with -v, its settings. */
@Command(name = "plugins", mixinStandardHelpOptions = true, description = "List the installed store adapters.")
final class PluginsCommand implements Callable<Integer> {
    @Option(names = {"-v", "--verbose"}, description = "also list each adapter's settings")
    private boolean verbose;

    @Spec
    private picocli.CommandLine.Model.CommandSpec spec;

    @Override
    public Integer call() {
        PrintWriter out = spec.commandLine().getOut();
        PluginRegistry registry = PluginRegistry.load(MqdbNode.defaultPluginsDir(), Main.class.getClassLoader());
        if (registry.all().isEmpty()) {
            out.println("no store adapters installed (looked in the class path and "
                    + MqdbNode.defaultPluginsDir().map(Object::toString).orElse("no plugins folder") + ")");
            return 0;
        }
        for (LoadedProvider p : registry.all()) {
            out.printf("%-10s %s%n", p.provider().type(), p.source());
            if (verbose) {
                for (Setting s : p.provider().settings()) {
                    out.printf("    %-22s %-8s %-12s %s%n", s.name(), s.type().name().toLowerCase(),
                            s.required() ? "required" : s.defaultValue() == null ? "" : "= " + s.defaultValue(),
                            s.doc());
                }
            }
        }
        out.flush();
        return 0;
    }
}
