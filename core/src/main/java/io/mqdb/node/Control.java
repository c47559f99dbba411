package io.mqdb.node;

import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import io.mqdb.spi.InvalidDataException;
import io.mqdb.spi.TableId;
import java.nio.charset.StandardCharsets;
import java.util.Optional;

/**
 * The small JSON messages of catch-up: a publisher's position on a channel, and a subscriber's request to publish
 * again. Documented in {@code docs/topics.md}.
 */
final class Control {
    private Control() {
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
     */
    record Snapshot(long startHlc, long firstSeq, long endSeq, boolean done) {
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
     */
    record Position(String node, TableId channel, long seq, Optional<Snapshot> snapshot, long epoch) {
        byte[] toJson() {
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
                o.add("snapshot", j);
            });
            return o.toString().getBytes(StandardCharsets.UTF_8);
        }

        static Position parse(byte[] payload) {
            try {
                JsonObject o = JsonParser.parseString(new String(payload, StandardCharsets.UTF_8)).getAsJsonObject();
                Optional<Snapshot> snap = Optional.empty();
                if (o.has("snapshot")) {
                    JsonObject j = o.getAsJsonObject("snapshot");
                    snap = Optional.of(new Snapshot(j.get("startHlc").getAsLong(), j.get("firstSeq").getAsLong(),
                            j.get("endSeq").getAsLong(), j.get("done").getAsBoolean()));
                }
                return new Position(o.get("node").getAsString(), TableId.parse(o.get("channel").getAsString()),
                        o.get("seq").getAsLong(), snap, o.has("epoch") ? o.get("epoch").getAsLong() : 0);
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
     * @param requester the subscribing node, for the log
     */
    record Resend(TableId channel, long fromSeq, long toSeq, String requester) {
        byte[] toJson() {
            JsonObject o = new JsonObject();
            o.addProperty("channel", channel.toString());
            o.addProperty("from", fromSeq);
            o.addProperty("to", toSeq);
            o.addProperty("requester", requester);
            return o.toString().getBytes(StandardCharsets.UTF_8);
        }

        static Resend parse(byte[] payload) {
            try {
                JsonObject o = JsonParser.parseString(new String(payload, StandardCharsets.UTF_8)).getAsJsonObject();
                return new Resend(TableId.parse(o.get("channel").getAsString()), o.get("from").getAsLong(),
                        o.has("to") ? o.get("to").getAsLong() : 0, o.get("requester").getAsString());
            } catch (RuntimeException e) {
                throw new InvalidDataException("not a resend request: " + e.getMessage(), e);
            }
        }
    }
}
