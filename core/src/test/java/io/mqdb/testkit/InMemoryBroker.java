package io.mqdb.testkit;

import io.mqdb.transport.InboundMessage;
import io.mqdb.transport.Transport;
import io.mqdb.transport.TransportOptions;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import java.util.function.Function;

/**
 * A broker in the test's own JVM, modelling the MQTT 5 semantics the node relies on, for fast node-level tests with
 * {@link InMemoryTransport}s ({@link #transport} is the factory to hand to
 * {@link io.mqdb.node.MqdbNode#start(io.mqdb.config.NodeConfig, io.mqdb.plugin.PluginRegistry, Function)}).
 *
 * <h2>What it models</h2>
 * <ul>
 *   <li>Topic filters with {@code +} and {@code #} ({@link #matches}).</li>
 *   <li>QoS 1 with manual acknowledgements over persistent sessions (clean start off, sessions never expire unless
 *   {@link #expireSession} says so): a message stays in its session until the connection it was delivered on
 *   acknowledges it; when that connection is lost, every unacknowledged message is delivered again, marked
 *   duplicate, on the next connection, before anything newer. Messages published while a client is offline wait
 *   in its session.</li>
 *   <li>No-local on every subscription: a client never receives what it published itself (the {@link Transport}
 *   promise). Retained messages are delivered on every (re)subscribe, whoever published them.</li>
 *   <li>Retained messages: the last retained publish per topic is kept; an empty retained payload clears it.</li>
 *   <li>Order: messages reach each session in the order the broker took them, so per publisher and topic in publish
 *   order (unless a test rule reorders them).</li>
 *   <li>Last will: a connection lost with {@link #disconnect} publishes the client's offline presence, retained; a
 *   clean {@link Transport#close} publishes it itself and leaves no will.</li>
 * </ul>
 *
 * <h2>What it does not model</h2>
 * Flow control (receive maximum, in-flight windows, queue limits), packet sizes, authentication, shared
 * subscriptions, session expiry by time, several brokers, and overlapping subscriptions of one client (a message
 * is delivered once per session even when several of its filters match; the transport hands it to the first
 * matching handler). A client that lost its connection stays offline until the test calls {@link #reconnect}
 * (a real transport reconnects by itself).
 *
 * <h2>Test controls</h2>
 * {@link #dropNext}, {@link #duplicateNext}, {@link #hold} (then release in order or reversed) act on what
 * clients publish, before it is routed; {@link #disconnect}, {@link #reconnect}, {@link #expireSession} act on
 * clients; {@link #published}, {@link #retained}, {@link #unacknowledged} report.
 *
 * <h2>Threads</h2>
 * Thread-safe: every operation takes the broker's one lock, routes synchronously and returns. Delivery to a client
 * only appends to that client's inbox; its transport's callback thread runs the handlers, never under the lock.
 */
public final class InMemoryBroker {
    private final Object lock = new Object();
    private final String uri;
    private final Map<String, Session> sessions = new HashMap<>();
    private final Map<String, byte[]> retained = new TreeMap<>();
    private final List<Published> published = new ArrayList<>();
    private final List<Rule> rules = new ArrayList<>();

    /** A broker whose {@link Transport#currentBroker()} says {@code memory://mqdb-test}. */
    public InMemoryBroker() {
        this("mqdb-test");
    }

    /** @param name the broker's name, in {@link Transport#currentBroker()} ({@code memory://<name>}) */
    public InMemoryBroker(String name) {
        this.uri = "memory://" + name;
    }

    /**
     * What a client published, as the broker received it (before any test rule dropped, held or duplicated it).
     *
     * @param clientId the publisher's client id ({@code broker} for a last will it published)
     * @param topic the topic
     * @param payload the payload
     * @param retained whether it was published retained
     */
    public record Published(String clientId, String topic, byte[] payload, boolean retained) {
        /** @return the payload as UTF-8 text */
        public String text() {
            return new String(payload, StandardCharsets.UTF_8);
        }
    }

    /**
     * The transport factory: a new, not yet started transport of this broker for each call.
     *
     * @param options the options; the client id names the session, the presence topic and payloads are used, the
     *     broker URIs and every other setting are ignored
     * @return the transport
     */
    public Transport transport(TransportOptions options) {
        return new InMemoryTransport(this, options);
    }

    /** @return the URI the transports report as their broker */
    public String uri() {
        return uri;
    }

    // ------------------------------------------------------------------------------------------------ test controls

    /**
     * Makes the broker lose the next {@code count} messages published on topics matching {@code filter}: the
     * publisher's PUBACK still comes (the broker took them), no subscriber gets them.
     *
     * @param filter a topic filter
     * @param count how many
     */
    public void dropNext(String filter, int count) {
        addRule(new Rule(Rule.Kind.DROP, filter, count));
    }

    /**
     * Makes the broker deliver the next {@code count} messages published on topics matching {@code filter} twice,
     * one after the other (the second marked duplicate), as after a publisher's retry.
     *
     * @param filter a topic filter
     * @param count how many
     */
    public void duplicateNext(String filter, int count) {
        addRule(new Rule(Rule.Kind.DUPLICATE, filter, count));
    }

    /**
     * Holds back every message published on topics matching {@code filter} (PUBACK given, not routed) until the
     * returned hold is released: to delay, reorder, or lose them late.
     *
     * @param filter a topic filter
     * @return the hold
     */
    public Hold hold(String filter) {
        Rule r = new Rule(Rule.Kind.HOLD, filter, Integer.MAX_VALUE);
        addRule(r);
        return new Hold(r);
    }

    /** Messages held back by {@link #hold}; thread-safe. */
    public final class Hold {
        private final Rule rule;

        private Hold(Rule rule) {
            this.rule = rule;
        }

        /** @return how many messages are held now */
        public int size() {
            synchronized (lock) {
                return rule.held.size();
            }
        }

        /** Stops holding and routes the held messages in the order they were published. */
        public void release() {
            release(false);
        }

        /** Stops holding and routes the held messages newest first: a reordering. */
        public void releaseReversed() {
            release(true);
        }

        /** Stops holding and forgets the held messages: they are lost. */
        public void discard() {
            synchronized (lock) {
                rules.remove(rule);
                rule.held.clear();
            }
        }

        private void release(boolean reversed) {
            synchronized (lock) {
                rules.remove(rule);
                List<Published> out = new ArrayList<>(rule.held);
                rule.held.clear();
                if (reversed) {
                    Collections.reverse(out);
                }
                for (Published p : out) {
                    routeLocked(p, false);
                }
            }
        }
    }

    /**
     * Cuts a client's connection as a network failure would: its unacknowledged messages stay in its session, its
     * last will (offline presence) is published, and it stays offline (publishes fail) until {@link #reconnect}.
     *
     * @param clientId the client id
     * @throws IllegalArgumentException when no client has that id
     */
    public void disconnect(String clientId) {
        InMemoryTransport lost;
        synchronized (lock) {
            Session s = session(clientId);
            s.heldOffline = true;
            lost = s.connection;
            s.connection = null;
            if (lost != null) {
                lost.connectionLost();
                if (s.willTopic != null) {
                    routeLocked(new Published("broker", s.willTopic, s.willPayload, true), true);
                }
            }
        }
    }

    /**
     * Lets a client that {@link #disconnect} cut connect again, as its transport's automatic reconnect would: it
     * gets its session's unacknowledged and queued messages, renews its subscriptions (receiving the retained
     * messages again) and publishes its online presence.
     *
     * @param clientId the client id
     */
    public void reconnect(String clientId) {
        InMemoryTransport t;
        synchronized (lock) {
            Session s = session(clientId);
            s.heldOffline = false;
            t = s.lastTransport;
        }
        if (t != null) {
            t.reconnect();
        }
    }

    /**
     * Makes the broker forget an offline client's session (subscriptions and every message queued or unacknowledged
     * for it), as when the session expired or the broker lost its state. The next connection starts a new session.
     *
     * @param clientId the client id
     * @throws IllegalStateException when the client is connected
     */
    public void expireSession(String clientId) {
        synchronized (lock) {
            Session s = session(clientId);
            if (s.connection != null) {
                throw new IllegalStateException(clientId + " is connected; disconnect it first");
            }
            s.filters.clear();
            s.unacked.clear();
        }
    }

    /**
     * @param filter a topic filter
     * @return every message published on topics matching it so far, in the order the broker received them
     */
    public List<Published> published(String filter) {
        synchronized (lock) {
            return published.stream().filter(p -> matches(filter, p.topic())).toList();
        }
    }

    /**
     * @param topic a topic
     * @return the retained message of the topic, if any
     */
    public Optional<byte[]> retained(String topic) {
        synchronized (lock) {
            return Optional.ofNullable(retained.get(topic)).map(byte[]::clone);
        }
    }

    /**
     * @param clientId a client id
     * @return how many messages its session holds that it has not acknowledged (delivered or waiting)
     */
    public int unacknowledged(String clientId) {
        synchronized (lock) {
            Session s = sessions.get(clientId);
            return s == null ? 0 : s.unacked.size();
        }
    }

    /** @return the client ids of every session, connected or not */
    public List<String> clientIds() {
        synchronized (lock) {
            return List.copyOf(new TreeMap<>(sessions).keySet());
        }
    }

    /** @param clientId a client id @return whether it is connected now */
    public boolean isConnected(String clientId) {
        synchronized (lock) {
            Session s = sessions.get(clientId);
            return s != null && s.connection != null;
        }
    }

    /**
     * Whether an MQTT topic filter matches a topic: {@code +} matches one level, a final {@code #} the parent level
     * and every level below it.
     *
     * @param filter the filter
     * @param topic a topic without wildcards
     * @return whether it matches
     */
    public static boolean matches(String filter, String topic) {
        String[] f = filter.split("/", -1);
        String[] t = topic.split("/", -1);
        for (int i = 0; i < f.length; i++) {
            if (f[i].equals("#")) {
                return true;
            }
            if (i >= t.length) {
                return false;
            }
            if (!f[i].equals("+") && !f[i].equals(t[i])) {
                return false;
            }
        }
        return f.length == t.length;
    }

    // ----------------------------------------------------------------------------------- called by InMemoryTransport

    /**
     * Connects a transport, unless a test holds its client offline; delivers the session's unacknowledged messages
     * again and renews its subscriptions.
     *
     * @return the new connection's number, or -1 when the client is held offline
     */
    long connect(InMemoryTransport t, List<String> filters) {
        synchronized (lock) {
            Session s = sessions.computeIfAbsent(t.clientId(), Session::new);
            s.lastTransport = t;
            if (s.heldOffline) {
                return -1;
            }
            if (s.connection != null && s.connection != t) {
                s.connection.connectionLost(); // session take-over, as MQTT does for a second client with the id
            }
            s.connection = t;
            long id = ++s.connectionCount;
            t.connected(id);
            s.willTopic = t.presenceTopic();
            s.willPayload = t.offlinePayload();
            List<Delivery> again = new ArrayList<>(s.unacked);
            s.unacked.clear();
            for (Delivery d : again) {
                deliverLocked(s, d.topic, d.payload, d.retained, d.duplicate || d.delivered);
            }
            for (String f : filters) {
                subscribeLocked(s, f);
            }
            return id;
        }
    }

    /** Adds a subscription to the transport's session and delivers the filter's retained messages. */
    void subscribe(InMemoryTransport t, String filter) {
        synchronized (lock) {
            Session s = sessions.get(t.clientId());
            if (s != null && s.connection == t) {
                subscribeLocked(s, filter);
            }
        }
    }

    /**
     * Takes a publish from a connected transport.
     *
     * @return false when the transport is not connected (the publish fails)
     */
    boolean publish(InMemoryTransport from, String topic, byte[] payload, boolean retain) {
        synchronized (lock) {
            Session s = sessions.get(from.clientId());
            if (s == null || s.connection != from) {
                return false;
            }
            Published p = new Published(from.clientId(), topic, payload.clone(), retain);
            published.add(p);
            Rule rule = null;
            for (Rule r : rules) {
                if (r.remaining > 0 && matches(r.filter, topic)) {
                    rule = r;
                    break;
                }
            }
            if (rule == null) {
                routeLocked(p, false);
                return true;
            }
            if (rule.kind != Rule.Kind.HOLD) {
                rule.remaining--;
                if (rule.remaining == 0) {
                    rules.remove(rule);
                }
            }
            switch (rule.kind) {
                case DROP -> { }
                case HOLD -> rule.held.add(p);
                case DUPLICATE -> {
                    routeLocked(p, false);
                    routeLocked(p, true);
                }
            }
            return true;
        }
    }

    /** Acknowledges a delivery: removes it from its session, unless its connection is gone (then nothing). */
    void ack(Delivery d) {
        synchronized (lock) {
            if (d.session.connection != null && d.session.connectionCount == d.connection) {
                d.session.unacked.remove(d);
            }
        }
    }

    /** A clean disconnect: no will; the session and its unacknowledged messages stay. */
    void disconnected(InMemoryTransport t) {
        synchronized (lock) {
            Session s = sessions.get(t.clientId());
            if (s != null && s.connection == t) {
                s.connection = null;
            }
        }
    }

    // ---------------------------------------------------------------------------------------------------- internals

    private Session session(String clientId) {
        Session s = sessions.get(clientId);
        if (s == null) {
            throw new IllegalArgumentException("no client " + clientId + "; clients: " + new TreeMap<>(sessions)
                    .keySet());
        }
        return s;
    }

    private void addRule(Rule r) {
        if (r.remaining < 1) {
            throw new IllegalArgumentException("count must be at least 1, got " + r.remaining);
        }
        synchronized (lock) {
            rules.add(r);
        }
    }

    private void subscribeLocked(Session s, String filter) {
        if (!s.filters.contains(filter)) {
            s.filters.add(filter);
        }
        for (Map.Entry<String, byte[]> e : retained.entrySet()) {
            if (matches(filter, e.getKey())) {
                deliverLocked(s, e.getKey(), e.getValue(), true, false);
            }
        }
    }

    /** Stores a retained message and hands a message to every other session with a matching subscription. */
    private void routeLocked(Published p, boolean duplicate) {
        if (p.retained()) {
            if (p.payload().length == 0) {
                retained.remove(p.topic());
            } else {
                retained.put(p.topic(), p.payload());
            }
        }
        for (Session s : sessions.values()) {
            if (s.clientId.equals(p.clientId())) {
                continue; // no-local
            }
            for (String f : s.filters) {
                if (matches(f, p.topic())) {
                    deliverLocked(s, p.topic(), p.payload(), false, duplicate);
                    break;
                }
            }
        }
    }

    private void deliverLocked(Session s, String topic, byte[] payload, boolean retainedFlag, boolean duplicate) {
        Delivery d = new Delivery(this, s, s.connectionCount, topic, payload, retainedFlag, duplicate,
                s.connection != null);
        s.unacked.add(d);
        if (s.connection != null) {
            s.connection.enqueue(d);
        }
    }

    /** One client's persistent session. Guarded by the broker's lock. */
    private static final class Session {
        final String clientId;
        final List<String> filters = new ArrayList<>();
        /** Delivered or waiting, not acknowledged, in delivery order (identity: every delivery is its own). */
        final LinkedHashSet<Delivery> unacked = new LinkedHashSet<>();
        InMemoryTransport connection;
        InMemoryTransport lastTransport;
        long connectionCount;
        boolean heldOffline;
        String willTopic;
        byte[] willPayload;

        Session(String clientId) {
            this.clientId = clientId;
        }
    }

    /** A test rule on published messages. Guarded by the broker's lock. */
    private static final class Rule {
        enum Kind { DROP, DUPLICATE, HOLD }

        final Kind kind;
        final String filter;
        int remaining;
        final List<Published> held = new ArrayList<>();

        Rule(Kind kind, String filter, int remaining) {
            this.kind = kind;
            this.filter = filter;
            this.remaining = remaining;
        }
    }

    /** One message delivered (or to be delivered) to one session, on one of its connections. */
    static final class Delivery implements InboundMessage {
        private final Session session;
        final long connection;
        private final String topic;
        private final byte[] payload;
        private final boolean retained;
        private final boolean duplicate;
        /** Whether it was handed to a connection (rather than queued while the client was offline). */
        private final boolean delivered;
        private final InMemoryBroker broker;

        private Delivery(InMemoryBroker broker, Session session, long connection, String topic, byte[] payload,
                         boolean retained, boolean duplicate, boolean delivered) {
            this.broker = broker;
            this.delivered = delivered;
            this.session = session;
            this.connection = connection;
            this.topic = topic;
            this.payload = payload;
            this.retained = retained;
            this.duplicate = duplicate;
        }

        @Override
        public String topic() {
            return topic;
        }

        @Override
        public byte[] payload() {
            return payload.clone();
        }

        @Override
        public boolean retained() {
            return retained;
        }

        @Override
        public boolean duplicate() {
            return duplicate;
        }

        @Override
        public void ack() {
            broker.ack(this);
        }

        @Override
        public String toString() {
            return topic + " (" + payload.length + " bytes" + (retained ? ", retained" : "")
                    + (duplicate ? ", duplicate" : "") + ")";
        }
    }
}
