package io.mqdb.config;

import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.Objects;
import java.util.Optional;

/**
 * The {@code broker.embedded:} section: the MQTT broker the node runs in its own process. Read by the broker module
 * on the start-up thread; immutable. Without {@code users} the embedded broker lets every client in, so it binds to a
 * loopback address unless the config says {@code allow-remote: true}; with {@code users} it lets in only those
 * clients, each limited to the topics of its role (docs/security.md), and may bind anywhere.
 *
 * <p>The broker's own durability is optional: every publisher keeps a crash-safe outbox with a resend window and
 * every subscriber detects sequence gaps and asks for a resend or a snapshot (docs/topics.md), so a message the broker
 * forgets (a restart in memory mode, a full queue) is sent again. The bounds below keep the broker's memory and disk
 * flat whatever backlog builds up.
 *
 * @param bindAddress the address to listen on; default {@code 127.0.0.1}
 * @param port the TCP port; default 1883, 0 picks a free port
 * @param dataDir where the broker keeps its configuration and, in {@link Persistence#FILE} mode, sessions and queued
 *     messages, absolute; default {@code <node data-dir>/broker}
 * @param persistence where the broker keeps sessions, queues and retained messages; default
 *     {@link Persistence#IN_MEMORY}
 * @param maxQueuedMessages the most QoS 1 messages the broker queues per client session before it drops new ones;
 *     default {@value #DEFAULT_MAX_QUEUED_MESSAGES}
 * @param maxPacketMb the largest MQTT packet the broker accepts, in MB (1..256); default
 *     {@value #DEFAULT_MAX_PACKET_MB}, the MQTT maximum
 * @param maxInflightMessages the most unacknowledged QoS 1 messages the broker sends one client (further capped by
 *     the client's receive maximum); default {@value #DEFAULT_MAX_INFLIGHT_MESSAGES}
 * @param cluster the cluster whose topics ({@code mqdb/<cluster>/...}) the users' permissions name: the node's
 * @param users the clients it lets in, with their permissions; empty: every client, with every permission
 * @param tls the TLS listener, if any
 * @param plain whether the plain TCP listener is bound to {@code bindAddress}; false: it is bound to
 *     {@code 127.0.0.1} only, for the hosting node and local tools, and other machines reach the broker over TLS only
 */
public record EmbeddedBrokerConfig(String bindAddress, int port, Path dataDir, Persistence persistence,
        int maxQueuedMessages, int maxPacketMb, int maxInflightMessages, String cluster, List<BrokerUser> users,
        Optional<EmbeddedTlsConfig> tls, boolean plain) {
    /** The address the embedded broker binds to by default. */
    public static final String DEFAULT_BIND = "127.0.0.1";
    /** The port the embedded broker listens on by default. */
    public static final int DEFAULT_PORT = 1883;
    /**
     * The default of {@link #maxQueuedMessages()}: at mqdb's median batch of 165 KB (500 rows) about 42 MB per client
     * session at worst, held in the heap in memory mode.
     */
    public static final int DEFAULT_MAX_QUEUED_MESSAGES = 256;
    /** The default of {@link #maxPacketMb()}: MQTT's own limit (256 MB), so no batch mqdb makes is refused. */
    public static final int DEFAULT_MAX_PACKET_MB = 256;
    /** The highest {@link #maxPacketMb()}. */
    public static final int MAX_PACKET_MB = 256;
    /** The default of {@link #maxInflightMessages()}. */
    public static final int DEFAULT_MAX_INFLIGHT_MESSAGES = 100;
    /** The highest {@link #maxInflightMessages()}: MQTT packet ids are 16 bits, HiveMQ takes them from one pool. */
    public static final int MAX_INFLIGHT_MESSAGES = 10_000;

    /** Where the embedded broker keeps its state. */
    public enum Persistence {
        /** In the heap only: a restart starts empty; the outbox and catch-up resend what was lost. The default. */
        IN_MEMORY,
        /** On disk in {@code dataDir/data} (RocksDB and Xodus): sessions and queued messages survive a restart. */
        FILE;

        /** @return the setting's spelling: {@code in-memory} or {@code file} */
        public String text() {
            return name().toLowerCase(Locale.ROOT).replace('_', '-');
        }
    }

    /** Rejects nulls, values out of range and two users of one name. */
    public EmbeddedBrokerConfig {
        Objects.requireNonNull(cluster, "cluster");
        Objects.requireNonNull(tls, "tls");
        if (!plain && tls.isEmpty()) {
            throw new IllegalArgumentException("embedded broker: plain: false needs a tls listener");
        }
        users = List.copyOf(users);
        if (users.stream().map(BrokerUser::username).distinct().count() != users.size()) {
            throw new IllegalArgumentException("embedded broker: two users of one name");
        }
        Objects.requireNonNull(bindAddress, "bindAddress");
        Objects.requireNonNull(dataDir, "dataDir");
        Objects.requireNonNull(persistence, "persistence");
        if (maxQueuedMessages < 1) {
            throw new IllegalArgumentException("embedded broker: maxQueuedMessages must be positive, got "
                    + maxQueuedMessages);
        }
        if (maxPacketMb < 1 || maxPacketMb > MAX_PACKET_MB) {
            throw new IllegalArgumentException("embedded broker: maxPacketMb must be 1.." + MAX_PACKET_MB + ", got "
                    + maxPacketMb);
        }
        if (maxInflightMessages < 1 || maxInflightMessages > MAX_INFLIGHT_MESSAGES) {
            throw new IllegalArgumentException("embedded broker: maxInflightMessages must be 1.."
                    + MAX_INFLIGHT_MESSAGES + ", got " + maxInflightMessages);
        }
    }

    /** Without TLS, the plain listener on {@code bindAddress}. */
    public EmbeddedBrokerConfig(String bindAddress, int port, Path dataDir, Persistence persistence,
            int maxQueuedMessages, int maxPacketMb, int maxInflightMessages, String cluster, List<BrokerUser> users) {
        this(bindAddress, port, dataDir, persistence, maxQueuedMessages, maxPacketMb, maxInflightMessages, cluster,
                users, Optional.empty(), true);
    }

    /** Without users (every client let in), for cluster {@code mqdb}. */
    public EmbeddedBrokerConfig(String bindAddress, int port, Path dataDir, Persistence persistence,
            int maxQueuedMessages, int maxPacketMb, int maxInflightMessages) {
        this(bindAddress, port, dataDir, persistence, maxQueuedMessages, maxPacketMb, maxInflightMessages, "mqdb",
                List.of());
    }

    /** @return the defaults, listening on {@code bindAddress:port} with its folder in {@code dataDir} */
    public static EmbeddedBrokerConfig of(String bindAddress, int port, Path dataDir) {
        return new EmbeddedBrokerConfig(bindAddress, port, dataDir, Persistence.IN_MEMORY,
                DEFAULT_MAX_QUEUED_MESSAGES, DEFAULT_MAX_PACKET_MB, DEFAULT_MAX_INFLIGHT_MESSAGES);
    }

    /** @return whether it lets in only its {@link #users()} */
    public boolean authenticates() {
        return !users.isEmpty();
    }

    /** @return a copy letting in only these users, with the permissions they have in {@code cluster} */
    public EmbeddedBrokerConfig withUsers(String cluster, List<BrokerUser> users) {
        return new EmbeddedBrokerConfig(bindAddress, port, dataDir, persistence, maxQueuedMessages, maxPacketMb,
                maxInflightMessages, cluster, users, tls, plain);
    }

    /** @return a copy with another persistence */
    public EmbeddedBrokerConfig withPersistence(Persistence p) {
        return new EmbeddedBrokerConfig(bindAddress, port, dataDir, p, maxQueuedMessages, maxPacketMb,
                maxInflightMessages, cluster, users, tls, plain);
    }

    /** @return a copy with another per-client queue bound */
    public EmbeddedBrokerConfig withMaxQueuedMessages(int n) {
        return new EmbeddedBrokerConfig(bindAddress, port, dataDir, persistence, n, maxPacketMb, maxInflightMessages,
                cluster, users, tls, plain);
    }

    /** @return a copy with another in-flight window */
    public EmbeddedBrokerConfig withMaxInflightMessages(int n) {
        return new EmbeddedBrokerConfig(bindAddress, port, dataDir, persistence, maxQueuedMessages, maxPacketMb, n,
                cluster, users, tls, plain);
    }

    /**
     * @param tls the TLS listener
     * @param plain whether the plain listener stays on {@code bindAddress} (false: on loopback only)
     * @return a copy with this TLS listener
     */
    public EmbeddedBrokerConfig withTls(EmbeddedTlsConfig tls, boolean plain) {
        return new EmbeddedBrokerConfig(bindAddress, port, dataDir, persistence, maxQueuedMessages, maxPacketMb,
                maxInflightMessages, cluster, users, Optional.of(tls), plain);
    }

    /** @return the address the plain TCP listener binds to: {@code bindAddress}, or {@code 127.0.0.1} if not plain */
    public String plainBindAddress() {
        return plain ? bindAddress : DEFAULT_BIND;
    }

    /**
     * @return whether the TLS listener is reachable from other machines while the plain one is too, so a client may
     *     send credentials and rows unencrypted by mistake (the broker warns at start)
     */
    public boolean plainBesideRemoteTls() {
        return tls.isPresent() && plain && !ConfigParser.isLoopback(bindAddress)
                && !ConfigParser.isLoopback(tls.get().bindAddress());
    }
}
