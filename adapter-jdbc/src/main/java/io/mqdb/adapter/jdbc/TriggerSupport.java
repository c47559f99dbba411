package io.mqdb.adapter.jdbc;

import io.mqdb.spi.TableId;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.util.List;

/**
 * The database-specific half of trigger capture: the change-log table, the per-table triggers, the echo suppression
 * around replicated writes, and what uninstalling removes.
 */
interface TriggerSupport extends OriginMark {

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

    /**
     * Whether DDL takes part in transactions, so that {@link #createTriggers} run in one transaction install a table's
     * triggers all or not at all (PostgreSQL, SQLite). MariaDB/MySQL commit each {@code CREATE TRIGGER} by itself:
     * there the capture makes the triggers one at a time and, when one fails, drops those it made
     * ({@link #dropTriggers}).
     */
    default boolean transactionalDdl() {
        return true;
    }

    /**
     * For databases without transactional DDL: the statements dropping what each statement of
     * {@link #createTriggers} makes, in the same order, each written exactly as the {@link Installed#drop} that
     * {@link #installed} gives for it (so the capture can tell which triggers existed before).
     *
     * @return one idempotent drop per create statement; empty when {@link #transactionalDdl()}
     */
    default List<String> dropTriggers(JdbcTable table, TableId id) {
        return List.of();
    }

    /**
     * What trigger capture installed in this database and how to remove it: every capture trigger (and function)
     * found, then the change log and helper tables that exist.
     *
     * @param changelog the quoted, qualified change log, as from {@link #changelog}
     * @return the installed objects, triggers before the tables they write to
     */
    List<Installed> installed(Connection c, String changelog) throws SQLException;

    /**
     * One object installed by trigger capture.
     *
     * @param what what it is, for people: {@code trigger "mqdb_t_shop_items" on "shop"."items"}
     * @param drop the statement removing it, idempotent ({@code IF EXISTS})
     */
    record Installed(String what, String drop) {
        static Installed table(String qualified) {
            return new Installed("table " + qualified, "DROP TABLE IF EXISTS " + qualified);
        }
    }

    /** @return whether a table exists, by selecting nothing from it (autocommit connections only) */
    static boolean tableExists(Connection c, String qualified) {
        try (PreparedStatement ps = c.prepareStatement("SELECT 1 FROM " + qualified + " WHERE 1 = 0")) {
            ps.executeQuery().close();
            return true;
        } catch (SQLException e) {
            return false;
        }
    }
}
