package io.mqdb.spi;

/**
 * A write or read found its table missing, or the schema, keyspace or database holding it: it was dropped while the
 * node ran (by hand, or with the whole keyspace or database). Thrown by a store's {@link Store#apply} instead of an
 * {@link InvalidDataException}, since no event is at fault; the runtime then takes it as a loss of what it applied
 * to that store: it creates the table again ({@link Store#ensureTable}), asks every origin to publish the channel
 * again, and applies the batch once more. Neither retriable as it is (the same call fails the same way until the
 * table is created) nor invalid data.
 */
public class TableMissingException extends MqdbException {
    private static final long serialVersionUID = 1L;

    /** @param message what was missing, with its context */
    public TableMissingException(String message) {
        super(message);
    }

    /**
     * @param message what was missing, with its context
     * @param cause the underlying error
     */
    public TableMissingException(String message, Throwable cause) {
        super(message, cause);
    }
}
