package io.mqdb.adapter.jdbc;

import com.github.shyiko.mysql.binlog.event.DeleteRowsEventData;
import com.github.shyiko.mysql.binlog.event.Event;
import com.github.shyiko.mysql.binlog.event.EventData;
import com.github.shyiko.mysql.binlog.event.EventHeaderV4;
import com.github.shyiko.mysql.binlog.event.EventType;
import com.github.shyiko.mysql.binlog.event.MariadbGtidEventData;
import com.github.shyiko.mysql.binlog.event.QueryEventData;
import com.github.shyiko.mysql.binlog.event.RotateEventData;
import com.github.shyiko.mysql.binlog.event.TableMapEventData;
import com.github.shyiko.mysql.binlog.event.UpdateRowsEventData;
import com.github.shyiko.mysql.binlog.event.WriteRowsEventData;
import com.github.shyiko.mysql.binlog.event.deserialization.EventDeserializer;
import com.github.shyiko.mysql.binlog.event.deserialization.json.JsonBinary;
import io.mqdb.spi.Bytes;
import io.mqdb.spi.CapturePosition;
import io.mqdb.spi.CapturedChange;
import io.mqdb.spi.Column;
import io.mqdb.spi.Json;
import io.mqdb.spi.Key;
import io.mqdb.spi.MqdbException;
import io.mqdb.spi.Op;
import io.mqdb.spi.Row;
import io.mqdb.spi.TableId;
import java.io.IOException;
import java.io.Serializable;
import java.math.BigDecimal;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.time.LocalDate;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.BitSet;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import java.util.UUID;

/**
 * Turns the events of one binlog stream into captured changes with their positions (see {@link Pos}): the row
 * events of a transaction are held until its commit event (XID, or a {@code COMMIT} query) and then handed out
 * together, in commit order (the binlog's order); a rolled-back transaction never reaches the binlog, and one that
 * wrote the echo marker table ({@link BinlogCapture#ORIGIN_TABLE}) is dropped whole. A key change is a delete of the
 * old key then an upsert; changes at or below the position the stream resumes after are skipped.
 *
 * <p>No I/O of its own: tables are resolved by the {@link Tables} given (which may read {@code information_schema}).
 * Not thread-safe: one per stream, on the capture thread.
 */
final class BinlogDecoder {
    private static final org.slf4j.Logger LOG = org.slf4j.LoggerFactory.getLogger(BinlogDecoder.class);

    /** Which tables are captured, and their columns. */
    interface Tables {
        /**
         * @param map a table map event
         * @return the captured table and the names of the event's columns, in the event's order; null when the
         *     table is not captured
         */
        Mapped resolve(TableMapEventData map);

        /** @return whether the table is the echo marker table, whose writes mark a transaction as replicated */
        boolean isOriginMarker(String database, String table);

        /**
         * @return whether the table is the capture's own state table: a transaction that wrote only it does not move
         *     {@link #quiet()}, or saving the quiet position would itself make a new one forever
         */
        default boolean isOwnState(String database, String table) {
            return false;
        }

        /** @return whether the table is captured (for the warning that a TRUNCATE of it is not published) */
        default boolean isCaptured(String database, String table) {
            return false;
        }
    }

    /**
     * A captured table as a table map describes it.
     *
     * @param table the table as described by the store
     * @param columnNames the name of each column of the row events, by column index
     * @param labels the labels of each {@code ENUM} and {@code SET} column, in definition order (the binlog carries
     *     an enum's 1-based index, a set's bit mask)
     */
    record Mapped(JdbcTable table, List<String> columnNames, Map<String, List<String>> labels) {
        Mapped(JdbcTable table, List<String> columnNames) {
            this(table, columnNames, Map.of());
        }
    }

    /**
     * A resumable position. {@code coords} say where the server starts sending: a MariaDB GTID state
     * ({@code domain-server-seq,...}, mode {@code g}) or {@code file@offset} (mode {@code f}), always the boundary
     * between two transactions. Inside a transaction, {@code tx} names it (its GTID, or the {@code file@offset}
     * where it starts) and {@code index} is the change's index in it: a stream resumed there skips that
     * transaction's changes up to the index. At the last change of a transaction, the coordinates are those after
     * it, and {@code tx} is null. Text: {@code bl:g:<state>[/<tx>/<index>]}, {@code bl:f:<file>@<offset>[/...]}.
     */
    record Pos(char mode, String coords, String tx, long index) {
        static final String PREFIX = "bl:";

        static Pos parse(CapturePosition p) {
            String t = p.token();
            if (!t.startsWith(PREFIX) || t.length() < PREFIX.length() + 2
                    || (t.charAt(3) != 'g' && t.charAt(3) != 'f') || t.charAt(4) != ':') {
                throw new MqdbException("capture: log cannot resume from position \"" + t + "\" (written by another"
                        + " capture mode?): to switch a publishing store to capture: log, stop the node, `mqdb"
                        + " uninstall` the old capture and start with a fresh data dir, so that the initial load runs"
                        + " again");
            }
            String[] f = t.substring(5).split("/", -1);
            if (f.length == 3) {
                return new Pos(t.charAt(3), f[0], f[1], Long.parseLong(f[2]));
            }
            if (f.length != 1) {
                throw new MqdbException("capture: log: malformed binlog position \"" + t + "\"");
            }
            return new Pos(t.charAt(3), f[0], null, 0);
        }

        CapturePosition encode() {
            return new CapturePosition(PREFIX + mode + ":" + coords + (tx == null ? "" : "/" + tx + "/" + index));
        }

        /** @return the binlog file of a file position */
        String file() {
            return coords.substring(0, coords.lastIndexOf('@'));
        }

        /** @return the offset of a file position */
        long offset() {
            return Long.parseLong(coords.substring(coords.lastIndexOf('@') + 1));
        }
    }

    private final Tables tables;
    private final Pos skipUpTo;
    private final String target;
    private final char mode;
    /** The table maps of the stream, by table id, with what they resolved to (null: not captured). */
    private final Map<Long, CachedMap> maps = new HashMap<>();
    private final ArrayDeque<Ready> ready = new ArrayDeque<>();
    /** Where the transaction of the last change taken ends in the binlog: file, and the offset after it. */
    private String takenFile;
    private long takenEnd;

    /** A change of a committed transaction, with where that transaction ends in the binlog. */
    private record Ready(CapturedChange change, String file, long end) {
    }
    private final java.util.Set<String> truncateWarned = new java.util.HashSet<>();
    /** GTID mode: the last GTID per domain of what was read (the state after the last transaction). */
    private final TreeMap<Long, String> gtids = new TreeMap<>();
    /** File mode: the current file and the offset after the last transaction. */
    private String file;
    private long offset;
    /** The position after the latest transactions that carried no change; null once one did. */
    private Pos quiet;
    private Tx tx;

    private record CachedMap(TableMapEventData map, Mapped mapped) {
    }

    private static final class Tx {
        final String id;
        final Pos before;
        final boolean standalone;
        final List<Pending> changes = new ArrayList<>();
        long index;
        boolean replicated;
        /** Whether every row it wrote was one of the state table's (and it wrote some). */
        boolean onlyState;
        boolean rows;
        String gtid;
        long domain;

        Tx(String id, Pos before, boolean standalone) {
            this.id = id;
            this.before = before;
            this.standalone = standalone;
        }
    }

    private record Pending(TableId table, Op op, Key key, Row row, long index) {
    }

    /**
     * @param tables resolves table maps to captured tables
     * @param from the position the stream starts at: changes at or below it are dropped
     * @param target the store, for messages
     */
    BinlogDecoder(Tables tables, Pos from, String target) {
        this.tables = tables;
        this.skipUpTo = from;
        this.target = target;
        this.mode = from.mode();
        if (mode == 'g') {
            for (String g : from.coords().split(",")) {
                if (!g.isBlank()) {
                    gtids.put(Long.parseLong(g.substring(0, g.indexOf('-'))), g.trim());
                }
            }
        } else {
            file = from.file();
            offset = from.offset();
        }
    }

    private static EventData data(Event e) {
        return EventDeserializer.EventDataWrapper.internal(e.getData());
    }

    /** Takes the next event of the stream. */
    void accept(Event e) {
        accept(e, e.getHeader() instanceof EventHeaderV4 h ? h.getNextPosition() : 0);
    }

    /** @param next the binlog offset after the event (for the events inside a compressed payload: after it) */
    private void accept(Event e, long next) {
        EventType type = e.getHeader().getEventType();
        switch (type) {
            case ROTATE -> {
                RotateEventData r = (RotateEventData) data(e);
                file = r.getBinlogFilename();
                if (tx == null) {
                    offset = r.getBinlogPosition();
                }
            }
            case MARIADB_GTID -> {
                MariadbGtidEventData g = (MariadbGtidEventData) data(e);
                String gtid = g.getDomainId() + "-" + e.getHeader().getServerId() + "-" + g.getSequence();
                if (tx != null && !tx.changes.isEmpty()) { // never drop changes silently
                    throw new MqdbException(target + ": binlog: transaction " + tx.id + " did not end before " + gtid
                            + " began (XA transactions are not supported by capture: log)");
                }
                tx = new Tx(mode == 'g' ? gtid : file + "@" + offset, here(),
                        (g.getFlags() & MariadbGtidEventData.FL_STANDALONE) != 0);
                tx.gtid = gtid;
                tx.domain = g.getDomainId();
            }
            case QUERY -> {
                String sql = ((QueryEventData) data(e)).getSql();
                String word = sql == null ? "" : sql.trim();
                if (word.equalsIgnoreCase("BEGIN")) {
                    if (tx == null) { // MySQL: BEGIN starts a transaction
                        tx = new Tx(file + "@" + offset, here(), false);
                    }
                } else if (word.equalsIgnoreCase("COMMIT")) {
                    commit(next, true);
                } else if (word.equalsIgnoreCase("ROLLBACK")) {
                    commit(next, false);
                } else if (tx == null || tx.standalone) {
                    warnIfTruncate(((QueryEventData) data(e)).getDatabase(), word);
                    commit(next, false); // DDL and other statements on their own
                }
            }
            case TABLE_MAP -> {
                TableMapEventData m = (TableMapEventData) data(e);
                CachedMap c = maps.get(m.getTableId());
                if (c == null || !sameMap(c.map(), m)) {
                    maps.put(m.getTableId(), new CachedMap(m, tables.isOriginMarker(m.getDatabase(), m.getTable())
                            ? null : tables.resolve(m)));
                }
            }
            case XID -> commit(next, true);
            case UNKNOWN -> throw new MqdbException(target + ": binlog: an event of a type the binlog reader does"
                    + " not know, which may carry rows (MariaDB log_bin_compress = ON? MySQL binlog_row_value_options"
                    + " = PARTIAL_JSON?): capture: log stops rather than skip it");
            case TRANSACTION_PAYLOAD -> { // MySQL's binlog_transaction_compression: the transaction's events inside
                for (Event inner : ((com.github.shyiko.mysql.binlog.event.TransactionPayloadEventData) data(e))
                        .getUncompressedEvents()) {
                    accept(inner, next);
                }
            }
            default -> {
                if (EventType.isRowMutation(type)) {
                    rows(type, data(e));
                }
            }
        }
    }

    private static final java.util.regex.Pattern TRUNCATE = java.util.regex.Pattern.compile(
            "(?is)^TRUNCATE\\s+(?:TABLE\\s+)?(?:`?([^`.\\s]+)`?\\.)?`?([^`.\\s;]+)`?.*");

    /** TRUNCATE is a statement, not rows: it is not published; said once per table, like the PostgreSQL capture. */
    private void warnIfTruncate(String database, String sql) {
        java.util.regex.Matcher m = TRUNCATE.matcher(sql);
        if (!m.matches()) {
            return;
        }
        String db = m.group(1) != null ? m.group(1) : database;
        if (db != null && tables.isCaptured(db, m.group(2)) && truncateWarned.add(db + "." + m.group(2))) {
            LOG.warn("{}: {}.{} was truncated; capture: log does not publish TRUNCATE (the subscribers keep their"
                    + " rows)", target, db, m.group(2));
        }
    }

    /** Whether a table map describes the same table and columns as the cached one (else the cache is rebuilt). */
    private static boolean sameMap(TableMapEventData a, TableMapEventData b) {
        return a.getDatabase().equals(b.getDatabase()) && a.getTable().equals(b.getTable())
                && Arrays.equals(a.getColumnTypes(), b.getColumnTypes())
                && Arrays.equals(a.getColumnMetadata(), b.getColumnMetadata());
    }

    /** The position of the boundary the stream is at now (between two transactions). */
    private Pos here() {
        if (mode == 'g') {
            return new Pos('g', String.join(",", gtids.values()), null, 0);
        }
        return new Pos('f', file + "@" + offset, null, 0);
    }

    private void rows(EventType type, EventData d) {
        if (tx == null) {
            throw new MqdbException(target + ": binlog: a row event outside a transaction");
        }
        long tableId;
        List<Serializable[]> before = new ArrayList<>();
        List<Serializable[]> after = new ArrayList<>();
        BitSet beforeCols;
        BitSet afterCols;
        if (d instanceof WriteRowsEventData w) {
            tableId = w.getTableId();
            beforeCols = null;
            afterCols = w.getIncludedColumns();
            for (Serializable[] r : w.getRows()) {
                before.add(null);
                after.add(r);
            }
        } else if (d instanceof UpdateRowsEventData u) {
            tableId = u.getTableId();
            beforeCols = u.getIncludedColumnsBeforeUpdate();
            afterCols = u.getIncludedColumns();
            for (Map.Entry<Serializable[], Serializable[]> r : u.getRows()) {
                before.add(r.getKey());
                after.add(r.getValue());
            }
        } else {
            DeleteRowsEventData x = (DeleteRowsEventData) d;
            tableId = x.getTableId();
            beforeCols = x.getIncludedColumns();
            afterCols = null;
            for (Serializable[] r : x.getRows()) {
                before.add(r);
                after.add(null);
            }
        }
        CachedMap c = maps.get(tableId);
        if (c == null) {
            throw new MqdbException(target + ": binlog: a row event of table id " + tableId + " before its table map");
        }
        if (c.mapped() == null && tables.isOriginMarker(c.map().getDatabase(), c.map().getTable())) {
            tx.replicated = true;
        }
        boolean state = c.mapped() == null && tables.isOwnState(c.map().getDatabase(), c.map().getTable());
        tx.onlyState = (!tx.rows || tx.onlyState) && state;
        tx.rows = true;
        for (int i = 0; i < after.size(); i++) {
            tx.index += 2;
            if (c.mapped() == null || tx.replicated) {
                continue;
            }
            JdbcTable t = c.mapped().table();
            TableId id = t.schema().table();
            Key oldKey = before.get(i) == null ? null
                    : t.schema().keyOf(rowOf(c, before.get(i), beforeCols));
            if (after.get(i) == null) {
                add(id, Op.DELETE, oldKey, null, tx.index);
                continue;
            }
            Row row = rowOf(c, after.get(i), afterCols);
            Key key = t.schema().keyOf(row);
            if (oldKey != null && !oldKey.equals(key)) {
                add(id, Op.DELETE, oldKey, null, tx.index - 1);
            }
            add(id, Op.UPSERT, key, row, tx.index);
        }
    }

    private void add(TableId id, Op op, Key key, Row row, long index) {
        if (skipUpTo.tx() != null && skipUpTo.tx().equals(tx.id) && index <= skipUpTo.index()) {
            return;
        }
        tx.changes.add(new Pending(id, op, key, row, index));
    }

    /** Ends the open transaction (or a statement outside one): its changes become ready when it committed. */
    private void commit(long nextOffset, boolean committed) {
        Tx t = tx;
        tx = null;
        if (t != null && t.gtid != null) {
            gtids.put(t.domain, t.gtid);
        }
        if (nextOffset > 0) {
            offset = nextOffset;
        }
        Pos after = here();
        if (t == null || !committed || t.replicated || t.changes.isEmpty()) {
            if (ready.isEmpty() && !(t != null && t.onlyState)) { // else changes not taken yet come before it
                quiet = after;
            }
            return;
        }
        quiet = null;
        for (int i = 0; i < t.changes.size(); i++) {
            Pending p = t.changes.get(i);
            Pos pos = i == t.changes.size() - 1 ? after : new Pos(mode, t.before.coords(), t.id, p.index());
            ready.add(new Ready(new CapturedChange(p.table(), p.op(), p.key(), p.row(), pos.encode()), file, offset));
        }
    }

    /** The row of a row image: every column the store describes, by the table map's column names. */
    private static Row rowOf(CachedMap c, Serializable[] image, BitSet included) {
        JdbcTable t = c.mapped().table();
        List<String> names = c.mapped().columnNames();
        byte[] types = c.map().getColumnTypes();
        Map<String, Object> values = new LinkedHashMap<>();
        int j = 0;
        for (int col = 0; col < names.size(); col++) {
            if (included != null && !included.get(col)) {
                continue;
            }
            Object v = j < image.length ? image[j] : null;
            j++;
            String name = names.get(col);
            Optional<Column> column = TableId.isIdentifier(name) ? t.schema().column(name) : Optional.empty();
            List<String> labels = c.mapped().labels().get(name);
            if (column.isPresent()) {
                try {
                    if (labels != null && v instanceof Number n) {
                        v = t.sqlType(name).startsWith("set") ? setText(labels, n.longValue())
                                : enumText(labels, n.intValue());
                    }
                    values.put(name, value(column.get(), t.sqlType(name), col < types.length ? types[col] : 0, v));
                } catch (ClassCastException | IllegalArgumentException | java.time.DateTimeException e) {
                    throw new MqdbException(t.sqlName() + ": column " + name + " (" + t.sqlType(name) + ", "
                            + column.get().type() + "): capture: log cannot read the binlog value " + v + ": "
                            + e.getMessage(), e);
                }
            }
        }
        return Row.of(values);
    }

    /** A label beyond those known was added since: the error reopens the stream, which reads the labels again. */
    private static String enumText(List<String> labels, int index) {
        if (index > labels.size()) {
            throw new io.mqdb.spi.RetriableException("binlog: enum index " + index + " beyond the labels " + labels
                    + " (a label added since they were read)");
        }
        return index <= 0 ? "" : labels.get(index - 1); // 0: the invalid value ''
    }

    private static String setText(List<String> labels, long bits) {
        if (labels.size() < 64 && (bits >>> labels.size()) != 0) {
            throw new io.mqdb.spi.RetriableException("binlog: set bits " + Long.toBinaryString(bits) + " beyond the"
                    + " labels " + labels + " (a label added since they were read)");
        }
        List<String> out = new ArrayList<>();
        for (int i = 0; i < labels.size(); i++) {
            if ((bits & (1L << i)) != 0) {
                out.add(labels.get(i));
            }
        }
        return String.join(",", out);
    }

    /** MySQL's binary JSON column type in a table map (MariaDB's JSON is text). */
    private static final int MYSQL_JSON = 245;

    /**
     * A binlog value as the store reads it ({@link Dialect#read}): the deserializer runs with dates and times as
     * microseconds and strings as bytes (decoded as UTF-8, mqdb's character set).
     */
    static Object value(Column column, String sqlType, int binlogType, Object v) {
        if (v == null) {
            return null;
        }
        return switch (column.type()) {
            case STRING -> text(v, binlogType);
            case INT64 -> unsigned(((Number) v).longValue(), sqlType);
            case DOUBLE -> v instanceof Float f ? Double.parseDouble(f.toString()) : ((Number) v).doubleValue();
            case DECIMAL -> v instanceof BigDecimal b ? b : new BigDecimal(text(v, binlogType).trim());
            case BOOLEAN -> v instanceof Number n ? n.longValue() != 0 : Boolean.parseBoolean(text(v, binlogType));
            case BYTES -> Bytes.of(v instanceof byte[] b ? b : text(v, binlogType).getBytes(StandardCharsets.UTF_8));
            case TIMESTAMP -> {
                long micros = ((Number) v).longValue();
                yield Instant.ofEpochSecond(Math.floorDiv(micros, 1_000_000L),
                        Math.floorMod(micros, 1_000_000L) * 1000L);
            }
            case DATE -> LocalDate.ofEpochDay(Math.floorDiv(((Number) v).longValue(), 86_400_000_000L));
            case UUID -> UUID.fromString(text(v, binlogType).trim());
            case JSON -> new Json(text(v, binlogType));
        };
    }

    /** The binlog carries integers signed: an unsigned column's value above the signed range comes negative. */
    private static long unsigned(long n, String sqlType) {
        if (n >= 0 || !sqlType.contains("unsigned")) {
            return n;
        }
        int bits = sqlType.startsWith("tinyint") ? 8 : sqlType.startsWith("smallint") ? 16
                : sqlType.startsWith("mediumint") ? 24 : sqlType.startsWith("int") ? 32 : 64;
        if (bits == 64) {
            throw new IllegalArgumentException("an unsigned bigint above " + Long.MAX_VALUE + " does not fit INT64");
        }
        return n + (1L << bits);
    }

    private static String text(Object v, int binlogType) {
        if (v instanceof byte[] b) {
            if ((binlogType & 0xff) == MYSQL_JSON) {
                try {
                    return JsonBinary.parseAsString(b);
                } catch (IOException e) {
                    throw new MqdbException("binlog: cannot read a MySQL JSON value: " + e.getMessage(), e);
                }
            }
            return new String(b, StandardCharsets.UTF_8);
        }
        return String.valueOf(v);
    }

    /** @return how many changes are ready: those of committed transactions not taken yet */
    int ready() {
        return ready.size();
    }

    /**
     * @param max the most to take, at least 1
     * @return the oldest ready changes, at most {@code max}, in order
     */
    List<CapturedChange> take(int max) {
        int n = Math.min(max, ready.size());
        List<CapturedChange> out = new ArrayList<>(n);
        for (int i = 0; i < n; i++) {
            Ready r = ready.poll();
            out.add(r.change());
            takenFile = r.file();
            takenEnd = r.end();
        }
        return out;
    }

    /** @return the binlog file in which the transaction of the last change taken ends, or null when unknown */
    String takenFile() {
        return takenFile;
    }

    /** @return the binlog offset just after the transaction of the last change taken */
    long takenEnd() {
        return takenEnd;
    }

    /** @return whether nothing is ready and no transaction is open: the stream is between transactions */
    boolean idle() {
        return ready.isEmpty() && tx == null;
    }

    /**
     * @return the position after the latest transactions read that carried no change, when no change came after
     *     them; equivalent to the position of the last change taken, once that was acknowledged; or null
     */
    Pos quiet() {
        return quiet;
    }
}
