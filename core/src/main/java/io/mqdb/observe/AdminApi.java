package io.mqdb.observe;

import com.google.gson.JsonArray;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import io.mqdb.config.ChannelConfig;
import io.mqdb.config.NodeConfig;
import io.mqdb.config.StoreSection;
import io.mqdb.node.NodeMetrics;
import io.mqdb.node.apply.ChannelApplier;
import io.mqdb.node.catchup.NodeState;
import io.mqdb.node.deadletter.DeadLetterFiles;
import io.mqdb.node.deadletter.DeadLetterFiles.Letter;
import io.mqdb.node.deadletter.DeadLetterReplay;
import io.mqdb.node.runtime.NodeContext;
import io.mqdb.spi.MqdbException;
import io.mqdb.spi.TableId;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.function.LongSupplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The node's admin API, JSON over the {@code node.http} listener ({@code docs/operations.md} lists every path):
 * <ul>
 *   <li>{@code GET /api/node}: the node, its release, its broker connection, its stores;</li>
 *   <li>{@code GET /api/channels}: every channel of this node with its lag, counters, outbox and load progress;</li>
 *   <li>{@code GET /api/cluster}: every node and channel of the cluster as the broker's retained messages show them
 *       (what {@code mqdb status --json} prints); {@code GET /api/history}: the cluster's lags of the last minutes;</li>
 *   <li>{@code POST /api/channels/<schema>:<table>/pause|resume|resync}: steer a subscribed channel;</li>
 *   <li>{@code GET /api/dead-letters[?channel=s:t&limit=N]} and {@code POST /api/dead-letters/replay} with
 *       {@code {"ids":[..]}}, {@code {"channel":"s:t"}} or {@code {"all":true}}.</li>
 * </ul>
 * Answers are {@code application/json}; errors are {@code {"error":"..."}} with 400 (a bad request), 404 (no such
 * channel or letter), 405, 409 (not possible now: a channel this node does not subscribe, another replay running) or
 * 500.
 *
 * <h2>Threads</h2>
 * Called on the listener's one handler thread ({@code http-<node>}), so requests run one at a time; a replay blocks
 * it while the broker acknowledges (at most {@link #REPLAY_TIMEOUT} per letter). Reads the node's state through
 * thread-safe views (the appliers, the counters, the cluster view).
 */
final class AdminApi {
    private static final Logger LOG = LoggerFactory.getLogger(AdminApi.class);
    static final Duration REPLAY_TIMEOUT = Duration.ofSeconds(10);
    /** How long a pause waits for the batch being applied before it answers. */
    static final Duration PAUSE_WAIT = Duration.ofSeconds(5);
    private static final int DEFAULT_LETTERS = 100;
    private static final int MAX_LETTERS = 1000;
    private static final int REASON_CHARS = 500;

    /** What the API needs of the observer: its per-channel figures. */
    interface Figures {
        Map<TableId, Lag> lags();

        List<LoadProgress> loads(TableId channel);

        /** @return rows per second applied from the origin's snapshot over the last samples, or NaN */
        double loadRate(TableId channel, String origin);
    }

    /**
     * An answer.
     *
     * @param status the HTTP status
     * @param body the JSON body
     */
    record Answer(int status, String body) {
        static Answer ok(JsonElement e) {
            return new Answer(200, e.toString());
        }

        static Answer error(int status, String message) {
            JsonObject o = new JsonObject();
            o.addProperty("error", message);
            return new Answer(status, o.toString());
        }
    }

    private final NodeConfig config;
    private final NodeContext ctx;
    private final NodeMetrics metrics;
    private final Map<TableId, ChannelApplier> appliers;
    private final Figures figures;
    private final ClusterStatus cluster;
    private final LagHistory history;
    private final String version;
    private final long startedAtMillis = System.currentTimeMillis();
    private final Path deadLetterDir;
    private String lettersSignature;
    private List<Letter> lettersCache = List.of();

    AdminApi(NodeConfig config, NodeContext ctx, NodeMetrics metrics, Map<TableId, ChannelApplier> appliers,
            Figures figures, ClusterStatus cluster, LagHistory history, String version) {
        this.config = config;
        this.ctx = ctx;
        this.metrics = metrics;
        this.appliers = Map.copyOf(appliers);
        this.figures = figures;
        this.cluster = cluster;
        this.history = history;
        this.version = version;
        this.deadLetterDir = config.node().dataDir().resolve("dead-letters");
    }

    /**
     * @param method GET, HEAD or POST
     * @param path the path, starting with {@code /api/}
     * @param query the raw query string, or null
     * @param body the request body (POST), at most the listener's bound
     * @return the answer
     * @throws InterruptedException when interrupted during a replay
     */
    Answer handle(String method, String path, String query, byte[] body) throws InterruptedException {
        boolean get = method.equals("GET") || method.equals("HEAD");
        if (path.startsWith("/api/channels/") && path.length() > "/api/channels/".length()) {
            return method.equals("POST") ? channelAction(path.substring("/api/channels/".length()))
                    : Answer.error(405, "POST /api/channels/<schema>:<table>/pause, resume or resync");
        }
        if (path.equals("/api/dead-letters/replay")) {
            return method.equals("POST") ? replay(body) : Answer.error(405, "POST /api/dead-letters/replay");
        }
        if (!get) {
            return Answer.error(405, "GET " + path);
        }
        return switch (path) {
            case "/api/node" -> Answer.ok(node());
            case "/api/channels" -> Answer.ok(channels());
            case "/api/cluster" -> Answer.ok(JsonParser.parseString(
                    ClusterStatus.json(cluster.report(System.currentTimeMillis(), -1))));
            case "/api/history" -> Answer.ok(history.toJson());
            case "/api/dead-letters" -> deadLetters(query);
            default -> Answer.error(404, "no such path; try /api/node, /api/channels, /api/cluster, /api/history, "
                    + "/api/dead-letters");
        };
    }

    private JsonObject node() {
        JsonObject o = new JsonObject();
        o.addProperty("node", config.node().name());
        o.addProperty("cluster", config.node().cluster());
        o.addProperty("version", version);
        o.addProperty("startedAt", java.time.Instant.ofEpochMilli(startedAtMillis).toString());
        JsonObject broker = new JsonObject();
        broker.addProperty("connected", ctx.transport().isConnected());
        broker.addProperty("uri", ctx.transport().currentBroker());
        o.add("broker", broker);
        JsonArray stores = new JsonArray();
        for (StoreSection s : config.stores().values()) {
            JsonObject j = new JsonObject();
            j.addProperty("name", s.name());
            j.addProperty("type", s.type());
            LongSupplier depth = metrics.outboxDepth.get(s.name());
            if (depth != null) {
                j.addProperty("outboxDepth", depth.getAsLong());
                LongSupplier bytes = metrics.outboxBytes.get(s.name());
                j.addProperty("outboxBytes", bytes == null ? 0 : bytes.getAsLong());
            }
            stores.add(j);
        }
        o.add("stores", stores);
        JsonObject memory = new JsonObject();
        memory.addProperty("residentBytes", ProcessMemory.residentBytes());
        Runtime rt = Runtime.getRuntime();
        memory.addProperty("heapUsedBytes", rt.totalMemory() - rt.freeMemory());
        memory.addProperty("heapMaxBytes", rt.maxMemory());
        o.add("memory", memory);
        return o;
    }

    private JsonArray channels() {
        Map<TableId, Lag> lags = figures.lags();
        JsonArray a = new JsonArray();
        for (ChannelConfig c : config.channels()) {
            JsonObject j = new JsonObject();
            j.addProperty("channel", c.table().toString());
            j.addProperty("store", c.store());
            j.addProperty("publish", c.publish());
            j.addProperty("subscribe", c.subscribe());
            if (c.publish()) {
                j.addProperty("publishedEvents", metrics.published(c.table()).sum());
                LongSupplier depth = metrics.outboxDepth.get(c.store());
                j.addProperty("outboxDepth", depth == null ? 0 : depth.getAsLong());
                NodeState.SnapshotState s = ctx.state().snapshot(c.table().toString());
                if (s != null) {
                    JsonObject load = new JsonObject();
                    load.addProperty("rows", s.rows);
                    load.addProperty("total", s.total);
                    load.addProperty("done", s.done);
                    j.add("publishedLoad", load);
                }
            }
            ChannelApplier applier = appliers.get(c.table());
            if (applier != null) {
                j.addProperty("paused", applier.paused());
                j.addProperty("waiting", applier.waiting());
                j.addProperty("appliedEvents", applier.progress().appliedEvents());
                j.addProperty("deadLetters", metrics.deadLetters(c.table()).sum());
                Lag lag = lags.get(c.table());
                if (lag != null) {
                    JsonObject l = new JsonObject();
                    l.addProperty("events", lag.events());
                    if (!Double.isNaN(lag.seconds())) {
                        l.addProperty("seconds", lag.seconds());
                    }
                    j.add("lag", l);
                }
                JsonArray loads = new JsonArray();
                for (LoadProgress p : figures.loads(c.table())) {
                    JsonObject l = new JsonObject();
                    l.addProperty("origin", p.origin());
                    l.addProperty("applied", p.applied());
                    l.addProperty("total", p.total());
                    l.addProperty("published", p.published());
                    double rate = figures.loadRate(c.table(), p.origin());
                    if (!Double.isNaN(rate)) {
                        l.addProperty("rowsPerSecond", Math.round(rate));
                        if (rate > 0 && !p.complete()) {
                            l.addProperty("secondsLeft", Math.round((p.total() - p.applied()) / rate));
                        }
                    }
                    loads.add(l);
                }
                j.add("loads", loads);
            }
            a.add(j);
        }
        return a;
    }

    private Answer channelAction(String rest) throws InterruptedException {
        int slash = rest.lastIndexOf('/');
        if (slash <= 0) {
            return Answer.error(404, "expected /api/channels/<schema>:<table>/pause, resume or resync");
        }
        TableId table;
        try {
            table = TableId.parse(java.net.URLDecoder.decode(rest.substring(0, slash), StandardCharsets.UTF_8));
        } catch (IllegalArgumentException e) {
            return Answer.error(400, "not a channel: " + e.getMessage());
        }
        String action = rest.substring(slash + 1);
        if (config.channels().stream().noneMatch(c -> c.table().equals(table))) {
            return Answer.error(404, "node " + config.node().name() + " has no channel " + table);
        }
        ChannelApplier applier = appliers.get(table);
        if (applier == null) {
            return Answer.error(409, "node " + config.node().name() + " does not subscribe " + table
                    + ": pause, resume and resync act on a subscribed channel");
        }
        boolean holding = false;
        switch (action) {
            case "pause" -> holding = applier.pause(PAUSE_WAIT);
            case "resume" -> applier.resume();
            case "resync" -> applier.resync();
            default -> {
                return Answer.error(404, "no action " + action + "; expected pause, resume or resync");
            }
        }
        LOG.info("node {}: admin API: {} {}", config.node().name(), action, table);
        JsonObject o = new JsonObject();
        o.addProperty("channel", table.toString());
        o.addProperty("action", action);
        o.addProperty("paused", applier.paused());
        if (action.equals("pause")) {
            // false: the batch being applied (a store being retried) was not done within PAUSE_WAIT; it still ends
            o.addProperty("holding", holding);
        }
        return Answer.ok(o);
    }

    private Answer deadLetters(String query) {
        Map<String, String> q = query(query);
        Optional<TableId> only = Optional.empty();
        int limit = DEFAULT_LETTERS;
        try {
            if (q.containsKey("channel")) {
                only = Optional.of(TableId.parse(q.get("channel")));
            }
            if (q.containsKey("limit")) {
                limit = Integer.parseInt(q.get("limit"));
                if (limit < 1 || limit > MAX_LETTERS) {
                    return Answer.error(400, "limit: expected 1 to " + MAX_LETTERS + ", got " + limit);
                }
            }
        } catch (IllegalArgumentException e) {
            return Answer.error(400, e.getMessage());
        }
        List<Letter> all = new ArrayList<>();
        for (Letter l : letters()) {
            if (only.isEmpty() || only.get().equals(l.table())) {
                all.add(l);
            }
        }
        JsonObject o = new JsonObject();
        o.addProperty("total", all.size());
        JsonArray a = new JsonArray();
        for (Letter l : all.subList(Math.max(0, all.size() - limit), all.size())) {
            JsonObject j = new JsonObject();
            j.addProperty("id", l.id().toString());
            j.addProperty("time", l.time());
            j.addProperty("channel", l.channel().toString());
            String reason = l.reason();
            j.addProperty("reason", reason.length() <= REASON_CHARS ? reason
                    : reason.substring(0, REASON_CHARS - 3) + "...");
            l.payload().ifPresent(p -> j.addProperty("bytes", p.length));
            a.add(j);
        }
        o.add("letters", a);
        return Answer.ok(o);
    }

    /**
     * The letters of every live file, read again only when a file's size or time changed (the dashboard asks every
     * few seconds; the files may hold up to {@code node.dead-letter-max-mb}).
     */
    private List<Letter> letters() {
        String signature = signature();
        if (!signature.equals(lettersSignature)) {
            lettersCache = DeadLetterFiles.list(deadLetterDir, Optional.empty());
            lettersSignature = signature;
        }
        return lettersCache;
    }

    private String signature() {
        if (!Files.isDirectory(deadLetterDir)) {
            return "";
        }
        StringBuilder b = new StringBuilder();
        try (DirectoryStream<Path> files = Files.newDirectoryStream(deadLetterDir, "*.jsonl")) {
            for (Path f : files) {
                b.append(f.getFileName()).append(':').append(Files.size(f)).append(':')
                        .append(Files.getLastModifiedTime(f).toMillis()).append(';');
            }
        } catch (IOException e) {
            return "unreadable:" + System.nanoTime(); // read again next time
        }
        return b.toString();
    }

    private Answer replay(byte[] body) throws InterruptedException {
        JsonObject o;
        try {
            o = JsonParser.parseString(new String(body, StandardCharsets.UTF_8)).getAsJsonObject();
        } catch (RuntimeException e) {
            return Answer.error(400, "expected a JSON object: {\"ids\":[..]}, {\"channel\":\"schema:table\"} or "
                    + "{\"all\":true}");
        }
        List<Letter> all = DeadLetterFiles.list(deadLetterDir, Optional.empty());
        List<Letter> chosen = new ArrayList<>();
        try {
            if (o.has("ids")) {
                Set<DeadLetterFiles.Id> wanted = new HashSet<>();
                for (JsonElement e : o.getAsJsonArray("ids")) {
                    wanted.add(DeadLetterFiles.Id.parse(e.getAsString()));
                }
                for (Letter l : all) {
                    if (wanted.remove(l.id())) {
                        chosen.add(l);
                    }
                }
                if (!wanted.isEmpty()) {
                    return Answer.error(404, "no such dead letter: " + wanted.iterator().next()
                            + " (replayed already, or never there); nothing replayed");
                }
            } else if (o.has("channel")) {
                TableId t = TableId.parse(o.get("channel").getAsString());
                all.stream().filter(l -> l.table().equals(t)).forEach(chosen::add);
            } else if (o.has("all") && o.get("all").getAsBoolean()) {
                chosen.addAll(all);
            } else {
                return Answer.error(400, "expected {\"ids\":[..]}, {\"channel\":\"schema:table\"} or {\"all\":true}");
            }
        } catch (RuntimeException e) { // a bad id, channel or type
            return Answer.error(400, e.getMessage());
        }
        List<String> skipped = new ArrayList<>();
        chosen.removeIf(l -> {
            boolean bad = !l.readable() || l.payload().isEmpty();
            if (bad) {
                skipped.add(l.id().toString());
            }
            return bad;
        });
        int done = 0;
        if (!chosen.isEmpty()) {
            try (DeadLetterFiles.ReplayLock lock = DeadLetterFiles.lockReplays(deadLetterDir)) {
                done = DeadLetterReplay.publish(ctx.transport(), ctx.topics(), deadLetterDir, chosen, REPLAY_TIMEOUT,
                        line -> LOG.info("node {}: admin API: {}", config.node().name(), line));
            } catch (MqdbException e) {
                return Answer.error(e.getMessage().startsWith("another replay") ? 409 : 500, e.getMessage());
            }
        }
        lettersSignature = null;
        JsonObject r = new JsonObject();
        r.addProperty("replayed", done);
        JsonArray s = new JsonArray();
        skipped.forEach(s::add);
        r.add("skipped", s);
        return Answer.ok(r);
    }

    private static Map<String, String> query(String query) {
        Map<String, String> out = new LinkedHashMap<>();
        if (query == null || query.isEmpty()) {
            return out;
        }
        for (String part : query.split("&", 16)) {
            int eq = part.indexOf('=');
            if (eq > 0) {
                out.put(java.net.URLDecoder.decode(part.substring(0, eq), StandardCharsets.UTF_8),
                        java.net.URLDecoder.decode(part.substring(eq + 1), StandardCharsets.UTF_8));
            }
        }
        return out;
    }
}
