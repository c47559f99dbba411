package io.mqdb.adapter.jdbc;

import io.mqdb.spi.InvalidDataException;
import io.mqdb.spi.MqdbException;
import io.mqdb.spi.RetriableException;
import io.mqdb.spi.TableMissingException;
import java.sql.SQLException;
import java.sql.SQLRecoverableException;
import java.sql.SQLTransientException;

/**
 * Turns driver failures into mqdb's: SQLState classes 08 (connection), 40 (transaction rollback, deadlock) and the
 * dialect's own retriable codes (PostgreSQL 57P admin shutdown, MariaDB lock wait timeout, SQLite busy) become
 * {@link RetriableException}; a missing table, schema or database (PostgreSQL 42P01 and 3F000, SQLState 42S02, the
 * dialect's own codes) becomes {@link TableMissingException}; classes 22 (data) and 23 (constraint) become
 * {@link InvalidDataException}.
 */
final class SqlErrors {
    private SqlErrors() {
    }

    static MqdbException translate(String context, Throwable t, Dialect dialect) {
        if (t instanceof MqdbException m) {
            return m;
        }
        SQLException sql = find(t);
        String message = context + ": " + (sql != null ? describe(sql) : String.valueOf(t));
        if (sql == null) {
            return new MqdbException(message, t);
        }
        String state = sql.getSQLState() == null ? "" : sql.getSQLState();
        if (sql instanceof SQLTransientException || sql instanceof SQLRecoverableException
                || state.startsWith("08") || state.startsWith("40") || dialect.isRetriable(sql)) {
            return new RetriableException(message, t);
        }
        if (state.equals("42P01") || state.equals("3F000") || state.equals("42S02") || dialect.isTableMissing(sql)) {
            return new TableMissingException(message, t);
        }
        if (state.startsWith("22") || state.startsWith("23") || dialect.isInvalidData(sql)) {
            return new InvalidDataException(message, t);
        }
        return new MqdbException(message, t);
    }

    private static String describe(SQLException e) {
        SQLException next = e.getNextException();
        String m = e.getMessage() + (e.getSQLState() != null ? " [SQLState " + e.getSQLState() + "]" : "");
        return next != null && next != e ? m + "; " + next.getMessage() : m;
    }

    private static SQLException find(Throwable t) {
        for (Throwable c = t; c != null; c = c.getCause() == c ? null : c.getCause()) {
            if (c instanceof java.sql.BatchUpdateException b && b.getNextException() != null) {
                SQLException n = b.getNextException();
                return n.getSQLState() != null ? n : b;
            }
            if (c instanceof SQLException s) {
                return s;
            }
        }
        return null;
    }
}
