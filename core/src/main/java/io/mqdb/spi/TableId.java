package io.mqdb.spi;

import java.util.Objects;
import java.util.regex.Pattern;

/**
 * The name of a replicated table, written {@code schema:table}; it is also the name of the channel that carries the
 * table's changes.
 *
 * <p>Both parts are validated once, here: a letter or underscore, then letters, digits or underscores, at most 63
 * characters (PostgreSQL's limit, the tightest of the supported stores). They are therefore safe to use as MQTT topic
 * levels and, quoted by the adapter's dialect, as SQL or CQL identifiers. Case is preserved.
 *
 * @param schema the schema (SQL schema or database, Cassandra keyspace, Redis key prefix)
 * @param table the table within the schema
 */
public record TableId(String schema, String table) implements Comparable<TableId> {
    private static final Pattern IDENTIFIER = Pattern.compile("[A-Za-z_][A-Za-z0-9_]{0,62}");

    /** Validates both parts; see the class comment for the rule. */
    public TableId {
        Objects.requireNonNull(schema, "schema");
        Objects.requireNonNull(table, "table");
        requireIdentifier("schema", schema);
        requireIdentifier("table", table);
    }

    /**
     * Parses {@code schema:table}.
     *
     * @param text the channel name as written in config or on the wire
     * @return the table id
     * @throws IllegalArgumentException with a message fit for a user when the text is not {@code schema:table}
     */
    public static TableId parse(String text) {
        if (text == null) {
            throw new IllegalArgumentException("expected schema:table, got nothing");
        }
        int colon = text.indexOf(':');
        if (colon < 0 || colon != text.lastIndexOf(':')) {
            throw new IllegalArgumentException("expected schema:table, got \"" + text + "\"");
        }
        return new TableId(text.substring(0, colon), text.substring(colon + 1));
    }

    /**
     * @param name a column or other identifier
     * @return whether it follows the identifier rule of this class
     */
    public static boolean isIdentifier(String name) {
        return name != null && IDENTIFIER.matcher(name).matches();
    }

    /**
     * @param what what the identifier names, for the error message
     * @param name the identifier to check
     * @throws IllegalArgumentException when {@code name} breaks the identifier rule
     */
    public static void requireIdentifier(String what, String name) {
        if (!isIdentifier(name)) {
            throw new IllegalArgumentException("invalid " + what + " name \"" + name
                    + "\": expected a letter or _, then letters, digits or _, at most 63 characters");
        }
    }

    @Override
    public int compareTo(TableId other) {
        int c = schema.compareTo(other.schema);
        return c != 0 ? c : table.compareTo(other.table);
    }

    /** @return {@code schema:table} */
    @Override
    public String toString() {
        return schema + ":" + table;
    }
}
