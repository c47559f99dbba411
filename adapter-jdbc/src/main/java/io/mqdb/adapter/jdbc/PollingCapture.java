package io.mqdb.adapter.jdbc;

import io.mqdb.spi.CapturePosition;
import io.mqdb.spi.CapturedChange;
import io.mqdb.spi.ChangeCapture;
import io.mqdb.spi.Column;
import io.mqdb.spi.ColumnType;
import io.mqdb.spi.Key;
import io.mqdb.spi.MqdbException;
import io.mqdb.spi.Op;
import io.mqdb.spi.Row;
import io.mqdb.spi.TableId;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentSkipListMap;

/**
 * Change capture for databases mqdb may only read: each enabled table is queried for new rows by a column named in
 * {@code poll-columns}. The position is a {@link PollPosition}.
 *
 * <h2>{@code incrementing:<col>}: inserts</h2>
 * Values are handed out before commit, so 10 may become visible after 11 was read. As the trigger capture does with
 * change-log ids on MariaDB/SQLite, the position is a watermark W (every value up to W is handled) plus the values
 * above W already published; each poll re-reads from W. A missing value holds W back until it appears or the first
 * value above it has been visible for {@code gap-timeout}, when it counts as never coming (rolled back, deleted).
 * Updates and deletes are not seen.
 *
 * <h2>{@code timestamp:<col>}: inserts and updates</h2>
 * A last-modified column. Each poll reads the rows with {@code col > M - poll-lookback}, M the highest value
 * published, ordered by (col, key), and publishes those whose (key, value) it has not published; the position keeps
 * the (key, value) pairs inside the look-back window. Deletes are not seen; a row committed with a value more than
 * {@code poll-lookback} below M is missed.
 */
final class PollingCapture implements ChangeCapture {
    enum Mode { INCREMENTING, TIMESTAMP }

    /** One table's {@code poll-columns} entry. */
    record Spec(Mode mode, String column) {
    }

    private final JdbcStore store;
    private final Map<TableId, Spec> specs = new TreeMap<>();
    private final Map<TableId, JdbcTable> enabled = new ConcurrentSkipListMap<>();
    /** The sleep after an empty poll; capture thread only. */
    private final IdleWait idle;
    private final long gapTimeoutNanos;
    private final long lookbackMicros;
    /** Incrementing values above the watermark to when they were first read (nanoTime); capture thread only. */
    private final Map<TableId, TreeMap<Long, Long>> firstSeen = new HashMap<>();

    PollingCapture(JdbcStore store, Map<String, String> pollColumns, Duration pollInterval, Duration gapTimeout,
                   Duration lookback) {
        this.store = store;
        this.idle = new IdleWait(Math.max(1, pollInterval.toMillis()));
        this.gapTimeoutNanos = gapTimeout.toNanos();
        this.lookbackMicros = lookback.toNanos() / 1000;
        for (Map.Entry<String, String> e : pollColumns.entrySet()) {
            TableId id = TableId.parse(e.getKey());
            specs.put(id, parseSpec(e.getKey(), e.getValue()));
        }
    }

    private static Spec parseSpec(String table, String spec) {
        int colon = spec.indexOf(':');
        String mode = colon < 0 ? spec : spec.substring(0, colon);
        String col = colon < 0 ? "" : spec.substring(colon + 1);
        Spec s = switch (mode) {
            case "incrementing" -> new Spec(Mode.INCREMENTING, col);
            case "timestamp" -> new Spec(Mode.TIMESTAMP, col);
            default -> null;
        };
        if (s == null || !TableId.isIdentifier(col)) {
            throw new MqdbException("poll-columns." + table + ": expected incrementing:<column> or timestamp:<column>,"
                    + " got \"" + spec + "\"");
        }
        return s;
    }

    @Override
    public void enable(TableId table) {
        Spec spec = specs.get(table);
        if (spec == null) {
            throw new MqdbException(store.describeTarget() + ": capture: poll needs poll-columns for " + table);
        }
        JdbcTable t = store.describeTable(table).orElseThrow(() -> new MqdbException(store.describeTarget()
                + ": cannot capture " + table + ": no such table"));
        Column c = t.schema().column(spec.column()).orElseThrow(() -> new MqdbException(store.describeTarget() + ": "
                + table + " has no column " + spec.column() + " (poll-columns)"));
        ColumnType needed = spec.mode() == Mode.INCREMENTING ? ColumnType.INT64 : ColumnType.TIMESTAMP;
        if (c.type() != needed) {
            throw new MqdbException(store.describeTarget() + ": " + table + "." + spec.column() + " is " + c.type()
                    + "; " + (spec.mode() == Mode.INCREMENTING ? "an incrementing column must be an integer"
                    : "a timestamp column must be a TIMESTAMP"));
        }
        if (t.schema().keyColumns().isEmpty()) {
            throw new MqdbException(store.describeTarget() + ": cannot capture " + table + ": no primary key");
        }
        enabled.put(table, t);
    }

    @Override
    public CapturePosition start() {
        return new PollPosition().encode();
    }

    @Override
    public CapturePosition current() {
        PollPosition pos = new PollPosition();
        for (Map.Entry<TableId, JdbcTable> e : enabled.entrySet()) {
            TableId id = e.getKey();
            JdbcTable t = e.getValue();
            Spec spec = specs.get(id);
            String col = store.dialect().quote(spec.column());
            store.withConnection("read " + id, c -> {
                Object max;
                try (PreparedStatement ps = c.prepareStatement("SELECT MAX(" + col + ") FROM " + t.sqlName());
                     ResultSet rs = ps.executeQuery()) {
                    rs.next();
                    max = store.dialect().read(rs, 1, t.schema().column(spec.column()).orElseThrow(),
                            t.sqlType(spec.column()));
                }
                if (max == null) {
                    return null;
                }
                if (spec.mode() == Mode.INCREMENTING) {
                    pos.put(id, new PollPosition.Incrementing((Long) max, new IdRanges()));
                    return null;
                }
                // the rows inside the look-back window count as published: they are in the initial load
                PollPosition.Timestamp ts = new PollPosition.Timestamp(micros((Instant) max), new TreeMap<>());
                for (Row r : readRows(c, t, spec, lowerBound(ts), Integer.MAX_VALUE)) {
                    ts.add(micros((Instant) r.get(spec.column())), PollPosition.keyHash(t.schema().keyOf(r)),
                            lookbackMicros);
                }
                pos.put(id, ts);
                return null;
            });
        }
        return pos.encode();
    }

    @Override
    public List<CapturedChange> poll(CapturePosition after, int maxChanges, Duration wait)
            throws InterruptedException {
        long deadline = System.nanoTime() + wait.toNanos();
        while (true) {
            List<CapturedChange> out = pollOnce(PollPosition.decode(after), Math.max(1, maxChanges));
            if (!out.isEmpty()) {
                idle.busy();
                return out;
            }
            long left = deadline - System.nanoTime();
            if (left <= 0) {
                return out;
            }
            idle.sleep(left);
        }
    }

    private List<CapturedChange> pollOnce(PollPosition pos, int maxChanges) {
        List<CapturedChange> out = new ArrayList<>();
        for (Map.Entry<TableId, JdbcTable> e : enabled.entrySet()) {
            if (out.size() >= maxChanges) {
                break;
            }
            if (specs.get(e.getKey()).mode() == Mode.INCREMENTING) {
                pollIncrementing(e.getKey(), e.getValue(), pos, maxChanges, out);
            } else {
                pollTimestamp(e.getKey(), e.getValue(), pos, maxChanges, out);
            }
        }
        return out;
    }

    private void pollIncrementing(TableId id, JdbcTable t, PollPosition pos, int maxChanges,
                                  List<CapturedChange> out) {
        Spec spec = specs.get(id);
        PollPosition.Incrementing state = pos.incrementing(id);
        boolean fresh = state == null;
        if (fresh) {
            state = new PollPosition.Incrementing(Long.MIN_VALUE, new IdRanges());
        }
        long limit = Math.min(Integer.MAX_VALUE, maxChanges - out.size() + state.published.size());
        Long from = fresh ? null : state.watermark;
        List<Row> rows = store.withConnection("poll " + id, c -> readRows(c, t, spec, from, (int) limit));
        TreeMap<Long, Long> seen = firstSeen.computeIfAbsent(id, x -> new TreeMap<>());
        long now = System.nanoTime();
        long cur = fresh ? (rows.isEmpty() ? Long.MIN_VALUE : (Long) rows.get(0).get(spec.column()) - 1)
                : state.watermark;
        boolean blocked = false;
        int published = 0;
        for (Row r : rows) {
            long v = (Long) r.get(spec.column());
            long since = seen.computeIfAbsent(v, x -> now);
            if (!blocked && v > cur + 1 && now - since < gapTimeoutNanos) {
                blocked = true; // a lower value may still commit
            }
            boolean already = state.published.contains(v);
            if (blocked) {
                state.published.add(v);
            } else {
                cur = v;
                state.watermark = v;
                state.published.removeUpTo(v);
            }
            if (!already) {
                pos.put(id, state);
                out.add(new CapturedChange(id, Op.UPSERT, t.schema().keyOf(r), r, pos.encode()));
                published++;
                if (out.size() >= maxChanges) {
                    break;
                }
            }
        }
        seen.headMap(cur, true).clear();
        if (published > 0 && out.size() < maxChanges) {
            // only values published before followed the last change: its position may move the watermark past them
            CapturedChange last = out.remove(out.size() - 1);
            out.add(new CapturedChange(id, Op.UPSERT, last.key(), last.row(), pos.encode()));
        }
    }

    private void pollTimestamp(TableId id, JdbcTable t, PollPosition pos, int maxChanges, List<CapturedChange> out) {
        Spec spec = specs.get(id);
        PollPosition.Timestamp state = pos.timestamp(id);
        Instant from = state == null ? null : lowerBound(state);
        if (state == null) {
            state = new PollPosition.Timestamp(Long.MIN_VALUE, new TreeMap<>());
        }
        long limit = Math.min(Integer.MAX_VALUE, (long) maxChanges - out.size() + state.size());
        List<Row> rows = store.withConnection("poll " + id, c -> readRows(c, t, spec, from, (int) limit));
        for (Row r : rows) {
            long ts = micros((Instant) r.get(spec.column()));
            Key key = t.schema().keyOf(r);
            String hash = PollPosition.keyHash(key);
            if (state.contains(ts, hash)) {
                continue;
            }
            state.add(ts, hash, lookbackMicros);
            pos.put(id, state);
            out.add(new CapturedChange(id, Op.UPSERT, key, r, pos.encode()));
            if (out.size() >= maxChanges) {
                break;
            }
        }
    }

    private Instant lowerBound(PollPosition.Timestamp state) {
        long m = state.maxMicros - lookbackMicros;
        return Instant.ofEpochSecond(Math.floorDiv(m, 1_000_000L), Math.floorMod(m, 1_000_000L) * 1000);
    }

    /** Rows with the polled column above {@code from} (all non-null when null), ordered by (column, key). */
    private List<Row> readRows(Connection c, JdbcTable t, Spec spec, Object from, int limit)
            throws SQLException {
        Column column = t.schema().column(spec.column()).orElseThrow();
        String col = store.dialect().quote(spec.column());
        String sql = "SELECT " + store.dialect().columnList(t.columns()) + " FROM " + t.sqlName() + " WHERE " + col
                + (from == null ? " IS NOT NULL" : " > ?") + " ORDER BY " + col + ", " + store.dialect().keyList(t)
                + " LIMIT ?";
        List<Row> list = new ArrayList<>();
        try (PreparedStatement ps = c.prepareStatement(sql)) {
            int i = 1;
            if (from != null) {
                store.dialect().bind(ps, i++, column, t.sqlType(spec.column()), from);
            }
            ps.setInt(i, limit);
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    list.add(store.readRow(rs, t));
                }
            }
        }
        return list;
    }

    private static long micros(Instant i) {
        return Math.addExact(Math.multiplyExact(i.getEpochSecond(), 1_000_000L), i.getNano() / 1000);
    }

    @Override
    public void acknowledge(CapturePosition upTo) {
        // nothing is kept in the database
    }
}
