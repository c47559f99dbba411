package io.mqdb.adapter.jdbc;

import io.mqdb.spi.Column;
import io.mqdb.spi.TableSchema;
import java.util.List;
import java.util.Map;

/**
 * A table as the database has it: the portable schema plus what the SQL needs (the quoted name, each column's SQL type
 * name, which decides how values are bound and read).
 *
 * @param schema the portable schema
 * @param sqlName the quoted, qualified table name
 * @param sqlTypes column name to the database's type name (lower case), as read from the metadata
 */
record JdbcTable(TableSchema schema, String sqlName, Map<String, String> sqlTypes) {
    JdbcTable {
        sqlTypes = Map.copyOf(sqlTypes);
    }

    String sqlType(String column) {
        return sqlTypes.getOrDefault(column, "");
    }

    List<Column> columns() {
        return schema.columns();
    }
}
