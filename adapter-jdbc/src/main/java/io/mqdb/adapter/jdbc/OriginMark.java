package io.mqdb.adapter.jdbc;

import java.sql.Connection;
import java.sql.SQLException;

/**
 * How a write transaction made with {@link io.mqdb.spi.WriteOrigin#REPLICATED} is marked so that the store's capture
 * leaves it out (echo suppression). Called by {@link JdbcStore#apply} on the applying thread, on the transaction's
 * connection: {@link #endReplicated} before a local write, {@link #beginReplicated} just after a replicated
 * transaction began, {@link #beforeCommitReplicated} just before its commit, {@link #endReplicated} after its commit
 * or rollback. Implementations are stateless and thread-safe.
 */
interface OriginMark {

    /** Marks the writes of the current transaction as replicated; called after the transaction began. */
    void beginReplicated(Connection c) throws SQLException;

    /** Called just before the commit of a replicated transaction. */
    default void beforeCommitReplicated(Connection c) throws SQLException {
    }

    /** Clears the mark; called after commit or rollback, also when they failed. */
    default void endReplicated(Connection c) throws SQLException {
    }
}
