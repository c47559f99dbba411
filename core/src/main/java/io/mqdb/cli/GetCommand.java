package io.mqdb.cli;

import com.google.gson.JsonArray;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import io.mqdb.signing.Envelope;
import io.mqdb.spi.TableId;
import io.mqdb.spi.Version;
import io.mqdb.transport.InboundMessage;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.security.SecureRandom;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.concurrent.Callable;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/**
 * {@code mqdb get}: reads one row over MQTT ({@code docs/reads.md}). Learns from the retained presences which online
 * nodes serve reads of the channel (the replicas), sends one MQTT 5 request with a response topic under
 * {@code mqdb/<cluster>/reply/<user or client id>/} and a random correlation, and waits for as many answers as the
 * consistency asks (ONE: 1, QUORUM: a majority of the replicas, ALL: every one); prints the newest version among them
 * as one JSON object, naming who answered and who answered an older version. Read repair is not done.
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

    /** How many answers a read waits for. */
    enum Consistency {
        ONE, QUORUM, ALL;

        int needed(int replicas) {
            return switch (this) {
                case ONE -> 1;
                case QUORUM -> replicas / 2 + 1;
                case ALL -> replicas;
            };
        }
    }

    @Spec
    private CommandLine.Model.CommandSpec spec;

    @CommandLine.Mixin
    private ToolSession session;

    @Option(names = "--channel", required = true, paramLabel = "schema:table", description = "the channel to read")
    private String channel;

    @Option(names = "--consistency", defaultValue = "ONE", paramLabel = "LEVEL",
            description = "ONE, QUORUM or ALL of the replicas (default: ${DEFAULT-VALUE})")
    private Consistency consistency;

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
        TreeSet<String> replicas = new TreeSet<>();
        LinkedBlockingQueue<InboundMessage> answers = new LinkedBlockingQueue<>();
        byte[] correlation = new byte[16];
        new SecureRandom().nextBytes(correlation);
        String asker = opened.username().filter(u -> u.matches("[A-Za-z0-9_.@-]{1,64}"))
                .orElse(opened.clientId().replaceAll("[^A-Za-z0-9_.@-]", "_"));
        String reply = opened.topics().replyPrefix(asker.length() > 64 ? asker.substring(0, 64) : asker)
                + HexFormat.of().formatHex(correlation);
        try {
            opened.transport().subscribe(opened.topics().presenceFilter(), m -> {
                try {
                    presence(m, table, replicas);
                } finally {
                    m.ack();
                }
            });
            opened.transport().subscribe(reply, m -> {
                m.ack();
                if (Arrays.equals(m.correlationData(), correlation)) {
                    answers.add(m);
                }
            });
            Thread.sleep(settleMs);
            int n;
            synchronized (replicas) {
                n = replicas.size();
            }
            int needed = consistency.needed(n);
            if (n == 0) {
                cl.getErr().printf("no online node serves reads of %s (reads: true)%n", table);
                cl.getErr().flush();
                return NOT_ENOUGH;
            }
            JsonObject request = new JsonObject();
            request.add("key", key);
            opened.transport().publish(opened.topics().read(table), request.toString()
                    .getBytes(StandardCharsets.UTF_8), reply, correlation).get(waitSeconds, TimeUnit.SECONDS);
            return collect(cl, table, n, needed, answers);
        } catch (java.util.concurrent.ExecutionException | java.util.concurrent.TimeoutException e) {
            cl.getErr().printf("the read request was not acknowledged by the broker: %s%n", e);
            cl.getErr().flush();
            return NOT_ENOUGH;
        } finally {
            opened.transport().close();
        }
    }

    private int collect(CommandLine cl, TableId table, int replicas, int needed,
            LinkedBlockingQueue<InboundMessage> answers) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(waitSeconds);
        Map<String, JsonObject> rows = new TreeMap<>();
        List<String> errors = new ArrayList<>();
        while (rows.size() < needed && rows.size() + errors.size() < replicas) {
            long left = deadline - System.nanoTime();
            InboundMessage m = left > 0 ? answers.poll(left, TimeUnit.NANOSECONDS) : null;
            if (m == null) {
                break;
            }
            try {
                JsonObject a = JsonParser.parseString(new String(m.payload(), StandardCharsets.UTF_8))
                        .getAsJsonObject();
                String node = a.get("node").getAsString();
                if (a.has("error")) {
                    errors.add(node + ": " + a.get("error").getAsString());
                } else {
                    rows.put(node, a.getAsJsonArray("rows").get(0).getAsJsonObject());
                }
            } catch (RuntimeException e) {
                errors.add("a malformed answer: " + e.getMessage());
            }
        }
        PrintWriter err = cl.getErr();
        errors.forEach(e -> err.println("error from " + e));
        if (rows.size() < needed) {
            err.printf("consistency %s not reached on %s: %d of %d replica(s) answered within %d s, %d needed%n",
                    consistency, table, rows.size(), replicas, waitSeconds, needed);
            err.flush();
            return NOT_ENOUGH;
        }
        String newestNode = null;
        Version newest = null;
        for (Map.Entry<String, JsonObject> e : rows.entrySet()) {
            Version v = version(e.getValue());
            if (newestNode == null || v != null && (newest == null || v.compareTo(newest) > 0)) {
                newestNode = e.getKey();
                newest = v;
            }
        }
        JsonObject best = rows.get(newestNode);
        JsonObject out = new JsonObject();
        out.addProperty("channel", table.toString());
        out.addProperty("consistency", consistency.name());
        out.addProperty("replicas", replicas);
        JsonArray answered = new JsonArray();
        rows.keySet().forEach(answered::add);
        out.add("answered", answered);
        out.add("key", best.get("key"));
        out.addProperty("found", best.get("found").getAsBoolean());
        if (best.has("row")) {
            out.add("row", best.get("row"));
        }
        if (best.has("version")) {
            out.add("version", best.get("version"));
        }
        JsonArray stale = new JsonArray();
        for (Map.Entry<String, JsonObject> e : rows.entrySet()) {
            Version v = version(e.getValue());
            if (newest != null && (v == null || v.compareTo(newest) < 0)) {
                stale.add(e.getKey());
            }
        }
        out.add("stale", stale);
        PrintWriter o = cl.getOut();
        o.println(out);
        o.flush();
        err.flush();
        return best.get("found").getAsBoolean() ? 0 : NOT_FOUND;
    }

    private static Version version(JsonObject row) {
        if (!row.has("version")) {
            return null;
        }
        JsonObject v = row.getAsJsonObject("version");
        return new Version(v.get("hlc").getAsLong(), v.get("origin").getAsString());
    }

    /** Counts an online node whose presence says it serves reads of the table. Callback thread. */
    private static void presence(InboundMessage m, TableId table, TreeSet<String> replicas) {
        if (m.payload().length == 0) {
            return;
        }
        try {
            JsonObject o = JsonParser.parseString(new String(Envelope.unverifiedPayload(m.payload()),
                    StandardCharsets.UTF_8)).getAsJsonObject();
            String node = o.get("node").getAsString();
            boolean serves = false;
            if ("online".equals(o.get("state").getAsString()) && o.has("channels")) {
                for (JsonElement c : o.getAsJsonArray("channels")) {
                    JsonObject ch = c.getAsJsonObject();
                    serves |= ch.get("name").getAsString().equals(table.toString()) && ch.has("reads")
                            && ch.get("reads").getAsBoolean();
                }
            }
            synchronized (replicas) {
                if (serves) {
                    replicas.add(node);
                } else {
                    replicas.remove(node);
                }
            }
        } catch (RuntimeException e) {
            // a bad presence is not a replica
        }
    }

    private JsonObject key(CommandLine cl) {
        if (keyJson != null) {
            if (!keyParts.isEmpty()) {
                throw new CommandLine.ParameterException(cl, "give the key either with --key-json or as "
                        + "COLUMN=VALUE, not both");
            }
            try {
                return JsonParser.parseString(keyJson).getAsJsonObject();
            } catch (RuntimeException e) {
                throw new CommandLine.ParameterException(cl, "--key-json: not a JSON object: " + keyJson);
            }
        }
        if (keyParts.isEmpty()) {
            throw new CommandLine.ParameterException(cl, "give the key: COLUMN=VALUE ... or --key-json");
        }
        JsonObject key = new JsonObject();
        for (String part : keyParts) {
            int eq = part.indexOf('=');
            if (eq <= 0) {
                throw new CommandLine.ParameterException(cl, "expected COLUMN=VALUE, got " + part);
            }
            String value = part.substring(eq + 1);
            if (value.matches("-?(0|[1-9][0-9]*)(\\.[0-9]+)?([eE][-+]?[0-9]+)?") || value.equals("true")
                    || value.equals("false")) {
                key.add(part.substring(0, eq), JsonParser.parseString(value));
            } else {
                key.addProperty(part.substring(0, eq), value);
            }
        }
        return key;
    }
}
