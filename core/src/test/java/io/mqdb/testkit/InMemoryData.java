package io.mqdb.testkit;

import io.mqdb.spi.CapturedChange;
import io.mqdb.spi.Column;
import io.mqdb.spi.CapturePosition;
import io.mqdb.spi.InvalidDataException;
import io.mqdb.spi.Key;
import io.mqdb.spi.Mutation;
import io.mqdb.spi.Op;
import io.mqdb.spi.RetriableException;
import io.mqdb.spi.Row;
import io.mqdb.spi.ScanPage;
import io.mqdb.spi.TableId;
import io.mqdb.spi.TableSchema;
import io.mqdb.spi.WriteOrigin;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;

/**
 * The data behind {@link InMemoryStore}s: tables with their schemas and rows, and the change log of local writes.
 * It outlives the stores opened on it, as a database outlives its connections: {@link #named} finds it again, so a
 * store closed and opened again (or a node restarted) sees the same data.
 *
 * <h2>Test controls</h2>
 * {@link #outage(boolean)} makes every call of its stores throw {@link RetriableException} until it ends;
 * {@link #loseEverything()} drops every table and the change log (a Redis restarted empty, a dropped database);
 * {@link #rows}, {@link #writes} report.
 *
 * <h2>Threads</h2>
 * Thread-safe: one lock guards everything, so every {@code apply} is one atomic commit; {@link #poll} waits on it
 * without holding it.
 */
public final class InMemoryData {
    private static final Map<String, InMemoryData> NAMED = new ConcurrentHashMap<>();

    private final String name;
    private final ReentrantLock lock = new ReentrantLock();
    private final Condition changed = lock.newCondition();
    private final Map<TableId, Table> tables = new TreeMap<>();
    private final Set<TableId> captured = new HashSet<>();
    /** Local writes of captured tables, oldest first; positions are the entries' numbers. */
    private final Deque<Change> log = new ArrayDeque<>();
    private long lastChange;
    private long acknowledged;
    private long writes;
    private volatile boolean down;

    private InMemoryData(String name) {
        this.name = name;
    }

    /**
     * @param name the data set's name (the store setting {@code instance})
     * @return the data set of that name, created empty the first time
     */
    public static InMemoryData named(String name) {
        return NAMED.computeIfAbsent(name, InMemoryData::new);
    }

    /**
     * Forgets a data set (after a test), so that its memory is freed.
     *
     * @param name its name
     */
    public static void forget(String name) {
        NAMED.remove(name);
    }

    /** @return a new store on this data: to write to it as another client of the database would */
    public InMemoryStore open() {
        return new InMemoryStore(this);
    }

    /** @return the name */
    public String name() {
        return name;
    }

    /**
     * Starts or ends an outage: while it lasts every call of a store on this data throws
     * {@link RetriableException}, as an unreachable database does; nothing is lost.
     *
     * @param isDown whether the store is down from now on
     */
    public void outage(boolean isDown) {
        down = isDown;
    }

    /** Drops every table, every row and the change log: the store lost its data. */
    public void loseEverything() {
        lock.lock();
        try {
            tables.clear();
            captured.clear();
            log.clear();
            acknowledged = lastChange;
        } finally {
            lock.unlock();
        }
    }

    /**
     * Empties one table, keeping its schema and every other table (a {@code TRUNCATE} by hand, say); captures nothing.
     *
     * @param table the table
     */
    public void truncate(TableId table) {
        lock.lock();
        try {
            Table t = tables.get(table);
            if (t != null) {
                t.rows.clear();
            }
        } finally {
            lock.unlock();
        }
    }

    /**
     * @param table a table
     * @return its rows in key order, each with every column; empty when the table does not exist
     */
    public List<Row> rows(TableId table) {
        lock.lock();
        try {
            Table t = tables.get(table);
            return t == null ? List.of() : t.rows.values().stream().map(t::full).toList();
        } finally {
            lock.unlock();
        }
    }

    /** @return how many mutations were applied so far, in every table (to see what was written twice) */
    public long writes() {
        lock.lock();
        try {
            return writes;
        } finally {
            lock.unlock();
        }
    }

    // -------------------------------------------------------------------------------------- the store's operations

    void checkUp() {
        if (down) {
            throw new RetriableException("memory store " + name + " is down (a test's outage)");
        }
    }

    Optional<TableSchema> describe(TableId table) {
        checkUp();
        lock.lock();
        try {
            return Optional.ofNullable(tables.get(table)).map(t -> t.schema);
        } finally {
            lock.unlock();
        }
    }

    TableSchema ensureTable(TableSchema schema) {
        checkUp();
        lock.lock();
        try {
            Table t = tables.get(schema.table());
            if (t == null) {
                t = new Table(schema);
                tables.put(schema.table(), t);
                return schema;
            }
            if (!t.schema.primaryKey().equals(schema.primaryKey())) {
                throw new InvalidDataException(schema.table() + " has primary key " + t.schema.primaryKey()
                        + ", not " + schema.primaryKey());
            }
            List<Column> missing = t.schema.missingColumns(schema);
            if (!missing.isEmpty()) {
                List<Column> grown = new ArrayList<>(t.schema.columns());
                for (Column c : missing) {
                    grown.add(Column.of(c.name(), c.type()));
                }
                t.schema = new TableSchema(t.schema.table(), grown, t.schema.primaryKey());
            }
            return t.schema;
        } finally {
            lock.unlock();
        }
    }

    void apply(TableId table, List<Mutation> batch, WriteOrigin origin) {
        checkUp();
        lock.lock();
        try {
            Table t = tables.get(table);
            if (t == null) {
                throw new InvalidDataException("memory store " + name + ": no table " + table);
            }
            // Checked in full first: the batch is one commit, applied whole or not at all.
            List<Object[]> checked = new ArrayList<>(batch.size());
            for (Mutation m : batch) {
                if (m instanceof Mutation.Upsert u) {
                    Row row = t.schema.validate(u.row());
                    checked.add(new Object[] {t.schema.keyOf(row), row});
                } else {
                    checked.add(new Object[] {t.schema.validate(((Mutation.Delete) m).key()), null});
                }
            }
            Map<Key, Row> after = new java.util.HashMap<>();
            for (Object[] c : checked) {
                Key k = (Key) c[0];
                Row r = (Row) c[1];
                Row old = after.containsKey(k) ? after.get(k) : t.rows.get(k);
                if (r != null && old == null) {
                    for (Column col : t.schema.columns()) {
                        if (!col.nullable() && !r.has(col.name())) {
                            throw new InvalidDataException(table + "." + col.name() + " may not be null (the new row "
                                    + k + " does not set it)");
                        }
                    }
                }
                after.put(k, r == null ? null : old == null ? r : old.merge(r));
            }
            for (Object[] c : checked) {
                Key k = (Key) c[0];
                Row r = (Row) c[1];
                Row now;
                if (r == null) {
                    t.rows.remove(k);
                    now = null;
                } else {
                    Row old = t.rows.get(k);
                    now = old == null ? r : old.merge(r);
                    t.rows.put(k, now);
                }
                writes++;
                if (origin == WriteOrigin.LOCAL && captured.contains(table)) {
                    log.add(new Change(++lastChange, table, r == null ? Op.DELETE : Op.UPSERT, k,
                            now == null ? null : t.full(now)));
                }
            }
            changed.signalAll();
        } finally {
            lock.unlock();
        }
    }

    Optional<Row> get(TableId table, Key key) {
        checkUp();
        lock.lock();
        try {
            Table t = tables.get(table);
            if (t == null) {
                return Optional.empty();
            }
            return Optional.ofNullable(t.rows.get(t.schema.validate(key))).map(t::full);
        } finally {
            lock.unlock();
        }
    }

    ScanPage scan(TableId table, Key after, int limit) {
        checkUp();
        if (limit < 1) {
            throw new IllegalArgumentException("limit must be at least 1, got " + limit);
        }
        lock.lock();
        try {
            Table t = tables.get(table);
            if (t == null) {
                return new ScanPage(List.of(), Optional.empty());
            }
            Map<Key, Row> tail = after == null ? t.rows : t.rows.tailMap(t.schema.validate(after), false);
            List<Row> rows = new ArrayList<>(Math.min(limit, tail.size()));
            Key last = null;
            for (Map.Entry<Key, Row> e : tail.entrySet()) {
                if (rows.size() == limit) {
                    break;
                }
                rows.add(t.full(e.getValue()));
                last = e.getKey();
            }
            boolean more = tail.size() > rows.size();
            return new ScanPage(rows, more ? Optional.of(last) : Optional.empty());
        } finally {
            lock.unlock();
        }
    }

    long count(TableId table) {
        checkUp();
        lock.lock();
        try {
            Table t = tables.get(table);
            return t == null ? 0 : t.rows.size();
        } finally {
            lock.unlock();
        }
    }

    // --------------------------------------------------------------------------------------------- change capture

    void enable(TableId table) {
        checkUp();
        lock.lock();
        try {
            if (!tables.containsKey(table)) {
                throw new InvalidDataException("memory store " + name + ": cannot capture " + table
                        + ", which does not exist");
            }
            captured.add(table);
        } finally {
            lock.unlock();
        }
    }

    CapturePosition start() {
        checkUp();
        lock.lock();
        try {
            return position(acknowledged);
        } finally {
            lock.unlock();
        }
    }

    CapturePosition current() {
        checkUp();
        lock.lock();
        try {
            return position(lastChange);
        } finally {
            lock.unlock();
        }
    }

    List<CapturedChange> poll(CapturePosition after, int maxChanges, Duration wait) throws InterruptedException {
        checkUp();
        long from = parse(after);
        long deadline = System.nanoTime() + wait.toNanos();
        lock.lockInterruptibly();
        try {
            while (true) {
                List<CapturedChange> out = new ArrayList<>();
                for (Change c : log) {
                    if (c.number > from && captured.contains(c.table)) {
                        out.add(new CapturedChange(c.table, c.op, c.key, c.row, position(c.number)));
                        if (out.size() == maxChanges) {
                            break;
                        }
                    }
                }
                long left = deadline - System.nanoTime();
                if (!out.isEmpty() || left <= 0) {
                    return out;
                }
                changed.awaitNanos(left);
                checkUp();
            }
        } finally {
            lock.unlock();
        }
    }

    void acknowledge(CapturePosition upTo) {
        checkUp();
        long n = parse(upTo);
        lock.lock();
        try {
            acknowledged = Math.max(acknowledged, n);
            while (!log.isEmpty() && log.peekFirst().number <= acknowledged) {
                log.pollFirst();
            }
        } finally {
            lock.unlock();
        }
    }

    private static CapturePosition position(long n) {
        return new CapturePosition(Long.toString(n));
    }

    private long parse(CapturePosition p) {
        try {
            return Long.parseLong(p.token());
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("memory store " + name + ": not a position of it: " + p, e);
        }
    }

    /** One table: its schema and its rows as written (the columns they were given). Guarded by the lock. */
    private static final class Table {
        TableSchema schema;
        final TreeMap<Key, Row> rows = new TreeMap<>();

        Table(TableSchema schema) {
            this.schema = schema;
        }

        /** @return the row with every column of the table, in schema order, null where never set */
        Row full(Row stored) {
            Map<String, Object> m = new LinkedHashMap<>();
            for (Column c : schema.columns()) {
                m.put(c.name(), stored.get(c.name()));
            }
            return Row.of(m);
        }
    }

    /** One captured local write: the row after it (every column), or null for a delete. */
    private record Change(long number, TableId table, Op op, Key key, Row row) {
    }
}
