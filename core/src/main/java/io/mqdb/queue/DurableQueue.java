package io.mqdb.queue;

import io.mqdb.spi.MqdbException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;
import org.mapdb.DB;
import org.mapdb.DBMaker;
import org.mapdb.Serializer;

/**
 * A durable, crash-safe FIFO of byte arrays in one MapDB file: the publisher's buffer between capture and MQTT.
 *
 * <p>Each entry gets an index: the first is 1, each append takes the next, an index is never given twice (not even
 * after a crash or once entries are deleted). Entries, the positions ({@link #head()}, {@link #nextIndex()},
 * {@link #firstRetained()}), the byte counts and the named {@linkplain #counter counters} live in the same MapDB
 * transaction, and every {@link #append} and {@link #markDelivered} ends with a commit. So when one of them returns,
 * what it did survives a crash of the process (kill -9); if the process dies before it returns, none of it does.
 *
 * <p>Three regions, oldest first: delivered entries kept for resends ({@code firstRetained() .. head()-1}), then the
 * undelivered ones ({@code head() .. nextIndex()-1}). {@link #markDelivered} moves the head and deletes the oldest
 * delivered entries while the delivered ones hold more than {@code retainDeliveredBytes} payload bytes.
 *
 * <p><b>Lifecycle.</b> The node's publisher calls {@link #open} at start-up on its own thread, hands the queue to
 * its capture and sender threads, and calls {@link #close()} at shutdown after both have stopped. {@code close()}
 * is idempotent; a thread blocked in {@link #append} or {@link #peek} when the queue closes gets a
 * {@link MqdbException}, and so does any later call except the status getters, which keep answering the last
 * committed state.
 *
 * <p><b>Threads.</b> Made for one appending thread (capture) and one consuming thread ({@link #peek},
 * {@link #markDelivered}, {@link #read}) at the same time, plus any number of status readers. All writes and reads of
 * entries take one lock; the appender waits on a condition for room, the consumer on another for data. The status
 * getters ({@link #head()}, {@link #undeliveredCount()} and the like) take no lock: they read an immutable snapshot of
 * the last commit. Several appenders or consumers are also safe, but their entries interleave in arrival order.
 */
public final class DurableQueue implements AutoCloseable {
    private static final String ENTRIES = "entries";
    private static final String META = "meta";
    private static final String COUNTERS = "counters";
    private static final String HEAD = "head";
    private static final String NEXT = "next";
    private static final String FIRST_RETAINED = "firstRetained";
    private static final String UNDELIVERED_BYTES = "undeliveredBytes";
    private static final String DELIVERED_BYTES = "deliveredBytes";

    private final Path file;
    private final long maxUndeliveredBytes;
    private final long retainDeliveredBytes;
    private final DB db;
    private final Map<Long, byte[]> entries;
    private final Map<String, Long> meta;
    private final Map<String, Long> counters;
    private final ReentrantLock lock = new ReentrantLock();
    private final Condition notFull = lock.newCondition();
    private final Condition notEmpty = lock.newCondition();
    /** The last committed positions; replaced (never changed) under {@link #lock} after each commit. */
    private volatile Positions positions;
    private boolean closed;

    /** One entry of the queue. */
    public record Entry(long index, byte[] payload) {
    }

    /** Positions and byte counts as of one commit. */
    private record Positions(long head, long next, long firstRetained, long undeliveredBytes, long deliveredBytes) {
        Positions {
            if (!(1 <= firstRetained && firstRetained <= head && head <= next) || undeliveredBytes < 0
                    || deliveredBytes < 0) {
                throw new IllegalStateException("inconsistent positions " + this);
            }
        }
    }

    /**
     * How the file is written; the benchmark compares the choices.
     *
     * @param layout the map the entries live in
     * @param mmap whether MapDB memory-maps the file (else it uses a {@code RandomAccessFile})
     * @param fsync whether a commit waits for the disk; without it a commit survives a crash of the process but
     *        not of the machine
     */
    record Tuning(Layout layout, boolean mmap, boolean fsync) {
        /** What {@link DurableQueue#open(Path, long, long)} uses. */
        static final Tuning DEFAULT = new Tuning(Layout.BTREE, false, true);
    }

    /** How the entries map is laid out in the file. */
    enum Layout {
        /** {@code BTreeMap<Long, byte[]>}: keys in order, appends touch the right edge, deletes the left. */
        BTREE,
        /** {@code HTreeMap<Long, byte[]>}: keys hashed. */
        HTREE
    }

    private DurableQueue(Path file, long maxUndeliveredBytes, long retainDeliveredBytes, DB db, Layout layout) {
        this.file = file;
        this.maxUndeliveredBytes = maxUndeliveredBytes;
        this.retainDeliveredBytes = retainDeliveredBytes;
        this.db = db;
        this.entries = switch (layout) {
            case BTREE -> db.treeMap(ENTRIES, Serializer.LONG, Serializer.BYTE_ARRAY).createOrOpen();
            case HTREE -> db.hashMap(ENTRIES, Serializer.LONG, Serializer.BYTE_ARRAY).createOrOpen();
        };
        this.meta = db.treeMap(META, Serializer.STRING, Serializer.LONG).createOrOpen();
        this.counters = db.treeMap(COUNTERS, Serializer.STRING, Serializer.LONG).createOrOpen();
        this.positions = new Positions(meta.getOrDefault(HEAD, 1L), meta.getOrDefault(NEXT, 1L),
                meta.getOrDefault(FIRST_RETAINED, 1L), meta.getOrDefault(UNDELIVERED_BYTES, 0L),
                meta.getOrDefault(DELIVERED_BYTES, 0L));
        db.commit();
    }

    /**
     * Opens the queue in {@code file}, creating it when missing. Called once by the node's publisher at start-up.
     *
     * @param file the MapDB file; MapDB keeps its write-ahead log next to it ({@code <file>.wal.N})
     * @param maxUndeliveredBytes bound of undelivered payload bytes: {@link #append} waits while they reach it
     * @param retainDeliveredBytes how many payload bytes of delivered entries stay readable for resends
     * @return the open queue
     * @throws MqdbException naming the file when it cannot be opened (used by another process, corrupt, no access)
     */
    public static DurableQueue open(Path file, long maxUndeliveredBytes, long retainDeliveredBytes) {
        return open(file, maxUndeliveredBytes, retainDeliveredBytes, Tuning.DEFAULT);
    }

    /** As {@link #open(Path, long, long)}, with the given tuning. */
    static DurableQueue open(Path file, long maxUndeliveredBytes, long retainDeliveredBytes, Tuning tuning) {
        Objects.requireNonNull(file, "file");
        if (maxUndeliveredBytes <= 0 || retainDeliveredBytes < 0) {
            throw new IllegalArgumentException("queue " + file + ": maxUndeliveredBytes must be > 0 and "
                    + "retainDeliveredBytes >= 0, got " + maxUndeliveredBytes + " and " + retainDeliveredBytes);
        }
        DB db;
        try {
            Path parent = file.toAbsolutePath().getParent();
            if (parent != null) {
                Files.createDirectories(parent);
            }
            DBMaker.Maker maker = DBMaker.fileDB(file.toFile()).transactionEnable().closeOnJvmShutdown();
            if (tuning.mmap()) {
                maker = maker.fileMmapEnableIfSupported().fileMmapPreclearDisable();
            }
            if (!tuning.fsync()) {
                maker = maker.fileSyncDisable();
            }
            db = maker.make();
        } catch (Exception e) {
            throw new MqdbException("queue " + file + ": cannot open (used by another process, corrupt, or not "
                    + "accessible): " + e, e);
        }
        try {
            return new DurableQueue(file, maxUndeliveredBytes, retainDeliveredBytes, db, tuning.layout());
        } catch (RuntimeException e) {
            db.close();
            throw new MqdbException("queue " + file + ": cannot read (corrupt or not a queue file): " + e, e);
        }
    }

    /**
     * Appends entries at the tail and sets the given named counters, all in one commit: when this returns, both are
     * durable. Called by the capture thread, which acknowledges its source only afterwards.
     *
     * <p>Waits while the undelivered payload bytes are at or above {@code maxUndeliveredBytes} (back-pressure: it
     * never drops), until {@link #markDelivered} makes room or the thread is interrupted. An append into an empty
     * queue never waits, however big.
     *
     * @param entries the payloads, in order; they get consecutive indexes
     * @param counters named counters to set in the same commit (for example the capture position); may be empty
     * @return the index of the first entry appended ({@link #nextIndex()} when {@code entries} is empty)
     * @throws InterruptedException when interrupted while waiting for room; nothing was appended then
     * @throws MqdbException when the queue is closed or the commit failed (nothing was appended then either)
     */
    public long append(List<byte[]> entries, Map<String, Long> counters) throws InterruptedException {
        Objects.requireNonNull(entries, "entries");
        Objects.requireNonNull(counters, "counters");
        long bytes = 0;
        for (byte[] payload : entries) {
            bytes += Objects.requireNonNull(payload, "entry").length;
        }
        lock.lockInterruptibly();
        try {
            checkOpen();
            while (positions.undeliveredBytes >= maxUndeliveredBytes && positions.next > positions.head) {
                notFull.await();
                checkOpen();
            }
            Positions p = positions;
            long index = p.next;
            Positions after = new Positions(p.head, p.next + entries.size(), p.firstRetained,
                    p.undeliveredBytes + bytes, p.deliveredBytes);
            try {
                for (byte[] payload : entries) {
                    this.entries.put(index++, payload);
                }
                this.counters.putAll(counters);
                writePositions(after);
                db.commit();
            } catch (RuntimeException e) {
                throw rollBack("append of " + entries.size() + " entries", e);
            }
            positions = after;
            if (!entries.isEmpty()) {
                notEmpty.signalAll();
            }
            return p.next;
        } finally {
            lock.unlock();
        }
    }

    /**
     * @param name a counter set by {@link #append}
     * @return its committed value, 0 when never set
     */
    public long counter(String name) {
        lock.lock();
        try {
            checkOpen();
            return counters.getOrDefault(name, 0L);
        } finally {
            lock.unlock();
        }
    }

    /**
     * Returns undelivered entries from the head, in order, without removing them. Called by the sender thread, which
     * publishes them and then calls {@link #markDelivered}; peeking again before that returns the same entries.
     *
     * @param max how many entries at most, at least 1
     * @param wait how long to wait for at least one
     * @return 1 to {@code max} entries, or an empty list when none came within {@code wait}
     * @throws InterruptedException when interrupted while waiting
     * @throws MqdbException when the queue is or gets closed
     */
    public List<Entry> peek(int max, Duration wait) throws InterruptedException {
        if (max < 1) {
            throw new IllegalArgumentException("queue " + file + ": peek max must be >= 1, got " + max);
        }
        long nanos = wait.toNanos();
        lock.lockInterruptibly();
        try {
            checkOpen();
            while (positions.next == positions.head) {
                if (nanos <= 0) {
                    return List.of();
                }
                nanos = notEmpty.awaitNanos(nanos);
                checkOpen();
            }
            return readRange(positions.head, max);
        } finally {
            lock.unlock();
        }
    }

    /**
     * Marks every entry up to {@code throughIndex} (inclusive) delivered and deletes the oldest delivered entries
     * while the delivered ones hold more than {@code retainDeliveredBytes}, in one commit; wakes a waiting appender.
     * Called by the sender thread after the broker acknowledged the entries. Indexes below the head are ignored, so
     * marking twice is harmless.
     *
     * @param throughIndex the last delivered index
     * @throws IllegalArgumentException when {@code throughIndex} was never appended
     * @throws MqdbException when the queue is closed or the commit failed (nothing changed then)
     */
    public void markDelivered(long throughIndex) {
        lock.lock();
        try {
            checkOpen();
            Positions p = positions;
            if (throughIndex >= p.next) {
                throw new IllegalArgumentException("queue " + file + ": cannot mark " + throughIndex
                        + " delivered, the last index appended is " + (p.next - 1));
            }
            if (throughIndex < p.head) {
                return;
            }
            Positions after;
            try {
                long moved = 0;
                for (long i = p.head; i <= throughIndex; i++) {
                    moved += sizeOf(i);
                }
                long first = p.firstRetained;
                long delivered = p.deliveredBytes + moved;
                while (delivered > retainDeliveredBytes && first <= throughIndex) {
                    byte[] removed = entries.remove(first++);
                    delivered -= removed == null ? 0 : removed.length;
                }
                after = new Positions(throughIndex + 1, p.next, first, p.undeliveredBytes - moved, delivered);
                writePositions(after);
                db.commit();
            } catch (RuntimeException e) {
                throw rollBack("marking " + p.head + ".." + throughIndex + " delivered", e);
            }
            positions = after;
            notFull.signalAll();
        } finally {
            lock.unlock();
        }
    }

    /**
     * Reads held entries, delivered or not, for a resend. Called by the sender thread.
     *
     * @param fromIndex the first index wanted
     * @param max how many entries at most, at least 1
     * @return the entries from {@code fromIndex} on (an empty list when {@code fromIndex >= nextIndex()}), or
     *         {@code Optional.empty()} when {@code fromIndex < firstRetained()}: those are no longer held
     * @throws MqdbException when the queue is closed
     */
    public Optional<List<Entry>> read(long fromIndex, int max) {
        if (max < 1) {
            throw new IllegalArgumentException("queue " + file + ": read max must be >= 1, got " + max);
        }
        lock.lock();
        try {
            checkOpen();
            if (fromIndex < positions.firstRetained) {
                return Optional.empty();
            }
            return Optional.of(readRange(fromIndex, max));
        } finally {
            lock.unlock();
        }
    }

    /** @return the oldest index still held, delivered or not; {@link #nextIndex()} when nothing is held */
    public long firstRetained() {
        return positions.firstRetained;
    }

    /** @return the oldest undelivered index; {@link #nextIndex()} when everything was delivered */
    public long head() {
        return positions.head;
    }

    /** @return the index the next appended entry gets */
    public long nextIndex() {
        return positions.next;
    }

    /** @return how many entries wait for delivery */
    public long undeliveredCount() {
        Positions p = positions;
        return p.next - p.head;
    }

    /** @return the payload bytes of the entries waiting for delivery */
    public long undeliveredBytes() {
        return positions.undeliveredBytes;
    }

    /** @return the payload bytes of the delivered entries still held for resends */
    public long retainedDeliveredBytes() {
        return positions.deliveredBytes;
    }

    /** @return the queue's file */
    public Path file() {
        return file;
    }

    /**
     * Commits and closes the file, and wakes waiting threads (they get a {@link MqdbException}). Idempotent. Called by
     * the publisher at shutdown, after its capture and sender threads stopped.
     */
    @Override
    public void close() {
        lock.lock();
        try {
            if (closed) {
                return;
            }
            closed = true;
            notFull.signalAll();
            notEmpty.signalAll();
            if (!db.isClosed()) { // closeOnJvmShutdown may have closed it
                db.commit();
                db.close();
            }
        } finally {
            lock.unlock();
        }
    }

    @Override
    public String toString() {
        Positions p = positions;
        return "DurableQueue[" + file + " held " + p.firstRetained + ".." + (p.next - 1) + ", head " + p.head + "]";
    }

    private List<Entry> readRange(long fromIndex, int max) {
        long end = Math.min(positions.next, fromIndex + max);
        List<Entry> out = new ArrayList<>((int) Math.max(0, end - fromIndex));
        for (long i = fromIndex; i < end; i++) {
            out.add(new Entry(i, payload(i)));
        }
        return out;
    }

    private byte[] payload(long index) {
        byte[] payload = entries.get(index);
        if (payload == null) {
            throw new MqdbException("queue " + file + ": entry " + index + " is missing, the file is corrupt");
        }
        return payload;
    }

    private long sizeOf(long index) {
        return payload(index).length;
    }

    private void writePositions(Positions p) {
        meta.put(HEAD, p.head);
        meta.put(NEXT, p.next);
        meta.put(FIRST_RETAINED, p.firstRetained);
        meta.put(UNDELIVERED_BYTES, p.undeliveredBytes);
        meta.put(DELIVERED_BYTES, p.deliveredBytes);
    }

    private MqdbException rollBack(String what, RuntimeException cause) {
        try {
            db.rollback();
        } catch (RuntimeException e) {
            cause.addSuppressed(e);
        }
        return new MqdbException("queue " + file + ": " + what + " failed and was rolled back: " + cause, cause);
    }

    private void checkOpen() {
        if (closed) {
            throw new MqdbException("queue " + file + " is closed");
        }
    }
}
