package io.mqdb.adapter.jdbc;

import io.mqdb.spi.Column;
import io.mqdb.spi.ColumnType;
import java.sql.SQLException;
import java.util.List;
import java.util.Optional;

/**
 * H2 2.x: schemas as in PostgreSQL, {@code MERGE INTO ... KEY (...)} upserts (it sets only the listed columns).
 * Decimals and JSON are kept as text marked by a column comment (H2's JSON type needs {@code FORMAT JSON} on every
 * parameter; text keeps a decimal's scale exactly). No trigger capture: H2 triggers are Java classes that would have to
 * be on the database's class path; use {@code capture: poll}.
 */
final class H2Dialect extends Dialect {
    @Override
    String name() {
        return "h2";
    }

    @Override
    String sqlType(ColumnType type, boolean key) {
        return switch (type) {
            case STRING -> "CHARACTER VARYING";
            case INT64 -> "BIGINT";
            case DOUBLE -> "DOUBLE PRECISION";
            case DECIMAL -> "CHARACTER VARYING(100)";
            case BOOLEAN -> "BOOLEAN";
            case BYTES -> key ? "BINARY VARYING" : "BINARY LARGE OBJECT";
            case TIMESTAMP -> "TIMESTAMP(6)";
            case DATE -> "DATE";
            case UUID -> "UUID";
            case JSON -> "CHARACTER LARGE OBJECT";
        };
    }

    @Override
    String columnSuffix(ColumnType type) {
        return switch (type) {
            case DECIMAL, JSON -> " COMMENT '" + TYPE_MARK + type.name().toLowerCase(java.util.Locale.ROOT) + "'";
            default -> "";
        };
    }

    @Override
    boolean decimalAsText(String sqlType) {
        return sqlType.contains("char");
    }

    @Override
    Optional<String> upsert(JdbcTable table, List<Column> columns) {
        return Optional.of("MERGE INTO " + table.sqlName() + " (" + columnList(columns) + ") KEY (" + keyList(table)
                + ") VALUES (" + placeholders(table, columns) + ")");
    }

    @Override
    boolean isRetriable(SQLException e) {
        return "HYT00".equals(e.getSQLState());
    }
}
