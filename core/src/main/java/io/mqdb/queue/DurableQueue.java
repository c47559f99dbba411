package io.mqdb.queue;

import io.mqdb.spi.MqdbException;
import java.io.BufferedInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.RandomAccessFile;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.channels.OverlappingFileLockException;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.TreeMap;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import java.util.zip.CRC32C;

/**
 * A durable, crash-safe FIFO of byte arrays in a folder of append-only segment files: the publisher's buffer between
 * capture and MQTT. The format and its guarantees are described in {@code docs/queue.md}.
 *
 * <p>Each entry gets an index: the first is 1, each append takes the next, an index is never given twice (not even
 * after a crash or once entries are deleted). Every {@link #append} writes its entries and then one commit record
 * (the positions and all named {@linkplain #counter counters}), every {@link #markDelivered} writes a commit record,
 * and each ends with one fsync. So when one of them returns, what it did survives a crash of the process (kill -9)
 * or of the machine; if the process dies before it returns, none of it does: on {@link #open}, records after the
 * last valid commit (a torn tail) are cut off.
 *
 * <p>Three regions, oldest first: delivered entries kept for resends ({@code firstRetained() .. head()-1}), then the
 * undelivered ones ({@code head() .. nextIndex()-1}). {@link #markDelivered} moves the head and drops the oldest
 * delivered entries while the delivered ones hold more than {@code retainDeliveredBytes} payload bytes; a segment
 * file is deleted once all its entries are dropped.
 *
 * <p><b>Lifecycle.</b> The node's publisher calls {@link #open} at start-up on its own thread, hands the queue to
 * its capture and sender threads, and calls {@link #close()} at shutdown after both have stopped. {@code close()}
 * is idempotent; a thread blocked in {@link #append} or {@link #peek} when the queue closes gets a
 * {@link MqdbException}, and so does any later call except the status getters, which keep answering the last
 * committed state.
 *
 * <p><b>Threads.</b> Made for one appending thread (capture) and one consuming thread ({@link #peek},
 * {@link #markDelivered}, {@link #read}) at the same time, plus any number of status readers. Two locks: the write
 * lock lets one writer ({@code append} or {@code markDelivered}) at a time write and fsync; the state lock guards the
 * in-memory index and is held only briefly, so {@code peek} and {@code read} never wait for an fsync. The appender
 * waits on a condition for room, the consumer on another for data. The status getters ({@link #head()},
 * {@link #undeliveredCount()} and the like) take no lock: they read an immutable snapshot of the last commit.
 * Several appenders or consumers are also safe, but their entries interleave in arrival order. Files are written and
 * read with {@link RandomAccessFile}, not {@link FileChannel}: interrupting a thread in a {@code FileChannel}
 * operation closes the channel for every thread.
 */
public final class DurableQueue implements AutoCloseable {
    /** A new segment is started when the current one reaches this size. */
    static final long DEFAULT_SEGMENT_BYTES = 64L * 1024 * 1024;
    /** int payload length, int CRC32C over kind, index and payload, byte kind, long index. */
    static final int HEADER_BYTES = 17;
    static final byte ENTRY = 1;
    static final byte COMMIT = 2;
    private static final Pattern SEGMENT_NAME = Pattern.compile("(\\d{20})\\.log");
    private static final String LOCK_FILE = "lock";
    private static final int WRITE_BUFFER_BYTES = 1 << 20;
    private static final int READ_BUFFER_BYTES = 256 * 1024;

    private final Path dir;
    private final long maxUndeliveredBytes;
    private final long retainDeliveredBytes;
    private final long segmentBytes;
    private final FileChannel lockChannel;
    private final FileLock fileLock;
    /** Guards the in-memory index ({@link #slots}, {@link #segments}) and the conditions; never held over an fsync. */
    private final ReentrantLock lock = new ReentrantLock();
    private final Condition notFull = lock.newCondition();
    private final Condition notEmpty = lock.newCondition();
    /** One writer at a time: held from the first byte written to the fsync and the publication of the new state. */
    private final ReentrantLock writeLock = new ReentrantLock();
    /** Segments by first index, oldest first; changed under both locks. */
    private final TreeMap<Long, Segment> segments = new TreeMap<>();
    /** Where each held entry ({@code firstRetained .. next-1}) is; changed under both locks. */
    private final Slots slots;
    /** The segment written to; under {@link #writeLock}. */
    private Segment active;
    private final byte[] writeBuffer = new byte[WRITE_BUFFER_BYTES];
    private final ByteBuffer writeView = ByteBuffer.wrap(writeBuffer);
    private final CRC32C writeCrc = new CRC32C();
    private final byte[] readBuffer = new byte[READ_BUFFER_BYTES];
    private final CRC32C readCrc = new CRC32C();
    /** The last committed state; replaced (never changed) under both locks after each fsync. */
    private volatile State state;
    private volatile boolean closed;
    /** The free space the writer leaves on the disk; {@link DiskFloor#NONE} unless opened with one. */
    private volatile DiskFloor diskFloor = DiskFloor.NONE;

    /** Set when a write failed; then every later write fails, until the queue is reopened. Under writeLock. */
    private Exception writeFailure;

    /** One entry of the queue. */
    public record Entry(long index, byte[] payload) {
    }

    /** Positions, byte counts and counters as of one commit. */
    private record State(long head, long next, long firstRetained, long undeliveredBytes, long deliveredBytes,
            Map<String, Long> counters) {
        State {
            if (!(1 <= firstRetained && firstRetained <= head && head <= next) || undeliveredBytes < 0
                    || deliveredBytes < 0) {
                throw new IllegalStateException("inconsistent positions " + this);
            }
            counters = Map.copyOf(counters);
        }
    }

    /** One segment file: a reader for any thread holding {@link #lock}, a writer only while it is the active one. */
    private static final class Segment {
        final long firstIndex;
        final Path path;
        final RandomAccessFile reader;
        RandomAccessFile writer;
        long size;

        Segment(long firstIndex, Path path, long size) throws IOException {
            this.firstIndex = firstIndex;
            this.path = path;
            this.size = size;
            this.reader = new RandomAccessFile(path.toFile(), "r");
        }

        void close() throws IOException {
            try (RandomAccessFile r = reader; RandomAccessFile w = writer) {
                writer = null;
            }
        }
    }

    private DurableQueue(Path dir, long maxUndeliveredBytes, long retainDeliveredBytes, long segmentBytes,
            FileChannel lockChannel, FileLock fileLock) throws IOException {
        this.dir = dir;
        this.maxUndeliveredBytes = maxUndeliveredBytes;
        this.retainDeliveredBytes = retainDeliveredBytes;
        this.segmentBytes = segmentBytes;
        this.lockChannel = lockChannel;
        this.fileLock = fileLock;
        this.slots = new Slots(1);
        recover();
    }

    /**
     * Opens the queue in the folder {@code dir}, creating it when missing. Called once by the node's publisher at
     * start-up. Cuts off a torn tail a crash left (records after the last valid commit) and deletes segments holding
     * only dropped entries.
     *
     * @param dir the queue's folder (for example {@code <data>/outbox/<store>.db}): segment files
     *        {@code <first index>.log} and a {@code lock} file that keeps a second process out
     * @param maxUndeliveredBytes bound of undelivered payload bytes: {@link #append} waits while they reach it
     * @param retainDeliveredBytes how many payload bytes of delivered entries stay readable for resends
     * @return the open queue
     * @throws MqdbException naming the folder when it cannot be opened (used by another process or already open in
     *         this one, not a folder, corrupt before its tail, no access)
     */
    public static DurableQueue open(Path dir, long maxUndeliveredBytes, long retainDeliveredBytes) {
        return open(dir, maxUndeliveredBytes, retainDeliveredBytes, DEFAULT_SEGMENT_BYTES);
    }

    /**
     * As {@link #open(Path, long, long)}; appends also wait while they would leave less free disk space than the floor.
     *
     * @param floor the free space to leave on the queue's disk
     * @return the open queue
     */
    public static DurableQueue open(Path dir, long maxUndeliveredBytes, long retainDeliveredBytes, DiskFloor floor) {
        DurableQueue q = open(dir, maxUndeliveredBytes, retainDeliveredBytes, DEFAULT_SEGMENT_BYTES);
        q.diskFloor = Objects.requireNonNull(floor, "floor");
        return q;
    }

    /** As {@link #open(Path, long, long)}, starting a new segment file when the current one reaches the given size. */
    static DurableQueue open(Path dir, long maxUndeliveredBytes, long retainDeliveredBytes, long segmentBytes) {
        Objects.requireNonNull(dir, "dir");
        if (maxUndeliveredBytes <= 0 || retainDeliveredBytes < 0 || segmentBytes <= 0) {
            throw new IllegalArgumentException("queue " + dir + ": maxUndeliveredBytes and segmentBytes must be > 0 "
                    + "and retainDeliveredBytes >= 0, got " + maxUndeliveredBytes + ", " + segmentBytes + " and "
                    + retainDeliveredBytes);
        }
        FileChannel lockChannel;
        FileLock fileLock;
        try {
            Files.createDirectories(dir);
            lockChannel = FileChannel.open(dir.resolve(LOCK_FILE), StandardOpenOption.CREATE, StandardOpenOption.WRITE);
        } catch (FileAlreadyExistsException e) {
            throw new MqdbException("queue " + dir + ": cannot open: not a folder", e);
        } catch (IOException e) {
            throw new MqdbException("queue " + dir + ": cannot open: " + e, e);
        }
        try {
            fileLock = lockChannel.tryLock();
        } catch (IOException | OverlappingFileLockException e) {
            fileLock = null;
        }
        if (fileLock == null) {
            closeQuietly(lockChannel, null);
            throw new MqdbException("queue " + dir + ": cannot open: used by another process, or already open in "
                    + "this one (" + dir.resolve(LOCK_FILE) + " is locked)");
        }
        try {
            return new DurableQueue(dir, maxUndeliveredBytes, retainDeliveredBytes, segmentBytes, lockChannel,
                    fileLock);
        } catch (IOException | RuntimeException e) {
            closeQuietly(lockChannel, e); // releases the lock too
            throw e instanceof MqdbException m ? m
                    : new MqdbException("queue " + dir + ": cannot open: " + e, e);
        }
    }

    /**
     * Appends entries at the tail and sets the given named counters, in one commit: when this returns, both are
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
     * @throws MqdbException when the queue is closed, or the write failed: the append is then not acknowledged, and
     *         the queue refuses writes until it is reopened
     */
    public long append(List<byte[]> entries, Map<String, Long> counters) throws InterruptedException {
        Objects.requireNonNull(entries, "entries");
        Objects.requireNonNull(counters, "counters");
        long bytes = 0;
        for (byte[] payload : entries) {
            bytes += Objects.requireNonNull(payload, "entry").length;
        }
        counters.forEach((name, value) -> {
            Objects.requireNonNull(name, "counter name");
            Objects.requireNonNull(value, "counter value");
        });
        lockWriterWithRoom(bytes);
        try {
            State s = state;
            Map<String, Long> merged = new HashMap<>(s.counters());
            merged.putAll(counters);
            State after = new State(s.head(), s.next() + entries.size(), s.firstRetained(),
                    s.undeliveredBytes() + bytes, s.deliveredBytes(), merged);
            long[] positions = write(entries, after, "append of " + entries.size() + " entries");
            lock.lock();
            try {
                for (int i = 0; i < entries.size(); i++) {
                    slots.add(positions[i], entries.get(i).length);
                }
                state = after;
                if (!entries.isEmpty()) {
                    notEmpty.signalAll();
                }
            } finally {
                lock.unlock();
            }
            return s.next();
        } finally {
            writeLock.unlock();
        }
    }

    /**
     * @param name a counter set by {@link #append}
     * @return its committed value, 0 when never set
     * @throws MqdbException when the queue is closed
     */
    public long counter(String name) {
        checkOpen();
        return state.counters().getOrDefault(name, 0L);
    }

    /**
     * Returns undelivered entries from the head, in order, without removing them. Called by the sender thread, which
     * publishes them and then calls {@link #markDelivered}; peeking again before that returns the same entries.
     *
     * @param max how many entries at most, at least 1
     * @param wait how long to wait for at least one
     * @return 1 to {@code max} entries, or an empty list when none came within {@code wait}
     * @throws InterruptedException when interrupted while waiting
     * @throws MqdbException when the queue is or gets closed, or an entry cannot be read back
     */
    public List<Entry> peek(int max, Duration wait) throws InterruptedException {
        if (max < 1) {
            throw new IllegalArgumentException("queue " + dir + ": peek max must be >= 1, got " + max);
        }
        long nanos = wait.toNanos();
        lock.lockInterruptibly();
        try {
            checkOpen();
            while (state.next() == state.head()) {
                if (nanos <= 0) {
                    return List.of();
                }
                nanos = notEmpty.awaitNanos(nanos);
                checkOpen();
            }
            return readRange(state.head(), max);
        } finally {
            lock.unlock();
        }
    }

    /**
     * Marks every entry up to {@code throughIndex} (inclusive) delivered and drops the oldest delivered entries
     * while the delivered ones hold more than {@code retainDeliveredBytes}, in one commit; deletes segment files left
     * without entries and wakes a waiting appender. Called by the sender thread after the broker acknowledged the
     * entries. Indexes below the head are ignored, so marking twice is harmless.
     *
     * @param throughIndex the last delivered index
     * @throws IllegalArgumentException when {@code throughIndex} was never appended
     * @throws MqdbException when the queue is closed, or the write failed: the head did not move then, and the
     *         queue refuses writes until it is reopened
     */
    public void markDelivered(long throughIndex) {
        writeLock.lock();
        try {
            checkWritable();
            State s = state;
            if (throughIndex >= s.next()) {
                throw new IllegalArgumentException("queue " + dir + ": cannot mark " + throughIndex
                        + " delivered, the last index appended is " + (s.next() - 1));
            }
            if (throughIndex < s.head()) {
                return;
            }
            long moved = 0;
            for (long i = s.head(); i <= throughIndex; i++) {
                moved += slots.length(i);
            }
            long first = s.firstRetained();
            long delivered = s.deliveredBytes() + moved;
            while (delivered > retainDeliveredBytes && first <= throughIndex) {
                delivered -= slots.length(first++);
            }
            State after = new State(throughIndex + 1, s.next(), first, s.undeliveredBytes() - moved, delivered,
                    s.counters());
            write(List.of(), after, "marking " + s.head() + ".." + throughIndex + " delivered");
            lock.lock();
            try {
                slots.dropFirst(first - s.firstRetained());
                state = after;
                deleteDroppedSegments(first);
                notFull.signalAll();
            } finally {
                lock.unlock();
            }
        } finally {
            writeLock.unlock();
        }
    }

    /**
     * Reads held entries, delivered or not, for a resend. Called by the sender thread.
     *
     * @param fromIndex the first index wanted
     * @param max how many entries at most, at least 1
     * @return the entries from {@code fromIndex} on (an empty list when {@code fromIndex >= nextIndex()}), or
     *         {@code Optional.empty()} when {@code fromIndex < firstRetained()}: those are no longer held
     * @throws MqdbException when the queue is closed, or an entry cannot be read back
     */
    public Optional<List<Entry>> read(long fromIndex, int max) {
        if (max < 1) {
            throw new IllegalArgumentException("queue " + dir + ": read max must be >= 1, got " + max);
        }
        lock.lock();
        try {
            checkOpen();
            if (fromIndex < state.firstRetained()) {
                return Optional.empty();
            }
            return Optional.of(readRange(fromIndex, max));
        } finally {
            lock.unlock();
        }
    }

    /** @return the oldest index still held, delivered or not; {@link #nextIndex()} when nothing is held */
    public long firstRetained() {
        return state.firstRetained();
    }

    /** @return the oldest undelivered index; {@link #nextIndex()} when everything was delivered */
    public long head() {
        return state.head();
    }

    /** @return the index the next appended entry gets */
    public long nextIndex() {
        return state.next();
    }

    /** @return how many entries wait for delivery */
    public long undeliveredCount() {
        State s = state;
        return s.next() - s.head();
    }

    /** @return the payload bytes of the entries waiting for delivery */
    public long undeliveredBytes() {
        return state.undeliveredBytes();
    }

    /** @return the payload bytes of the delivered entries still held for resends */
    public long retainedDeliveredBytes() {
        return state.deliveredBytes();
    }

    /** @return the queue's folder */
    public Path file() {
        return dir;
    }

    /**
     * Wakes waiting threads (they get a {@link MqdbException}), waits for a write in progress to finish, closes the
     * files and releases the folder's lock. Everything committed is already on disk. Idempotent. Called by the
     * publisher at shutdown, after its capture and sender threads stopped.
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
        } finally {
            lock.unlock();
        }
        writeLock.lock();
        lock.lock();
        try {
            Exception failure = null;
            for (Segment segment : segments.values()) {
                try {
                    segment.close();
                } catch (IOException e) {
                    failure = e;
                }
            }
            closeQuietly(fileLock, null);
            closeQuietly(lockChannel, null);
            if (failure != null) {
                throw new MqdbException("queue " + dir + ": closing a segment failed: " + failure, failure);
            }
        } finally {
            lock.unlock();
            writeLock.unlock();
        }
    }

    @Override
    public String toString() {
        State s = state;
        return "DurableQueue[" + dir + " held " + s.firstRetained() + ".." + (s.next() - 1) + ", head " + s.head()
                + "]";
    }

    // ---- writing (under writeLock) ----

    /**
     * Takes the write lock once there is room (or the queue is empty) and the disk can take {@code bytes} above its
     * floor; waits without holding it (for room, until signalled; for disk space, polling every second).
     */
    private void lockWriterWithRoom(long bytes) throws InterruptedException {
        while (true) {
            lock.lockInterruptibly();
            try {
                checkOpen();
                while (!hasRoom() || !diskFloor.allows(bytes)) {
                    if (hasRoom()) {
                        notFull.await(1, java.util.concurrent.TimeUnit.SECONDS);
                    } else {
                        notFull.await();
                    }
                    checkOpen();
                }
            } finally {
                lock.unlock();
            }
            writeLock.lockInterruptibly();
            boolean ready = false;
            try {
                checkWritable();
                ready = hasRoom(); // another appender may have filled it meanwhile
            } finally {
                if (!ready) {
                    writeLock.unlock();
                }
            }
            if (ready) {
                return;
            }
        }
    }

    private boolean hasRoom() {
        State s = state;
        return s.undeliveredBytes() < maxUndeliveredBytes || s.next() == s.head();
    }

    /**
     * Writes the entries, then a commit record of {@code after}, and fsyncs once; starts a new segment first when the
     * active one is full. On failure cuts the segment back to where it was and refuses later writes.
     *
     * @return each entry's position in the active segment
     */
    private long[] write(List<byte[]> entries, State after, String what) {
        try {
            if (active.size >= segmentBytes) {
                startSegment(state);
            }
        } catch (IOException | RuntimeException e) {
            writeFailure = e;
            throw new MqdbException("queue " + dir + ": " + what + " failed starting a new segment: " + e
                    + "; the queue refuses writes until it is reopened", e);
        }
        Segment segment = active;
        long start = segment.size;
        long[] positions = new long[entries.size()];
        try {
            long position = start;
            writeView.clear();
            long index = after.next() - entries.size();
            for (int i = 0; i < entries.size(); i++) {
                positions[i] = position;
                position += putRecord(segment.writer, ENTRY, index++, entries.get(i));
            }
            putRecord(segment.writer, COMMIT, after.next(), encodeCommit(after));
            flush(segment.writer);
            segment.writer.getFD().sync();
            segment.size = segment.writer.getFilePointer();
            return positions;
        } catch (IOException | RuntimeException e) {
            writeFailure = e;
            try {
                segment.writer.setLength(start);
                segment.writer.seek(start);
                segment.writer.getFD().sync();
            } catch (IOException | RuntimeException truncation) {
                e.addSuppressed(truncation);
            }
            throw new MqdbException("queue " + dir + ": " + what + " failed writing " + segment.path + ": " + e
                    + "; the queue refuses writes until it is reopened", e);
        }
    }

    /** Puts one record into the write buffer, flushing it to {@code out} when full. @return the record's size */
    private int putRecord(RandomAccessFile out, byte kind, long index, byte[] payload) throws IOException {
        if (writeView.remaining() < HEADER_BYTES) {
            flush(out);
        }
        int at = writeView.position();
        writeView.putInt(payload.length).putInt(0).put(kind).putLong(index);
        writeCrc.reset();
        writeCrc.update(writeBuffer, at + 2 * Integer.BYTES, 1 + Long.BYTES);
        writeCrc.update(payload);
        writeView.putInt(at + Integer.BYTES, (int) writeCrc.getValue());
        if (writeView.remaining() >= payload.length) {
            writeView.put(payload);
        } else {
            flush(out);
            out.write(payload);
        }
        return HEADER_BYTES + payload.length;
    }

    private void flush(RandomAccessFile out) throws IOException {
        out.write(writeBuffer, 0, writeView.position());
        writeView.clear();
    }

    /**
     * Starts segment {@code <next>.log} holding one commit record of {@code s}, so a segment alone knows the state
     * at its start and older ones can be deleted. Written to a temporary file, synced and renamed, so it is complete
     * or absent; replaces the active segment when that one holds no entry (it has the same name then).
     */
    private void startSegment(State s) throws IOException {
        Path path = segmentPath(s.next());
        Path temporary = dir.resolve(path.getFileName() + ".tmp");
        long size;
        try (RandomAccessFile out = new RandomAccessFile(temporary.toFile(), "rw")) {
            out.setLength(0);
            writeView.clear();
            putRecord(out, COMMIT, s.next(), encodeCommit(s));
            flush(out);
            out.getFD().sync();
            size = out.length();
        }
        Files.move(temporary, path, StandardCopyOption.ATOMIC_MOVE);
        syncFolder();
        Segment segment = new Segment(s.next(), path, size);
        segment.writer = new RandomAccessFile(path.toFile(), "rw");
        segment.writer.seek(size);
        Segment previous = active;
        lock.lock();
        try {
            Segment replaced = segments.put(segment.firstIndex, segment);
            if (replaced != null) {
                replaced.close();
            }
            active = segment;
        } finally {
            lock.unlock();
        }
        if (previous != null && previous.writer != null) {
            previous.writer.close();
            previous.writer = null;
        }
    }

    private void syncFolder() {
        try (FileChannel folder = FileChannel.open(dir, StandardOpenOption.READ)) {
            folder.force(true);
        } catch (IOException e) {
            // some systems cannot sync a folder; the rename is still atomic
        }
    }

    /** Deletes the oldest segments whose entries all lie before {@code firstRetained}; never the active one. */
    private void deleteDroppedSegments(long firstRetained) {
        Iterator<Map.Entry<Long, Segment>> it = segments.entrySet().iterator();
        while (it.hasNext()) {
            Segment segment = it.next().getValue();
            Long following = segments.higherKey(segment.firstIndex);
            if (segment == active || following == null || following > firstRetained) {
                return;
            }
            try {
                segment.close();
                Files.deleteIfExists(segment.path);
            } catch (IOException e) {
                return; // the next markDelivered or open tries again; never leave a gap behind
            }
            it.remove();
        }
    }

    private static byte[] encodeCommit(State s) {
        List<Map.Entry<byte[], Long>> counters = new ArrayList<>();
        int size = 2 * Long.BYTES + Integer.BYTES;
        for (Map.Entry<String, Long> counter : s.counters().entrySet()) {
            byte[] name = counter.getKey().getBytes(StandardCharsets.UTF_8);
            counters.add(Map.entry(name, counter.getValue()));
            size += Integer.BYTES + name.length + Long.BYTES;
        }
        ByteBuffer out = ByteBuffer.allocate(size).putLong(s.head()).putLong(s.firstRetained())
                .putInt(counters.size());
        for (Map.Entry<byte[], Long> counter : counters) {
            out.putInt(counter.getKey().length).put(counter.getKey()).putLong(counter.getValue());
        }
        return out.array();
    }

    // ---- reading (under lock) ----

    private List<Entry> readRange(long fromIndex, int max) {
        long end = Math.min(state.next(), fromIndex + max);
        List<Entry> out = new ArrayList<>((int) Math.max(0, end - fromIndex));
        long index = fromIndex;
        while (index < end) {
            Map.Entry<Long, Segment> floor = segments.floorEntry(index);
            Long following = segments.higherKey(floor.getKey());
            long segmentEnd = following == null ? end : Math.min(end, following);
            try {
                readEntries(floor.getValue(), index, segmentEnd, out);
            } catch (IOException e) {
                throw new MqdbException("queue " + dir + ": cannot read entries " + index + ".." + (segmentEnd - 1)
                        + " from " + floor.getValue().path + ": " + e, e);
            }
            index = segmentEnd;
        }
        return out;
    }

    /** Reads entries {@code from .. to-1} of one segment, as many per file read as fit the read buffer. */
    private void readEntries(Segment segment, long from, long to, List<Entry> out) throws IOException {
        long index = from;
        while (index < to) {
            long start = slots.position(index);
            long last = index;
            while (last + 1 < to && endOf(last + 1) - start <= readBuffer.length) {
                last++;
            }
            int span = Math.toIntExact(endOf(last) - start);
            byte[] buffer = span <= readBuffer.length ? readBuffer : new byte[span];
            segment.reader.seek(start);
            segment.reader.readFully(buffer, 0, span);
            for (long i = index; i <= last; i++) {
                out.add(new Entry(i, payloadAt(segment, buffer, (int) (slots.position(i) - start), i)));
            }
            index = last + 1;
        }
    }

    private long endOf(long index) {
        return slots.position(index) + HEADER_BYTES + slots.length(index);
    }

    private byte[] payloadAt(Segment segment, byte[] buffer, int offset, long index) {
        ByteBuffer in = ByteBuffer.wrap(buffer, offset, buffer.length - offset);
        int length = in.getInt();
        int crc = in.getInt();
        byte kind = in.get();
        long stored = in.getLong();
        readCrc.reset();
        readCrc.update(buffer, offset + 2 * Integer.BYTES, 1 + Long.BYTES + length);
        if (length != slots.length(index) || kind != ENTRY || stored != index || (int) readCrc.getValue() != crc) {
            throw new MqdbException("queue " + dir + ": entry " + index + " in " + segment.path + " at byte "
                    + slots.position(index) + " is corrupt (checksum or header mismatch)");
        }
        byte[] payload = new byte[length];
        System.arraycopy(buffer, offset + HEADER_BYTES, payload, 0, length);
        return payload;
    }

    // ---- opening ----

    /** The last valid commit found by {@link #recover()}, and where it ends. */
    private record Commit(State state, long segment, long end) {
    }

    /**
     * Scans the segments oldest first, checking every record; keeps the state of the last valid commit, cuts off what
     * follows it (a torn tail), drops segments holding only dropped entries, and rebuilds {@link #slots}.
     */
    private void recover() throws IOException {
        try (Stream<Path> files = Files.list(dir)) {
            for (Path temporary : files.filter(f -> f.getFileName().toString().endsWith(".log.tmp")).toList()) {
                Files.delete(temporary); // a segment being started when the process died
            }
        }
        TreeMap<Long, Path> found = new TreeMap<>();
        try (Stream<Path> files = Files.list(dir)) {
            files.forEach(f -> {
                Matcher m = SEGMENT_NAME.matcher(f.getFileName().toString());
                if (m.matches()) {
                    found.put(Long.parseLong(m.group(1)), f);
                }
            });
        }
        if (found.isEmpty()) {
            state = new State(1, 1, 1, 0, 0, Map.of());
            startSegment(state);
            return;
        }
        Commit last = null;
        long expected = found.firstKey();
        slots.reset(expected);
        for (Map.Entry<Long, Path> f : found.entrySet()) {
            if (f.getKey() != expected) {
                // a gap: what came before can only be dropped entries (checked below)
                slots.reset(f.getKey());
                expected = f.getKey();
            }
            Scan scan = scan(f.getKey(), f.getValue(), expected);
            if (scan.commit != null) {
                last = scan.commit;
            }
            if (scan.validEnd < Files.size(f.getValue()) && !f.getKey().equals(found.lastKey())) {
                throw new MqdbException("queue " + dir + ": " + f.getValue() + " is corrupt at byte " + scan.validEnd
                        + ", and it is not the last segment (a crash tears only the tail)");
            }
            expected = scan.next;
        }
        if (last == null) {
            throw new MqdbException("queue " + dir + ": no valid commit record in " + found.values()
                    + ": not a queue, or corrupt");
        }
        State s = last.state();
        if (slots.firstIndex() > s.firstRetained()) {
            throw new MqdbException("queue " + dir + ": entries " + s.firstRetained() + ".." + (slots.firstIndex() - 1)
                    + " are held but their segment is missing");
        }
        // cut off the torn tail: records after the last commit, in its segment and any later one
        Path lastPath = found.get(last.segment());
        if (Files.size(lastPath) > last.end()) {
            try (RandomAccessFile out = new RandomAccessFile(lastPath.toFile(), "rw")) {
                out.setLength(last.end());
                out.getFD().sync();
            }
        }
        for (Path later : found.tailMap(last.segment(), false).values()) {
            Files.delete(later);
        }
        found.tailMap(last.segment(), false).clear();
        slots.dropLast(slots.endIndex() - s.next());
        slots.dropFirst(s.firstRetained() - slots.firstIndex());
        long undelivered = 0;
        long delivered = 0;
        for (long i = s.firstRetained(); i < s.next(); i++) {
            if (i < s.head()) {
                delivered += slots.length(i);
            } else {
                undelivered += slots.length(i);
            }
        }
        state = new State(s.head(), s.next(), s.firstRetained(), undelivered, delivered, s.counters());
        for (Map.Entry<Long, Path> f : found.entrySet()) {
            Path path = f.getValue();
            segments.put(f.getKey(), new Segment(f.getKey(), path, Files.size(path)));
        }
        active = segments.lastEntry().getValue();
        active.writer = new RandomAccessFile(active.path.toFile(), "rw");
        active.writer.seek(active.size);
        deleteDroppedSegments(state.firstRetained());
    }

    /** What one segment holds: where its valid records end, the index after its last entry, its last commit. */
    private record Scan(long validEnd, long next, Commit commit) {
    }

    /** Reads one segment's records until the end or the first invalid one, adding each entry to {@link #slots}. */
    private Scan scan(long segment, Path path, long firstIndex) throws IOException {
        long size = Files.size(path);
        long position = 0;
        long expected = firstIndex;
        Commit commit = null;
        byte[] header = new byte[HEADER_BYTES];
        byte[] payload = new byte[4096];
        CRC32C crc = new CRC32C();
        try (InputStream in = new BufferedInputStream(Files.newInputStream(path), 1 << 16)) {
            while (in.readNBytes(header, 0, HEADER_BYTES) == HEADER_BYTES) {
                ByteBuffer h = ByteBuffer.wrap(header);
                int length = h.getInt();
                int stored = h.getInt();
                byte kind = h.get();
                long index = h.getLong();
                if (length < 0 || length > size - position - HEADER_BYTES || index != expected
                        || (kind != ENTRY && kind != COMMIT)) {
                    break;
                }
                if (payload.length < length) {
                    payload = new byte[Math.max(length, 2 * payload.length)];
                }
                if (in.readNBytes(payload, 0, length) != length) {
                    break;
                }
                crc.reset();
                crc.update(header, 2 * Integer.BYTES, 1 + Long.BYTES);
                crc.update(payload, 0, length);
                if ((int) crc.getValue() != stored) {
                    break;
                }
                long end = position + HEADER_BYTES + length;
                if (kind == ENTRY) {
                    slots.add(position, length);
                    expected++;
                } else {
                    State s = decodeCommit(index, payload, length);
                    if (s == null) {
                        break;
                    }
                    commit = new Commit(s, segment, end);
                }
                position = end;
            }
        }
        return new Scan(position, expected, commit);
    }

    /** @return the state a commit record holds (byte counts left 0), or null when it does not decode */
    private static State decodeCommit(long next, byte[] payload, int length) {
        try {
            ByteBuffer in = ByteBuffer.wrap(payload, 0, length);
            long head = in.getLong();
            long firstRetained = in.getLong();
            int count = in.getInt();
            Map<String, Long> counters = new HashMap<>();
            for (int i = 0; i < count; i++) {
                byte[] name = new byte[in.getInt()];
                in.get(name);
                counters.put(new String(name, StandardCharsets.UTF_8), in.getLong());
            }
            return in.hasRemaining() ? null : new State(head, next, firstRetained, 0, 0, counters);
        } catch (RuntimeException e) {
            return null;
        }
    }

    // ---- helpers ----

    private Path segmentPath(long firstIndex) {
        return dir.resolve(String.format("%020d.log", firstIndex));
    }

    private void checkOpen() {
        if (closed) {
            throw new MqdbException("queue " + dir + " is closed");
        }
    }

    private void checkWritable() {
        checkOpen();
        if (writeFailure != null) {
            throw new MqdbException("queue " + dir + ": an earlier write failed (" + writeFailure
                    + "); reopen the queue", writeFailure);
        }
    }

    private static void closeQuietly(AutoCloseable closeable, Exception primary) {
        try {
            closeable.close();
        } catch (Exception e) {
            if (primary != null) {
                primary.addSuppressed(e);
            }
        }
    }

    /**
     * Position and length of each held entry in its segment, in index order: a ring that grows at the tail and
     * shrinks at the head in O(1), 12 bytes per entry.
     */
    private static final class Slots {
        private static final int MIN_CAPACITY = 1024;
        private long[] positions = new long[MIN_CAPACITY];
        private int[] lengths = new int[MIN_CAPACITY];
        private int start;
        private int size;
        private long firstIndex;

        Slots(long firstIndex) {
            this.firstIndex = firstIndex;
        }

        long firstIndex() {
            return firstIndex;
        }

        long endIndex() {
            return firstIndex + size;
        }

        void reset(long first) {
            start = 0;
            size = 0;
            firstIndex = first;
        }

        void add(long position, int length) {
            if (size == positions.length) {
                resize(positions.length * 2);
            }
            int slot = (start + size) & (positions.length - 1);
            positions[slot] = position;
            lengths[slot] = length;
            size++;
        }

        long position(long index) {
            return positions[slot(index)];
        }

        int length(long index) {
            return lengths[slot(index)];
        }

        void dropFirst(long count) {
            checkCount(count);
            start = (int) ((start + count) & (positions.length - 1));
            size -= (int) count;
            firstIndex += count;
            if (positions.length > MIN_CAPACITY && size < positions.length / 4) {
                resize(positions.length / 2);
            }
        }

        void dropLast(long count) {
            checkCount(count);
            size -= (int) count;
        }

        private void checkCount(long count) {
            if (count < 0 || count > size) {
                throw new IllegalStateException("cannot drop " + count + " of " + size + " slots");
            }
        }

        private int slot(long index) {
            long offset = index - firstIndex;
            if (offset < 0 || offset >= size) {
                throw new IllegalStateException("entry " + index + " is not held (" + firstIndex + ".."
                        + (endIndex() - 1) + ")");
            }
            return (int) ((start + offset) & (positions.length - 1));
        }

        private void resize(int capacity) {
            long[] newPositions = new long[capacity];
            int[] newLengths = new int[capacity];
            for (int i = 0; i < size; i++) {
                int slot = (start + i) & (positions.length - 1);
                newPositions[i] = positions[slot];
                newLengths[i] = lengths[slot];
            }
            positions = newPositions;
            lengths = newLengths;
            start = 0;
        }
    }
}
