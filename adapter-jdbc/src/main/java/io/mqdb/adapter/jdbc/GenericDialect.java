package io.mqdb.adapter.jdbc;

import io.mqdb.spi.Column;
import io.mqdb.spi.ColumnType;
import java.util.List;
import java.util.Optional;

/**
 * Any other JDBC database, best effort: standard SQL types, upserts as UPDATE then INSERT, row-value key
 * comparison. No trigger capture; decimals are stored as text and read back as STRING.
 */
final class GenericDialect extends Dialect {
    @Override
    String name() {
        return "generic";
    }

    @Override
    String sqlType(ColumnType type, boolean key) {
        return switch (type) {
            case STRING -> key ? "VARCHAR(255)" : "VARCHAR(4000)";
            case INT64 -> "BIGINT";
            case DOUBLE -> "DOUBLE PRECISION";
            case DECIMAL -> "VARCHAR(100)";
            case BOOLEAN -> "BOOLEAN";
            case BYTES -> key ? "VARBINARY(255)" : "BLOB";
            case TIMESTAMP -> "TIMESTAMP";
            case DATE -> "DATE";
            case UUID -> "CHAR(36)";
            case JSON -> "VARCHAR(4000)";
        };
    }

    @Override
    Optional<String> upsert(JdbcTable table, List<Column> columns) {
        return Optional.empty();
    }

    @Override
    boolean upsertByUpdate() {
        return true;
    }
}
