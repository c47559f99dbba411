package io.mqdb.spi;

import java.util.Objects;

/**
 * One column of a {@link TableSchema}.
 *
 * @param name the column name; an identifier as defined by {@link TableId#isIdentifier(String)}
 * @param type the portable type
 * @param nullable whether the column may hold null; primary-key columns never may
 */
public record Column(String name, ColumnType type, boolean nullable) {
    /** Validates the name. */
    public Column {
        Objects.requireNonNull(type, "type");
        TableId.requireIdentifier("column", name);
    }

    /**
     * @param name the column name
     * @param type the portable type
     * @return a nullable column
     */
    public static Column of(String name, ColumnType type) {
        return new Column(name, type, true);
    }
}
