package io.mqdb.node.read;

import com.google.gson.Gson;
import com.google.gson.JsonArray;
import com.google.gson.JsonObject;
import io.mqdb.clock.HybridClock;
import io.mqdb.codec.Topics;
import io.mqdb.signing.Signing;
import io.mqdb.spi.RetriableException;
import io.mqdb.spi.TableId;
import io.mqdb.transport.Transport;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * The writing side of acknowledged writes over MQTT ({@code docs/writes.md}), for {@code mqdb put} and the embedding
 * API ({@code MqdbNode#remote}): publishes a change batch on the channel's topic with an MQTT 5 response topic under
 * {@code mqdb/<cluster>/reply/<asker>/} and a random correlation, and waits for the subscribers' receipts, which each
 * sends once its store committed the batch, until as many confirmed as asked (ONE, QUORUM or ALL of the subscribers
 * the retained presences name, online or not), or the wait is over.
 *
 * <p>Retries: when the receipts have not come within an attempt's wait (200 ms, doubling), the same message is
 * published again, same events, same versions (taken once from the writer's clock), same correlation: a subscriber
 * that had applied it already applies it again to the same result (last writer wins compares versions) and confirms
 * again; each subscriber counts once. A subscriber that dead-lettered the events answers with the reason; that is not
 * retried.
 *
 * <h2>Threads</h2>
 * {@link #subscribe} once; then {@link #write} from any number of threads at once (each waits for its own receipts).
 * The receipts arrive on the transport's callback thread.
 */
public final class RemoteWriter {
    private static final Gson GSON = new com.google.gson.GsonBuilder().serializeNulls().create();
    private static final Duration FIRST_ATTEMPT = Duration.ofMillis(200);

    /**
     * What one acknowledged write came to.
     *
     * @param replicas the subscribers of the channel the presences named when it was written, with whether each was
     *     online
     * @param needed how many confirmations the acknowledgement level asked of them
     * @param confirmed the subscribers whose store committed it
     * @param errors the subscribers' refusals, "node: reason" (a dead-lettered event, a bad value)
     * @param attempts how many times the message was published
     * @param reached whether as many confirmed as asked
     */
    public record Result(Map<String, Boolean> replicas, int needed, List<String> confirmed, List<String> errors,
                         int attempts, boolean reached) {
        /** @return the subscribers that did not confirm, each with "(offline)" when its presence said so */
        public List<String> missing() {
            List<String> out = new ArrayList<>();
            replicas.forEach((node, online) -> {
                if (!confirmed.contains(node)) {
                    out.add(online ? node : node + " (offline)");
                }
            });
            return out;
        }
    }

    private final Transport transport;
    private final Topics topics;
    private final ReplyInbox inbox;
    private final String origin;
    private final HybridClock clock;
    private final Optional<Signing> signing;
    private final Replicas replicas;

    /**
     * @param transport the writer's MQTT session
     * @param topics the cluster's topics
     * @param asker the level of its response topics: its user name on an authenticating broker, else its client id
     * @param origin the origin its changes carry: the node's name, so it may sign them; a tool's own name
     * @param clock the clock its versions come from
     * @param signing the node's signing, when {@code node.signing} is on (its writes travel signed)
     * @param replicas the presences seen on that session, shared with its reader
     */
    public RemoteWriter(Transport transport, Topics topics, String asker, String origin, HybridClock clock,
            Optional<Signing> signing, Replicas replicas) {
        this.transport = transport;
        this.topics = topics;
        this.inbox = new ReplyInbox(transport, topics.replyPrefix(asker) + "w");
        this.origin = origin;
        this.clock = clock;
        this.signing = signing;
        this.replicas = replicas;
    }

    /** Subscribes the presences (unless its reader did) and the response topic. Once. */
    public void subscribe() {
        replicas.subscribe();
        inbox.subscribe();
    }

    /**
     * @param table a channel
     * @return its subscribers, as the presences say now, with whether each is online
     */
    public Map<String, Boolean> replicas(TableId table) {
        return replicas.subscribers(table);
    }

    /**
     * Writes rows and deletes of one channel in one message and waits for the receipts.
     *
     * @param table the channel
     * @param upserts rows to write, column to value (numbers, strings, booleans, null; decimals and timestamps as
     *     in the wire format's JSON form); each must hold the key columns
     * @param deletes keys to delete
     * @param acks how many subscribers must confirm
     * @param wait how long to wait for them, retries included
     * @return who confirmed
     * @throws RetriableException when the broker did not take the message
     * @throws InterruptedException when interrupted while waiting
     */
    public Result write(TableId table, List<? extends Map<String, ?>> upserts, List<? extends Map<String, ?>> deletes,
            RemoteReader.Consistency acks, Duration wait) throws InterruptedException {
        replicas.settle();
        Map<String, Boolean> known = replicas.subscribers(table);
        int needed = acks.needed(known.size());
        byte[] payload = payload(table, upserts, deletes);
        Map<String, String> answered = new TreeMap<>(); // node to null (confirmed) or its error
        int attempts = 0;
        if (!known.isEmpty()) {
            ReplyInbox.Request asked = inbox.open();
            LinkedBlockingQueue<JsonObject> receipts = asked.answers();
            try {
                long deadline = System.nanoTime() + wait.toNanos();
                long attemptNanos = FIRST_ATTEMPT.toNanos();
                while (confirmed(answered) < needed && answered.size() < known.size()
                        && deadline - System.nanoTime() > 0) {
                    attempts++;
                    transport.publish(topics.channel(table), payload, inbox.topic(), asked.correlation())
                            .get(Math.max(1, (deadline - System.nanoTime()) / 1_000_000), TimeUnit.MILLISECONDS);
                    long attemptEnd = Math.min(deadline, System.nanoTime() + attemptNanos);
                    attemptNanos *= 2;
                    while (confirmed(answered) < needed && answered.size() < known.size()) {
                        long left = attemptEnd - System.nanoTime();
                        JsonObject r = left > 0 ? receipts.poll(left, TimeUnit.NANOSECONDS) : null;
                        if (r == null) {
                            break;
                        }
                        String node = r.has("node") ? r.get("node").getAsString() : "?";
                        if (!known.containsKey(node) || answered.containsKey(node) && answered.get(node) == null) {
                            continue; // not a subscriber the presences named, or confirmed already
                        }
                        answered.put(node, r.has("error") ? r.get("error").getAsString() : null);
                    }
                }
            } catch (ExecutionException | TimeoutException e) {
                throw new RetriableException("the write on " + topics.channel(table) + " was not acknowledged by"
                        + " the broker: " + e, e);
            } finally {
                inbox.close(asked);
            }
        }
        List<String> confirmed = new ArrayList<>();
        List<String> errors = new ArrayList<>();
        answered.forEach((node, error) -> {
            if (error == null) {
                confirmed.add(node);
            } else {
                errors.add(node + ": " + error);
            }
        });
        return new Result(known, needed, List.copyOf(confirmed), List.copyOf(errors), attempts,
                !known.isEmpty() && confirmed.size() >= needed);
    }

    private static int confirmed(Map<String, String> answered) {
        int n = 0;
        for (String error : answered.values()) {
            if (error == null) {
                n++;
            }
        }
        return n;
    }

    /** The batch in the wire format's JSON form, versions from the writer's clock, signed when signing is on. */
    private byte[] payload(TableId table, List<? extends Map<String, ?>> upserts,
            List<? extends Map<String, ?>> deletes) {
        JsonObject batch = new JsonObject();
        batch.addProperty("v", 1);
        batch.addProperty("origin", origin);
        batch.addProperty("channel", table.toString());
        JsonArray events = new JsonArray();
        for (Map<String, ?> row : upserts) {
            JsonObject e = new JsonObject();
            e.addProperty("op", "upsert");
            e.add("row", GSON.toJsonTree(new LinkedHashMap<>(row)));
            e.addProperty("hlc", Long.toString(clock.now()));
            events.add(e);
        }
        for (Map<String, ?> key : deletes) {
            JsonObject e = new JsonObject();
            e.addProperty("op", "delete");
            e.add("key", GSON.toJsonTree(new LinkedHashMap<>(key)));
            e.addProperty("hlc", Long.toString(clock.now()));
            events.add(e);
        }
        batch.add("events", events);
        byte[] json = batch.toString().getBytes(StandardCharsets.UTF_8);
        return signing.map(s -> s.seal(topics.channel(table), json)).orElse(json);
    }
}
