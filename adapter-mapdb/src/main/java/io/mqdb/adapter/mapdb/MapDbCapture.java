package io.mqdb.adapter.mapdb;

import io.mqdb.spi.CapturePosition;
import io.mqdb.spi.CapturedChange;
import io.mqdb.spi.ChangeCapture;
import io.mqdb.spi.Column;
import io.mqdb.spi.Key;
import io.mqdb.spi.MqdbException;
import io.mqdb.spi.Op;
import io.mqdb.spi.Row;
import io.mqdb.spi.TableId;
import io.mqdb.spi.TableSchema;
import java.io.ByteArrayInputStream;
import java.io.DataInputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.NavigableSet;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;
import org.mapdb.Atomic;
import org.mapdb.BTreeMap;
import org.mapdb.DB;
import org.mapdb.Serializer;

/**
 * Change capture of the MapDB store: a change log kept in the same file and written in the same transaction as the
 * data it describes, so a committed batch and its log entries are durable together or not at all.
 *
 * <ul>
 *   <li>{@code mqdb.capture.log}: {@code BTreeMap<Long, byte[]>}, sequence number to the encoded change. Only LOCAL
 *   writes to enabled tables are logged; a delete of a missing row changes nothing and is not logged.</li>
 *   <li>{@code mqdb.capture.seq}: the last sequence number committed; {@code mqdb.capture.acked}: the last one
 *   acknowledged. Entries up to it are pruned.</li>
 *   <li>{@code mqdb.capture.enabled}: the enabled tables, as {@code schema:table}.</li>
 * </ul>
 * A position is the decimal sequence number of the last change before it: {@code "0"} is before every change.
 * {@link #poll} waits on a condition signalled after every commit that logged something; it starts no thread.
 */
final class MapDbCapture implements ChangeCapture {
    private final MapDbStore store;
    private final DB db;
    private final BTreeMap<Long, byte[]> log;
    private final Atomic.Long seqVar;
    private final Atomic.Long ackedVar;
    private final NavigableSet<String> enabledSet;
    private final Set<TableId> enabled = ConcurrentHashMap.newKeySet();
    private final ReentrantLock signalLock = new ReentrantLock();
    private final Condition committedSignal = signalLock.newCondition();

    // Guarded by the store's write lock.
    private long pendingSeq;
    private volatile long committedSeq;
    private volatile long acked;

    MapDbCapture(MapDbStore store, DB db) {
        this.store = store;
        this.db = db;
        this.log = db.treeMap("mqdb.capture.log", Serializer.LONG, Serializer.BYTE_ARRAY)
                .valuesOutsideNodesEnable().createOrOpen();
        this.seqVar = db.atomicLong("mqdb.capture.seq").createOrOpen();
        this.ackedVar = db.atomicLong("mqdb.capture.acked").createOrOpen();
        this.enabledSet = db.treeSet("mqdb.capture.enabled", Serializer.STRING).createOrOpen();
        for (String t : enabledSet) {
            enabled.add(TableId.parse(t));
        }
        committedSeq = seqVar.get();
        pendingSeq = committedSeq;
        acked = ackedVar.get();
    }

    /**
     * Enables the table, persisted in the file. Idempotent.
     *
     * @throws MqdbException when the table does not exist
     */
    @Override
    public void enable(TableId table) {
        if (enabled.contains(table)) {
            return;
        }
        store.write(() -> {
            if (store.schemaOf(table) == null) {
                throw new MqdbException(table + ": cannot capture a table that does not exist in "
                        + store.describeTarget());
            }
            enabledSet.add(table.toString());
            db.commit();
            enabled.add(table);
            return null;
        });
    }

    @Override
    public CapturePosition start() {
        return position(acked);
    }

    @Override
    public CapturePosition current() {
        return position(committedSeq);
    }

    /**
     * Reads the changes after {@code after}; when there are none yet, waits for a commit that logs one, up to
     * {@code wait}. Returns empty when the store is closed while waiting.
     */
    @Override
    public List<CapturedChange> poll(CapturePosition after, int maxChanges, Duration wait)
            throws InterruptedException {
        if (maxChanges < 1) {
            throw new IllegalArgumentException("maxChanges must be at least 1, got " + maxChanges);
        }
        long from = parse(after);
        List<CapturedChange> changes = read(from, maxChanges);
        if (!changes.isEmpty() || wait.isZero() || wait.isNegative()) {
            return changes;
        }
        long deadline = System.nanoTime() + wait.toNanos();
        signalLock.lockInterruptibly();
        try {
            while (committedSeq <= from && !store.isClosed()) {
                long left = deadline - System.nanoTime();
                if (left <= 0) {
                    return List.of();
                }
                committedSignal.awaitNanos(left);
            }
        } finally {
            signalLock.unlock();
        }
        return store.isClosed() ? List.of() : read(from, maxChanges);
    }

    /** Prunes the log up to and including {@code upTo}, in one commit. */
    @Override
    public void acknowledge(CapturePosition upTo) {
        long to = parse(upTo);
        if (to <= acked) {
            return;
        }
        store.write(() -> {
            long bound = Math.min(to, committedSeq);
            Iterator<Long> it = log.headMap(bound, true).keySet().iterator();
            while (it.hasNext()) {
                it.next();
                it.remove();
            }
            ackedVar.set(bound);
            db.commit();
            acked = bound;
            return null;
        });
    }

    // ---------------------------------------------------------------- called by MapDbStore under its write lock

    boolean isEnabled(TableId table) {
        return enabled.contains(table);
    }

    /** Logs a change in the open transaction. */
    void record(TableSchema schema, Op op, Key key, Row row) {
        RowCodec.Out out = new RowCodec.Out(64);
        try {
            out.data.writeUTF(schema.table().toString());
            out.data.writeByte(op.ordinal());
            if (op == Op.UPSERT) {
                byte[] encoded = RowCodec.encodeRow(schema, row);
                out.data.write(encoded);
            } else {
                List<Column> kc = schema.keyColumns();
                RowCodec.writeVarInt(out.data, kc.size());
                for (int i = 0; i < kc.size(); i++) {
                    RowCodec.writeValue(out.data, kc.get(i).type(), key.get(i));
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        log.put(++pendingSeq, out.bytes());
    }

    void beforeCommit() {
        if (pendingSeq != committedSeq) {
            seqVar.set(pendingSeq);
        }
    }

    void committed() {
        if (pendingSeq != committedSeq) {
            committedSeq = pendingSeq;
            signalAll();
        }
    }

    void rolledBack() {
        pendingSeq = committedSeq;
    }

    void closed() {
        signalAll();
    }

    // ---------------------------------------------------------------- internals

    private void signalAll() {
        signalLock.lock();
        try {
            committedSignal.signalAll();
        } finally {
            signalLock.unlock();
        }
    }

    private List<CapturedChange> read(long from, int maxChanges) {
        return store.read(() -> {
            List<CapturedChange> out = new ArrayList<>(Math.min(maxChanges, 256));
            for (Map.Entry<Long, byte[]> e : log.tailMap(from, false).entrySet()) {
                if (out.size() >= maxChanges) {
                    break;
                }
                out.add(decode(e.getKey(), e.getValue()));
            }
            return out;
        });
    }

    private CapturedChange decode(long seq, byte[] bytes) {
        try {
            DataInputStream in = new DataInputStream(new ByteArrayInputStream(bytes));
            TableId table = TableId.parse(in.readUTF());
            Op op = Op.values()[in.readUnsignedByte()];
            TableSchema schema = store.schemaOf(table);
            if (schema == null) {
                throw new MqdbException(store.describeTarget() + ": change " + seq + " of unknown table " + table);
            }
            if (op == Op.UPSERT) {
                Row row = RowCodec.decodeRow(schema, in.readAllBytes());
                return new CapturedChange(table, op, schema.keyOf(row), row, position(seq));
            }
            List<Column> kc = schema.keyColumns();
            int n = RowCodec.readVarInt(in);
            Object[] values = new Object[n];
            for (int i = 0; i < n; i++) {
                values[i] = RowCodec.readValue(in, table, kc.get(i));
            }
            return new CapturedChange(table, op, Key.of(values), null, position(seq));
        } catch (IOException e) {
            throw new MqdbException(store.describeTarget() + ": corrupt change " + seq, e);
        }
    }

    private static CapturePosition position(long seq) {
        return new CapturePosition(Long.toString(seq));
    }

    private static long parse(CapturePosition position) {
        try {
            long v = Long.parseLong(position.token());
            if (v < 0) {
                throw new NumberFormatException("negative");
            }
            return v;
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("not a mapdb capture position: \"" + position.token() + "\"", e);
        }
    }
}
