package io.mqdb.spi;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;

/**
 * The portable description of a table: its columns in order and its primary key. Publishers send it with their
 * changes; a subscribing store creates the table from it when missing ({@link Store#ensureTable}).
 *
 * <p>For a table without a primary key of its own, the primary key here is the replica key its channel names
 * ({@code key: [col, ...]}, see {@link StoreContext#replicaKeys()}): downstream, nothing tells the two apart.
 *
 * <p>Immutable and validated on construction: column names are unique, the primary key is non-empty, names existing
 * columns, and its columns are not nullable.
 *
 * <p>A final class rather than a record so that it can hold a column index: {@link #column} and {@link #validate}
 * run once per column of every replicated row, and a linear search made row validation quadratic in the number of
 * columns (13 % of a Redis node's apply time in a profile of the 11-column benchmark table).
 */
public final class TableSchema {
    private final TableId table;
    private final List<Column> columns;
    private final List<String> primaryKey;
    /** Column name to column, for lookups; built once. */
    private final Map<String, Column> byName;
    /** The primary-key columns in key order; built once. */
    private final List<Column> keyColumns;

    /**
     * Validates and copies; see the class comment.
     *
     * @param table the table this schema describes
     * @param columns the columns, in order
     * @param primaryKey the names of the primary-key columns, in key order
     */
    public TableSchema(TableId table, List<Column> columns, List<String> primaryKey) {
        Objects.requireNonNull(table, "table");
        columns = List.copyOf(columns);
        primaryKey = List.copyOf(primaryKey);
        if (columns.isEmpty()) {
            throw new IllegalArgumentException(table + ": a table needs at least one column");
        }
        if (primaryKey.isEmpty()) {
            throw new IllegalArgumentException(table + ": a replicated table needs a primary key");
        }
        Set<String> names = new HashSet<>();
        for (Column c : columns) {
            if (!names.add(c.name())) {
                throw new IllegalArgumentException(table + ": duplicate column " + c.name());
            }
        }
        Set<String> keyNames = new HashSet<>();
        List<Column> fixed = new ArrayList<>(columns.size());
        for (String k : primaryKey) {
            if (!names.contains(k)) {
                throw new IllegalArgumentException(table + ": primary key column " + k + " is not a column");
            }
            if (!keyNames.add(k)) {
                throw new IllegalArgumentException(table + ": primary key names " + k + " twice");
            }
        }
        for (Column c : columns) {
            fixed.add(keyNames.contains(c.name()) && c.nullable() ? new Column(c.name(), c.type(), false) : c);
        }
        this.table = table;
        this.columns = List.copyOf(fixed);
        this.primaryKey = primaryKey;
        Map<String, Column> index = new HashMap<>(this.columns.size() * 2);
        for (Column c : this.columns) {
            index.put(c.name(), c);
        }
        this.byName = index;
        List<Column> kc = new ArrayList<>(primaryKey.size());
        for (String k : primaryKey) {
            kc.add(index.get(k));
        }
        this.keyColumns = List.copyOf(kc);
    }

    /** @return the table this schema describes */
    public TableId table() {
        return table;
    }

    /** @return the columns, in order; unmodifiable */
    public List<Column> columns() {
        return columns;
    }

    /** @return the names of the primary-key columns, in key order; unmodifiable */
    public List<String> primaryKey() {
        return primaryKey;
    }

    /**
     * @param name a column name
     * @return the column, if the table has it
     */
    public Optional<Column> column(String name) {
        return Optional.ofNullable(byName.get(name));
    }

    /**
     * @param name a column name
     * @return whether the table has the column
     */
    public boolean hasColumn(String name) {
        return byName.containsKey(name);
    }

    /** @return the primary-key columns, in key order; unmodifiable */
    public List<Column> keyColumns() {
        return keyColumns;
    }

    /** @return the columns that are not part of the primary key, in table order */
    public List<Column> valueColumns() {
        List<Column> out = new ArrayList<>(columns.size());
        for (Column c : columns) {
            if (!primaryKey.contains(c.name())) {
                out.add(c);
            }
        }
        return out;
    }

    /**
     * Extracts the key of a row.
     *
     * @param row a row holding every key column
     * @return its key
     * @throws InvalidDataException when a key column is missing or null
     */
    public Key keyOf(Row row) {
        Object[] values = new Object[primaryKey.size()];
        for (int i = 0; i < values.length; i++) {
            String k = primaryKey.get(i);
            Object v = row.get(k);
            if (v == null) {
                throw new InvalidDataException(table + ": key column " + k + " is missing or null");
            }
            values[i] = v;
        }
        return Key.of(values);
    }

    /**
     * Checks a row against this schema and returns it with canonical values ({@link ColumnType#normalize}).
     * Columns the row does not mention stay unmentioned.
     *
     * @param row a row, typically decoded from the wire or written by an application
     * @return the row with canonical values
     * @throws InvalidDataException naming the column when a column is unknown, a value has the wrong type, a key
     *     column is missing, or a non-nullable column is null
     */
    public Row validate(Row row) {
        LinkedHashMap<String, Object> out = new LinkedHashMap<>(row.size() * 2);
        for (Map.Entry<String, Object> e : row.values().entrySet()) {
            Column c = byName.get(e.getKey());
            if (c == null) {
                throw new InvalidDataException(table + ": unknown column " + e.getKey());
            }
            Object v;
            try {
                v = c.type().normalize(e.getValue());
            } catch (InvalidDataException ex) {
                throw new InvalidDataException(table + "." + c.name() + ": " + ex.getMessage());
            }
            if (v == null && !c.nullable()) {
                throw new InvalidDataException(table + "." + c.name() + " may not be null");
            }
            out.put(c.name(), v);
        }
        for (String k : primaryKey) {
            if (!out.containsKey(k)) {
                throw new InvalidDataException(table + ": key column " + k + " is missing");
            }
        }
        return Row.owned(out);
    }

    /**
     * Checks a key against this schema and returns it with canonical values.
     *
     * @param key a key
     * @return the key with canonical values
     * @throws InvalidDataException when it has the wrong number of values or a value of the wrong type
     */
    public Key validate(Key key) {
        List<Column> kc = keyColumns();
        if (key.size() != kc.size()) {
            throw new InvalidDataException(table + ": key has " + key.size() + " values, primary key has "
                    + kc.size() + " columns " + primaryKey);
        }
        Object[] values = new Object[kc.size()];
        for (int i = 0; i < values.length; i++) {
            Object v;
            try {
                v = kc.get(i).type().normalize(key.get(i));
            } catch (InvalidDataException ex) {
                throw new InvalidDataException(table + "." + kc.get(i).name() + ": " + ex.getMessage());
            }
            if (v == null) {
                throw new InvalidDataException(table + ": key column " + kc.get(i).name() + " is null");
            }
            values[i] = v;
        }
        return Key.of(values);
    }

    /**
     * @param other the incoming schema of the same table
     * @return the columns of {@code other} this schema lacks, in {@code other}'s order
     */
    public List<Column> missingColumns(TableSchema other) {
        List<Column> out = new ArrayList<>();
        for (Column c : other.columns()) {
            if (!byName.containsKey(c.name())) {
                out.add(c);
            }
        }
        return out;
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof TableSchema other && table.equals(other.table) && columns.equals(other.columns)
                && primaryKey.equals(other.primaryKey);
    }

    @Override
    public int hashCode() {
        return Objects.hash(table, columns, primaryKey);
    }

    @Override
    public String toString() {
        return "TableSchema[table=" + table + ", columns=" + columns + ", primaryKey=" + primaryKey + "]";
    }
}
