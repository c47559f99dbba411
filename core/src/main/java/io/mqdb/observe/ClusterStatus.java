package io.mqdb.observe;

import com.google.gson.JsonArray;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import io.mqdb.node.catchup.Control;
import io.mqdb.observe.Lag;
import io.mqdb.spi.TableId;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.TreeSet;

/**
 * What {@code mqdb status}, or a node's admin API and dashboard, learned from the broker's retained messages: the
 * nodes' presences, the publishers' positions and the subscribers' applied positions; and the report made of them. The lag of a subscriber is
 * {@link Lag#of} over the positions of the channel's other nodes and the subscriber's applied position, as the node
 * itself computes it.
 *
 * <h2>Threads</h2>
 * The {@code add} methods run on the transport's callback thread, {@link #report} on the command's or the HTTP
 * handler's; all synchronized.
 */
public final class ClusterStatus {
    private final Map<String, NodeRow> nodes = new TreeMap<>();
    private final Map<TableId, Map<String, Control.Position>> positions = new TreeMap<>(ClusterStatus::compare);
    private final Map<TableId, Map<String, Control.Applied>> applied = new TreeMap<>(ClusterStatus::compare);
    private final Map<TableId, TreeSet<String>> declaredPublishers = new TreeMap<>(ClusterStatus::compare);
    private final Map<TableId, TreeSet<String>> declaredSubscribers = new TreeMap<>(ClusterStatus::compare);

    /**
     * A node as its presence shows it.
     *
     * @param name the node
     * @param online whether its presence says online
     * @param since when it published that presence (its start, or its stop or the broker's last will)
     * @param version the release it announced, empty from a node older than that
     * @param stores its stores, name to type, as its presence lists them (empty from a node older than that)
     * @param channelStores per channel it has, the store it is on (empty from a node older than that)
     */
    public record NodeRow(String name, boolean online, String since, String version, Map<String, String> stores,
                          Map<String, String> channelStores) {
        public NodeRow {
            stores = Map.copyOf(stores);
            channelStores = Map.copyOf(channelStores);
        }

        public NodeRow(String name, boolean online, String since, String version) {
            this(name, online, since, version, Map.of(), Map.of());
        }
    }

    /**
     * One subscriber of a channel.
     *
     * @param node the subscriber
     * @param lag its lag, or null when it published no applied position (a node older than applied positions, or
     *     one that has not run since it subscribed)
     * @param deadLetters the channel's dead letters since it started, -1 when unknown
     * @param paused whether the channel is paused there (admin API)
     */
    public record SubscriberRow(String node, Lag lag, long deadLetters, boolean paused) {
    }

    /**
     * @param channel the channel
     * @param publishers its publishers (a retained position, or a presence that says so)
     * @param subscribers its subscribers (an applied position, or a presence that says so)
     * @param outbox the changes waiting in the publishers' outboxes (their stores'), -1 when none said
     */
    public record ChannelRow(TableId channel, List<String> publishers, List<SubscriberRow> subscribers, long outbox) {
    }

    /**
     * @param nodes every node with a retained presence
     * @param channels every channel a node publishes or subscribes
     * @param problems why the exit code is not 0: offline nodes, lags above the bound
     */
    public record Report(List<NodeRow> nodes, List<ChannelRow> channels, List<String> problems) {
    }

    /** The most stores and channels of one presence that are kept (a presence is bounded by the broker anyway). */
    private static final int MAX_LISTED = 1024;

    private static int compare(TableId a, TableId b) {
        return a.toString().compareTo(b.toString());
    }

    /** A retained presence ({@code mqdb/<cluster>/nodes/<node>/presence}); an empty one is ignored. */
    /** A version as a node announced it, if it looks like one; else {@code ?} (it is printed to a terminal). */
    private static String printable(String version) {
        return version.matches("[A-Za-z0-9._+-]{1,64}") ? version : "?";
    }

    public synchronized void addPresence(byte[] payload) {
        if (payload.length == 0) {
            return;
        }
        JsonObject o = JsonParser.parseString(new String(payload, StandardCharsets.UTF_8)).getAsJsonObject();
        String node = o.get("node").getAsString();
        Map<String, String> stores = new TreeMap<>();
        if (o.has("stores")) {
            for (JsonElement e : o.getAsJsonArray("stores")) {
                JsonObject st = e.getAsJsonObject();
                if (stores.size() < MAX_LISTED) {
                    stores.put(printable(st.get("name").getAsString()), printable(st.get("type").getAsString()));
                }
            }
        }
        Map<String, String> channelStores = new TreeMap<>();
        if (o.has("channels")) {
            for (JsonElement e : o.getAsJsonArray("channels")) {
                JsonObject c = e.getAsJsonObject();
                TableId t = TableId.parse(c.get("name").getAsString());
                if (c.has("store") && channelStores.size() < MAX_LISTED) {
                    channelStores.put(t.toString(), printable(c.get("store").getAsString()));
                }
                if (c.get("publish").getAsBoolean()) {
                    declaredPublishers.computeIfAbsent(t, k -> new TreeSet<>()).add(node);
                }
                if (c.get("subscribe").getAsBoolean()) {
                    declaredSubscribers.computeIfAbsent(t, k -> new TreeSet<>()).add(node);
                }
            }
        }
        nodes.put(node, new NodeRow(node, "online".equals(o.get("state").getAsString()),
                o.has("time") ? o.get("time").getAsString() : "", o.has("version")
                ? printable(o.get("version").getAsString()) : "", stores, channelStores));
    }

    /** A publisher's retained position. */
    public synchronized void addPosition(Control.Position p) {
        positions.computeIfAbsent(p.channel(), k -> new TreeMap<>()).put(p.node(), p);
    }

    /** A subscriber's retained applied position. */
    public synchronized void addApplied(Control.Applied a) {
        applied.computeIfAbsent(a.channel(), k -> new TreeMap<>()).put(a.node(), a);
    }

    /**
     * @param nowMillis the time now
     * @param maxLag the most events a subscriber may be behind without being a problem; negative: no bound
     * @return what is known now
     */
    public synchronized Report report(long nowMillis, long maxLag) {
        List<String> problems = new ArrayList<>();
        for (NodeRow n : nodes.values()) {
            if (!n.online()) {
                problems.add("node " + n.name() + " is offline since " + n.since());
            }
        }
        TreeSet<TableId> channels = new TreeSet<>(ClusterStatus::compare);
        channels.addAll(positions.keySet());
        channels.addAll(applied.keySet());
        channels.addAll(declaredPublishers.keySet());
        channels.addAll(declaredSubscribers.keySet());
        List<ChannelRow> rows = new ArrayList<>();
        for (TableId t : channels) {
            Map<String, Control.Position> pos = positions.getOrDefault(t, Map.of());
            Map<String, Control.Applied> app = applied.getOrDefault(t, Map.of());
            TreeSet<String> publishers = new TreeSet<>(pos.keySet());
            publishers.addAll(declaredPublishers.getOrDefault(t, new TreeSet<>()));
            TreeSet<String> subscribers = new TreeSet<>(app.keySet());
            subscribers.addAll(declaredSubscribers.getOrDefault(t, new TreeSet<>()));
            List<SubscriberRow> subs = new ArrayList<>();
            for (String s : subscribers) {
                Control.Applied a = app.get(s);
                Lag lag = a == null ? null : lag(pos, a, nowMillis);
                subs.add(new SubscriberRow(s, lag, a == null ? -1 : a.deadLetters(), a != null && a.paused()));
                if (lag != null && maxLag >= 0 && lag.events() > maxLag) {
                    problems.add("node " + s + " is " + lag.events() + " events behind on " + t + " (--max-lag "
                            + maxLag + ")");
                }
            }
            long outbox = -1;
            for (Control.Position p : pos.values()) {
                if (p.outbox() >= 0) {
                    outbox = Math.max(0, outbox) + p.outbox();
                }
            }
            rows.add(new ChannelRow(t, List.copyOf(publishers), subs, outbox));
        }
        return new Report(List.copyOf(nodes.values()), rows, problems);
    }

    /** The subscriber's lag on the channel: the other nodes' positions against its applied position. */
    public static Lag lag(Map<String, Control.Position> positions, Control.Applied a, long nowMillis) {
        Map<String, Long> published = new HashMap<>();
        Map<String, Long> epochs = new HashMap<>();
        for (Control.Position p : positions.values()) {
            if (!p.node().equals(a.node())) {
                published.put(p.node(), p.seq());
                epochs.put(p.node(), p.epoch());
            }
        }
        return Lag.of(published, epochs, a.origins(), a.lastAppliedMillis(), a.oldestUnappliedMillis(), nowMillis);
    }

    /** @return the report as the JSON {@code mqdb status --json} prints */
    public static String json(Report r) {
        JsonObject o = new JsonObject();
        JsonArray nodes = new JsonArray();
        for (NodeRow n : r.nodes()) {
            JsonObject j = new JsonObject();
            j.addProperty("node", n.name());
            j.addProperty("state", n.online() ? "online" : "offline");
            j.addProperty("since", n.since());
            j.addProperty("version", n.version());
            if (!n.stores().isEmpty()) {
                JsonArray stores = new JsonArray();
                new TreeMap<>(n.stores()).forEach((name, type) -> {
                    JsonObject st = new JsonObject();
                    st.addProperty("name", name);
                    st.addProperty("type", type);
                    JsonArray chs = new JsonArray();
                    new TreeMap<>(n.channelStores()).forEach((ch, store) -> {
                        if (store.equals(name)) {
                            chs.add(ch);
                        }
                    });
                    st.add("channels", chs);
                    stores.add(st);
                });
                j.add("stores", stores);
            }
            nodes.add(j);
        }
        o.add("nodes", nodes);
        JsonArray channels = new JsonArray();
        for (ChannelRow c : r.channels()) {
            JsonObject j = new JsonObject();
            j.addProperty("channel", c.channel().toString());
            JsonArray pubs = new JsonArray();
            c.publishers().forEach(pubs::add);
            j.add("publishers", pubs);
            if (c.outbox() >= 0) {
                j.addProperty("outbox", c.outbox());
            }
            JsonArray subs = new JsonArray();
            for (SubscriberRow s : c.subscribers()) {
                JsonObject k = new JsonObject();
                k.addProperty("node", s.node());
                if (s.lag() != null) {
                    k.addProperty("eventsBehind", s.lag().events());
                    if (!Double.isNaN(s.lag().seconds())) {
                        k.addProperty("secondsBehind", s.lag().seconds());
                    }
                }
                if (s.deadLetters() >= 0) {
                    k.addProperty("deadLetters", s.deadLetters());
                }
                if (s.paused()) {
                    k.addProperty("paused", true);
                }
                subs.add(k);
            }
            j.add("subscribers", subs);
            channels.add(j);
        }
        o.add("channels", channels);
        JsonArray problems = new JsonArray();
        r.problems().forEach(problems::add);
        o.add("problems", problems);
        return o.toString();
    }

}
