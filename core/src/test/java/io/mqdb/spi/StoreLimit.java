package io.mqdb.spi;

/**
 * The only ways an adapter may opt out of parts of {@link StoreContract}: values or behaviours its store cannot keep.
 * An adapter returns its limits from {@link StoreContract#limits()} and lists them in its documentation page; every
 * other case of the contract it must pass.
 */
public enum StoreLimit {
    /** {@link ColumnType#DOUBLE} cannot hold NaN, +Infinity or -Infinity (MariaDB/MySQL {@code DOUBLE}). */
    DOUBLE_NAN_AND_INFINITY,
    /** {@link ColumnType#DOUBLE} reads {@code -0.0} back as {@code 0.0}. */
    DOUBLE_NEGATIVE_ZERO,
    /** {@link ColumnType#STRING} cannot hold the character U+0000 (PostgreSQL {@code text}). */
    STRING_NUL_CHARACTER,
    /**
     * The store cannot declare a value (non-key) column NOT NULL, so {@link TableAccess#describe} reports every value
     * column nullable (Cassandra, Redis).
     */
    NOT_NULL_VALUE_COLUMNS,
    /**
     * The capture records which keys changed, not the rows: a captured upsert carries the row as it is when
     * {@link ChangeCapture#poll} reads it, and several changes of one key read by one poll come as one change. The
     * last change reported for a key still carries its final state (JDBC trigger capture).
     */
    CAPTURE_READS_ROWS_WHEN_POLLED,
    /**
     * {@link TableAccess#scan} returns rows in an order of the store's own, not key order (Cassandra: token order,
     * the hash of the partition key). Every row still comes exactly once, each page's {@code next} is the key of its
     * last row, and a scan after a key returns the rows that follow that key in the store's order.
     */
    SCAN_IN_STORE_ORDER
}
