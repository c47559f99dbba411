package io.mqdb.transport;

/**
 * A message received on a subscription.
 *
 * <p>{@link #ack()} sends the PUBACK to the broker; until then the broker keeps the message and delivers it again
 * after a reconnect. Calling {@code ack} after the connection that delivered the message was lost does nothing (the
 * broker will deliver it again on the new connection). Any thread; idempotent.
 */
public interface InboundMessage {
    /** @return the topic it was published to */
    String topic();

    /** @return the payload */
    byte[] payload();

    /** @return whether it is a retained message delivered on subscribe */
    boolean retained();

    /** @return whether the broker marked it as a possible duplicate */
    boolean duplicate();

    /** Acknowledges the message to the broker. */
    void ack();

    /** @return the MQTT 5 response topic the publisher asked answers on, if any (a request) */
    default java.util.Optional<String> responseTopic() {
        return java.util.Optional.empty();
    }

    /** @return the MQTT 5 correlation data, empty when none (an answer carries the request's) */
    default byte[] correlationData() {
        return new byte[0];
    }
}
