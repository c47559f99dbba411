package io.mqdb.node.read;

import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import io.mqdb.codec.Topics;
import io.mqdb.signing.Envelope;
import io.mqdb.spi.TableId;
import io.mqdb.transport.InboundMessage;
import io.mqdb.transport.Transport;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * Who holds each channel, from the retained presences ({@code mqdb/<cluster>/nodes/<node>/presence}): the nodes that
 * serve reads of it ({@code "reads":true}, online ones only) and the nodes that subscribe it (online or not: a
 * stopped subscriber's persistent session still queues what is written, so it still counts for an acknowledged
 * write at {@code ALL}). A node's last presence replaces its earlier one; an empty retained presence (a node
 * uninstalled) removes it.
 *
 * <h2>Threads</h2>
 * {@link #subscribe} once (later calls do nothing), before or after the transport starts; the presences arrive on the
 * transport's callback thread; the queries are safe from any thread.
 */
public final class Replicas {
    /** How long the retained presences take to arrive after subscribing, at most, on a quiet broker. */
    static final Duration SETTLE = Duration.ofMillis(500);

    /** What one node's last presence said. */
    private record Presence(boolean online, Set<TableId> subscribes, Set<TableId> reads) {
    }

    private final Transport transport;
    private final Topics topics;
    private final Map<String, Presence> nodes = new ConcurrentHashMap<>();
    private final AtomicBoolean subscribed = new AtomicBoolean();
    private volatile long since;

    /**
     * @param transport the session the presences arrive on
     * @param topics the cluster's topics
     */
    public Replicas(Transport transport, Topics topics) {
        this.transport = transport;
        this.topics = topics;
    }

    /** Subscribes the presences; once, later calls do nothing. */
    public void subscribe() {
        if (!subscribed.compareAndSet(false, true)) {
            return;
        }
        since = System.nanoTime();
        transport.subscribe(topics.presenceFilter(), m -> {
            try {
                presence(m);
            } finally {
                m.ack();
            }
        });
    }

    /**
     * Waits until {@link #SETTLE} has passed since {@link #subscribe}: the retained presences arrive right after
     * subscribing, and a write at ALL or a read at QUORUM counted before all of them came would count too few
     * replicas. Returns at once later on.
     *
     * @throws InterruptedException when interrupted while waiting
     */
    void settle() throws InterruptedException {
        long left = SETTLE.toNanos() - (System.nanoTime() - since);
        if (left > 0) {
            TimeUnit.NANOSECONDS.sleep(left);
        }
    }

    /**
     * @param table a channel
     * @return the online nodes serving reads of it, as their presences say now
     */
    public Set<String> readers(TableId table) {
        Set<String> out = new TreeSet<>();
        nodes.forEach((node, p) -> {
            if (p.online() && p.reads().contains(table)) {
                out.add(node);
            }
        });
        return out;
    }

    /**
     * @param table a channel
     * @return each node subscribing it, online or not, as their presences say now, with whether it is online
     */
    public Map<String, Boolean> subscribers(TableId table) {
        Map<String, Boolean> out = new TreeMap<>();
        nodes.forEach((node, p) -> {
            if (p.subscribes().contains(table)) {
                out.put(node, p.online());
            }
        });
        return out;
    }

    /** Records one node's presence. Callback thread. */
    private void presence(InboundMessage m) {
        String node = m.topic().substring(m.topic().lastIndexOf("/nodes/") + "/nodes/".length(),
                m.topic().lastIndexOf('/'));
        if (m.payload().length == 0) {
            nodes.remove(node); // an uninstalled node's presence was cleared
            return;
        }
        try {
            JsonObject o = JsonParser.parseString(new String(Envelope.unverifiedPayload(m.payload()),
                    StandardCharsets.UTF_8)).getAsJsonObject();
            Set<TableId> subscribes = new TreeSet<>((a, b) -> a.toString().compareTo(b.toString()));
            Set<TableId> reads = new TreeSet<>((a, b) -> a.toString().compareTo(b.toString()));
            if (o.has("channels")) {
                for (JsonElement c : o.getAsJsonArray("channels")) {
                    JsonObject ch = c.getAsJsonObject();
                    TableId t = TableId.parse(ch.get("name").getAsString());
                    if (ch.has("subscribe") && ch.get("subscribe").getAsBoolean()) {
                        subscribes.add(t);
                    }
                    if (ch.has("reads") && ch.get("reads").getAsBoolean()) {
                        reads.add(t);
                    }
                }
            }
            String named = o.get("node").getAsString();
            nodes.put(named, new Presence("online".equals(o.get("state").getAsString()), subscribes, reads));
        } catch (RuntimeException e) {
            // a malformed presence names no replica
        }
    }
}
