package io.mqdb.codec;

import com.google.gson.JsonElement;
import com.google.gson.JsonNull;
import com.google.gson.JsonObject;
import io.mqdb.spi.Column;
import io.mqdb.spi.InvalidDataException;
import io.mqdb.spi.Key;
import io.mqdb.spi.Row;
import io.mqdb.spi.TableSchema;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * Keys and rows as JSON objects of column name to value, in the JSON form of the wire format ({@code docs/wire-format.md}:
 * numbers and strings as the column type says, bytes in base64, timestamps in ISO-8601): what reads over MQTT take
 * and answer. Stateless.
 */
public final class RowJson {
    private RowJson() {
    }

    /**
     * @param schema the table's schema
     * @param key a JSON object with a value for every key column, and nothing else
     * @return the key
     * @throws InvalidDataException naming the column that is missing, unknown or of the wrong type
     */
    public static Key key(TableSchema schema, JsonObject key) {
        List<Object> values = new ArrayList<>();
        for (Column c : schema.keyColumns()) {
            JsonElement e = key.get(c.name());
            if (e == null || e.isJsonNull()) {
                throw new InvalidDataException("the key has no value for " + c.name() + " (the key of "
                        + schema.table() + " is " + schema.primaryKey() + ")");
            }
            values.add(Values.read(c.type(), e));
        }
        for (String name : key.keySet()) {
            if (!schema.primaryKey().contains(name)) {
                throw new InvalidDataException(name + " is not a key column of " + schema.table() + " (its key is "
                        + schema.primaryKey() + ")");
            }
        }
        return Key.of(values);
    }

    /**
     * @param schema the table's schema
     * @param key a key of the table
     * @return the key as a JSON object
     */
    public static JsonObject key(TableSchema schema, Key key) {
        JsonObject o = new JsonObject();
        List<Column> cols = schema.keyColumns();
        for (int i = 0; i < cols.size(); i++) {
            o.add(cols.get(i).name(), value(key.values().get(i)));
        }
        return o;
    }

    /**
     * @param row a row
     * @return it as a JSON object (null values as JSON null)
     */
    public static JsonObject row(Row row) {
        JsonObject o = new JsonObject();
        for (Map.Entry<String, Object> e : new java.util.TreeMap<>(row.values()).entrySet()) {
            o.add(e.getKey(), value(e.getValue()));
        }
        return o;
    }

    private static JsonElement value(Object v) {
        return v == null ? JsonNull.INSTANCE : Values.toJsonElement(v);
    }
}
