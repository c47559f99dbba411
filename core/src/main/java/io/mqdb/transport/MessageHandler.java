package io.mqdb.transport;

/** Receives messages of a subscription; called on the transport's callback thread, in arrival order. */
@FunctionalInterface
public interface MessageHandler {
    /**
     * @param message the message; the handler (or whoever it hands the message to) calls
     *     {@link InboundMessage#ack()} once the message's content is committed
     * @throws InterruptedException when interrupted while handing the message on
     */
    void onMessage(InboundMessage message) throws InterruptedException;
}
