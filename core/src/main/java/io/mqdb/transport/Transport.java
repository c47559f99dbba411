package io.mqdb.transport;

import java.util.concurrent.CompletableFuture;

/**
 * The node's one connection to the MQTT broker (or broker cluster), behind which the MQTT client library hides
 * ({@link HiveMqTransport} or {@link PahoTransport}, built by {@link Transports#open}). QoS 1 throughout,
 * persistent session, manual acknowledgements, failover across the configured brokers, automatic reconnect, a
 * retained presence message with a last will. In {@link BrokerMode#MIRROR} mode over several brokers,
 * {@link MirrorTransport} keeps one such connection to each broker at once behind the same interface.
 *
 * <h2>Lifecycle and threads</h2>
 * Created from a {@link TransportOptions}; {@link #subscribe} may be called before or after {@link #start}
 * (subscriptions are remembered and renewed after every reconnect). {@link #start} blocks until the first connection
 * is made. Handlers run on the transport's single callback thread, in arrival order; a handler that blocks holds up
 * delivery (that is the back-pressure). {@link #publish} and {@link InboundMessage#ack()} may be called from any
 * thread. {@link #close} publishes the offline presence, disconnects and stops every thread; idempotent.
 */
public interface Transport extends AutoCloseable {

    /**
     * Connects to the first broker of the list that answers, waiting at most the configured connect timeout per
     * broker and cycling through the list until one answers.
     *
     * @throws InterruptedException when interrupted while connecting
     */
    void start() throws InterruptedException;

    /**
     * Subscribes with QoS 1 and the MQTT 5 no-local option (a node never receives its own publishes). Messages stay
     * unacknowledged to the broker until the handler's code calls {@link InboundMessage#ack()}.
     *
     * @param topicFilter an MQTT topic filter
     * @param handler called on the callback thread for every message
     */
    void subscribe(String topicFilter, MessageHandler handler);

    /**
     * Publishes with QoS 1.
     *
     * @param topic the topic, without wildcards
     * @param payload the payload
     * @param retained whether the broker keeps it as the topic's retained message
     * @return completed when the broker acknowledged it (PUBACK); completed exceptionally when it could not be
     *     delivered to the broker (the caller retries)
     */
    CompletableFuture<Void> publish(String topic, byte[] payload, boolean retained);

    /** @return whether the transport is connected now */
    boolean isConnected();

    /**
     * Publishes a request or an answer (QoS 1, not retained) with MQTT 5 request/response properties.
     *
     * @param topic the topic
     * @param payload the payload
     * @param responseTopic where answers go (a request), or null (an answer)
     * @param correlationData the request's correlation data (at most 64 KiB), or an empty array
     * @return completed when the broker acknowledged it; failed as {@link #publish} fails
     */
    CompletableFuture<Void> publish(String topic, byte[] payload, String responseTopic, byte[] correlationData);

    /** @return the URI of the broker connected to now, or of the last one */
    String currentBroker();

    /** Publishes the offline presence, disconnects, releases threads. Idempotent. */
    @Override
    void close();
}
