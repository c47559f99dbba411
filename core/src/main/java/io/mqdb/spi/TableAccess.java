package io.mqdb.spi;

import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * Reading and writing the rows of a store's tables. Part of every {@link Store}.
 *
 * <p>Every method is called by the runtime from several threads at once (apply threads, the capture thread's
 * snapshot, application threads through the embedding API) and must be thread-safe. Every value handed in is
 * canonical (see {@link ColumnType}); every value handed out must be canonical too.
 */
public interface TableAccess {

    /**
     * Describes a table as the store has it.
     *
     * <p>Called by the runtime at start-up for every configured channel, and by the apply thread of a channel before
     * its first batch.
     *
     * @param table the table
     * @return its schema, or empty when the table does not exist
     * @throws RetriableException when the store cannot be reached
     */
    Optional<TableSchema> describe(TableId table);

    /**
     * Creates the table when it is missing, and adds the columns of {@code schema} the table lacks (as nullable
     * columns). Never drops or alters an existing column, never drops a table. Idempotent.
     *
     * <p>Called by the apply thread of a subscribed channel before it applies a batch with a schema the store has not
     * seen, and by the embedding API.
     *
     * @param schema the schema the table must at least have
     * @return the table's schema after the call
     * @throws InvalidDataException when the existing table contradicts the schema (another primary key)
     * @throws RetriableException when the store cannot be reached
     */
    TableSchema ensureTable(TableSchema schema);

    /**
     * Applies a batch of writes, in order, to one table. When this method returns, the whole batch is durable in the
     * store (committed); the runtime acknowledges the MQTT messages that carried it only then. When it throws, any
     * part of the batch may have been applied; the runtime may apply the same batch again, so a store must make
     * re-applying a batch harmless (upserts and deletes are idempotent).
     *
     * <p>Called by the apply thread of the table's channel, and by the embedding API. Batches for one table arrive
     * from one thread at a time.
     *
     * @param table the table, which exists ({@link #ensureTable} was called)
     * @param batch the writes, at least one
     * @param origin whether the writes are local (captured) or replicated (not captured)
     * @throws InvalidDataException when a write can never succeed (the runtime then applies the batch one write at a
     *     time to dead-letter just the bad one)
     * @throws RetriableException when the store is unreachable or the write may succeed later
     */
    void apply(TableId table, List<Mutation> batch, WriteOrigin origin);

    /**
     * Upserts rows; a shorthand for {@link #apply} with unversioned upserts.
     *
     * @param table the table
     * @param rows the rows
     * @param origin local or replicated
     */
    default void upsert(TableId table, List<Row> rows, WriteOrigin origin) {
        List<Mutation> batch = new ArrayList<>(rows.size());
        for (Row r : rows) {
            batch.add(Mutation.Upsert.of(r));
        }
        apply(table, batch, origin);
    }

    /**
     * Deletes rows by key; a shorthand for {@link #apply} with unversioned deletes.
     *
     * @param table the table
     * @param keys the keys
     * @param origin local or replicated
     */
    default void delete(TableId table, List<Key> keys, WriteOrigin origin) {
        List<Mutation> batch = new ArrayList<>(keys.size());
        for (Key k : keys) {
            batch.add(Mutation.Delete.of(k));
        }
        apply(table, batch, origin);
    }

    /**
     * Reads one row.
     *
     * <p>Called by the embedding API and by the read-request handler, on their own threads.
     *
     * @param table the table
     * @param key the row's key
     * @return the row with every column of the table (null columns present with a null value), or empty
     * @throws RetriableException when the store cannot be reached
     */
    Optional<Row> get(TableId table, Key key);

    /**
     * Reads one page of rows in key order, starting after a cursor. Used for the initial load (snapshot) of a
     * published table and by the embedding API. Pages stay consistent when rows change between calls: a row that
     * exists throughout the scan is returned exactly once.
     *
     * @param table the table
     * @param after the cursor from the previous page ({@link ScanPage#next()}), or null to start at the beginning
     * @param limit the most rows to return, at least 1
     * @return the page
     * @throws RetriableException when the store cannot be reached
     */
    ScanPage scan(TableId table, Key after, int limit);

    /**
     * Counts the rows of a table. Used for progress and by tests; may scan the table.
     *
     * @param table the table
     * @return the number of rows, 0 when the table does not exist
     */
    long count(TableId table);
}
