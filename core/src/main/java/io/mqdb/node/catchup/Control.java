package io.mqdb.node.catchup;

import com.google.gson.JsonArray;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import io.mqdb.spi.InvalidDataException;
import io.mqdb.spi.TableId;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;

/**
 * The small JSON messages of catch-up: a publisher's position on a channel, a subscriber's request to publish
 * again, how far a subscriber applied a channel (for lag), and how far it received and applied it (for flow
 * control). Documented in {@code docs/topics.md}.
 */
public final class Control {
    /** The most targeted snapshots a position lists (and a parser reads): one per requesting node. */
    public static final int MAX_TARGETED = 64;
    /** The most origins a flow report or an applied position lists (and a parser reads). */
    public static final int MAX_FLOW_ORIGINS = 64;

    private Control() {
    }

    /**
     * A snapshot a publisher makes of a channel for one node (the one that asked), published on that node's
     * {@code mqdb/<cluster>/to/<node>/snap/<schema>/<table>} topic. Its events are numbered in a stream of their own
     * ({@code firstSeq..endSeq}), not in the channel's numbering, so other subscribers see no hole in the channel.
     *
     * @param to the node it is made for
     * @param startHlc the clock reading when it started; every row it publishes has a newer version
     * @param firstSeq the stream number of its first event
     * @param endSeq the stream number of its last event (the one before its first when the table was empty)
     * @param base the channel's last sequence number when it started: every channel event up to it is covered
     * @param done whether all its rows are in the publisher's outbox
     */
    public record Targeted(String to, long startHlc, long firstSeq, long endSeq, long base, boolean done) {
        JsonObject toJsonObject() {
            JsonObject j = new JsonObject();
            j.addProperty("to", to);
            j.addProperty("startHlc", startHlc);
            j.addProperty("firstSeq", firstSeq);
            j.addProperty("endSeq", endSeq);
            j.addProperty("base", base);
            j.addProperty("done", done);
            return j;
        }

        static Targeted parse(JsonObject j) {
            return new Targeted(j.get("to").getAsString(), j.get("startHlc").getAsLong(),
                    j.get("firstSeq").getAsLong(), j.get("endSeq").getAsLong(), j.get("base").getAsLong(),
                    j.get("done").getAsBoolean());
        }
    }

    /**
     * A snapshot a publisher made of a channel: the rows it published between {@code firstSeq} and {@code endSeq},
     * read after {@code startHlc}. A subscriber that applied all of them removes the rows of that origin older than
     * {@code startHlc} (the ones the origin no longer has).
     *
     * @param startHlc the clock reading when the snapshot started; every row it publishes has a newer version
     * @param firstSeq the sequence number of its first event
     * @param endSeq the sequence number of its last event (the one before its first when the table was empty)
     * @param done whether it completed
     * @param total the rows the publisher counted when it started (for progress; 0 when unknown, from a node older
     *     than that)
     */
    public record Snapshot(long startHlc, long firstSeq, long endSeq, boolean done, long total) {
        public Snapshot(long startHlc, long firstSeq, long endSeq, boolean done) {
            this(startHlc, firstSeq, endSeq, done, 0);
        }
    }

    /**
     * A publisher's position on a channel, kept retained on {@code mqdb/<cluster>/pos/<schema>/<table>/<node>}.
     *
     * @param node the publisher
     * @param channel the channel
     * @param seq the last sequence number the broker acknowledged
     * @param snapshot its last snapshot of the channel, if any
     * @param epoch the number before the first this publisher's data dir gave on the channel (numbers up to it do not
     *     exist from it, see {@code ChannelPublisher#epochStart}), or 0 when unknown (a node older than epochs)
     * @param targeted the snapshots running or done for single nodes (at most {@link #MAX_TARGETED}; empty from a
     *     node older than targeted catch-up)
     * @param outbox the changes in the publisher's outbox for the channel's store not yet acknowledged by the broker
     *     when it published this (for {@code mqdb status}); -1 when unknown (a node older than that)
     */
    public record Position(String node, TableId channel, long seq, Optional<Snapshot> snapshot, long epoch,
                           List<Targeted> targeted, long outbox) {
        public Position {
            targeted = List.copyOf(targeted.size() > MAX_TARGETED ? targeted.subList(0, MAX_TARGETED) : targeted);
        }

        public Position(String node, TableId channel, long seq, Optional<Snapshot> snapshot, long epoch,
                List<Targeted> targeted) {
            this(node, channel, seq, snapshot, epoch, targeted, -1);
        }

        public Position(String node, TableId channel, long seq, Optional<Snapshot> snapshot, long epoch) {
            this(node, channel, seq, snapshot, epoch, List.of());
        }

        public byte[] toJson() {
            JsonObject o = new JsonObject();
            o.addProperty("node", node);
            o.addProperty("channel", channel.toString());
            o.addProperty("seq", seq);
            if (epoch > 0) {
                o.addProperty("epoch", epoch);
            }
            snapshot.ifPresent(s -> {
                JsonObject j = new JsonObject();
                j.addProperty("startHlc", s.startHlc());
                j.addProperty("firstSeq", s.firstSeq());
                j.addProperty("endSeq", s.endSeq());
                j.addProperty("done", s.done());
                if (s.total() > 0) {
                    j.addProperty("total", s.total());
                }
                o.add("snapshot", j);
            });
            if (!targeted.isEmpty()) {
                JsonArray a = new JsonArray();
                for (Targeted t : targeted) {
                    a.add(t.toJsonObject());
                }
                o.add("targeted", a);
            }
            if (outbox >= 0) {
                o.addProperty("outbox", outbox);
            }
            return o.toString().getBytes(StandardCharsets.UTF_8);
        }

        public static Position parse(byte[] payload) {
            try {
                JsonObject o = JsonParser.parseString(new String(payload, StandardCharsets.UTF_8)).getAsJsonObject();
                Optional<Snapshot> snap = Optional.empty();
                if (o.has("snapshot")) {
                    JsonObject j = o.getAsJsonObject("snapshot");
                    snap = Optional.of(new Snapshot(j.get("startHlc").getAsLong(), j.get("firstSeq").getAsLong(),
                            j.get("endSeq").getAsLong(), j.get("done").getAsBoolean(),
                            j.has("total") ? Math.max(0, j.get("total").getAsLong()) : 0));
                }
                List<Targeted> targeted = new ArrayList<>();
                if (o.has("targeted")) {
                    JsonArray a = o.getAsJsonArray("targeted");
                    for (int i = 0; i < a.size() && i < MAX_TARGETED; i++) {
                        targeted.add(Targeted.parse(a.get(i).getAsJsonObject()));
                    }
                }
                return new Position(o.get("node").getAsString(), TableId.parse(o.get("channel").getAsString()),
                        o.get("seq").getAsLong(), snap, o.has("epoch") ? o.get("epoch").getAsLong() : 0, targeted,
                        o.has("outbox") ? Math.max(0, o.get("outbox").getAsLong()) : -1);
            } catch (RuntimeException e) {
                throw new InvalidDataException("not a position message: " + e.getMessage(), e);
            }
        }
    }

    /**
     * A subscriber's request, on {@code mqdb/<cluster>/ctl/<node>/resend}, to publish a channel again from a
     * sequence number.
     *
     * @param channel the channel
     * @param fromSeq the first sequence number it misses
     * @param toSeq the last one it misses (it has what follows), or 0 when it misses everything from {@code fromSeq}
     * @param requester the subscribing node: resends and snapshots go to its direct topics
     * @param targeted whether the requester takes resends and snapshots on its direct topics (false from a node older
     *     than targeted catch-up: it gets them on the channel topic, as before)
     * @param merged the start ({@code startHlc}) of the last snapshot of this origin the requester merged, 0 if none:
     *     a targeted snapshot that started later is not yet confirmed
     * @param streamSeq how far the requester applied the stream of the origin's targeted snapshot for it (0 if none),
     *     so the origin can tell a snapshot still being applied from a lost one
     * @param resetHlc 0, or, when the requester's store lost its data, a clock reading at or after the loss:
     *     a snapshot for it that started at or before it does not count (what it sent is lost), and the origin's next
     *     one starts after it
     * @param at the requester's hybrid-clock reading when it asked, unique per requester (0 in the format of nodes
     *     older than replay protection): with signing on, a request whose reading is not fresh or was seen before is a
     *     replay and is refused ({@link io.mqdb.signing.Freshness})
     */
    public record Resend(TableId channel, long fromSeq, long toSeq, String requester, boolean targeted, long merged,
                         long streamSeq, long resetHlc, long at) {
        /** A request in the format of nodes older than targeted catch-up. */
        Resend(TableId channel, long fromSeq, long toSeq, String requester) {
            this(channel, fromSeq, toSeq, requester, false, 0, 0, 0, 0);
        }

        /** A request without a clock reading (nodes older than replay protection). */
        public Resend(TableId channel, long fromSeq, long toSeq, String requester, boolean targeted, long merged,
                      long streamSeq, long resetHlc) {
            this(channel, fromSeq, toSeq, requester, targeted, merged, streamSeq, resetHlc, 0);
        }

        public byte[] toJson() {
            JsonObject o = new JsonObject();
            o.addProperty("channel", channel.toString());
            o.addProperty("from", fromSeq);
            o.addProperty("to", toSeq);
            o.addProperty("requester", requester);
            if (targeted) {
                o.addProperty("merged", merged);
                o.addProperty("streamSeq", streamSeq);
                if (resetHlc > 0) {
                    o.addProperty("resetHlc", resetHlc);
                }
            }
            if (at > 0) {
                o.addProperty("at", at);
            }
            return o.toString().getBytes(StandardCharsets.UTF_8);
        }

        public static Resend parse(byte[] payload) {
            try {
                JsonObject o = JsonParser.parseString(new String(payload, StandardCharsets.UTF_8)).getAsJsonObject();
                boolean targeted = o.has("merged");
                return new Resend(TableId.parse(o.get("channel").getAsString()), o.get("from").getAsLong(),
                        o.has("to") ? o.get("to").getAsLong() : 0, o.get("requester").getAsString(), targeted,
                        targeted ? o.get("merged").getAsLong() : 0,
                        o.has("streamSeq") ? o.get("streamSeq").getAsLong() : 0,
                        o.has("resetHlc") ? o.get("resetHlc").getAsLong() : 0,
                        o.has("at") ? o.get("at").getAsLong() : 0);
            } catch (RuntimeException e) {
                throw new InvalidDataException("not a resend request: " + e.getMessage(), e);
            }
        }
    }

    /** The most keys one republish request carries (and a parser reads). */
    public static final int MAX_REPUBLISH_KEYS = 10_000;

    /**
     * A repair's request, on {@code mqdb/<cluster>/ctl/<publisher>/republish}, that a publisher publish chosen keys of
     * a channel again as they are in its store now (a deleted one as a delete), through its normal path: numbered,
     * versioned now, so a newer write still wins ({@code mqdb verify --repair}, docs/verify.md).
     *
     * @param channel the channel
     * @param keys the keys, each a JSON object of its key columns (at most {@link #MAX_REPUBLISH_KEYS})
     * @param requester who asks (signed by it when signing is on)
     * @param at the requester's clock reading when it asked (replay protection with signing)
     */
    public record Republish(TableId channel, List<JsonObject> keys, String requester, long at) {
        public Republish {
            keys = List.copyOf(keys);
            if (keys.size() > MAX_REPUBLISH_KEYS) {
                throw new IllegalArgumentException(keys.size() + " keys: at most " + MAX_REPUBLISH_KEYS);
            }
        }

        public byte[] toJson() {
            JsonObject o = new JsonObject();
            o.addProperty("channel", channel.toString());
            o.addProperty("requester", requester);
            o.addProperty("at", at);
            JsonArray a = new JsonArray();
            keys.forEach(a::add);
            o.add("keys", a);
            return o.toString().getBytes(StandardCharsets.UTF_8);
        }

        public static Republish parse(byte[] payload) {
            try {
                JsonObject o = JsonParser.parseString(new String(payload, StandardCharsets.UTF_8)).getAsJsonObject();
                JsonArray a = o.getAsJsonArray("keys");
                if (a.size() > MAX_REPUBLISH_KEYS) {
                    throw new InvalidDataException(a.size() + " keys: at most " + MAX_REPUBLISH_KEYS);
                }
                List<JsonObject> keys = new ArrayList<>();
                for (com.google.gson.JsonElement e : a) {
                    keys.add(e.getAsJsonObject());
                }
                return new Republish(TableId.parse(o.get("channel").getAsString()), keys,
                        o.get("requester").getAsString(), o.get("at").getAsLong());
            } catch (RuntimeException e) {
                throw new InvalidDataException("not a republish request: " + e.getMessage(), e);
            }
        }
    }

    /**
     * How far a subscriber applied a channel, kept retained on {@code mqdb/<cluster>/applied/<schema>/<table>/<node>}
     * so that any tool can compute the subscriber's lag from the broker alone (with the origins' positions).
     *
     * @param node the subscriber
     * @param channel the channel
     * @param origins per origin, the sequence number up to which the subscriber applied everything it published
     * @param lastAppliedMillis the version time (ms since the epoch) of the newest event applied, 0 when none
     * @param oldestUnappliedMillis the version time of the oldest event the subscriber holds and has not applied yet
     *     (a batch held while its store is retried), 0 when none
     * @param eventsBehind the events behind as the subscriber computed them when it published this
     * @param deadLetters the channel's dead letters since the subscriber started, -1 when unknown (an older node)
     * @param paused whether the channel is paused on the subscriber (admin API)
     */
    public record Applied(String node, TableId channel, Map<String, Long> origins, long lastAppliedMillis,
                          long oldestUnappliedMillis, long eventsBehind, long deadLetters, boolean paused) {
        public Applied {
            origins = Map.copyOf(origins);
        }

        public Applied(String node, TableId channel, Map<String, Long> origins, long lastAppliedMillis,
                long oldestUnappliedMillis, long eventsBehind) {
            this(node, channel, origins, lastAppliedMillis, oldestUnappliedMillis, eventsBehind, -1, false);
        }

        public byte[] toJson() {
            JsonObject o = new JsonObject();
            o.addProperty("node", node);
            o.addProperty("channel", channel.toString());
            JsonObject a = new JsonObject();
            new TreeMap<>(origins).forEach(a::addProperty);
            o.add("origins", a);
            o.addProperty("lastAppliedMillis", lastAppliedMillis);
            o.addProperty("oldestUnappliedMillis", oldestUnappliedMillis);
            o.addProperty("eventsBehind", eventsBehind);
            if (deadLetters >= 0) {
                o.addProperty("deadLetters", deadLetters);
            }
            if (paused) {
                o.addProperty("paused", true);
            }
            return o.toString().getBytes(StandardCharsets.UTF_8);
        }

        public static Applied parse(byte[] payload) {
            try {
                JsonObject o = JsonParser.parseString(new String(payload, StandardCharsets.UTF_8)).getAsJsonObject();
                Map<String, Long> origins = new TreeMap<>();
                for (Map.Entry<String, com.google.gson.JsonElement> e : o.getAsJsonObject("origins").entrySet()) {
                    if (origins.size() == MAX_FLOW_ORIGINS) {
                        break;
                    }
                    origins.put(e.getKey(), e.getValue().getAsLong());
                }
                return new Applied(o.get("node").getAsString(), TableId.parse(o.get("channel").getAsString()),
                        origins, o.get("lastAppliedMillis").getAsLong(), o.get("oldestUnappliedMillis").getAsLong(),
                        o.get("eventsBehind").getAsLong(),
                        o.has("deadLetters") ? Math.max(0, o.get("deadLetters").getAsLong()) : -1,
                        o.has("paused") && o.get("paused").getAsBoolean());
            } catch (RuntimeException e) {
                throw new InvalidDataException("not an applied position: " + e.getMessage(), e);
            }
        }
    }

    /**
     * A subscriber's report, on {@code mqdb/<cluster>/flow/<schema>/<table>/<node>} (QoS 1, retained), of how far
     * it got in each origin's numbering of a channel. Publishers use it to stay within their flow window.
     *
     * @param node the subscriber
     * @param channel the channel
     * @param received per origin, the highest sequence number it took off the broker and handled (applied, skipped
     *     or dead-lettered), gaps or not (at most {@link #MAX_FLOW_ORIGINS})
     * @param applied per origin, the number up to which it handled everything, without a gap (at most
     *     {@link #MAX_FLOW_ORIGINS}; empty from a report that has none)
     * @param stream per origin that is sending it a snapshot made for it alone, the stream number up to which it
     *     handled that snapshot without a gap (at most {@link #MAX_FLOW_ORIGINS}; usually empty)
     */
    public record Flow(String node, TableId channel, Map<String, Long> received, Map<String, Long> applied,
                       Map<String, Long> stream) {
        public Flow {
            received = bounded(received);
            applied = bounded(applied);
            stream = bounded(stream);
        }

        /** A report without snapshot streams. */
        public Flow(String node, TableId channel, Map<String, Long> received, Map<String, Long> applied) {
            this(node, channel, received, applied, Map.of());
        }

        private static Map<String, Long> bounded(Map<String, Long> m) {
            Map<String, Long> copy = new LinkedHashMap<>();
            for (Map.Entry<String, Long> e : m.entrySet()) {
                if (copy.size() < MAX_FLOW_ORIGINS) {
                    copy.put(e.getKey(), e.getValue());
                }
            }
            return java.util.Collections.unmodifiableMap(copy);
        }

        public byte[] toJson() {
            JsonObject o = new JsonObject();
            o.addProperty("node", node);
            o.addProperty("channel", channel.toString());
            JsonObject r = new JsonObject();
            received.forEach(r::addProperty);
            o.add("received", r);
            JsonObject a = new JsonObject();
            applied.forEach(a::addProperty);
            o.add("applied", a);
            if (!stream.isEmpty()) {
                JsonObject t = new JsonObject();
                stream.forEach(t::addProperty);
                o.add("stream", t);
            }
            return o.toString().getBytes(StandardCharsets.UTF_8);
        }

        public static Flow parse(byte[] payload) {
            try {
                JsonObject o = JsonParser.parseString(new String(payload, StandardCharsets.UTF_8)).getAsJsonObject();
                return new Flow(o.get("node").getAsString(), TableId.parse(o.get("channel").getAsString()),
                        numbers(o.getAsJsonObject("received")),
                        o.has("applied") ? numbers(o.getAsJsonObject("applied")) : Map.of(),
                        o.has("stream") ? numbers(o.getAsJsonObject("stream")) : Map.of());
            } catch (RuntimeException e) {
                throw new InvalidDataException("not a flow report: " + e.getMessage(), e);
            }
        }

        private static Map<String, Long> numbers(JsonObject j) {
            Map<String, Long> out = new LinkedHashMap<>();
            for (Map.Entry<String, com.google.gson.JsonElement> e : j.entrySet()) {
                if (out.size() == MAX_FLOW_ORIGINS) {
                    break;
                }
                out.put(e.getKey(), e.getValue().getAsLong());
            }
            return out;
        }
    }
}
