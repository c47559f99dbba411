package io.mqdb.node.read;

import com.google.gson.JsonArray;
import com.google.gson.JsonObject;
import io.mqdb.codec.Topics;
import io.mqdb.spi.RetriableException;
import io.mqdb.spi.TableId;
import io.mqdb.spi.Version;
import io.mqdb.transport.Transport;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * The asking side of reads over MQTT ({@code docs/reads.md}), for {@code mqdb get} and the embedding API
 * ({@code MqdbNode#remote}): knows the replicas of each channel from the retained presences (online nodes that
 * announce {@code "reads":true} for it), sends a request with a response topic under
 * {@code mqdb/<cluster>/reply/<asker>/} and a random correlation, and collects the answers until the consistency is
 * reached, every replica answered, or the wait is over.
 *
 * <h2>Threads</h2>
 * {@link #subscribe} once, before or after the transport starts; then {@link #read} from any number of threads at once
 * (each waits for its own answers). The answers and presences arrive on the transport's callback thread.
 */
public final class RemoteReader {

    /** How many answers a read waits for. */
    public enum Consistency {
        /** The first replica's. */
        ONE,
        /** A majority of the replicas. */
        QUORUM,
        /** Every replica. */
        ALL;

        /**
         * @param replicas the replicas known
         * @return how many answers this level needs
         */
        public int needed(int replicas) {
            return switch (this) {
                case ONE -> 1;
                case QUORUM -> replicas / 2 + 1;
                case ALL -> replicas;
            };
        }
    }

    /**
     * What a read of one key found.
     *
     * @param replicas the replicas known when it was asked
     * @param answered the replicas that answered with rows
     * @param reached whether as many answered as the consistency asked
     * @param found whether the newest answer holds a row
     * @param key the key as the replicas read it
     * @param row the newest answer's row, if found
     * @param version the newest answer's version, if the replica had one
     * @param stale the replicas that answered an older version (or none)
     * @param errors the replicas' errors, "node: message"
     */
    public record Result(int replicas, List<String> answered, boolean reached, boolean found,
                         Optional<JsonObject> key, Optional<JsonObject> row, Optional<Version> version,
                         List<String> stale, List<String> errors) {
    }

    private final Transport transport;
    private final Topics topics;
    private final ReplyInbox inbox;
    private final Replicas replicas;

    /**
     * @param transport the asker's MQTT session
     * @param topics the cluster's topics
     * @param asker the level of its response topics: its user name on an authenticating broker, else its client id
     */
    public RemoteReader(Transport transport, Topics topics, String asker) {
        this(transport, topics, asker, new Replicas(transport, topics));
    }

    /**
     * @param transport the asker's MQTT session
     * @param topics the cluster's topics
     * @param asker the level of its response topics: its user name on an authenticating broker, else its client id
     * @param replicas the presences seen on that session, shared with its writer
     */
    public RemoteReader(Transport transport, Topics topics, String asker, Replicas replicas) {
        this.transport = transport;
        this.topics = topics;
        this.inbox = new ReplyInbox(transport, topics.replyPrefix(asker) + "r");
        this.replicas = replicas;
    }

    /** Subscribes the presences (unless its writer did) and the response topic. Once. */
    public void subscribe() {
        replicas.subscribe();
        inbox.subscribe();
    }

    /**
     * @param table a channel
     * @return the online nodes serving reads of it, as their presences say now
     */
    public Set<String> replicas(TableId table) {
        return replicas.readers(table);
    }

    /**
     * Reads keys of a table in one request.
     *
     * @param table the channel
     * @param keys each key as a JSON object of its columns (at most 1,000)
     * @param consistency how many replicas must answer
     * @param wait how long to wait for them
     * @return per key, in order, what was found
     * @throws RetriableException when the broker did not take the request
     * @throws InterruptedException when interrupted while waiting
     */
    public List<Result> read(TableId table, List<JsonObject> keys, Consistency consistency, Duration wait)
            throws InterruptedException {
        replicas.settle();
        int n = replicas(table).size();
        int needed = consistency.needed(n);
        Map<String, JsonArray> rows = new TreeMap<>();
        List<String> errors = new ArrayList<>();
        if (n > 0) {
            ReplyInbox.Request asked = inbox.open();
            LinkedBlockingQueue<JsonObject> answers = asked.answers();
            try {
                JsonObject request = new JsonObject();
                JsonArray k = new JsonArray();
                keys.forEach(k::add);
                request.add("keys", k);
                transport.publish(topics.read(table), request.toString().getBytes(StandardCharsets.UTF_8),
                        inbox.topic(), asked.correlation()).get(wait.toMillis(), TimeUnit.MILLISECONDS);
                long deadline = System.nanoTime() + wait.toNanos();
                while (rows.size() < needed && rows.size() + errors.size() < n) {
                    long left = deadline - System.nanoTime();
                    JsonObject a = left > 0 ? answers.poll(left, TimeUnit.NANOSECONDS) : null;
                    if (a == null) {
                        break;
                    }
                    String node = a.has("node") ? a.get("node").getAsString() : "?";
                    if (a.has("error") || !a.has("rows")) {
                        errors.add(node + ": " + (a.has("error") ? a.get("error").getAsString() : "no rows"));
                    } else {
                        rows.put(node, a.getAsJsonArray("rows"));
                    }
                }
            } catch (ExecutionException | TimeoutException e) {
                throw new RetriableException("the read request on " + topics.read(table) + " was not acknowledged"
                        + " by the broker: " + e, e);
            } finally {
                inbox.close(asked);
            }
        }
        List<Result> out = new ArrayList<>();
        for (int i = 0; i < keys.size(); i++) {
            out.add(result(n, needed, rows, errors, i));
        }
        return out;
    }

    private static Result result(int n, int needed, Map<String, JsonArray> rows, List<String> errors, int i) {
        String newestNode = null;
        Version newest = null;
        JsonObject best = null;
        for (Map.Entry<String, JsonArray> e : rows.entrySet()) {
            if (e.getValue().size() <= i) {
                continue;
            }
            JsonObject r = e.getValue().get(i).getAsJsonObject();
            Version v = version(r);
            if (best == null || v != null && (newest == null || v.compareTo(newest) > 0)) {
                newestNode = e.getKey();
                newest = v;
                best = r;
            }
        }
        List<String> stale = new ArrayList<>();
        for (Map.Entry<String, JsonArray> e : rows.entrySet()) {
            if (newest != null && !e.getKey().equals(newestNode) && e.getValue().size() > i) {
                Version v = version(e.getValue().get(i).getAsJsonObject());
                if (v == null || v.compareTo(newest) < 0) {
                    stale.add(e.getKey());
                }
            }
        }
        boolean found = best != null && best.has("found") && best.get("found").getAsBoolean();
        return new Result(n, List.copyOf(rows.keySet()), n > 0 && rows.size() >= needed, found,
                Optional.ofNullable(best).map(b -> b.getAsJsonObject("key")),
                found && best.has("row") ? Optional.of(best.getAsJsonObject("row")) : Optional.empty(),
                Optional.ofNullable(newest), List.copyOf(stale), List.copyOf(errors));
    }

    private static Version version(JsonObject row) {
        if (!row.has("version")) {
            return null;
        }
        JsonObject v = row.getAsJsonObject("version");
        return new Version(v.get("hlc").getAsLong(), v.get("origin").getAsString());
    }
}
