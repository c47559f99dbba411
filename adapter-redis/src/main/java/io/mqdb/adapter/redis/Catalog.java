package io.mqdb.adapter.redis;

import io.mqdb.spi.Column;
import io.mqdb.spi.ColumnType;
import io.mqdb.spi.InvalidDataException;
import io.mqdb.spi.TableId;
import io.mqdb.spi.TableSchema;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * The table catalog kept in Redis, one hash per table at {@code mqdb:schema:<schema>:<table>}:
 * <pre>
 * columns      id:int64:notnull,name:string:null,price:decimal:null
 * primary-key  id
 * format       hash
 * key-pattern  {schema}:{table}:{pk}
 * </pre>
 * Readable with {@code redis-cli HGETALL}; {@code columns} keeps the column order. Pure helpers, any thread.
 */
final class Catalog {
    /** Compare-and-set of the catalog entry: writes only when {@code columns} is still what the caller read. */
    static final String CAS_SCRIPT = """
            local cur = redis.call('HGET', KEYS[1], 'columns') or ''
            if cur ~= ARGV[1] then return 0 end
            redis.call('HSET', KEYS[1], 'columns', ARGV[2], 'primary-key', ARGV[3], 'format', ARGV[4],
                'key-pattern', ARGV[5])
            return 1
            """;

    private Catalog() {
    }

    /** @return the catalog key of a table */
    static String key(TableId table) {
        return "mqdb:schema:" + table.schema() + ":" + table.table();
    }

    /** @return the key-index key of a table */
    static String indexKey(TableId table) {
        return "mqdb:idx:" + table.schema() + ":" + table.table();
    }

    /** @return the {@code columns} field of a schema */
    static String columns(TableSchema schema) {
        StringBuilder sb = new StringBuilder();
        for (Column c : schema.columns()) {
            if (sb.length() > 0) {
                sb.append(',');
            }
            sb.append(c.name()).append(':').append(c.type().name().toLowerCase(Locale.ROOT)).append(':')
                    .append(c.nullable() ? "null" : "notnull");
        }
        return sb.toString();
    }

    /** @return the {@code primary-key} field of a schema */
    static String primaryKey(TableSchema schema) {
        return String.join(",", schema.primaryKey());
    }

    /**
     * @param table the table
     * @param fields the catalog hash, not empty
     * @return the schema it describes
     * @throws InvalidDataException when the entry is damaged
     */
    static TableSchema decode(TableId table, Map<String, String> fields) {
        try {
            List<Column> columns = new ArrayList<>();
            for (String c : fields.get("columns").split(",")) {
                String[] p = c.split(":");
                columns.add(new Column(p[0], ColumnType.parse(p[1]), !p[2].equals("notnull")));
            }
            return new TableSchema(table, columns, Arrays.asList(fields.get("primary-key").split(",")));
        } catch (RuntimeException e) {
            throw new InvalidDataException(key(table) + ": damaged catalog entry " + fields + ": " + e.getMessage(),
                    e);
        }
    }
}
