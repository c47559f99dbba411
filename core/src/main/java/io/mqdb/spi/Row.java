package io.mqdb.spi;

import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The values of one row by column name. Immutable.
 *
 * <p>A row distinguishes a column that is <em>null</em> (present, value null) from a column that is <em>missing</em>
 * (not mentioned). An upsert sets exactly the columns its row mentions: on insert the missing ones are null, on update
 * they keep their stored value. A store's {@link TableAccess#get} returns every column of the table, nulls included.
 */
public final class Row {
    private static final Row EMPTY = new Row(Collections.emptyMap());
    private final Map<String, Object> values;

    private Row(Map<String, Object> values) {
        this.values = values;
    }

    /**
     * @param values column name to value; null values allowed; copied, order kept
     * @return the row
     */
    public static Row of(Map<String, ?> values) {
        return values.isEmpty() ? EMPTY : new Row(Collections.unmodifiableMap(new LinkedHashMap<>(values)));
    }

    /**
     * Wraps a map the caller made for this row alone and never touches again (no copy); for this package's
     * validation, which builds a fresh map per row.
     */
    static Row owned(LinkedHashMap<String, Object> values) {
        return values.isEmpty() ? EMPTY : new Row(Collections.unmodifiableMap(values));
    }

    /** @return a builder keeping insertion order */
    public static Builder builder() {
        return new Builder();
    }

    /** @return column name to value, in insertion order; unmodifiable; may hold null values */
    public Map<String, Object> values() {
        return values;
    }

    /**
     * @param column a column name
     * @return its value, or null when the column is null or missing
     */
    public Object get(String column) {
        return values.get(column);
    }

    /**
     * @param column a column name
     * @return whether the row mentions the column (with a value or null)
     */
    public boolean has(String column) {
        return values.containsKey(column);
    }

    /** @return the number of columns the row mentions */
    public int size() {
        return values.size();
    }

    /**
     * @param newer a row whose columns take precedence
     * @return this row with every column of {@code newer} set over it
     */
    public Row merge(Row newer) {
        Map<String, Object> m = new LinkedHashMap<>(values);
        m.putAll(newer.values);
        return of(m);
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof Row r && values.equals(r.values);
    }

    @Override
    public int hashCode() {
        return values.hashCode();
    }

    @Override
    public String toString() {
        return values.toString();
    }

    /** Builds a {@link Row}; not thread-safe. */
    public static final class Builder {
        private final Map<String, Object> values = new LinkedHashMap<>();

        private Builder() {
        }

        /**
         * @param column the column name
         * @param value its value, or null for an explicit null
         * @return this builder
         */
        public Builder set(String column, Object value) {
            values.put(column, value);
            return this;
        }

        /** @return the row */
        public Row build() {
            return Row.of(values);
        }
    }
}
