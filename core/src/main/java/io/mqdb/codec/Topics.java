package io.mqdb.codec;

import io.mqdb.spi.TableId;
import java.util.Optional;
import java.util.regex.Pattern;

/**
 * The MQTT topic names of one mqdb cluster; {@code docs/topics.md} describes the layout.
 *
 * <pre>
 * mqdb/&lt;cluster&gt;/ch/&lt;schema&gt;/&lt;table&gt;             change batches, QoS 1, not retained
 * mqdb/&lt;cluster&gt;/schema/&lt;schema&gt;/&lt;table&gt;         the table's schema, retained
 * mqdb/&lt;cluster&gt;/nodes/&lt;node&gt;/presence           online/offline, retained, last will
 * mqdb/&lt;cluster&gt;/dead/&lt;node&gt;/&lt;schema&gt;/&lt;table&gt;   events a node could not apply
 * mqdb/&lt;cluster&gt;/to/&lt;node&gt;/ch/&lt;schema&gt;/&lt;table&gt;    resends for one node, QoS 1
 * mqdb/&lt;cluster&gt;/to/&lt;node&gt;/snap/&lt;schema&gt;/&lt;table&gt;  a snapshot made for one node, QoS 1
 * mqdb/&lt;cluster&gt;/flow/&lt;schema&gt;/&lt;table&gt;/&lt;node&gt;  how far a subscriber received, retained
 * mqdb/&lt;cluster&gt;/applied/&lt;schema&gt;/&lt;table&gt;/&lt;node&gt;  how far a subscriber applied, retained
 * </pre>
 *
 * <p>Schema and table names are {@link TableId} identifiers and therefore always valid topic levels. Cluster and node
 * names are checked here. Immutable and thread-safe.
 */
public final class Topics {
    /** The first topic level of everything mqdb publishes. */
    public static final String ROOT = "mqdb";

    private static final Pattern NAME = Pattern.compile("[A-Za-z0-9_][A-Za-z0-9_.-]{0,62}");

    private final String cluster;
    private final String prefix;

    /**
     * @param cluster the cluster name: letters, digits, {@code _ . -}, at most 63 characters, not starting with
     *     {@code .} or {@code -}
     * @throws IllegalArgumentException when the name is not a safe topic level
     */
    public Topics(String cluster) {
        this.cluster = requireName("cluster", cluster);
        this.prefix = ROOT + "/" + cluster + "/";
    }

    /** @return the cluster name */
    public String cluster() {
        return cluster;
    }

    /**
     * @param t a table
     * @return {@code mqdb/<cluster>/ch/<schema>/<table>}, where its change batches are published (QoS 1, not
     *     retained)
     */
    public String channel(TableId t) {
        return prefix + "ch/" + t.schema() + "/" + t.table();
    }

    /**
     * @param t a table
     * @return {@code mqdb/<cluster>/schema/<schema>/<table>}, where its schema is published, retained
     */
    public String schema(TableId t) {
        return prefix + "schema/" + t.schema() + "/" + t.table();
    }

    /**
     * @param node a node name (same rule as the cluster name)
     * @return {@code mqdb/<cluster>/nodes/<node>/presence}, the node's retained presence and last will
     */
    public String presence(String node) {
        return prefix + "nodes/" + requireName("node", node) + "/presence";
    }

    /**
     * @param node the node that gave up on the events
     * @param t their table
     * @return {@code mqdb/<cluster>/dead/<node>/<schema>/<table>}
     */
    public String deadLetter(String node, TableId t) {
        return prefix + "dead/" + requireName("node", node) + "/" + t.schema() + "/" + t.table();
    }

    /**
     * @param node the publishing node
     * @param t a table it publishes
     * @return {@code mqdb/<cluster>/pos/<schema>/<table>/<node>}, where the node keeps, retained, the last sequence
     *     number it published on the channel and its last snapshot, so subscribers can tell what they miss
     */
    public String position(String node, TableId t) {
        return prefix + "pos/" + t.schema() + "/" + t.table() + "/" + requireName("node", node);
    }

    /**
     * @param t a table
     * @return {@code mqdb/<cluster>/pos/<schema>/<table>/+}, every publisher's position on the channel
     */
    public String positionFilter(TableId t) {
        return prefix + "pos/" + t.schema() + "/" + t.table() + "/+";
    }

    /**
     * @param node a subscribing node
     * @param t a table it subscribes
     * @return {@code mqdb/<cluster>/flow/<schema>/<table>/<node>}, where the node keeps, retained, how far it
     *     received each origin's numbering on the channel, so publishers do not run further ahead of it than the
     *     broker queues for it
     */
    public String flow(String node, TableId t) {
        return prefix + "flow/" + t.schema() + "/" + t.table() + "/" + requireName("node", node);
    }

    /** @return {@code mqdb/<cluster>/flow/+/+/+}, every subscriber's reports on every channel */
    public String flowFilter() {
        return prefix + "flow/+/+/+";
    }

    /**
     * @param node a subscribing node
     * @return {@code mqdb/<cluster>/flow/+/+/<node>}, the node's flow reports on every channel
     */
    public String flowsOf(String node) {
        return prefix + "flow/+/+/" + requireName("node", node);
    }

    /**
     * @param node a publishing node
     * @return {@code mqdb/<cluster>/pos/+/+/<node>}, the node's positions on every channel
     */
    public String positionsOf(String node) {
        return prefix + "pos/+/+/" + requireName("node", node);
    }

    /** @return {@code mqdb/<cluster>/pos/+/+/+}, every publisher's position on every channel */
    public String positionFilter() {
        return prefix + "pos/+/+/+";
    }

    /**
     * @param node a subscribing node
     * @param t a table it subscribes
     * @return {@code mqdb/<cluster>/applied/<schema>/<table>/<node>}, where the node keeps, retained, how far it
     *     applied the channel (per origin), so any tool can tell its lag from the broker alone
     */
    public String applied(String node, TableId t) {
        return prefix + "applied/" + t.schema() + "/" + t.table() + "/" + requireName("node", node);
    }

    /** @return {@code mqdb/<cluster>/applied/+/+/+}, every subscriber's applied position on every channel */
    public String appliedFilter() {
        return prefix + "applied/+/+/+";
    }

    /**
     * @param node a subscribing node
     * @return {@code mqdb/<cluster>/applied/+/+/<node>}, the node's applied positions on every channel
     */
    public String appliedOf(String node) {
        return prefix + "applied/+/+/" + requireName("node", node);
    }

    /**
     * @param node a node
     * @param t a table it subscribes
     * @return {@code mqdb/<cluster>/nodes/<node>/presence/ch/<schema>/<table>}, the retained presence of the node's
     *     MQTT session for that channel (which {@link #presenceFilter()} does not match)
     */
    public String channelPresence(String node, TableId t) {
        return presence(node) + "/ch/" + t.schema() + "/" + t.table();
    }

    /**
     * @param node a node
     * @return {@code mqdb/<cluster>/nodes/<node>/presence/ch/+/+}, the presences of all the node's channel sessions
     */
    public String channelPresenceFilter(String node) {
        return presence(node) + "/ch/+/+";
    }

    /**
     * The table of a topic made by {@link #position}, {@link #flow}, {@link #applied} or {@link #channelPresence}:
     * the two levels before the last (a position, a flow report, an applied position) or the last two (a channel
     * presence).
     *
     * @param topic a topic a message arrived on
     * @return the table, or empty when the topic is neither kind
     */
    public Optional<TableId> parseOwnedTable(String topic) {
        if (topic == null || !topic.startsWith(prefix)) {
            return Optional.empty();
        }
        String[] levels = topic.substring(prefix.length()).split("/", -1);
        String schema;
        String table;
        if (levels.length == 4 && (levels[0].equals("pos") || levels[0].equals("flow")
                || levels[0].equals("applied"))) {
            schema = levels[1];
            table = levels[2];
        } else if (levels.length == 6 && levels[0].equals("nodes") && levels[2].equals("presence")
                && levels[3].equals("ch")) {
            schema = levels[4];
            table = levels[5];
        } else {
            return Optional.empty();
        }
        if (!TableId.isIdentifier(schema) || !TableId.isIdentifier(table)) {
            return Optional.empty();
        }
        return Optional.of(new TableId(schema, table));
    }

    /**
     * @param node a publishing node
     * @return {@code mqdb/<cluster>/ctl/<node>/resend}, where subscribers ask the node to publish again from a
     *     sequence number (or, when it no longer holds it, to publish a fresh snapshot)
     */
    public String resend(String node) {
        return prefix + "ctl/" + requireName("node", node) + "/resend";
    }

    /**
     * @param node a publishing node
     * @return {@code mqdb/<cluster>/ctl/<node>/republish}, where a repair asks it to publish chosen keys again
     */
    public String republish(String node) {
        return prefix + "ctl/" + requireName("node", node) + "/republish";
    }

    /**
     * @param node the node that asked for a resend
     * @param t the channel
     * @return {@code mqdb/<cluster>/to/<node>/ch/<schema>/<table>}, where a publisher publishes again, for that node
     *     alone, the channel's events it asked for (same payloads and sequence numbers as on the channel topic)
     */
    public String direct(String node, TableId t) {
        return prefix + "to/" + requireName("node", node) + "/ch/" + t.schema() + "/" + t.table();
    }

    /**
     * @param node the node a snapshot is made for
     * @param t the channel
     * @return {@code mqdb/<cluster>/to/<node>/snap/<schema>/<table>}, where a publisher publishes a snapshot of the
     *     channel made for that node alone; its events are numbered in a stream of their own, not the channel's
     */
    public String directSnapshot(String node, TableId t) {
        return prefix + "to/" + requireName("node", node) + "/snap/" + t.schema() + "/" + t.table();
    }

    /**
     * @param t a table
     * @return {@code mqdb/<cluster>/read/<schema>/<table>}, where reads of it are asked (MQTT 5 requests)
     */
    public String read(TableId t) {
        return prefix + "read/" + t.schema() + "/" + t.table();
    }

    /**
     * @param asker the asking user's name on an authenticating broker, else its client id (letters, digits,
     *     {@code _ . @ -}, at most 64)
     * @return {@code mqdb/<cluster>/reply/<asker>/}, the prefix of its response topics (the embedded broker lets a
     *     reader subscribe its own); a node answers only on response topics under {@code mqdb/<cluster>/reply/}
     * @throws IllegalArgumentException when the name is not such a topic level
     */
    public String replyPrefix(String asker) {
        if (!asker.matches("[A-Za-z0-9_.@-]{1,64}")) {
            throw new IllegalArgumentException("not usable in a response topic: \"" + asker + "\" (letters, digits,"
                    + " _ . @ -, at most 64)");
        }
        return prefix + "reply/" + asker + "/";
    }

    /** @return {@code mqdb/<cluster>/reply/}, under which every response topic a node answers on lies */
    public String replyRoot() {
        return prefix + "reply/";
    }

    /** The most correlation data a node copies into an answer, in bytes; a request with more is not answered. */
    public static final int MAX_CORRELATION_BYTES = 1024;

    /** The longest response topic a node answers on, in characters. */
    public static final int MAX_REPLY_TOPIC_CHARS = 1024;

    /**
     * @param topic a response topic a message asked to be answered on
     * @return whether a node may answer on it: under {@code mqdb/<cluster>/reply/}, without wildcards, at most
     *     {@value #MAX_REPLY_TOPIC_CHARS} characters (so a message can never make a node publish on a channel or a
     *     control topic)
     */
    public boolean isReplyTopic(String topic) {
        return topic.startsWith(replyRoot()) && topic.length() <= MAX_REPLY_TOPIC_CHARS && !topic.contains("+")
                && !topic.contains("#");
    }

    /** @return {@code mqdb/<cluster>/ch/+/+}, the filter matching every channel */
    public String channelFilter() {
        return prefix + "ch/+/+";
    }

    /** @return {@code mqdb/<cluster>/schema/+/+}, the filter matching every schema */
    public String schemaFilter() {
        return prefix + "schema/+/+";
    }

    /** @return {@code mqdb/<cluster>/nodes/+/presence}, the filter matching every node's presence */
    public String presenceFilter() {
        return prefix + "nodes/+/presence";
    }

    /**
     * The inverse of {@link #channel(TableId)}.
     *
     * @param topic a topic a message arrived on
     * @return the table, or empty when the topic is not a channel topic of this cluster
     */
    public Optional<TableId> parseChannel(String topic) {
        return parseTable(topic, "ch/");
    }

    /**
     * The inverse of {@link #schema(TableId)}.
     *
     * @param topic a topic a message arrived on
     * @return the table, or empty when the topic is not a schema topic of this cluster
     */
    public Optional<TableId> parseSchema(String topic) {
        return parseTable(topic, "schema/");
    }

    private Optional<TableId> parseTable(String topic, String kind) {
        if (topic == null || !topic.startsWith(prefix) || !topic.startsWith(kind, prefix.length())) {
            return Optional.empty();
        }
        int start = prefix.length() + kind.length();
        int slash = topic.indexOf('/', start);
        if (slash < 0 || topic.indexOf('/', slash + 1) >= 0) {
            return Optional.empty();
        }
        String schema = topic.substring(start, slash);
        String table = topic.substring(slash + 1);
        if (!TableId.isIdentifier(schema) || !TableId.isIdentifier(table)) {
            return Optional.empty();
        }
        return Optional.of(new TableId(schema, table));
    }

    private static String requireName(String what, String name) {
        if (name == null || !NAME.matcher(name).matches()) {
            throw new IllegalArgumentException("invalid " + what + " name \"" + name
                    + "\": expected letters, digits, _ . or -, at most 63 characters, not starting with . or -");
        }
        return name;
    }

    @Override
    public String toString() {
        return prefix + "#";
    }
}
