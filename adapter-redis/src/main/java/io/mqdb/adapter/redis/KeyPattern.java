package io.mqdb.adapter.redis;

import io.mqdb.spi.Column;
import io.mqdb.spi.InvalidDataException;
import io.mqdb.spi.Key;
import io.mqdb.spi.MqdbException;
import io.mqdb.spi.TableId;
import io.mqdb.spi.TableSchema;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

/**
 * How a row's Redis key is built from its table and primary key, e.g. {@code {schema}:{table}:{pk}} (the default)
 * or {@code order:{id}}. Placeholders: {@code {schema}}, {@code {table}}, {@code {pk}} (every key value, joined with
 * {@code :}) and {@code {column}} for one key column. {@code {{} and {@code }}} are a literal brace, for Redis Cluster
 * hash tags. Every key value is written as its field text ({@link FieldCodec}) with {@code \} escaped as {@code \\}
 * and {@code :} as {@code \:}, so composite keys stay unambiguous. Immutable, any thread.
 */
final class KeyPattern {
    /** The pattern used for tables without one in {@code key-patterns}. */
    static final String DEFAULT = "{schema}:{table}:{pk}";

    private final String text;
    /** Literal strings and placeholders, alternating: a String part is literal, a Placeholder part is substituted. */
    private final List<Object> parts;

    private record Placeholder(String name) {
    }

    private KeyPattern(String text, List<Object> parts) {
        this.text = text;
        this.parts = parts;
    }

    /**
     * @param text the pattern
     * @return the parsed pattern
     * @throws IllegalArgumentException describing the first syntax error
     */
    static KeyPattern parse(String text) {
        List<Object> parts = new ArrayList<>();
        StringBuilder literal = new StringBuilder();
        int i = 0;
        while (i < text.length()) {
            char c = text.charAt(i);
            if (c == '{' && i + 1 < text.length() && text.charAt(i + 1) == '{') {
                literal.append('{');
                i += 2;
            } else if (c == '}' && i + 1 < text.length() && text.charAt(i + 1) == '}') {
                literal.append('}');
                i += 2;
            } else if (c == '{') {
                int end = text.indexOf('}', i);
                if (end < 0) {
                    throw new IllegalArgumentException("key pattern \"" + text + "\": unclosed { at " + i);
                }
                String name = text.substring(i + 1, end);
                if (!TableId.isIdentifier(name)) {
                    throw new IllegalArgumentException("key pattern \"" + text + "\": {" + name
                            + "} is not a placeholder; use {schema}, {table}, {pk} or {<key column>}, and {{ or }}"
                            + " for a literal brace");
                }
                if (literal.length() > 0) {
                    parts.add(literal.toString());
                    literal.setLength(0);
                }
                parts.add(new Placeholder(name));
                i = end + 1;
            } else if (c == '}') {
                throw new IllegalArgumentException("key pattern \"" + text + "\": lone } at " + i
                        + "; write }} for a literal brace");
            } else {
                literal.append(c);
                i++;
            }
        }
        if (literal.length() > 0) {
            parts.add(literal.toString());
        }
        if (parts.stream().noneMatch(p -> p instanceof Placeholder)) {
            throw new IllegalArgumentException("key pattern \"" + text + "\" has no key placeholder; every row would"
                    + " share one Redis key");
        }
        return new KeyPattern(text, List.copyOf(parts));
    }

    /**
     * Checks that the pattern fits a table: every placeholder names a key column (or schema, table, pk), and the key
     * columns are all used so that distinct rows never share a Redis key.
     *
     * @param schema the table
     * @throws MqdbException naming the pattern when it does not fit
     */
    void check(TableSchema schema) {
        Set<String> used = new HashSet<>();
        boolean pk = false;
        for (Object p : parts) {
            if (p instanceof Placeholder ph) {
                switch (ph.name()) {
                    case "schema", "table" -> { }
                    case "pk" -> pk = true;
                    default -> {
                        if (!schema.primaryKey().contains(ph.name())) {
                            throw new InvalidDataException(schema.table() + ": key pattern \"" + text + "\" uses {"
                                    + ph.name() + "}, which is not a primary-key column " + schema.primaryKey());
                        }
                        used.add(ph.name());
                    }
                }
            }
        }
        if (!pk && !used.containsAll(schema.primaryKey())) {
            throw new InvalidDataException(schema.table() + ": key pattern \"" + text + "\" must use {pk} or every"
                    + " primary-key column " + schema.primaryKey() + ", else distinct rows share a Redis key");
        }
    }

    /**
     * @param schema the table (checked with {@link #check})
     * @param key a canonical key of the table
     * @return the row's Redis key
     */
    String render(TableSchema schema, Key key) {
        List<Column> keyColumns = schema.keyColumns();
        StringBuilder sb = new StringBuilder(64);
        for (Object p : parts) {
            if (p instanceof String s) {
                sb.append(s);
                continue;
            }
            String name = ((Placeholder) p).name();
            switch (name) {
                case "schema" -> sb.append(schema.table().schema());
                case "table" -> sb.append(schema.table().table());
                case "pk" -> {
                    for (int i = 0; i < key.size(); i++) {
                        if (i > 0) {
                            sb.append(':');
                        }
                        escape(sb, FieldCodec.encode(keyColumns.get(i).type(), key.get(i)));
                    }
                }
                default -> {
                    int i = schema.primaryKey().indexOf(name);
                    escape(sb, FieldCodec.encode(keyColumns.get(i).type(), key.get(i)));
                }
            }
        }
        return sb.toString();
    }

    private static void escape(StringBuilder sb, String value) {
        for (int i = 0; i < value.length(); i++) {
            char c = value.charAt(i);
            if (c == '\\' || c == ':') {
                sb.append('\\');
            }
            sb.append(c);
        }
    }

    @Override
    public String toString() {
        return text;
    }
}
