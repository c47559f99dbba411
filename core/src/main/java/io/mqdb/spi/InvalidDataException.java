package io.mqdb.spi;

/**
 * Data that can never be applied as it is: a value of the wrong type, a missing key column, a constraint the target
 * rejects. Retrying would fail again, so the runtime dead-letters the offending event with this message as the
 * reason and the channel keeps going.
 */
public class InvalidDataException extends MqdbException {
    private static final long serialVersionUID = 1L;

    /** @param message what is wrong with the data, naming the table, key and column where known */
    public InvalidDataException(String message) {
        super(message);
    }

    /**
     * @param message what is wrong with the data
     * @param cause the underlying error
     */
    public InvalidDataException(String message, Throwable cause) {
        super(message, cause);
    }
}
