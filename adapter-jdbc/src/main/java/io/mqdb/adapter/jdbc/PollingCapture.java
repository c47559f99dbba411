package io.mqdb.adapter.jdbc;

import io.mqdb.spi.CapturePosition;
import io.mqdb.spi.CapturedChange;
import io.mqdb.spi.ChangeCapture;
import io.mqdb.spi.Column;
import io.mqdb.spi.ColumnType;
import io.mqdb.spi.MqdbException;
import io.mqdb.spi.Op;
import io.mqdb.spi.Row;
import io.mqdb.spi.TableId;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentSkipListMap;

/**
 * Change capture for databases mqdb may only read: each enabled table is queried for rows whose incrementing column
 * ({@code poll-columns: {"shop:orders": "incrementing:id"}}) is above the last value seen. Sees inserts only: updates
 * and deletes are invisible, and a row whose transaction commits after a row with a higher value was read is missed.
 * The position is {@code p:} followed by {@code schema:table=value} pairs.
 */
final class PollingCapture implements ChangeCapture {
    private final JdbcStore store;
    private final Map<TableId, String> columns = new TreeMap<>();
    private final Map<TableId, JdbcTable> enabled = new ConcurrentSkipListMap<>();
    private final long pollIntervalMs;

    PollingCapture(JdbcStore store, Map<String, String> pollColumns, Duration pollInterval) {
        this.store = store;
        this.pollIntervalMs = Math.max(1, pollInterval.toMillis());
        for (Map.Entry<String, String> e : pollColumns.entrySet()) {
            TableId id = TableId.parse(e.getKey());
            String spec = e.getValue();
            if (spec.startsWith("incrementing:")) {
                String col = spec.substring("incrementing:".length());
                TableId.requireIdentifier("column", col);
                columns.put(id, col);
            } else {
                throw new MqdbException("poll-columns." + e.getKey() + ": expected incrementing:<column>, got \""
                        + spec + "\" (timestamp mode is not implemented)");
            }
        }
    }

    @Override
    public void enable(TableId table) {
        String col = columns.get(table);
        if (col == null) {
            throw new MqdbException(store.describeTarget() + ": capture: poll needs poll-columns for " + table);
        }
        JdbcTable t = store.describeTable(table).orElseThrow(() -> new MqdbException(store.describeTarget()
                + ": cannot capture " + table + ": no such table"));
        Column c = t.schema().column(col).orElseThrow(() -> new MqdbException(store.describeTarget() + ": " + table
                + " has no column " + col + " (poll-columns)"));
        if (c.type() != ColumnType.INT64) {
            throw new MqdbException(store.describeTarget() + ": " + table + "." + col + " is " + c.type()
                    + "; an incrementing column must be an integer");
        }
        enabled.put(table, t);
    }

    @Override
    public CapturePosition start() {
        return new CapturePosition("p:");
    }

    @Override
    public CapturePosition current() {
        Map<TableId, Long> pos = new TreeMap<>();
        for (Map.Entry<TableId, JdbcTable> e : enabled.entrySet()) {
            String col = store.dialect().quote(columns.get(e.getKey()));
            Long max = store.withConnection("read " + e.getKey(), c -> {
                try (PreparedStatement ps = c.prepareStatement("SELECT MAX(" + col + ") FROM "
                        + e.getValue().sqlName()); ResultSet rs = ps.executeQuery()) {
                    rs.next();
                    long v = rs.getLong(1);
                    return rs.wasNull() ? null : v;
                }
            });
            if (max != null) {
                pos.put(e.getKey(), max);
            }
        }
        return encode(pos);
    }

    @Override
    public List<CapturedChange> poll(CapturePosition after, int maxChanges, Duration wait)
            throws InterruptedException {
        long deadline = System.nanoTime() + wait.toNanos();
        while (true) {
            List<CapturedChange> out = pollOnce(decode(after), Math.max(1, maxChanges));
            if (!out.isEmpty()) {
                return out;
            }
            long left = deadline - System.nanoTime();
            if (left <= 0) {
                return out;
            }
            Thread.sleep(Math.min(pollIntervalMs, Math.max(1, left / 1_000_000)));
        }
    }

    private List<CapturedChange> pollOnce(Map<TableId, Long> pos, int maxChanges) {
        List<CapturedChange> out = new ArrayList<>();
        for (Map.Entry<TableId, JdbcTable> e : enabled.entrySet()) {
            if (out.size() >= maxChanges) {
                break;
            }
            TableId id = e.getKey();
            JdbcTable t = e.getValue();
            String col = columns.get(id);
            int remaining = maxChanges - out.size();
            List<Row> rows = store.withConnection("poll " + id, c -> {
                List<Row> list = new ArrayList<>();
                StringBuilder cols = new StringBuilder();
                for (Column column : t.columns()) {
                    cols.append(cols.length() == 0 ? "" : ", ").append(store.dialect().quote(column.name()));
                }
                try (PreparedStatement ps = c.prepareStatement("SELECT " + cols + " FROM " + t.sqlName() + " WHERE "
                        + store.dialect().quote(col) + " > ? ORDER BY " + store.dialect().quote(col) + " LIMIT ?")) {
                    ps.setLong(1, pos.getOrDefault(id, Long.MIN_VALUE));
                    ps.setInt(2, remaining);
                    try (ResultSet rs = ps.executeQuery()) {
                        while (rs.next()) {
                            list.add(store.readRow(rs, t));
                        }
                    }
                }
                return list;
            });
            for (Row r : rows) {
                pos.put(id, (Long) r.get(col));
                out.add(new CapturedChange(id, Op.UPSERT, t.schema().keyOf(r), r, encode(pos)));
            }
        }
        return out;
    }

    @Override
    public void acknowledge(CapturePosition upTo) {
        // nothing is kept in the database
    }

    private static CapturePosition encode(Map<TableId, Long> pos) {
        StringBuilder sb = new StringBuilder("p:");
        for (Map.Entry<TableId, Long> e : new TreeMap<>(pos).entrySet()) {
            sb.append(sb.length() == 2 ? "" : ",").append(e.getKey()).append('=').append(e.getValue());
        }
        return new CapturePosition(sb.toString());
    }

    private static Map<TableId, Long> decode(CapturePosition p) {
        Map<TableId, Long> out = new TreeMap<>();
        String body = p.token().substring(2);
        if (!body.isEmpty()) {
            for (String part : body.split(",")) {
                int eq = part.lastIndexOf('=');
                out.put(TableId.parse(part.substring(0, eq)), Long.parseLong(part.substring(eq + 1)));
            }
        }
        return out;
    }
}
