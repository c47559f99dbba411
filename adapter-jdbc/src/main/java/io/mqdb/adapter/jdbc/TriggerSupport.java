package io.mqdb.adapter.jdbc;

import io.mqdb.spi.TableId;
import java.sql.Connection;
import java.sql.SQLException;
import java.util.List;

/**
 * The database-specific half of trigger capture: the change-log table, the per-table triggers, the echo suppression
 * around replicated writes, and what uninstalling removes.
 */
interface TriggerSupport {

    /** How the capture knows that no change-log row can still appear below a position. */
    enum Ordering {
        /** PostgreSQL: rows carry their transaction id; a snapshot's xmin says which transactions are finished. */
        TRANSACTION_ID,
        /** Elsewhere: ids in order, gaps waited for up to {@code gap-timeout}. */
        GAP_TIMEOUT
    }

    Ordering ordering();

    /** @return the quoted, qualified name of the change log, resolved on this connection */
    String changelog(Connection c, String name) throws SQLException;

    /** @return statements creating the change log when missing */
    List<String> createChangelog(String changelog);

    /** @return statements (re)creating the capture triggers of one table, idempotent */
    List<String> createTriggers(JdbcTable table, TableId id, String changelog);

    /** Marks the writes of the current transaction as replicated; called after the transaction began. */
    void beginReplicated(Connection c) throws SQLException;

    /** Called just before the commit of a replicated transaction. */
    default void beforeCommitReplicated(Connection c) throws SQLException {
    }

    /** Clears the mark; called after commit or rollback, also when they failed. */
    default void endReplicated(Connection c) throws SQLException {
    }

    /** @return statements dropping every capture trigger (and function) mqdb installed in this database */
    List<String> dropAll(Connection c, String changelog) throws SQLException;
}
