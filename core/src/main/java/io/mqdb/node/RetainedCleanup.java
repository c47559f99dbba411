package io.mqdb.node;

import io.mqdb.codec.Topics;
import io.mqdb.spi.TableId;
import io.mqdb.transport.InboundMessage;
import io.mqdb.transport.Transport;
import java.util.Optional;
import java.util.Set;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Clears the retained messages the node left on the broker for channels it no longer has: the position
 * ({@code mqdb/<cluster>/pos/<schema>/<table>/<node>}) of a channel it no longer publishes, and the presence of the
 * MQTT session, the flow report ({@code mqdb/<cluster>/flow/<schema>/<table>/<node>}) and the applied position
 * ({@code mqdb/<cluster>/applied/<schema>/<table>/<node>}) of a channel it no longer subscribes. Without it they
 * would stay on the broker for good, and
 * subscribers of a channel would keep asking a node that no longer publishes it for what its old position announced.
 *
 * <p>It subscribes to the node's own retained topics: the broker sends what is retained there when the subscription
 * is made (and again after each reconnect); the node's own later publishes never come back (no-local). A message for
 * a channel the node still has is left alone: the node keeps it current itself.
 *
 * <h2>Threads</h2>
 * {@link #subscribe()} is called once by the node before its transport starts; the handlers run on the transport's
 * callback thread.
 */
final class RetainedCleanup {
    private static final Logger LOG = LoggerFactory.getLogger(RetainedCleanup.class);

    private final String node;
    private final Topics topics;
    private final Transport transport;
    private final Set<TableId> published;
    private final Set<TableId> subscribed;

    /**
     * @param node this node's name
     * @param topics the cluster's topics
     * @param transport the node's connection
     * @param published the channels the node publishes now
     * @param subscribed the channels the node subscribes now
     */
    RetainedCleanup(String node, Topics topics, Transport transport, Set<TableId> published, Set<TableId> subscribed) {
        this.node = node;
        this.topics = topics;
        this.transport = transport;
        this.published = Set.copyOf(published);
        this.subscribed = Set.copyOf(subscribed);
    }

    /** Subscribes to the node's retained positions, channel presences, flow reports and applied positions. */
    void subscribe() {
        transport.subscribe(topics.positionsOf(node), m -> clearUnless(m, published, "position",
                "no longer publishes"));
        transport.subscribe(topics.channelPresenceFilter(node), m -> clearUnless(m, subscribed,
                "channel session presence", "no longer subscribes"));
        transport.subscribe(topics.flowsOf(node), m -> clearUnless(m, subscribed, "flow report",
                "no longer subscribes"));
        transport.subscribe(topics.appliedOf(node), m -> clearUnless(m, subscribed, "applied position",
                "no longer subscribes"));
    }

    private void clearUnless(InboundMessage m, Set<TableId> kept, String what, String why) {
        try {
            Optional<TableId> table = topics.parseOwnedTable(m.topic());
            if (m.payload().length == 0 || table.isEmpty() || kept.contains(table.get())) {
                return;
            }
            LOG.info("node {}: clearing its retained {} of channel {}, which it {} ({})", node, what, table.get(),
                    why, m.topic());
            transport.publish(m.topic(), new byte[0], true).whenComplete((ok, e) -> {
                if (e != null) {
                    LOG.warn("node {}: could not clear {}: {} (tried again at the next connection)", node, m.topic(),
                            e.getMessage());
                }
            });
        } finally {
            m.ack();
        }
    }
}
