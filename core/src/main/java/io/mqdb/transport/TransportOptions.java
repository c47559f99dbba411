package io.mqdb.transport;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Objects;
import java.util.Optional;

/**
 * Settings of a {@link Transport}, validated completely on construction (every problem reported at once).
 *
 * @param brokerUris the brokers, tried in order on start and cycled through on connection loss:
 *     {@code tcp://host:port} or {@code mqtt://host:port} (plain), {@code ssl://} or {@code mqtts://} (TLS),
 *     {@code ws://host:port/path} or {@code wss://host:port/path} (MQTT over a WebSocket; path default {@code /mqtt})
 * @param clientId the MQTT client id; also the name of the persistent session on the broker, so it must be stable
 *     across restarts of the node and unique among nodes
 * @param username the user name, if the broker wants one
 * @param password the password; never logged
 * @param tls TLS settings for {@code ssl://} URIs; empty: the JVM's defaults
 * @param sessionExpiry how long the broker keeps the session (subscriptions and queued QoS 1 messages) while the node
 *     is away; 1 s to 136 years
 * @param keepAlive the MQTT keep-alive; whole seconds, 0 disables it
 * @param connectTimeout how long one connection attempt to one broker may take; at least 1 s
 * @param receiveMaximum how many unacknowledged QoS 1 messages the broker may send this node at once (1..65535)
 * @param maxInflight how many publishes may await their PUBACK at once (1..65535); also capped by the broker's
 *     receive maximum
 * @param presenceTopic where the retained online/offline presence goes (no wildcards)
 * @param onlinePayload published retained on {@code presenceTopic} after every connect
 * @param offlinePayload the last will, and published retained on a clean close
 * @param client the MQTT client library {@link Transports#open} builds the transport on
 * @param maxPacketBytes the MQTT 5 maximum packet size announced at CONNECT: the broker never sends this node a
 *     larger message (it discards it); {@link #MAX_PACKET_BYTES} unless {@code node.limits} says otherwise
 * @param mode {@link BrokerMode#FAILOVER} (one broker at a time, in list order) or {@link BrokerMode#MIRROR} (every
 *     broker of the list at once, see {@link MirrorTransport})
 */
public record TransportOptions(List<String> brokerUris, String clientId, Optional<String> username,
        Optional<String> password, Optional<TlsOptions> tls, Duration sessionExpiry, Duration keepAlive,
        Duration connectTimeout, int receiveMaximum, int maxInflight, String presenceTopic, byte[] onlinePayload,
        byte[] offlinePayload, ClientLibrary client, int maxPacketBytes, BrokerMode mode) {

    private static final long MAX_SESSION_EXPIRY_SECONDS = 0xFFFF_FFFFL;

    /**
     * The largest packet a node accepts, announced to the broker at CONNECT (MQTT 5 maximum packet size): the largest
     * payload the decoder takes ({@code CodecLimits.DEFAULT_MAX_PAYLOAD_BYTES}, 32 MiB) and 64 KiB for the topic and
     * properties. The broker then never sends a larger message (it discards it, as MQTT 5 says), so no message can
     * take more of a node's memory than that. {@code TransportOptionsTest} keeps the two in step. The default of
     * {@link #maxPacketBytes()}.
     */
    public static final int MAX_PACKET_BYTES = (32 << 20) + (64 << 10);
    /** Room for a message's topic and properties beyond its payload. */
    public static final int PACKET_OVERHEAD_BYTES = 64 << 10;
    /** The smallest maximum packet size that may be announced. */
    public static final int MIN_PACKET_BYTES = 1 << 16;

    /** Validates every setting and copies the mutable ones. */
    public TransportOptions {
        List<String> problems = new ArrayList<>();
        brokerUris = brokerUris == null ? List.of() : List.copyOf(brokerUris);
        if (brokerUris.isEmpty()) {
            problems.add("brokerUris: at least one broker URI is needed");
        }
        for (int i = 0; i < brokerUris.size(); i++) {
            String problem = checkUri(brokerUris.get(i));
            if (problem != null) {
                problems.add("brokerUris[" + i + "]: " + problem);
            }
        }
        if (clientId == null || clientId.isBlank()) {
            problems.add("clientId: must not be blank");
        }
        Objects.requireNonNull(username, "username");
        Objects.requireNonNull(password, "password");
        Objects.requireNonNull(tls, "tls");
        if (sessionExpiry == null || sessionExpiry.toSeconds() < 1
                || sessionExpiry.toSeconds() > MAX_SESSION_EXPIRY_SECONDS) {
            problems.add("sessionExpiry: expected 1 s to " + MAX_SESSION_EXPIRY_SECONDS + " s, got " + sessionExpiry
                    + " (0 would drop the session, and with it every queued message, on each disconnect)");
        }
        if (keepAlive == null || keepAlive.isNegative() || keepAlive.toSeconds() > 65_535) {
            problems.add("keepAlive: expected 0 to 65535 s, got " + keepAlive);
        }
        if (connectTimeout == null || connectTimeout.toSeconds() < 1) {
            problems.add("connectTimeout: expected at least 1 s, got " + connectTimeout);
        }
        if (receiveMaximum < 1 || receiveMaximum > 65_535) {
            problems.add("receiveMaximum: expected 1..65535, got " + receiveMaximum);
        }
        if (maxInflight < 1 || maxInflight > 65_535) {
            problems.add("maxInflight: expected 1..65535, got " + maxInflight);
        }
        if (presenceTopic == null || presenceTopic.isEmpty() || presenceTopic.contains("+")
                || presenceTopic.contains("#")) {
            problems.add("presenceTopic: expected a topic without wildcards, got " + presenceTopic);
        }
        Objects.requireNonNull(client, "client");
        if (onlinePayload == null || offlinePayload == null) {
            problems.add("onlinePayload/offlinePayload: must not be null");
        }
        if (maxPacketBytes < MIN_PACKET_BYTES) {
            problems.add("maxPacketBytes: expected at least " + MIN_PACKET_BYTES + ", got " + maxPacketBytes);
        }
        Objects.requireNonNull(mode, "mode");
        if (!problems.isEmpty()) {
            throw new IllegalArgumentException("invalid transport options:\n  " + String.join("\n  ", problems));
        }
        onlinePayload = onlinePayload.clone();
        offlinePayload = offlinePayload.clone();
    }

    /** The options in {@link BrokerMode#FAILOVER} mode; see the canonical constructor. */
    public TransportOptions(List<String> brokerUris, String clientId, Optional<String> username,
            Optional<String> password, Optional<TlsOptions> tls, Duration sessionExpiry, Duration keepAlive,
            Duration connectTimeout, int receiveMaximum, int maxInflight, String presenceTopic, byte[] onlinePayload,
            byte[] offlinePayload, ClientLibrary client, int maxPacketBytes) {
        this(brokerUris, clientId, username, password, tls, sessionExpiry, keepAlive, connectTimeout, receiveMaximum,
                maxInflight, presenceTopic, onlinePayload, offlinePayload, client, maxPacketBytes, BrokerMode.FAILOVER);
    }

    /** The options with the default maximum packet size, {@link #MAX_PACKET_BYTES}; see the canonical constructor. */
    public TransportOptions(List<String> brokerUris, String clientId, Optional<String> username,
            Optional<String> password, Optional<TlsOptions> tls, Duration sessionExpiry, Duration keepAlive,
            Duration connectTimeout, int receiveMaximum, int maxInflight, String presenceTopic, byte[] onlinePayload,
            byte[] offlinePayload, ClientLibrary client) {
        this(brokerUris, clientId, username, password, tls, sessionExpiry, keepAlive, connectTimeout, receiveMaximum,
                maxInflight, presenceTopic, onlinePayload, offlinePayload, client, MAX_PACKET_BYTES);
    }

    /** The options on the default client library, {@link ClientLibrary#HIVEMQ}; see the canonical constructor. */
    public TransportOptions(List<String> brokerUris, String clientId, Optional<String> username,
            Optional<String> password, Optional<TlsOptions> tls, Duration sessionExpiry, Duration keepAlive,
            Duration connectTimeout, int receiveMaximum, int maxInflight, String presenceTopic, byte[] onlinePayload,
            byte[] offlinePayload) {
        this(brokerUris, clientId, username, password, tls, sessionExpiry, keepAlive, connectTimeout, receiveMaximum,
                maxInflight, presenceTopic, onlinePayload, offlinePayload, ClientLibrary.HIVEMQ);
    }

    /**
     * Options with the defaults: no credentials, session kept 7 days, keep-alive 30 s, connect timeout 5 s, receive
     * maximum and max in-flight 1000, presence on {@code mqdb/presence/<clientId>} with payloads {@code online} and
     * {@code offline}, the HiveMQ client.
     *
     * @param brokerUris the brokers
     * @param clientId the client id
     * @return the options
     */
    public static TransportOptions of(List<String> brokerUris, String clientId) {
        return new TransportOptions(brokerUris, clientId, Optional.empty(), Optional.empty(), Optional.empty(),
                Duration.ofDays(7), Duration.ofSeconds(30), Duration.ofSeconds(5), 1000, 1000,
                "mqdb/presence/" + clientId, "online".getBytes(java.nio.charset.StandardCharsets.UTF_8),
                "offline".getBytes(java.nio.charset.StandardCharsets.UTF_8));
    }

    /**
     * @param id another client id (and so another persistent session on the broker)
     * @return a copy with that client id
     */
    public TransportOptions withClientId(String id) {
        return new TransportOptions(brokerUris, id, username, password, tls, sessionExpiry, keepAlive,
                connectTimeout, receiveMaximum, maxInflight, presenceTopic, onlinePayload, offlinePayload, client,
                maxPacketBytes, mode);
    }

    /**
     * @param topic the presence topic
     * @param online the online payload
     * @param offline the offline payload (the last will)
     * @return a copy with another presence
     */
    public TransportOptions withPresence(String topic, byte[] online, byte[] offline) {
        return new TransportOptions(brokerUris, clientId, username, password, tls, sessionExpiry, keepAlive,
                connectTimeout, receiveMaximum, maxInflight, topic, online, offline, client, maxPacketBytes, mode);
    }

    /**
     * @param expiry how long the broker keeps the session after a disconnect
     * @return a copy with that session expiry
     */
    public TransportOptions withSessionExpiry(Duration expiry) {
        return new TransportOptions(brokerUris, clientId, username, password, tls, expiry, keepAlive,
                connectTimeout, receiveMaximum, maxInflight, presenceTopic, onlinePayload, offlinePayload, client,
                maxPacketBytes, mode);
    }

    /**
     * @param receive the receive maximum
     * @param inflight the max in-flight publishes
     * @return a copy with other flow-control limits
     */
    public TransportOptions withFlowControl(int receive, int inflight) {
        return new TransportOptions(brokerUris, clientId, username, password, tls, sessionExpiry, keepAlive,
                connectTimeout, receive, inflight, presenceTopic, onlinePayload, offlinePayload, client,
                maxPacketBytes, mode);
    }

    /**
     * @param user the user name
     * @param secret the password
     * @return a copy that logs in with these credentials
     */
    public TransportOptions withCredentials(String user, String secret) {
        return new TransportOptions(brokerUris, clientId, Optional.of(user), Optional.of(secret), tls, sessionExpiry,
                keepAlive, connectTimeout, receiveMaximum, maxInflight, presenceTopic, onlinePayload, offlinePayload,
                client, maxPacketBytes, mode);
    }

    /**
     * @param library the MQTT client library
     * @return a copy on another client library
     */
    public TransportOptions withClient(ClientLibrary library) {
        return new TransportOptions(brokerUris, clientId, username, password, tls, sessionExpiry, keepAlive,
                connectTimeout, receiveMaximum, maxInflight, presenceTopic, onlinePayload, offlinePayload, library,
                maxPacketBytes, mode);
    }

    /**
     * @param bytes the maximum packet size to announce, at least {@link #MIN_PACKET_BYTES}
     * @return a copy that announces it
     */
    public TransportOptions withMaxPacketBytes(int bytes) {
        return new TransportOptions(brokerUris, clientId, username, password, tls, sessionExpiry, keepAlive,
                connectTimeout, receiveMaximum, maxInflight, presenceTopic, onlinePayload, offlinePayload, client,
                bytes, mode);
    }

    /**
     * @param m the broker mode
     * @return a copy in that mode
     */
    public TransportOptions withMode(BrokerMode m) {
        return new TransportOptions(brokerUris, clientId, username, password, tls, sessionExpiry, keepAlive,
                connectTimeout, receiveMaximum, maxInflight, presenceTopic, onlinePayload, offlinePayload, client,
                maxPacketBytes, m);
    }

    /**
     * @param uris other brokers
     * @return a copy with that broker list (the mode is kept)
     */
    public TransportOptions withBrokerUris(List<String> uris) {
        return new TransportOptions(uris, clientId, username, password, tls, sessionExpiry, keepAlive,
                connectTimeout, receiveMaximum, maxInflight, presenceTopic, onlinePayload, offlinePayload, client,
                maxPacketBytes, mode);
    }

    /**
     * The broker list in a random order, for {@code broker.shuffle}: nodes given the same list then spread over its
     * brokers instead of all crowding onto the first. Called once per node at start, so that the node's sessions
     * (control and channels, all derived from these options) share one order.
     *
     * @param random the source of the order
     * @return a copy with the brokers shuffled
     */
    public TransportOptions shuffled(java.util.Random random) {
        List<String> order = new ArrayList<>(brokerUris);
        java.util.Collections.shuffle(order, random);
        return withBrokerUris(order);
    }

    /** @return a copy of the online payload */
    @Override
    public byte[] onlinePayload() {
        return onlinePayload.clone();
    }

    /** @return a copy of the offline payload */
    @Override
    public byte[] offlinePayload() {
        return offlinePayload.clone();
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof TransportOptions t && brokerUris.equals(t.brokerUris) && clientId.equals(t.clientId)
                && username.equals(t.username) && password.equals(t.password) && tls.equals(t.tls)
                && sessionExpiry.equals(t.sessionExpiry) && keepAlive.equals(t.keepAlive)
                && connectTimeout.equals(t.connectTimeout) && receiveMaximum == t.receiveMaximum
                && maxInflight == t.maxInflight && presenceTopic.equals(t.presenceTopic)
                && Arrays.equals(onlinePayload, t.onlinePayload) && Arrays.equals(offlinePayload, t.offlinePayload)
                && client == t.client && maxPacketBytes == t.maxPacketBytes && mode == t.mode;
    }

    @Override
    public int hashCode() {
        return Objects.hash(brokerUris, clientId, presenceTopic, receiveMaximum, maxInflight);
    }

    /** Never prints the password. */
    @Override
    public String toString() {
        return "TransportOptions[brokerUris=" + brokerUris + ", clientId=" + clientId + ", username="
                + username.orElse(null) + ", password=" + (password.isPresent() ? "***" : "none") + ", tls="
                + tls.orElse(null) + ", sessionExpiry=" + sessionExpiry + ", keepAlive=" + keepAlive
                + ", connectTimeout=" + connectTimeout + ", receiveMaximum=" + receiveMaximum + ", maxInflight="
                + maxInflight + ", presenceTopic=" + presenceTopic + ", client=" + client.configName() + ", maxPacketBytes="
                + maxPacketBytes + ", mode=" + mode.configName() + "]";
    }

    private static String checkUri(String uri) {
        if (uri == null) {
            return "must not be null";
        }
        try {
            BrokerAddress.parse(uri);
            return null;
        } catch (IllegalArgumentException e) {
            return e.getMessage();
        }
    }
}
