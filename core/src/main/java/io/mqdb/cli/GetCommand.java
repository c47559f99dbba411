package io.mqdb.cli;

import com.google.gson.JsonArray;
import com.google.gson.JsonObject;
import io.mqdb.node.read.RemoteReader;
import io.mqdb.spi.TableId;
import java.io.PrintWriter;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/**
 * {@code mqdb get}: reads one row over MQTT ({@code docs/reads.md}) with a {@link RemoteReader} on a session of its
 * own: the replicas from the retained presences, one request, as many answers as the consistency asks (ONE: 1,
 * QUORUM: a majority of the replicas, ALL: every one); prints the newest version among them as one JSON object, naming
 * who answered and who answered an older version. Read repair is not done.
 *
 * <p>Exit codes: 0 the row was found; 4 the key has no row (the newest answer says so); 3 the consistency was not
 * reached within {@code --wait} (no replica, too few answers, or only errors); 1 when it cannot connect; 2 on a usage
 * error.
 */
@Command(name = "get", mixinStandardHelpOptions = true,
        description = "Read a row over MQTT from the nodes that serve reads of its channel (reads: true).")
final class GetCommand implements Callable<Integer> {
    static final int NOT_FOUND = 4;
    static final int NOT_ENOUGH = 3;

    @Spec
    private CommandLine.Model.CommandSpec spec;

    @CommandLine.Mixin
    private ToolSession session;

    @Option(names = "--channel", required = true, paramLabel = "schema:table", description = "the channel to read")
    private String channel;

    @Option(names = "--consistency", defaultValue = "ONE", paramLabel = "LEVEL",
            description = "ONE, QUORUM or ALL of the replicas (default: ${DEFAULT-VALUE})")
    private RemoteReader.Consistency consistency;

    @Option(names = "--wait", defaultValue = "5", paramLabel = "SECONDS",
            description = "how long to wait for the answers (default: ${DEFAULT-VALUE})")
    private int waitSeconds;

    @Option(names = "--settle-ms", defaultValue = "500", paramLabel = "MS",
            description = "how long to collect the presences after connecting (default: ${DEFAULT-VALUE})")
    private int settleMs;

    @Option(names = "--key-json", paramLabel = "JSON", description = "the key as a JSON object, e.g. {\"id\":1}")
    private String keyJson;

    @Parameters(paramLabel = "COLUMN=VALUE", description = "the key's columns (a value that reads as a JSON number,"
            + " true or false is sent as one; anything else as a string)")
    private List<String> keyParts = List.of();

    @Override
    public Integer call() throws InterruptedException {
        CommandLine cl = spec.commandLine();
        TableId table;
        try {
            table = TableId.parse(channel);
        } catch (IllegalArgumentException e) {
            throw new CommandLine.ParameterException(cl, "--channel: " + e.getMessage());
        }
        if (waitSeconds < 1 || settleMs < 0) {
            throw new CommandLine.ParameterException(cl, "--wait must be at least 1 and --settle-ms 0 or more");
        }
        JsonObject key = key(cl);
        ToolSession.Opened opened = session.open("get", cl);
        PrintWriter err = cl.getErr();
        try {
            RemoteReader reader = new RemoteReader(opened.transport(), opened.topics(), opened.asker());
            reader.subscribe();
            Thread.sleep(settleMs);
            if (reader.replicas(table).isEmpty()) {
                err.printf("no online node serves reads of %s (reads: true)%n", table);
                err.flush();
                return NOT_ENOUGH;
            }
            RemoteReader.Result r = reader.read(table, List.of(key), consistency, Duration.ofSeconds(waitSeconds))
                    .get(0);
            r.errors().forEach(e -> err.println("error from " + e));
            if (!r.reached()) {
                err.printf("consistency %s not reached on %s: %d of %d replica(s) answered within %d s, %d needed%n",
                        consistency, table, r.answered().size(), r.replicas(), waitSeconds,
                        consistency.needed(r.replicas()));
                err.flush();
                return NOT_ENOUGH;
            }
            JsonObject out = new JsonObject();
            out.addProperty("channel", table.toString());
            out.addProperty("consistency", consistency.name());
            out.addProperty("replicas", r.replicas());
            JsonArray answered = new JsonArray();
            r.answered().forEach(answered::add);
            out.add("answered", answered);
            r.key().ifPresent(k -> out.add("key", k));
            out.addProperty("found", r.found());
            r.row().ifPresent(row -> out.add("row", row));
            r.version().ifPresent(v -> {
                JsonObject j = new JsonObject();
                j.addProperty("hlc", v.hlc());
                j.addProperty("origin", v.origin());
                out.add("version", j);
            });
            JsonArray stale = new JsonArray();
            r.stale().forEach(stale::add);
            out.add("stale", stale);
            cl.getOut().println(out);
            cl.getOut().flush();
            err.flush();
            return r.found() ? 0 : NOT_FOUND;
        } catch (io.mqdb.spi.RetriableException e) {
            err.println(e.getMessage());
            err.flush();
            return NOT_ENOUGH;
        } finally {
            opened.transport().close();
        }
    }

    private JsonObject key(CommandLine cl) {
        return ColumnArgs.parse(keyJson, "--key-json", keyParts, "the key", cl);
    }
}
