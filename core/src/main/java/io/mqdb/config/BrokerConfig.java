package io.mqdb.config;

import io.mqdb.transport.BrokerMode;
import io.mqdb.transport.ClientLibrary;
import java.time.Duration;
import java.util.List;
import java.util.Objects;
import java.util.Optional;

/**
 * The {@code broker:} section: the embedded broker this node runs, if any, and how its MQTT client connects. Read by
 * the transport on the start-up thread; immutable. {@link #toString()} hides the password.
 *
 * <p>When {@link #uris()} is empty the client connects to the embedded broker (which is then present). When both are
 * given the node runs its broker and connects to the listed ones only, in order, failing over.
 *
 * @param embedded the embedded broker to run, or empty
 * @param uris the brokers to connect to, in failover order ({@code tcp://}, {@code ssl://}, {@code mqtt://},
 *     {@code mqtts://}, {@code ws://}, {@code wss://}); empty to connect to the embedded broker
 * @param username the MQTT user name, or empty
 * @param password the MQTT password, or empty
 * @param tls TLS settings for {@code ssl}/{@code mqtts}/{@code wss} connections, or empty for the JVM's defaults
 * @param clientId the MQTT client id; default {@code mqdb-<cluster>-<node>}
 * @param sessionExpiry how long the broker keeps the session while the node is away; positive, whole seconds
 * @param keepAlive the MQTT keep-alive interval; whole seconds, 0 disables it
 * @param connectTimeout how long one connection attempt may take; positive, whole seconds
 * @param receiveMaximum the most unacknowledged QoS 1/2 messages the broker may send at once, 1 to 65535
 * @param maxInflight the most unacknowledged QoS 1/2 messages the node may send at once, 1 to 65535
 * @param client the MQTT client library the node connects with; default {@link ClientLibrary#HIVEMQ}
 * @param flowWindow the most messages of one channel this node publishes beyond what its slowest active subscriber
 *     reported received (see {@code io.mqdb.node.outbox.FlowWindow}), 0 to publish without waiting for subscribers;
 *     default {@link #DEFAULT_FLOW_WINDOW}
 * @param mode {@code broker.mode}: {@link BrokerMode#FAILOVER} (one broker at a time, the default) or
 *     {@link BrokerMode#MIRROR} (every broker of {@link #uris()} at once); see {@code docs/topologies.md}
 * @param shuffle {@code broker.shuffle}: whether the node puts {@link #uris()} in a random order of its own once at
 *     start (so nodes with the same list spread over its brokers); default false
 */
public record BrokerConfig(Optional<EmbeddedBrokerConfig> embedded, List<String> uris, Optional<String> username,
                           Optional<Secret> password, Optional<TlsConfig> tls, String clientId,
                           Duration sessionExpiry, Duration keepAlive, Duration connectTimeout, int receiveMaximum,
                           int maxInflight, ClientLibrary client, int flowWindow, BrokerMode mode, boolean shuffle) {
    /**
     * The default {@link #flowWindow()}: below what a broker keeps per slow subscriber by default (the embedded
     * broker's 100 in flight + 256 queued; Mosquitto's 20 + 1,000), so a subscriber slower than its publisher is
     * never overrun into dropped messages and resends.
     */
    public static final int DEFAULT_FLOW_WINDOW = 128;

    /** Rejects nulls and a negative flow window; copies the list. */
    public BrokerConfig {
        Objects.requireNonNull(embedded, "embedded");
        uris = List.copyOf(uris);
        Objects.requireNonNull(username, "username");
        Objects.requireNonNull(password, "password");
        Objects.requireNonNull(tls, "tls");
        Objects.requireNonNull(clientId, "clientId");
        Objects.requireNonNull(sessionExpiry, "sessionExpiry");
        Objects.requireNonNull(keepAlive, "keepAlive");
        Objects.requireNonNull(connectTimeout, "connectTimeout");
        Objects.requireNonNull(client, "client");
        Objects.requireNonNull(mode, "mode");
        if (flowWindow < 0) {
            throw new IllegalArgumentException("flowWindow must be 0 or more, got " + flowWindow);
        }
    }

    /** The section in failover mode, in list order; see the canonical constructor. */
    public BrokerConfig(Optional<EmbeddedBrokerConfig> embedded, List<String> uris, Optional<String> username,
                        Optional<Secret> password, Optional<TlsConfig> tls, String clientId, Duration sessionExpiry,
                        Duration keepAlive, Duration connectTimeout, int receiveMaximum, int maxInflight,
                        ClientLibrary client, int flowWindow) {
        this(embedded, uris, username, password, tls, clientId, sessionExpiry, keepAlive, connectTimeout,
                receiveMaximum, maxInflight, client, flowWindow, BrokerMode.FAILOVER, false);
    }

    /** The section with the default {@link #flowWindow()}. */
    public BrokerConfig(Optional<EmbeddedBrokerConfig> embedded, List<String> uris, Optional<String> username,
                        Optional<Secret> password, Optional<TlsConfig> tls, String clientId, Duration sessionExpiry,
                        Duration keepAlive, Duration connectTimeout, int receiveMaximum, int maxInflight,
                        ClientLibrary client) {
        this(embedded, uris, username, password, tls, clientId, sessionExpiry, keepAlive, connectTimeout,
                receiveMaximum, maxInflight, client, DEFAULT_FLOW_WINDOW);
    }

    /** The section with the default client library, {@link ClientLibrary#HIVEMQ}. */
    public BrokerConfig(Optional<EmbeddedBrokerConfig> embedded, List<String> uris, Optional<String> username,
                        Optional<Secret> password, Optional<TlsConfig> tls, String clientId, Duration sessionExpiry,
                        Duration keepAlive, Duration connectTimeout, int receiveMaximum, int maxInflight) {
        this(embedded, uris, username, password, tls, clientId, sessionExpiry, keepAlive, connectTimeout,
                receiveMaximum, maxInflight, ClientLibrary.HIVEMQ);
    }

    /**
     * @return the first broker address this node uses or offers that other machines may reach (the embedded
     *     broker's bind address, or a broker URI's host, when not loopback), or empty when every one is loopback
     */
    public Optional<String> reachableBeyondLoopback() {
        if (embedded.isPresent() && !ConfigParser.isLoopback(embedded.get().bindAddress())) {
            return Optional.of(embedded.get().bindAddress());
        }
        for (String uri : uris) {
            String host;
            try {
                host = java.net.URI.create(uri).getHost();
            } catch (IllegalArgumentException e) {
                host = null;
            }
            if (host != null && !ConfigParser.isLoopback(host)) {
                return Optional.of(uri);
            }
        }
        return Optional.empty();
    }
}
