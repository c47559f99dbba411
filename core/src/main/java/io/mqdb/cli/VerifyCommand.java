package io.mqdb.cli;

import com.google.gson.GsonBuilder;
import com.google.gson.JsonArray;
import com.google.gson.JsonObject;
import io.mqdb.codec.RowJson;
import io.mqdb.config.ConfigLoader;
import io.mqdb.config.NodeConfig;
import io.mqdb.node.MqdbNode;
import io.mqdb.node.catchup.Control;
import io.mqdb.plugin.PluginRegistry;
import io.mqdb.signing.Signing;
import io.mqdb.spi.Key;
import io.mqdb.spi.MqdbException;
import io.mqdb.spi.TableId;
import io.mqdb.spi.TableSchema;
import io.mqdb.verify.Verifier;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.Callable;
import java.util.concurrent.TimeUnit;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code mqdb verify --config FILE --channel schema:table --source STORE --target STORE [--target-config FILE]}:
 * compares a channel's table on two stores, of any adapters, by bucket digests ({@link Verifier}), and prints the
 * rows compared, the buckets that differed and the keys missing from, extra in and stale in the target. Exit 0 when
 * both hold the same rows, 1 when they differ, 2 on a usage or config error. Opens only the two stores and reads
 * them; writes nothing itself. With {@code --repair} it then asks the channel's publisher, over the broker of
 * {@code --config} (as that config's node, signed when it signs), to publish the differing keys again through its
 * normal path ({@link Control.Republish}), and checks them until they are equal: exit 0 when they all are.
 */
@Command(name = "verify", mixinStandardHelpOptions = true,
        description = "Compare a channel's table on two stores and list the rows that differ; --repair has the "
                + "publisher publish them again.")
final class VerifyCommand implements Callable<Integer> {
    @Option(names = {"-c", "--config"}, required = true, description = "the config file naming the source store")
    private Path file;

    @Option(names = "--channel", required = true, description = "the channel, schema:table")
    private String channel;

    @Option(names = "--source", required = true, description = "the store taken as right (the publisher's)")
    private String source;

    @Option(names = "--target", required = true, description = "the store checked against it")
    private String target;

    @Option(names = "--target-config", description = "the config file naming the target store (default: --config)")
    private Path targetFile;

    @Option(names = "--buckets", defaultValue = "" + Verifier.DEFAULT_BUCKETS,
            description = "hash buckets of the key space, a power of two (default ${DEFAULT-VALUE})")
    private int buckets;

    @Option(names = "--show", defaultValue = "10", description = "keys listed of each kind (default ${DEFAULT-VALUE})")
    private int show;

    @Option(names = "--json", description = "print the result as one JSON object")
    private boolean json;

    @Option(names = "--repair", description = "ask the publisher to publish the differing keys again (through the "
            + "broker of --config, as its node), then check them until they are equal or --repair-wait is over")
    private boolean repair;

    @Option(names = "--publisher", paramLabel = "NODE", description = "the node that publishes the channel "
            + "(default: the node of --config)")
    private String publisher;

    @Option(names = "--repair-wait", paramLabel = "SECONDS", defaultValue = "60",
            description = "how long to wait for the repaired keys to be equal (default: ${DEFAULT-VALUE})")
    private int repairWait;

    @Spec
    private CommandLine.Model.CommandSpec spec;

    @Override
    public Integer call() throws InterruptedException {
        PrintWriter out = spec.commandLine().getOut();
        TableId table;
        try {
            table = TableId.parse(channel);
        } catch (IllegalArgumentException e) {
            throw new CommandLine.ParameterException(spec.commandLine(), "--channel: " + e.getMessage());
        }
        if (buckets < 1 || buckets > (1 << 20) || Integer.bitCount(buckets) != 1) {
            throw new CommandLine.ParameterException(spec.commandLine(), "--buckets: expected a power of two from "
                    + "1 to 1048576, got " + buckets);
        }
        PluginRegistry plugins = PluginRegistry.load(MqdbNode.defaultPluginsDir(), Main.class.getClassLoader());
        OpenedStore a = OpenedStore.open(spec, plugins, file, source);
        try {
            OpenedStore b = OpenedStore.open(spec, plugins, targetFile == null ? file : targetFile, target);
            try {
                TableSchema schema = a.provider().call(() -> a.store().describe(table)).orElseThrow(() ->
                        new CommandLine.ParameterException(spec.commandLine(), "store " + source + " has no table "
                                + table));
                Verifier.Result r = a.provider().call(() -> b.provider().call(() ->
                        new Verifier(schema, buckets).compare(a.store(), b.store())));
                print(out, table, a, b, r);
                if (r.same() || !repair) {
                    return r.same() ? 0 : Main.FAILURE;
                }
                List<Key> keys = new ArrayList<>(r.missing());
                keys.addAll(r.extra());
                keys.addAll(r.stale());
                List<Key> left = repair(table, schema, keys, a, b, out);
                return left.isEmpty() ? 0 : Main.FAILURE;
            } finally {
                b.close();
            }
        } finally {
            a.close();
            out.flush();
        }
    }

    /**
     * Asks the publisher, over the config's broker and as the config's node (signed when it signs), to publish the
     * keys again, then checks them once a second until they are equal or {@code --repair-wait} is over.
     *
     * @return the keys still differing
     */
    private List<Key> repair(TableId table, TableSchema schema, List<Key> keys, OpenedStore a, OpenedStore b,
            PrintWriter out) throws InterruptedException {
        CommandLine cl = spec.commandLine();
        NodeConfig conf = ConfigLoader.load(file);
        String asker = conf.node().name();
        String to = publisher != null ? publisher : asker;
        if (publisher == null && conf.channels().stream().noneMatch(c -> c.publish() && c.table().equals(table))) {
            throw new CommandLine.ParameterException(cl, "--repair: node " + asker + " of " + file + " does not "
                    + "publish " + table + "; name the node that does with --publisher");
        }
        Optional<Signing> signing = conf.node().signing().map(s -> new Signing(asker, s.privateKey(), s.trust()));
        ToolSession session = new ToolSession();
        session.config = file;
        session.timeoutSeconds = 10;
        ToolSession.Opened o = session.open("repair", cl);
        long t0 = System.nanoTime();
        try {
            String topic = o.topics().republish(to);
            for (int from = 0; from < keys.size(); from += Control.MAX_REPUBLISH_KEYS) {
                List<JsonObject> chunk = new ArrayList<>();
                for (Key k : keys.subList(from, Math.min(keys.size(), from + Control.MAX_REPUBLISH_KEYS))) {
                    chunk.add(RowJson.key(schema, k));
                }
                byte[] json = new Control.Republish(table, chunk, asker, System.currentTimeMillis()).toJson();
                byte[] payload = signing.map(s -> s.seal(topic, json)).orElse(json);
                try {
                    o.transport().publish(topic, payload, false).get(10, TimeUnit.SECONDS);
                } catch (java.util.concurrent.ExecutionException | java.util.concurrent.TimeoutException e) {
                    throw new MqdbException("--repair: the broker did not take the republish request for " + to
                            + ": " + e, e);
                }
            }
        } finally {
            o.transport().close();
        }
        List<Key> left = keys;
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(repairWait);
        while (!left.isEmpty() && System.nanoTime() < deadline) {
            Thread.sleep(1000);
            List<Key> check = left;
            left = a.provider().call(() -> b.provider().call(() ->
                    new Verifier(schema, buckets).recheck(a.store(), b.store(), check)));
        }
        long ms = (System.nanoTime() - t0) / 1_000_000;
        if (json) {
            JsonObject j = new JsonObject();
            j.addProperty("publisher", to);
            j.addProperty("asked", keys.size());
            j.addProperty("stillDiffering", left.size());
            j.add("firstStillDiffering", keys(left));
            j.addProperty("millis", ms);
            JsonObject w = new JsonObject();
            w.add("repair", j);
            out.println(w);
        } else if (left.isEmpty()) {
            out.printf("repair: asked %s to publish %d key(s) again; all equal %d ms later%n", to, keys.size(), ms);
        } else {
            out.printf("repair: asked %s to publish %d key(s) again; %d still differ after %d s, first %s%n", to,
                    keys.size(), left.size(), repairWait, left.subList(0, Math.min(show, left.size())));
        }
        return left;
    }

    private void print(PrintWriter out, TableId table, OpenedStore a, OpenedStore b, Verifier.Result r) {
        if (json) {
            JsonObject o = new JsonObject();
            o.addProperty("channel", table.toString());
            o.addProperty("source", source + " (" + a.store().describeTarget() + ")");
            o.addProperty("target", target + " (" + b.store().describeTarget() + ")");
            o.addProperty("same", r.same());
            o.addProperty("sourceRows", r.sourceRows());
            o.addProperty("targetRows", r.targetRows());
            o.addProperty("rowsRead", r.rowsRead());
            o.addProperty("buckets", buckets);
            o.addProperty("differingBuckets", r.differingBuckets());
            o.addProperty("missing", r.missing().size());
            o.addProperty("extra", r.extra().size());
            o.addProperty("stale", r.stale().size());
            o.add("firstMissing", keys(r.missing()));
            o.add("firstExtra", keys(r.extra()));
            o.add("firstStale", keys(r.stale()));
            o.addProperty("millis", r.millis());
            out.println(new GsonBuilder().disableHtmlEscaping().create().toJson(o));
            return;
        }
        out.printf("%s: %s (%s) against %s (%s)%n", table, source, a.store().describeTarget(), target,
                b.store().describeTarget());
        out.printf("rows: %d in the source, %d in the target; %d read, %d of %d buckets differed; %d ms%n",
                r.sourceRows(), r.targetRows(), r.rowsRead(), r.differingBuckets(), buckets, r.millis());
        if (r.same()) {
            out.println("same: every row equal");
            return;
        }
        line(out, "missing from the target", r.missing());
        line(out, "extra in the target", r.extra());
        line(out, "stale in the target", r.stale());
    }

    private void line(PrintWriter out, String what, List<Key> keys) {
        if (!keys.isEmpty()) {
            out.printf("%s: %d, first %s%n", what, keys.size(), keys.subList(0, Math.min(show, keys.size())));
        }
    }

    private JsonArray keys(List<Key> keys) {
        JsonArray a = new JsonArray();
        for (Key k : keys.subList(0, Math.min(show, keys.size()))) {
            JsonArray values = new JsonArray();
            k.values().forEach(v -> values.add(String.valueOf(v)));
            a.add(values);
        }
        return a;
    }
}
