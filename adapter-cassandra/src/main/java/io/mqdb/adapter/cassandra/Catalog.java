package io.mqdb.adapter.cassandra;

import com.datastax.oss.driver.api.core.ConsistencyLevel;
import com.datastax.oss.driver.api.core.cql.ResultSet;
import com.datastax.oss.driver.api.core.cql.SimpleStatement;
import com.datastax.oss.driver.api.core.cql.Statement;
import io.mqdb.spi.Column;
import io.mqdb.spi.ColumnType;
import io.mqdb.spi.InvalidDataException;
import io.mqdb.spi.TableId;
import io.mqdb.spi.TableSchema;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.function.BiFunction;

/**
 * The portable schemas of a keyspace's tables, kept in its table {@code mqdb_schema}: CQL types alone cannot tell
 * TIMESTAMP from INT64 (both {@code bigint}) or JSON from STRING, nor keep the portable primary-key order and NOT NULL.
 * One row per table: {@code table_name}, {@code columns} (each {@code name TYPE} or {@code name TYPE NOT NULL}, in
 * table order), {@code primary_key} (column names, in key order).
 */
final class Catalog {
    static final String TABLE = "mqdb_schema";

    private final ConsistencyLevel read;
    private final ConsistencyLevel write;

    Catalog(ConsistencyLevel read, ConsistencyLevel write) {
        this.read = read;
        this.write = write;
    }

    String createCql(String keyspace) {
        return "CREATE TABLE IF NOT EXISTS " + CassandraStore.id(keyspace) + "." + TABLE
                + " (table_name text PRIMARY KEY, columns list<text>, primary_key list<text>)";
    }

    Optional<TableSchema> read(TableId table, BiFunction<Statement<?>, String, ResultSet> execute) {
        ResultSet rs;
        try {
            rs = execute.apply(SimpleStatement.newInstance("SELECT columns, primary_key FROM "
                    + CassandraStore.id(table.schema()) + "." + TABLE + " WHERE table_name = ?", table.table())
                    .setConsistencyLevel(read), "read the catalog of " + table);
        } catch (InvalidDataException e) {
            return Optional.empty(); // no catalog: a keyspace mqdb did not create
        }
        com.datastax.oss.driver.api.core.cql.Row r = rs.one();
        if (r == null) {
            return Optional.empty();
        }
        List<Column> columns = new ArrayList<>();
        for (String entry : r.getList("columns", String.class)) {
            String[] parts = entry.split(" ");
            columns.add(new Column(parts[0], ColumnType.parse(parts[1]), !entry.endsWith(" NOT NULL")));
        }
        return Optional.of(new TableSchema(table, columns, r.getList("primary_key", String.class)));
    }

    void write(TableSchema schema, BiFunction<Statement<?>, String, ResultSet> execute) {
        List<String> columns = new ArrayList<>();
        for (Column c : schema.columns()) {
            columns.add(c.name() + " " + c.type().name() + (c.nullable() ? "" : " NOT NULL"));
        }
        execute.apply(SimpleStatement.newInstance("INSERT INTO " + CassandraStore.id(schema.table().schema()) + "."
                + TABLE + " (table_name, columns, primary_key) VALUES (?, ?, ?)", schema.table().table(), columns,
                schema.primaryKey()).setConsistencyLevel(write), "write the catalog of " + schema.table());
    }
}
