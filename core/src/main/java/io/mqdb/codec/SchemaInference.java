package io.mqdb.codec;

import com.google.gson.JsonElement;
import com.google.gson.JsonPrimitive;
import io.mqdb.spi.Column;
import io.mqdb.spi.ColumnType;
import io.mqdb.spi.InvalidDataException;
import io.mqdb.spi.TableId;
import io.mqdb.spi.TableSchema;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Guesses a table's schema from the first write a plain MQTT client publishes to a table nobody described.
 *
 * <p>Key columns are the members of the event's {@code key}, else a row member named {@code id}. Types follow the
 * JSON values: string STRING, integral number INT64 (DECIMAL beyond 64 bits), other number DOUBLE, boolean BOOLEAN,
 * object or array JSON, null STRING. Key columns come first, then the row's other members in order; every non-key
 * column is nullable, since later writes may omit it. Pure; any thread.
 */
public final class SchemaInference {
    /** The row member taken as the key when the event has no {@code key}. */
    public static final String DEFAULT_KEY_COLUMN = "id";

    private SchemaInference() {
    }

    /**
     * @param t the table
     * @param e the first event seen for it
     * @return the inferred schema
     * @throws InvalidDataException when no key can be found, a key value is null, or a member name is not a valid
     *     column name
     */
    public static TableSchema infer(TableId t, WireEvent e) {
        Map<String, Column> columns = new LinkedHashMap<>();
        List<String> primaryKey = new ArrayList<>();
        if (e.key() != null && e.key().size() > 0) {
            for (Map.Entry<String, JsonElement> m : e.key().entrySet()) {
                addKeyColumn(t, m.getKey(), m.getValue(), columns, primaryKey);
            }
        } else if (e.row() != null && e.row().has(DEFAULT_KEY_COLUMN)) {
            addKeyColumn(t, DEFAULT_KEY_COLUMN, e.row().get(DEFAULT_KEY_COLUMN), columns, primaryKey);
        } else {
            throw new InvalidDataException(t + ": cannot infer a schema: the first event has no \"key\" and its row no \""
                    + DEFAULT_KEY_COLUMN + "\" member; publish the table's schema or send a key");
        }
        if (e.row() != null) {
            for (Map.Entry<String, JsonElement> m : e.row().entrySet()) {
                if (!columns.containsKey(m.getKey())) {
                    columns.put(m.getKey(), column(t, m.getKey(), typeOf(m.getValue()), true));
                }
            }
        }
        return new TableSchema(t, new ArrayList<>(columns.values()), primaryKey);
    }

    private static void addKeyColumn(TableId t, String name, JsonElement value, Map<String, Column> columns,
            List<String> primaryKey) {
        if (value.isJsonNull()) {
            throw new InvalidDataException(t + ": cannot infer a schema: key column " + name + " is null");
        }
        columns.put(name, column(t, name, typeOf(value), false));
        primaryKey.add(name);
    }

    private static Column column(TableId t, String name, ColumnType type, boolean nullable) {
        try {
            return new Column(name, type, nullable);
        } catch (IllegalArgumentException ex) {
            throw new InvalidDataException(t + ": cannot infer a schema: " + ex.getMessage());
        }
    }

    /**
     * @param v a JSON value
     * @return the column type it suggests
     */
    static ColumnType typeOf(JsonElement v) {
        if (v.isJsonObject() || v.isJsonArray()) {
            return ColumnType.JSON;
        }
        if (v.isJsonNull()) {
            return ColumnType.STRING;
        }
        JsonPrimitive p = v.getAsJsonPrimitive();
        if (p.isBoolean()) {
            return ColumnType.BOOLEAN;
        }
        if (p.isString()) {
            return ColumnType.STRING;
        }
        String text = p.getAsString();
        if (text.indexOf('.') >= 0 || text.indexOf('e') >= 0 || text.indexOf('E') >= 0) {
            return ColumnType.DOUBLE;
        }
        try {
            Long.parseLong(text);
            return ColumnType.INT64;
        } catch (NumberFormatException tooBig) {
            return ColumnType.DECIMAL;
        }
    }
}
