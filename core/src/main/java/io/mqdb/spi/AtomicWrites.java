package io.mqdb.spi;

import java.util.List;
import java.util.Objects;

/**
 * An optional ability of a {@link Store}: writes to several of its tables committed as one unit, all or nothing.
 * Reached through {@link Store#atomicWrites()}; a store that cannot promise it (a Redis cluster, whose keys live on
 * several servers) returns empty there, and callers fall back to ordered {@link TableAccess#apply} calls.
 *
 * <p>The node's store-backed FIFO queue uses it to write an entry and the queue's tail counter (or delete an entry
 * and move the head counter) in the same commit. What "atomic" means differs by store, and each adapter's page says
 * it: one SQL transaction (JDBC), one MapDB commit, one {@code MULTI}/{@code EXEC} (Redis), one logged batch
 * (Cassandra: all or nothing, not isolated from concurrent readers).
 *
 * <p>Thread-safe: called from any application thread, like {@link TableAccess}.
 */
public interface AtomicWrites {

    /**
     * Applies the writes of every batch, in order, as one commit. When this method returns, all of them are durable
     * as far as the store makes commits durable. When it throws, none of them was applied, or (when the connection
     * was lost during the commit, or a Cassandra batch timed out) the caller cannot know: it must then read back what
     * it needs.
     *
     * @param batches the writes per table, each table existing ({@link TableAccess#ensureTable} was called); at
     *     least one
     * @param origin local (captured, where the table is captured) or replicated
     * @throws InvalidDataException when a write can never succeed; nothing was applied
     * @throws RetriableException when the store is unreachable or the commit may succeed later
     */
    void applyAtomically(List<TableBatch> batches, WriteOrigin origin);

    /**
     * The writes to one table within an atomic unit.
     *
     * @param table the table
     * @param mutations its writes, in order, at least one
     */
    record TableBatch(TableId table, List<Mutation> mutations) {
        /** Copies the list; rejects nulls and an empty list. */
        public TableBatch {
            Objects.requireNonNull(table, "table");
            mutations = List.copyOf(mutations);
            if (mutations.isEmpty()) {
                throw new IllegalArgumentException(table + ": an atomic batch needs at least one write");
            }
        }
    }
}
