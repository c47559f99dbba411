package io.mqdb.spi;

/**
 * The root of every exception mqdb throws. Unchecked.
 *
 * <p>Messages carry the context a user needs to act: the store, the table, the count and the cause, for example
 * {@code redis 127.0.0.1:6379: 500 events on shop:orders timed out after 2000 ms}.
 */
public class MqdbException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    /** @param message what went wrong, with its context */
    public MqdbException(String message) {
        super(message);
    }

    /**
     * @param message what went wrong, with its context
     * @param cause the underlying error
     */
    public MqdbException(String message, Throwable cause) {
        super(message, cause);
    }
}
