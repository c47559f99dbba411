package io.mqdb.codec;

import io.mqdb.spi.Column;
import io.mqdb.spi.ColumnType;
import io.mqdb.spi.TableId;
import io.mqdb.spi.TableSchema;
import java.util.Collections;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * A schema's columns by name and by position, built once per schema instance ({@link TableSchema#column} scans a
 * list). Immutable; shared by threads.
 */
final class SchemaIndex {
    final TableSchema schema;
    final TableId table;
    final List<String> primaryKey;
    final Map<String, ColumnInfo> byName;
    final ColumnInfo[] keyColumns;
    /** Column names, types and infos in table order. */
    final String[] names;
    final ColumnType[] types;
    final ColumnInfo[] columns;
    /** The table position of each primary-key column, in key order. */
    final int[] keyIndex;
    /** The schema section of the binary form, written once. */
    private volatile byte[] binarySchema;

    SchemaIndex(TableSchema schema) {
        this.schema = schema;
        this.table = schema.table();
        this.primaryKey = schema.primaryKey();
        List<Column> cols = schema.columns();
        names = new String[cols.size()];
        types = new ColumnType[cols.size()];
        columns = new ColumnInfo[cols.size()];
        Map<String, ColumnInfo> m = new HashMap<>();
        for (int i = 0; i < cols.size(); i++) {
            Column c = cols.get(i);
            ColumnInfo ci = new ColumnInfo(c, primaryKey.indexOf(c.name()), i);
            m.put(c.name(), ci);
            names[i] = c.name();
            types[i] = c.type();
            columns[i] = ci;
        }
        this.byName = Collections.unmodifiableMap(m);
        this.keyColumns = new ColumnInfo[primaryKey.size()];
        this.keyIndex = new int[primaryKey.size()];
        for (int i = 0; i < keyColumns.length; i++) {
            keyColumns[i] = m.get(primaryKey.get(i));
            keyIndex[i] = keyColumns[i].position();
        }
    }

    /** @return the table position of a column, or -1 */
    int position(String name) {
        ColumnInfo ci = byName.get(name);
        return ci == null ? -1 : ci.position();
    }

    byte[] binarySchema() {
        byte[] b = binarySchema;
        if (b == null) {
            b = BinaryForm.schemaSection(this);
            binarySchema = b;
        }
        return b;
    }

    /**
     * @param column the column
     * @param keyPosition its position in the primary key, -1 when it is not a key column
     * @param position its position in the table
     */
    record ColumnInfo(Column column, int keyPosition, int position) {
    }
}
