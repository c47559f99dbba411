package io.mqdb.broker;

/**
 * An MQTT 5 broker running inside the node's process, so a single node (or a few on one machine) needs nothing else.
 * Implemented on HiveMQ CE embedded by {@code HiveMqEmbeddedBroker}. Without configured users it lets every client
 * in, so it is bound to loopback unless configured otherwise; with users, only they get in, each limited to the
 * topics of its role ({@link BrokerAccess}).
 *
 * <p>Lifecycle: {@link #start} on the node's start-up thread before the transport connects; {@link #close} on the
 * shutdown thread after the transport closed. Idempotent close.
 */
public interface EmbeddedBroker extends AutoCloseable {

    /**
     * Starts the broker and waits until it accepts connections.
     *
     * @throws InterruptedException when interrupted while starting
     */
    void start() throws InterruptedException;

    /** @return the URI clients connect to, e.g. {@code tcp://127.0.0.1:1883} */
    String uri();

    /**
     * @return the credential the hosting node connects with when the broker authenticates its clients (made anew for
     *     each broker instance); empty when it lets every client in
     */
    default java.util.Optional<BrokerAccess.Credential> localCredential() {
        return java.util.Optional.empty();
    }

    /** Stops the broker, keeping its persisted state on disk. Idempotent. */
    @Override
    void close();
}
