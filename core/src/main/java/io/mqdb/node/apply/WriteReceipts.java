package io.mqdb.node.apply;

import com.google.gson.JsonObject;
import io.mqdb.node.runtime.NodeContext;
import io.mqdb.node.runtime.RefusalLog;
import io.mqdb.spi.TableId;
import io.mqdb.transport.InboundMessage;
import java.nio.charset.StandardCharsets;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The receipts of acknowledged writes ({@code docs/writes.md}): a change batch published on a channel with an MQTT 5
 * response topic is answered, by every subscriber, once its store committed the batch (and before the MQTT message
 * is acknowledged), with the request's correlation data:
 * {@code {"node":..,"channel":..,"events":N,"deadLettered":K,"error":..}}. {@code events} counts the batch's events
 * the node holds now (applied, or already held at that version or a newer one); {@code deadLettered} those it put in
 * its dead letters, {@code error} the first one's reason.
 *
 * <p>A response topic outside {@code mqdb/<cluster>/reply/} or correlation data over
 * {@value io.mqdb.codec.Topics#MAX_CORRELATION_BYTES} bytes gets no receipt (the write is applied all the same; the
 * refusal is logged once in a while): a message can never make a node publish on a channel or a control topic.
 *
 * <p>Used on the channel's apply thread only; publishing does not wait for the broker.
 */
final class WriteReceipts {
    private static final Logger LOG = LoggerFactory.getLogger(WriteReceipts.class);
    private final NodeContext ctx;
    private final TableId table;
    private final RefusalLog refusals = new RefusalLog(LOG);

    /** One message's receipt while its events are decoded: what it carried and what was dead-lettered. */
    static final class Pending {
        private final String topic;
        private final byte[] correlation;
        private int events;
        private int deadLettered;
        private String firstReason;

        private Pending(String topic, byte[] correlation) {
            this.topic = topic;
            this.correlation = correlation;
        }

        /** @param n the number of events the message carries */
        void events(int n) {
            events = n;
        }

        /** @param reason why an event of the message (or the whole message) was dead-lettered or refused */
        void deadLettered(String reason) {
            deadLettered++;
            if (firstReason == null) {
                firstReason = reason;
            }
        }
    }

    WriteReceipts(NodeContext ctx, TableId table) {
        this.ctx = ctx;
        this.table = table;
    }

    /**
     * @param m a message received on the channel
     * @return its receipt to fill, or null when it asks for none or for one it may not get
     */
    Pending pending(InboundMessage m) {
        if (m.responseTopic().isEmpty()) {
            return null;
        }
        String topic = m.responseTopic().get();
        byte[] correlation = m.correlationData();
        if (!ctx.topics().isReplyTopic(topic) || correlation.length > io.mqdb.codec.Topics.MAX_CORRELATION_BYTES) {
            ctx.metrics().receiptsRefused.increment();
            refusals.warn("node " + ctx.nodeName() + ": no receipt for a write on " + table + ": its response topic"
                    + " must lie under " + ctx.topics().replyRoot() + " without wildcards and its correlation data"
                    + " be at most " + io.mqdb.codec.Topics.MAX_CORRELATION_BYTES + " bytes");
            return null;
        }
        return new Pending(topic, correlation);
    }

    /** Publishes a receipt; after the store committed what its message carried. */
    void send(Pending p) {
        JsonObject o = new JsonObject();
        o.addProperty("node", ctx.nodeName());
        o.addProperty("channel", table.toString());
        o.addProperty("events", p.events - Math.min(p.events, p.deadLettered));
        o.addProperty("deadLettered", p.deadLettered);
        if (p.firstReason != null) {
            o.addProperty("error", p.firstReason);
        }
        ctx.metrics().receiptsSent.increment();
        ctx.transport().publish(p.topic, o.toString().getBytes(StandardCharsets.UTF_8), null, p.correlation)
                .whenComplete((v, e) -> {
                    if (e != null) {
                        refusals.warn("node " + ctx.nodeName() + ": could not send a receipt on " + p.topic + ": "
                                + e.getMessage());
                    }
                });
    }
}
