package io.mqdb.spi;

import java.util.Optional;

/**
 * An open connection to one configured store: its tables ({@link TableAccess}) and, when the store can capture its
 * own changes, a {@link ChangeCapture}.
 *
 * <h2>Lifecycle</h2>
 * <ol>
 *   <li>The runtime calls {@link StoreProvider#open} on its start-up thread; the store connects and checks its
 *   settings there, failing fast with a clear message.</li>
 *   <li>The runtime uses the store from its apply, capture and application threads (see {@link TableAccess}).</li>
 *   <li>The runtime calls {@link #close()} once, on its shutdown thread, after every thread using the store has
 *   stopped. {@code close} releases every connection, file and thread of the store, and is idempotent.</li>
 * </ol>
 */
public interface Store extends TableAccess, AutoCloseable {

    /**
     * @return a description of what the store points at, for logs and errors, without secrets, e.g.
     *     {@code postgresql://127.0.0.1:5432/shop} or {@code mapdb:/var/lib/mqdb/data/local.db}
     */
    String describeTarget();

    /**
     * The store's change capture, if it has one. Called once by the runtime at start-up, for stores whose tables
     * the node publishes.
     *
     * @return the capture ability, or empty when this store cannot capture changes
     */
    Optional<ChangeCapture> capture();

    /**
     * The store's atomic writes across tables, if it has them. Called by the runtime when it opens a store-backed
     * queue; constant for an open store.
     *
     * @return the ability, or empty (the default) when this store cannot commit writes to several tables as one
     */
    default Optional<AtomicWrites> atomicWrites() {
        return Optional.empty();
    }

    /**
     * Whether the store removes rows by itself (a time to live, an eviction policy). The runtime then does not take a
     * missing row for a loss of the store's data. Called by the runtime's apply threads; constant for a store.
     *
     * @return true when rows may disappear without a delete; false by default
     */
    default boolean removesRowsByItself() {
        return false;
    }

    /**
     * Whether the store honours {@link Mutation.Upsert#expiresAt()}: it removes a row by itself at that instant (a
     * channel's {@code transform.ttl}). The runtime refuses such a channel at start-up on a store that does not.
     * Constant for a store; any thread. Added in issue 19.
     *
     * @return true when upserts may carry an expiry; false by default
     */
    default boolean expiresRows() {
        return false;
    }

    /**
     * Whether the store names each row by a pattern over its key and honours {@link StoreContext#keyPatterns()}
     * (a channel's {@code transform.key}). The runtime refuses such a channel at start-up on a store that does not.
     * Constant for a store; any thread. Added in issue 19.
     *
     * @return true when the store takes key patterns from the channels; false by default
     */
    default boolean takesKeyPatterns() {
        return false;
    }

    /** Releases everything the store holds. Idempotent; called on the runtime's shutdown thread. */
    @Override
    void close();
}
