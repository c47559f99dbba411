package io.mqdb.spi;

/**
 * A failure that may succeed when the same call is made again: a connection lost, a timeout, a deadlock, a server
 * restarting. Thrown by a store; the runtime then retries the same batch with capped exponential backoff and keeps
 * the MQTT message unacknowledged until it succeeds.
 */
public class RetriableException extends MqdbException {
    private static final long serialVersionUID = 1L;

    /** @param message what went wrong, with its context */
    public RetriableException(String message) {
        super(message);
    }

    /**
     * @param message what went wrong, with its context
     * @param cause the underlying error
     */
    public RetriableException(String message, Throwable cause) {
        super(message, cause);
    }
}
