package io.mqdb.adapter.cassandra;

import com.datastax.oss.driver.api.core.CqlSession;
import com.datastax.oss.driver.api.core.cql.BoundStatementBuilder;
import com.datastax.oss.driver.api.core.data.GettableByIndex;
import io.mqdb.spi.Column;
import io.mqdb.spi.Key;
import io.mqdb.spi.Row;
import io.mqdb.spi.TableSchema;
import io.mqdb.spi.Version;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * One table as this store has it: the portable schema, how its primary key splits into partition and clustering
 * columns, and its statements, each prepared on first use. Immutable apart from that lazy preparation; any thread.
 */
final class CqlTable {
    private final TableSchema schema;
    private final List<String> partition;
    private final List<String> clustering;
    private final List<Column> partitionColumns = new ArrayList<>();
    private final List<Column> clusteringColumns = new ArrayList<>();
    private final String columnList;
    private final CassandraStore.Prepared insert;
    private final CassandraStore.Prepared insertAt;
    private final CassandraStore.Prepared delete;
    private final CassandraStore.Prepared deleteAt;
    private final CassandraStore.Prepared get;
    private final CassandraStore.Prepared scanAll;
    private final CassandraStore.Prepared scanFrom;
    private final CassandraStore.Prepared scanPartitionAfter;
    private final CassandraStore.Prepared countAll;

    CqlTable(TableSchema schema, List<String> partition, List<String> clustering) {
        this.schema = schema;
        this.partition = partition;
        this.clustering = clustering;
        for (String p : partition) {
            partitionColumns.add(schema.column(p).orElseThrow());
        }
        for (String c : clustering) {
            clusteringColumns.add(schema.column(c).orElseThrow());
        }
        String table = CassandraStore.qualified(schema.table());
        List<String> all = schema.columns().stream().map(c -> CassandraStore.id(c.name())).toList();
        columnList = String.join(", ", all);
        String markers = String.join(", ", all.stream().map(c -> "?").toList());
        String partitionList = String.join(", ", partition.stream().map(CassandraStore::id).toList());
        String keyWhere = String.join(" AND ", schema.primaryKey().stream().map(c -> CassandraStore.id(c) + " = ?")
                .toList());
        String insertCql = "INSERT INTO " + table + " (" + columnList + ") VALUES (" + markers + ")";
        insert = new CassandraStore.Prepared(insertCql);
        insertAt = new CassandraStore.Prepared(insertCql + " USING TIMESTAMP ?");
        delete = new CassandraStore.Prepared("DELETE FROM " + table + " WHERE " + keyWhere);
        deleteAt = new CassandraStore.Prepared("DELETE FROM " + table + " USING TIMESTAMP ? WHERE " + keyWhere);
        get = new CassandraStore.Prepared("SELECT " + columnList + " FROM " + table + " WHERE " + keyWhere);
        scanAll = new CassandraStore.Prepared("SELECT " + columnList + " FROM " + table);
        scanFrom = new CassandraStore.Prepared("SELECT " + columnList + " FROM " + table + " WHERE token("
                + partitionList + ") >= token(" + String.join(", ", partition.stream().map(c -> "?").toList()) + ")");
        if (clustering.isEmpty()) {
            scanPartitionAfter = null;
        } else {
            String partitionWhere = String.join(" AND ", partition.stream().map(c -> CassandraStore.id(c) + " = ?")
                    .toList());
            scanPartitionAfter = new CassandraStore.Prepared("SELECT " + columnList + " FROM " + table + " WHERE "
                    + partitionWhere + " AND (" + String.join(", ", clustering.stream().map(CassandraStore::id)
                    .toList()) + ") > (" + String.join(", ", clustering.stream().map(c -> "?").toList()) + ")");
        }
        countAll = new CassandraStore.Prepared("SELECT " + partitionList + " FROM " + table);
    }

    TableSchema schema() {
        return schema;
    }

    List<String> clustering() {
        return clustering;
    }

    private boolean inPartition(String column) {
        return partition.contains(column);
    }

    /** Binds an upsert of the columns the row mentions; the others stay unset, so they keep their values. */
    BoundStatementBuilder upsert(CqlSession session, Row row, Version version) {
        BoundStatementBuilder b = (version == null ? insert : insertAt).bind(session);
        List<Column> columns = schema.columns();
        for (int i = 0; i < columns.size(); i++) {
            Column c = columns.get(i);
            if (row.has(c.name())) {
                CqlTypes.bind(b, i, c.type(), row.get(c.name()), inPartition(c.name()));
            }
        }
        if (version != null) {
            b.setLong(columns.size(), CassandraStore.writeTime(version));
        }
        return b;
    }

    BoundStatementBuilder delete(CqlSession session, Key key, Version version) {
        BoundStatementBuilder b = (version == null ? delete : deleteAt).bind(session);
        int offset = 0;
        if (version != null) {
            b.setLong(0, CassandraStore.writeTime(version));
            offset = 1;
        }
        bindKey(b, offset, key);
        return b;
    }

    BoundStatementBuilder get(CqlSession session, Key key) {
        BoundStatementBuilder b = get.bind(session);
        bindKey(b, 0, key);
        return b;
    }

    BoundStatementBuilder scanAll(CqlSession session, int pageSize) {
        return scanAll.bind(session).setPageSize(pageSize);
    }

    BoundStatementBuilder scanFrom(CqlSession session, Key after, int pageSize) {
        BoundStatementBuilder b = scanFrom.bind(session).setPageSize(pageSize);
        for (int i = 0; i < partitionColumns.size(); i++) {
            Column c = partitionColumns.get(i);
            CqlTypes.bind(b, i, c.type(), valueOf(after, c.name()), true);
        }
        return b;
    }

    BoundStatementBuilder scanPartitionAfter(CqlSession session, Key after, int pageSize) {
        BoundStatementBuilder b = scanPartitionAfter.bind(session).setPageSize(pageSize);
        int i = 0;
        for (Column c : partitionColumns) {
            CqlTypes.bind(b, i++, c.type(), valueOf(after, c.name()), true);
        }
        for (Column c : clusteringColumns) {
            CqlTypes.bind(b, i++, c.type(), valueOf(after, c.name()), false);
        }
        return b;
    }

    BoundStatementBuilder countAll(CqlSession session) {
        return countAll.bind(session).setPageSize(5_000);
    }

    private void bindKey(BoundStatementBuilder b, int offset, Key key) {
        List<String> pk = schema.primaryKey();
        for (int i = 0; i < pk.size(); i++) {
            Column c = schema.column(pk.get(i)).orElseThrow();
            CqlTypes.bind(b, offset + i, c.type(), key.get(i), inPartition(c.name()));
        }
    }

    private Object valueOf(Key key, String column) {
        return key.get(schema.primaryKey().indexOf(column));
    }

    /** Reads a row selected with every column in schema order, starting at {@code first}. */
    Row read(GettableByIndex r, int first) {
        Map<String, Object> values = new LinkedHashMap<>();
        List<Column> columns = schema.columns();
        for (int i = 0; i < columns.size(); i++) {
            Column c = columns.get(i);
            values.put(c.name(), CqlTypes.read(r, first + i, c.type(), inPartition(c.name())));
        }
        return Row.of(values);
    }

    /** @return the serialized partition-key values of a key, as the token is computed from them */
    ByteBuffer[] partitionComponents(Key key) {
        ByteBuffer[] out = new ByteBuffer[partitionColumns.size()];
        for (int i = 0; i < out.length; i++) {
            Column c = partitionColumns.get(i);
            out[i] = CqlTypes.serialize(c.type(), valueOf(key, c.name()), true);
        }
        return out;
    }

    /** @return the partition key as Cassandra stores and orders it: the value, or CompositeType's encoding */
    ByteBuffer partitionKeyBytes(Key key) {
        ByteBuffer[] parts = partitionComponents(key);
        if (parts.length == 1) {
            return parts[0];
        }
        int size = 0;
        for (ByteBuffer p : parts) {
            size += 2 + p.remaining() + 1;
        }
        ByteBuffer out = ByteBuffer.allocate(size);
        for (ByteBuffer p : parts) {
            out.putShort((short) p.remaining()).put(p.duplicate()).put((byte) 0);
        }
        return out.flip();
    }
}
