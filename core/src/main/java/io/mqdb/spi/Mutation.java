package io.mqdb.spi;

import java.util.Objects;

/**
 * One write in a batch given to {@link TableAccess#apply}: an upsert of a row or a delete of a key.
 */
public sealed interface Mutation permits Mutation.Upsert, Mutation.Delete {

    /**
     * @return the version of the change this write carries, or null for an unversioned local write. Stores that
     *     keep per-write timestamps (Cassandra's {@code USING TIMESTAMP}) use it.
     */
    Version version();

    /**
     * Insert or update a row.
     *
     * @param row the columns to set, every key column included
     * @param version the change's version, or null
     * @param expiresAt when the store should remove the row by itself: null for the store's own rule (a store-wide
     *     time to live, or none), {@link #NEVER_EXPIRES} to remove any expiry the row has. Set only by a channel's
     *     {@code transform.ttl}, and only given to a store whose {@link Store#expiresRows()} is true (the runtime
     *     refuses the channel otherwise); an instant in the past removes the row. Added in issue 19
     */
    record Upsert(Row row, Version version, java.time.Instant expiresAt) implements Mutation {
        /** An {@link #expiresAt()} that removes the row's expiry, if it has one. */
        public static final java.time.Instant NEVER_EXPIRES = java.time.Instant.MAX;

        /** Rejects a null row. */
        public Upsert {
            Objects.requireNonNull(row, "row");
        }

        /**
         * @param row the columns to set, every key column included
         * @param version the change's version, or null
         */
        public Upsert(Row row, Version version) {
            this(row, version, null);
        }

        /**
         * @param row the columns to set
         * @return an unversioned upsert
         */
        public static Upsert of(Row row) {
            return new Upsert(row, null);
        }
    }

    /**
     * Delete a row; deleting a missing row is not an error.
     *
     * @param key the row's key
     * @param version the change's version, or null
     */
    record Delete(Key key, Version version) implements Mutation {
        /** Rejects a null key. */
        public Delete {
            Objects.requireNonNull(key, "key");
        }

        /**
         * @param key the key to delete
         * @return an unversioned delete
         */
        public static Delete of(Key key) {
            return new Delete(key, null);
        }
    }
}
