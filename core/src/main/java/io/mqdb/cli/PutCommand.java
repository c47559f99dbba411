package io.mqdb.cli;

import com.google.gson.JsonArray;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import io.mqdb.clock.HybridClock;
import io.mqdb.node.read.RemoteReader;
import io.mqdb.node.read.RemoteWriter;
import io.mqdb.node.read.Replicas;
import io.mqdb.spi.TableId;
import java.io.PrintWriter;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/**
 * {@code mqdb put}: writes (or, with {@code --delete}, deletes) one row over MQTT and waits for the subscribers'
 * receipts ({@code docs/writes.md}) with a {@link RemoteWriter} on a session of its own: the subscribers from the
 * retained presences, the change published on the channel with a response topic, retried until as many confirmed
 * that their stores committed it as {@code --acks} asks (ONE, QUORUM: a majority of the subscribers, ALL: every one,
 * online or not); prints who confirmed as one JSON object. The change's origin is the session's client id; it is
 * unsigned, so a cluster with {@code node.signing} takes it only on a channel with {@code accept-plain-writes}.
 *
 * <p>Exit codes: 0 confirmed as asked; 3 not within {@code --wait} (no subscriber, too few receipts, or refusals);
 * 1 when it cannot connect; 2 on a usage error.
 */
@Command(name = "put", mixinStandardHelpOptions = true,
        description = "Write a row over MQTT and wait until the channel's subscribers committed it.")
final class PutCommand implements Callable<Integer> {
    static final int NOT_ENOUGH = 3;

    @Spec
    private CommandLine.Model.CommandSpec spec;

    @CommandLine.Mixin
    private ToolSession session;

    @Option(names = "--channel", required = true, paramLabel = "schema:table", description = "the channel to write")
    private String channel;

    @Option(names = "--acks", defaultValue = "ONE", paramLabel = "LEVEL",
            description = "ONE, QUORUM or ALL of the subscribers must confirm (default: ${DEFAULT-VALUE})")
    private RemoteReader.Consistency acks;

    @Option(names = "--wait", defaultValue = "10", paramLabel = "SECONDS",
            description = "how long to wait for the receipts, retries included (default: ${DEFAULT-VALUE})")
    private int waitSeconds;

    @Option(names = "--delete", description = "delete the key instead of writing a row")
    private boolean delete;

    @Option(names = "--row-json", paramLabel = "JSON", description = "the row (or, with --delete, the key) as a JSON"
            + " object, e.g. {\"id\":1,\"name\":\"pen\"}")
    private String rowJson;

    @Parameters(paramLabel = "COLUMN=VALUE", description = "the row's columns (a value that reads as a JSON number,"
            + " true, false or null is sent as one; anything else as a string)")
    private List<String> parts = List.of();

    @Override
    public Integer call() throws InterruptedException {
        CommandLine cl = spec.commandLine();
        TableId table;
        try {
            table = TableId.parse(channel);
        } catch (IllegalArgumentException e) {
            throw new CommandLine.ParameterException(cl, "--channel: " + e.getMessage());
        }
        if (waitSeconds < 1) {
            throw new CommandLine.ParameterException(cl, "--wait must be at least 1");
        }
        Map<String, JsonElement> columns = new LinkedHashMap<>(ColumnArgs.parse(rowJson, "--row-json", parts,
                delete ? "the key" : "the row", cl).asMap()); // JSON values as given: 7 stays an integer
        ToolSession.Opened opened = session.open("put", cl);
        PrintWriter err = cl.getErr();
        try {
            Replicas replicas = new Replicas(opened.transport(), opened.topics());
            RemoteWriter writer = new RemoteWriter(opened.transport(), opened.topics(), opened.asker(),
                    opened.clientId(), HybridClock.system(), Optional.empty(), replicas);
            writer.subscribe();
            RemoteWriter.Result r = writer.write(table, delete ? List.of() : List.of(columns),
                    delete ? List.of(columns) : List.of(), acks, Duration.ofSeconds(waitSeconds));
            r.errors().forEach(e -> err.println("refused by " + e));
            JsonObject out = new JsonObject();
            out.addProperty("channel", table.toString());
            out.addProperty("acks", acks.name());
            out.addProperty("replicas", r.replicas().size());
            out.addProperty("needed", r.needed());
            out.add("confirmed", strings(r.confirmed()));
            out.add("missing", strings(r.missing()));
            out.addProperty("attempts", r.attempts());
            cl.getOut().println(out);
            cl.getOut().flush();
            if (!r.reached()) {
                err.printf(r.replicas().isEmpty() ? "no node subscribes %s (its presence says so)%n"
                        : "acks %s not reached on %s: %d of %d subscriber(s) confirmed within %d s, %d needed;"
                        + " not confirmed: %s%n", r.replicas().isEmpty() ? new Object[] {table}
                        : new Object[] {acks, table, r.confirmed().size(), r.replicas().size(), waitSeconds,
                        r.needed(), String.join(", ", r.missing())});
            }
            err.flush();
            return r.reached() ? 0 : NOT_ENOUGH;
        } catch (io.mqdb.spi.RetriableException e) {
            err.println(e.getMessage());
            err.flush();
            return NOT_ENOUGH;
        } finally {
            opened.transport().close();
        }
    }

    private static JsonArray strings(List<String> list) {
        JsonArray a = new JsonArray();
        list.forEach(a::add);
        return a;
    }
}
