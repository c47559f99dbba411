package io.mqdb.node.read;

import com.google.gson.JsonArray;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import com.google.gson.Strictness;
import com.google.gson.stream.JsonReader;
import io.mqdb.codec.RowJson;
import io.mqdb.node.runtime.NodeContext;
import io.mqdb.node.runtime.RefusalLog;
import io.mqdb.node.runtime.TokenBucket;
import io.mqdb.spi.Key;
import io.mqdb.spi.Row;
import io.mqdb.spi.TableAccess;
import io.mqdb.spi.TableId;
import io.mqdb.spi.TableSchema;
import io.mqdb.transport.InboundMessage;
import io.mqdb.version.VersionIndex;
import java.io.StringReader;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Answers reads over MQTT ({@code docs/reads.md}) of the channels configured with {@code reads: true}: a request on
 * {@code mqdb/<cluster>/read/<schema>/<table>}, an MQTT 5 message with a response topic and correlation data, whose
 * payload is {@code {"key":{..}}} or {@code {"keys":[{..},..]}}, is answered on its response topic with the request's
 * correlation data: {@code {"node":..,"channel":..,"rows":[{"key":{..},"found":..,"row":{..},"version":{..}}]}}, or
 * {@code {"node":..,"channel":..,"error":".."}}. Rows come from the node's store; versions from its version index
 * (a deleted key answers {@code found:false} with its tombstone's version, so a reader comparing replicas sees the
 * delete is the newest).
 *
 * <p>Bounded before anything is decoded: a request over {@link #MAX_REQUEST_BYTES}, with more than
 * {@link #MAX_KEYS} keys, without a response topic, or with one outside {@code mqdb/<cluster>/reply/} (a node never
 * publishes an answer on a channel or control topic) is refused: logged (rate-limited), counted
 * ({@code mqdb_reads_refused_total}), answered when it has a usable response topic. At most {@link #PER_SECOND} requests
 * a second ({@link #BURST} at once) are served; at most {@link #QUEUED} wait.
 *
 * <h2>Threads</h2>
 * {@link #onRequest} runs on the control session's callback thread and only checks and queues; one thread
 * {@code reads-<node>} reads the store and answers. {@link #close} (any thread) stops it.
 */
public final class ReadServer implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(ReadServer.class);
    static final int MAX_REQUEST_BYTES = 64 * 1024;
    static final int MAX_KEYS = 1000;
    static final int MAX_CORRELATION_BYTES = io.mqdb.codec.Topics.MAX_CORRELATION_BYTES;
    static final int QUEUED = 256;
    static final double PER_SECOND = 2000;
    static final double BURST = 4000;

    private final NodeContext ctx;
    private final Map<TableId, TableAccess> tables;
    private final VersionIndex versions;
    private final ThreadPoolExecutor worker;
    private final TokenBucket rate = new TokenBucket(PER_SECOND, BURST, System.nanoTime());
    private final RefusalLog refusals = new RefusalLog(LOG);

    /**
     * @param ctx the node's shared context (its control transport, topics, version index, counters)
     * @param tables the readable channels and the store holding each
     */
    public ReadServer(NodeContext ctx, Map<TableId, TableAccess> tables) {
        this.ctx = ctx;
        this.tables = Map.copyOf(tables);
        this.versions = ctx.versions();
        this.worker = new ThreadPoolExecutor(1, 1, 0, TimeUnit.MILLISECONDS, new ArrayBlockingQueue<>(QUEUED), r -> {
            Thread t = new Thread(r, "reads-" + ctx.nodeName());
            t.setDaemon(true);
            return t;
        });
    }

    /** Subscribes the read topic of every readable channel on the control session. Start-up thread, before start. */
    public void subscribe() {
        for (TableId t : tables.keySet()) {
            ctx.transport().subscribe(ctx.topics().read(t), this::onRequest);
        }
        if (!tables.isEmpty()) {
            LOG.info("node {}: answers reads over MQTT of {} on {}/{}/read/<schema>/<table>", ctx.nodeName(),
                    tables.keySet(), io.mqdb.codec.Topics.ROOT, ctx.topics().cluster());
        }
    }

    /** Checks and queues one request. Callback thread; never blocks on the store. */
    void onRequest(InboundMessage m) {
        try {
            Optional<TableId> table = tables.keySet().stream().filter(t -> ctx.topics().read(t).equals(m.topic()))
                    .findFirst();
            Optional<String> reply = m.responseTopic().filter(this::usableReplyTopic);
            byte[] correlation = m.correlationData();
            if (table.isEmpty() || m.retained()) {
                return; // not a request (a retained message someone left on the topic): nothing to answer
            }
            String refused = m.responseTopic().isEmpty() ? "it has no response topic"
                    : reply.isEmpty() ? "its response topic is not under " + ctx.topics().replyRoot()
                    : correlation.length > MAX_CORRELATION_BYTES ? "its correlation data is over "
                            + MAX_CORRELATION_BYTES + " bytes"
                    : m.payload().length > MAX_REQUEST_BYTES ? "it is over " + MAX_REQUEST_BYTES + " bytes"
                    : !rate.tryTake(System.nanoTime()) ? "beyond " + (int) PER_SECOND + " reads a second"
                    : null;
            if (refused == null) {
                try {
                    byte[] payload = m.payload();
                    worker.execute(() -> serve(table.get(), payload, reply.get(), correlation));
                    return;
                } catch (RejectedExecutionException e) {
                    refused = QUEUED + " reads are waiting already";
                }
            }
            ctx.metrics().readsRefused.increment();
            refusals.warn("node " + ctx.nodeName() + ": refusing a read of " + table.get() + ": " + refused);
            if (reply.isPresent() && correlation.length <= MAX_CORRELATION_BYTES) {
                answer(reply.get(), correlation, error(table.get(), "refused: " + refused));
            }
        } finally {
            m.ack();
        }
    }

    private boolean usableReplyTopic(String topic) {
        return ctx.topics().isReplyTopic(topic);
    }

    /** Reads the keys and answers. Thread {@code reads-<node>}; never throws. */
    private void serve(TableId table, byte[] payload, String reply, byte[] correlation) {
        JsonObject answer;
        try {
            answer = read(table, payload);
            ctx.metrics().readsServed.increment();
        } catch (RuntimeException e) { // a bad request, an unknown column, a store that is down
            ctx.metrics().readsRefused.increment();
            answer = error(table, e.getMessage() == null ? e.toString() : e.getMessage());
        }
        answer(reply, correlation, answer);
    }

    private JsonObject read(TableId table, byte[] payload) {
        JsonObject request;
        try (JsonReader r = new JsonReader(new StringReader(new String(payload, StandardCharsets.UTF_8)))) {
            r.setStrictness(Strictness.STRICT);
            request = JsonParser.parseReader(r).getAsJsonObject();
        } catch (java.io.IOException | RuntimeException e) {
            throw new IllegalArgumentException("the request is not a JSON object: expected {\"key\":{..}} or "
                    + "{\"keys\":[{..},..]}");
        }
        JsonArray keys = new JsonArray();
        if (request.has("key") && request.get("key").isJsonObject()) {
            keys.add(request.get("key"));
        } else if (request.has("keys") && request.get("keys").isJsonArray()) {
            keys = request.getAsJsonArray("keys");
        } else {
            throw new IllegalArgumentException("expected {\"key\":{..}} or {\"keys\":[{..},..]}");
        }
        if (keys.size() > MAX_KEYS) {
            throw new IllegalArgumentException(keys.size() + " keys: at most " + MAX_KEYS + " a request");
        }
        TableAccess store = tables.get(table);
        TableSchema schema = store.describe(table).orElseThrow(() -> new IllegalStateException(
                "table " + table + " does not exist (yet) on node " + ctx.nodeName()));
        JsonArray rows = new JsonArray();
        for (JsonElement k : keys) {
            if (!k.isJsonObject()) {
                throw new IllegalArgumentException("a key is a JSON object of its columns, got " + k);
            }
            Key key = RowJson.key(schema, k.getAsJsonObject());
            JsonObject out = new JsonObject();
            out.add("key", RowJson.key(schema, key));
            Optional<Row> row = store.get(table, key);
            out.addProperty("found", row.isPresent());
            row.ifPresent(x -> out.add("row", RowJson.row(x)));
            versions.get(table, key).ifPresent(v -> {
                JsonObject j = new JsonObject();
                j.addProperty("hlc", v.version().hlc());
                j.addProperty("origin", v.version().origin());
                if (v.deleted()) {
                    j.addProperty("deleted", true);
                }
                out.add("version", j);
            });
            rows.add(out);
        }
        JsonObject o = head(table);
        o.add("rows", rows);
        return o;
    }

    private JsonObject head(TableId table) {
        JsonObject o = new JsonObject();
        o.addProperty("node", ctx.nodeName());
        o.addProperty("channel", table.toString());
        return o;
    }

    private JsonObject error(TableId table, String message) {
        JsonObject o = head(table);
        o.addProperty("error", message);
        return o;
    }

    private void answer(String topic, byte[] correlation, JsonObject answer) {
        ctx.transport().publish(topic, answer.toString().getBytes(StandardCharsets.UTF_8), null, correlation)
                .whenComplete((v, e) -> {
                    if (e != null) {
                        refusals.warn("node " + ctx.nodeName() + ": could not answer a read on " + topic + ": "
                                + e.getMessage());
                    }
                });
    }

    /** Stops the read thread; queued reads are dropped (their askers time out). Any thread. */
    @Override
    public void close() {
        worker.shutdownNow();
    }
}
