package io.mqdb.version;

import io.mqdb.spi.Bytes;
import io.mqdb.spi.Json;
import io.mqdb.spi.Key;
import io.mqdb.spi.MqdbException;
import io.mqdb.spi.TableId;
import io.mqdb.spi.Version;
import java.io.BufferedInputStream;
import java.io.BufferedOutputStream;
import java.io.DataInputStream;
import java.io.FileInputStream;
import java.io.FileOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.RandomAccessFile;
import java.math.BigDecimal;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.channels.OverlappingFileLockException;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.time.Instant;
import java.time.LocalDate;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import java.util.UUID;
import java.util.zip.CRC32C;
import org.mapdb.DB;
import org.mapdb.DBMaker;
import org.mapdb.HTreeMap;
import org.mapdb.Serializer;

/**
 * The node's last-writer-wins bookkeeping: for every key of every table this node applies replicated changes to (or
 * writes in two-way sync), the newest version it holds, and whether that version is a delete (a tombstone, kept for
 * the configured retention so that a late, older update cannot bring the row back). Also the small counters that
 * must change in the same commit: the last contiguous sequence number applied per channel and origin, and the last
 * snapshot merged.
 *
 * <h2>Storage</h2>
 * A folder, {@code <data-dir>/versions.db/}, holding a checkpoint {@code checkpoint-<g>} (the whole state, written
 * to a temporary file, fsynced and renamed) and the log of what changed since, {@code log-<g>}: an append-only file
 * of frames, each one {@link #commit()}'s updates (int length, int CRC32C, the updates). The whole state is also in
 * memory ({@link KeyTable}: two {@code int} arrays on the heap, the entries off-heap), so {@link #get} never reads
 * the disk. When the log outgrows {@value #DEFAULT_CHECKPOINT_LOG_BYTES} bytes (or the last checkpoint, whichever is
 * larger), and at {@link #close()}, a commit writes checkpoint {@code g+1}, starts {@code log-<g+1>} and deletes
 * generation {@code g}. Reopening loads the newest checkpoint and replays its log; see docs/version-index.md.
 *
 * <h2>Guarantees</h2>
 * After a crash (kill -9, power cut) at any moment, reopening gives the state of the last {@code commit()} that
 * returned, or of a later one that reached its frame's fsync: every {@code record} and {@code counter} call up to that
 * commit, in call order, and none after it. So a version recorded before a commit that returned is never lost, and
 * since a counter is set after the versions it covers, a counter never runs ahead of them. A frame cut short by the
 * crash (a torn tail) is cut off at open; a log or checkpoint that is corrupt anywhere else is moved aside once
 * ({@code versions.db.corrupt-<millis>}, with a WARN) and the index starts empty, so origins are asked to publish
 * again.
 *
 * <h2>Threads</h2>
 * Thread-safe. Appliers (one thread per channel) and capture threads share one index; {@code get}, {@code record},
 * {@code counter}, {@code staleKeys} take the index's lock briefly. {@code commit()} writes its frame under that lock,
 * then fsyncs outside it under a second lock, so one fsync covers the frames every thread wrote before it (group
 * commit) and readers never wait for the disk. {@link #close()} is idempotent and called by the node on shutdown.
 */
public final class VersionIndex implements AutoCloseable {
    private static final org.slf4j.Logger LOG = org.slf4j.LoggerFactory.getLogger(VersionIndex.class);
    /** The log size beyond which a commit writes a checkpoint (or the last checkpoint's size, if larger). */
    static final long DEFAULT_CHECKPOINT_LOG_BYTES = 16L << 20;
    /** Slots a checkpoint copies per hold of the index's lock. */
    private static final int SCAN_SLOTS = 1 << 14;
    private static final int LOG_MAGIC = 0x4D51564C; // "MQVL"
    private static final int CHECKPOINT_MAGIC = 0x4D515643; // "MQVC"
    private static final int FORMAT = 1;
    private static final int FILE_HEADER = 16;
    private static final int FRAME_HEADER = 8;
    private static final int CHECKPOINT_FRAME_BYTES = 1 << 20;
    private static final byte OP_ORIGIN = 1;
    private static final byte OP_TABLE = 2;
    private static final byte OP_PUT = 3;
    private static final byte OP_REMOVE = 4;
    private static final byte OP_COUNTER = 5;
    private static final byte OP_END = 6;

    private final Path dir;
    private final long checkpointLogBytes;
    /** Held by a committer over its fsync and by a checkpoint; taken before this index's lock, never inside it. */
    private final Object syncLock = new Object();
    private final KeyTable keys = new KeyTable();
    private final KeyBytes encoder = new KeyBytes();
    private final List<String> origins = new ArrayList<>();
    private final Map<String, Integer> originIds = new HashMap<>();
    private final List<TableId> tables = new ArrayList<>();
    private final Map<TableId, Integer> tableIds = new HashMap<>();
    private final Map<String, Long> counters = new HashMap<>();
    /** The updates since the last commit, as the payload of the next log frame. */
    private Frame pending = new Frame();
    private final CRC32C crc = new CRC32C();
    private RandomAccessFile lockFile;
    private FileLock lock;
    /** The generation of the log being written. */
    private long generation;
    /** The generation of the newest complete checkpoint, 0 for none. */
    private long checkpointGeneration;
    private boolean checkpointing;
    private RandomAccessFile log;
    private long logBytes;
    private long checkpointBytes;
    /** Frames written to the log so far (guarded by this). */
    private long writtenFrames;
    /** Frames known to be on disk (guarded by {@link #syncLock}). */
    private long syncedFrames;
    private MqdbException failed;
    private boolean closed;

    /**
     * One key's newest known version.
     *
     * @param version the version
     * @param deleted whether it is a delete (a tombstone)
     * @param recordedMillis when it was recorded, for tombstone retention (whole seconds)
     */
    public record Entry(Version version, boolean deleted, long recordedMillis) {
    }

    private VersionIndex(Path dir, long checkpointLogBytes) {
        this.dir = dir;
        this.checkpointLogBytes = checkpointLogBytes;
    }

    /**
     * Opens or creates the index, replaying its log. Called once by the node at start, before any applier runs.
     *
     * <p>A MapDB file left at {@code file} by the previous version of mqdb is imported once (when it was closed
     * cleanly; otherwise it is discarded with a WARN and origins are asked to publish again), and the
     * {@code versions.db.unclean-*} copies that version left behind are deleted.
     *
     * @param file the index folder ({@code <data-dir>/versions.db})
     * @return the open index
     * @throws MqdbException when the folder cannot be opened (locked by another node process, no access)
     */
    public static VersionIndex open(Path file) {
        return open(file, DEFAULT_CHECKPOINT_LOG_BYTES);
    }

    /** {@link #open(Path)} with another checkpoint threshold (tests). */
    static VersionIndex open(Path file, long checkpointLogBytes) {
        Path marker = sibling(file, ".open");
        Path legacy = sibling(file, ".mapdb");
        boolean legacyUnclean = Files.exists(marker);
        VersionIndex index;
        try {
            Files.createDirectories(file.toAbsolutePath().getParent());
            if (Files.isRegularFile(file)) {
                Files.move(file, legacy, StandardCopyOption.ATOMIC_MOVE); // the previous version's MapDB file
            }
            Files.createDirectories(file);
            index = new VersionIndex(file, checkpointLogBytes);
            index.lock();
            try {
                index.load();
            } catch (Corrupt e) {
                index.unlock();
                Path aside = sibling(file, ".corrupt-" + System.currentTimeMillis());
                LOG.warn("version index {} is corrupt ({}); moving it to {} and starting an empty one: origins "
                        + "will be asked to publish again", file, e.getMessage(), aside);
                Files.move(file, aside);
                Files.createDirectories(file);
                index = new VersionIndex(file, checkpointLogBytes);
                index.lock();
                index.load();
            }
        } catch (IOException | Corrupt e) {
            throw new MqdbException("cannot open version index " + file + ": " + e.getMessage(), e);
        }
        try {
            if (Files.exists(legacy)) {
                if (legacyUnclean) {
                    LOG.warn("version index {}: the previous version's MapDB index was not closed cleanly; "
                            + "discarding it: origins will be asked to publish again", file);
                } else {
                    try {
                        index.importMapDb(legacy);
                    } catch (RuntimeException e) {
                        LOG.warn("version index {}: cannot import the previous version's MapDB index ({}); "
                                + "discarding it: origins will be asked to publish again", file, e.toString());
                    }
                }
                Files.delete(legacy);
            }
            Files.deleteIfExists(marker);
            try (DirectoryStream<Path> old = Files.newDirectoryStream(file.toAbsolutePath().getParent(),
                    file.getFileName() + ".unclean-*")) {
                for (Path p : old) {
                    LOG.info("version index {}: deleting {}, left by the previous version", file, p);
                    Files.delete(p);
                }
            }
        } catch (IOException | RuntimeException e) {
            index.close();
            throw new MqdbException("cannot open version index " + file + ": " + e.getMessage(), e);
        }
        return index;
    }

    private static Path sibling(Path file, String suffix) {
        return file.resolveSibling(file.getFileName() + suffix);
    }

    private void lock() throws IOException {
        lockFile = new RandomAccessFile(dir.resolve("lock").toFile(), "rw");
        try {
            lock = lockFile.getChannel().tryLock();
        } catch (OverlappingFileLockException e) {
            lock = null;
        }
        if (lock == null) {
            lockFile.close();
            throw new MqdbException("version index " + dir + " is in use by another process (is the node running "
                    + "twice with one data-dir?)");
        }
    }

    private void unlock() throws IOException {
        if (log != null) {
            log.close();
            log = null;
        }
        lock.release();
        lockFile.close();
    }

    /** Loads the newest checkpoint, replays its log (cutting a torn tail) and deletes older generations. */
    private void load() throws IOException, Corrupt {
        TreeMap<Long, Path> checkpoints = new TreeMap<>();
        TreeMap<Long, Path> logs = new TreeMap<>();
        try (DirectoryStream<Path> files = Files.newDirectoryStream(dir)) {
            for (Path p : files) {
                String name = p.getFileName().toString();
                if (name.endsWith(".tmp")) {
                    Files.delete(p); // a checkpoint a crash interrupted
                } else if (name.startsWith("checkpoint-")) {
                    checkpoints.put(generationOf(name, "checkpoint-"), p);
                } else if (name.startsWith("log-")) {
                    logs.put(generationOf(name, "log-"), p);
                }
            }
        }
        checkpointGeneration = checkpoints.isEmpty() ? 0 : checkpoints.lastKey();
        if (checkpointGeneration > 0) {
            Path c = checkpoints.get(checkpointGeneration);
            checkpointBytes = replay(c, CHECKPOINT_MAGIC, checkpointGeneration, false);
        }
        // the logs since that checkpoint: its own, and a later one when a checkpoint was under way
        TreeMap<Long, Path> live = new TreeMap<>(logs.tailMap(checkpointGeneration, true));
        generation = live.isEmpty() ? checkpointGeneration : live.lastKey();
        long validEnd = 0;
        for (Map.Entry<Long, Path> l : live.entrySet()) {
            if (l.getKey() != generation) {
                replay(l.getValue(), LOG_MAGIC, l.getKey(), false);
            } else if (Files.size(l.getValue()) >= FILE_HEADER) {
                validEnd = replay(l.getValue(), LOG_MAGIC, l.getKey(), true);
            }
        }
        Path logFile = logPath(generation);
        if (validEnd == 0) {
            log = createLog(generation);
            logBytes = FILE_HEADER;
        } else {
            log = new RandomAccessFile(logFile.toFile(), "rw");
            if (validEnd < log.length()) {
                LOG.warn("version index {}: cutting a torn tail of {} bytes off {} (a crash during a commit that "
                        + "had not returned)", dir, log.length() - validEnd, logFile);
                log.setLength(validEnd);
                log.getFD().sync();
            }
            log.seek(validEnd);
            logBytes = validEnd;
        }
        for (Map.Entry<Long, Path> c : checkpoints.headMap(checkpointGeneration).entrySet()) {
            Files.delete(c.getValue());
        }
        for (Map.Entry<Long, Path> l : logs.headMap(checkpointGeneration).entrySet()) {
            Files.delete(l.getValue());
        }
        LOG.info("version index {}: {} keys, {} counters; checkpoint {} ({} bytes), log {} ({} bytes)", dir,
                keys.size(), counters.size(), checkpointGeneration, checkpointBytes, generation, logBytes);
    }

    private static long generationOf(String name, String prefix) throws Corrupt {
        try {
            return Long.parseLong(name.substring(prefix.length()));
        } catch (NumberFormatException e) {
            throw new Corrupt("unexpected file " + name);
        }
    }

    private Path logPath(long g) {
        return dir.resolve("log-" + g);
    }

    private RandomAccessFile createLog(long g) throws IOException {
        RandomAccessFile f = new RandomAccessFile(logPath(g).toFile(), "rw");
        f.setLength(0);
        ByteBuffer h = ByteBuffer.allocate(FILE_HEADER).putInt(LOG_MAGIC).putInt(FORMAT).putLong(g);
        f.write(h.array());
        return f;
    }

    /**
     * Applies a file's frames to the state.
     *
     * @param magic whether a checkpoint's (its last frame must end it) or a log's
     * @param tornTailAllowed whether a torn tail (a last frame cut short, or followed only by zeros) ends the replay:
     *                        the last log's; anywhere else a bad frame is corruption
     * @return the end of the last valid frame
     */
    private long replay(Path file, int magic, long fileGeneration, boolean tornTailAllowed)
            throws IOException, Corrupt {
        boolean strict = !tornTailAllowed;
        boolean isCheckpoint = magic == CHECKPOINT_MAGIC;
        long size = Files.size(file);
        try (DataInputStream in = new DataInputStream(new BufferedInputStream(new FileInputStream(file.toFile()),
                1 << 16))) {
            if (size < FILE_HEADER || in.readInt() != magic || in.readInt() != FORMAT || in.readLong() != fileGeneration) {
                throw new Corrupt(file + ": not a version index file of generation " + fileGeneration);
            }
            long at = FILE_HEADER;
            byte[] payload = new byte[1 << 16];
            boolean ended = false;
            while (at < size) {
                if (ended) {
                    throw new Corrupt(file + ": data after the end at byte " + at);
                }
                int length = size - at >= FRAME_HEADER ? in.readInt() : -1;
                int stored = length >= 0 ? in.readInt() : 0;
                boolean valid = length >= 0 && length <= size - at - FRAME_HEADER;
                if (valid) {
                    if (payload.length < length) {
                        payload = new byte[Math.max(length, payload.length * 2)];
                    }
                    in.readFully(payload, 0, length);
                    crc.reset();
                    crc.update(payload, 0, length);
                    valid = (int) crc.getValue() == stored;
                }
                if (!valid) {
                    long frameEnd = length >= 0 ? at + FRAME_HEADER + length : size;
                    if (strict || frameEnd < size && !restIsZero(in)) {
                        throw new Corrupt(file + ": a bad frame at byte " + at + " followed by data");
                    }
                    return at;
                }
                ended = apply(payload, length, file);
                at += FRAME_HEADER + length;
            }
            if (isCheckpoint && !ended) {
                throw new Corrupt(file + ": incomplete (no end)");
            }
            return at;
        }
    }

    private static boolean restIsZero(InputStream in) throws IOException {
        for (int b = in.read(); b >= 0; b = in.read()) {
            if (b != 0) {
                return false;
            }
        }
        return true;
    }

    /** Applies one frame's updates; returns whether it held a checkpoint's end. */
    private boolean apply(byte[] b, int length, Path file) throws Corrupt {
        Cursor c = new Cursor(b, length);
        try {
            while (c.at < length) {
                byte op = b[c.at++];
                switch (op) {
                    case OP_ORIGIN -> {
                        int id = c.varint();
                        String name = c.utf();
                        if (id < origins.size() && origins.get(id).equals(name)) {
                            continue; // a checkpoint written while the log went on holds it too
                        }
                        if (id != origins.size()) {
                            throw new Corrupt(file + ": origin " + id + " out of order");
                        }
                        originId(name, false);
                    }
                    case OP_TABLE -> {
                        int id = c.varint();
                        TableId t = TableId.parse(c.utf());
                        if (id < tables.size() && tables.get(id).equals(t)) {
                            continue;
                        }
                        if (id != tables.size()) {
                            throw new Corrupt(file + ": table " + id + " out of order");
                        }
                        tableId(t, false);
                    }
                    case OP_PUT -> {
                        int table = c.varint();
                        int n = c.varint();
                        int off = c.skip(n);
                        long hlc = c.longValue();
                        int origin = c.varint();
                        boolean deleted = b[c.at++] != 0;
                        int recorded = c.intValue();
                        if (table >= tables.size() || origin >= origins.size()) {
                            throw new Corrupt(file + ": an update names an unknown table or origin");
                        }
                        int h = KeyTable.hash(table, b, off, n);
                        keys.put(keys.find(table, b, off, n, h), table, b, off, n, h, hlc, origin, deleted, recorded);
                    }
                    case OP_REMOVE -> {
                        int table = c.varint();
                        int n = c.varint();
                        byte[] key = c.bytes(n);
                        int s = keys.find(table, key, n, KeyTable.hash(table, key, n));
                        if (s >= 0) {
                            keys.remove(s);
                        }
                    }
                    case OP_COUNTER -> {
                        String name = c.utf();
                        counters.put(name, c.longValue());
                    }
                    case OP_END -> {
                        long count = c.longValue();
                        if (count != keys.size() || c.at != length) {
                            throw new Corrupt(file + ": holds " + keys.size() + " keys, its end says " + count);
                        }
                        return true;
                    }
                    default -> throw new Corrupt(file + ": unknown update " + op);
                }
            }
            return false;
        } catch (ArrayIndexOutOfBoundsException | IllegalArgumentException e) {
            throw new Corrupt(file + ": a frame does not parse: " + e);
        }
    }

    private int originId(String name, boolean log) {
        Integer id = originIds.get(name);
        if (id == null) {
            id = origins.size();
            origins.add(name);
            originIds.put(name, id);
            if (log) {
                pending.op(OP_ORIGIN).varint(id).utf(name);
            }
        }
        return id;
    }

    private int tableId(TableId table, boolean log) {
        Integer id = tableIds.get(table);
        if (id == null) {
            if (tables.size() >= KeyTable.MAX_TABLES) {
                throw new MqdbException("version index " + dir + ": more than " + KeyTable.MAX_TABLES + " tables");
            }
            id = tables.size();
            tables.add(table);
            tableIds.put(table, id);
            if (log) {
                pending.op(OP_TABLE).varint(id).utf(table.toString());
            }
        }
        return id;
    }

    /**
     * @param table the table
     * @param key the key
     * @return the newest version known for the key, if any (recorded, committed or not)
     */
    public synchronized Optional<Entry> get(TableId table, Key key) {
        checkOpen();
        Integer t = tableIds.get(table);
        if (t == null) {
            return Optional.empty();
        }
        int n = encoder.encode(key);
        byte[] k = encoder.buffer();
        int s = keys.find(t, k, n, KeyTable.hash(t, k, n));
        if (s < 0) {
            return Optional.empty();
        }
        return Optional.of(new Entry(new Version(keys.hlc(s), origins.get(keys.origin(s))), keys.deleted(s),
                Integer.toUnsignedLong(keys.recordedSeconds(s)) * 1000));
    }

    /**
     * Records a key's version if it is at least as new as the one held (durable with the next {@link #commit()}).
     *
     * @param table the table
     * @param key the key
     * @param version the version
     * @param deleted whether it is a delete
     * @return whether it was recorded (false when a newer version is held)
     */
    public synchronized boolean record(TableId table, Key key, Version version, boolean deleted) {
        checkOpen();
        int t = tableId(table, true);
        int n = encoder.encode(key);
        byte[] k = encoder.buffer();
        int h = KeyTable.hash(t, k, n);
        int s = keys.find(t, k, n, h);
        if (s >= 0) {
            int c = Long.compare(keys.hlc(s), version.hlc());
            if (c > 0 || c == 0 && origins.get(keys.origin(s)).compareTo(version.origin()) > 0) {
                return false;
            }
        }
        put(s, t, k, n, h, version.hlc(), originId(version.origin(), true), deleted,
                (int) (System.currentTimeMillis() / 1000));
        return true;
    }

    private void put(int slot, int t, byte[] k, int n, int h, long hlc, int origin, boolean deleted, int seconds) {
        keys.put(slot, t, k, 0, n, h, hlc, origin, deleted, seconds);
        pending.op(OP_PUT).varint(t).varint(n).bytes(k, n).longValue(hlc).varint(origin)
                .op((byte) (deleted ? 1 : 0)).intValue(seconds);
    }

    /**
     * @param name a counter's name
     * @return its value, 0 when never set
     */
    public synchronized long counter(String name) {
        checkOpen();
        Long v = counters.get(name);
        return v == null ? 0 : v;
    }

    /** Sets a counter (durable with the next {@link #commit()}, with the versions recorded before it). */
    public synchronized void counter(String name, long value) {
        checkOpen();
        Long old = counters.put(name, value);
        if (old == null || old != value) {
            pending.op(OP_COUNTER).utf(name).longValue(value);
        }
    }

    /**
     * Makes everything recorded since the last commit (by any thread) durable: writes it as one log frame and
     * fsyncs once, unless another thread's fsync already covered it. Writes a checkpoint when the log has grown past
     * its limit. Called by appliers and capture at the end of each batch, before the batch is acknowledged.
     *
     * @throws MqdbException when the log cannot be written; the index then refuses every further call
     */
    public void commit() {
        long target;
        synchronized (this) {
            checkOpen();
            try {
                writePending();
            } catch (IOException e) {
                throw fail("cannot write", e);
            }
            target = writtenFrames;
        }
        synchronized (syncLock) {
            if (syncedFrames < target) {
                RandomAccessFile f;
                long upTo;
                synchronized (this) {
                    checkOpen();
                    f = log;
                    upTo = writtenFrames;
                }
                try {
                    f.getFD().sync(); // a checkpoint, which switches the log, waits for the sync lock
                } catch (IOException e) {
                    synchronized (this) {
                        throw fail("cannot fsync", e);
                    }
                }
                syncedFrames = upTo;
            }
        }
        boolean due;
        synchronized (this) {
            due = !checkpointing && logBytes > Math.max(checkpointLogBytes, checkpointBytes);
        }
        if (due) {
            checkpoint();
        }
    }

    /** Writes the pending updates as one frame (not fsynced). Under this index's lock. */
    private void writePending() throws IOException {
        if (pending.isEmpty()) {
            return;
        }
        int n = pending.seal(crc);
        log.write(pending.bytes(), 0, n);
        logBytes += n;
        writtenFrames++;
        if (n > 4 << 20) {
            pending = new Frame(); // do not keep a large buffer after a snapshot merge or a prune
        } else {
            pending.clear();
        }
    }

    /**
     * Writes checkpoint {@code g+1} while the appliers go on: switches the writers to log {@code g+1} (after an fsync
     * of log {@code g}), copies the table into {@code checkpoint-<g+1>.tmp} {@value #SCAN_SLOTS} slots per hold of the
     * lock, then, under both locks, the counters and every pending update into log {@code g+1}, fsynced; then fsyncs
     * and renames the checkpoint and deletes the older files. Every update is an absolute value, so the checkpoint
     * plus log {@code g+1} give the state whatever the copy saw of updates made during it. A growth or removal
     * during the copy moves entries between slots: the copy is then started again (three times at most, else the
     * checkpoint is left for the next commit). Called on the committing thread, after its commit is durable; by
     * close and the import.
     */
    private void checkpoint() {
        long next;
        RandomAccessFile oldLog;
        synchronized (syncLock) {
            synchronized (this) {
                if (checkpointing || closed || failed != null) {
                    return;
                }
                try {
                    writePending();
                    log.getFD().sync();
                    syncedFrames = writtenFrames;
                    next = generation + 1;
                    RandomAccessFile newLog = createLog(next);
                    syncFolder();
                    oldLog = log;
                    log = newLog;
                    generation = next;
                    logBytes = FILE_HEADER;
                } catch (IOException e) {
                    throw fail("cannot start a new log", e);
                }
                checkpointing = true;
            }
        }
        long started = System.nanoTime();
        Path tmp = dir.resolve("checkpoint-" + next + ".tmp");
        try {
            oldLog.close();
            long bytes = -1;
            for (int attempt = 0; attempt < 3 && bytes < 0; attempt++) {
                bytes = writeCheckpoint(tmp, next);
            }
            if (bytes < 0) {
                LOG.info("version index {}: entries kept moving during checkpoint {}; the next commit tries again",
                        dir, next);
                Files.deleteIfExists(tmp);
                return;
            }
            Files.move(tmp, dir.resolve("checkpoint-" + next), StandardCopyOption.ATOMIC_MOVE);
            syncFolder();
            long previous;
            synchronized (this) {
                previous = checkpointGeneration;
                checkpointGeneration = next;
                checkpointBytes = bytes;
                if (keys.garbageBytes() > keys.arenaBytes() / 2) {
                    keys.compactArena();
                }
            }
            Files.deleteIfExists(dir.resolve("checkpoint-" + previous));
            for (long g = previous; g < next; g++) {
                Files.deleteIfExists(logPath(g));
            }
            LOG.debug("version index {}: checkpoint {} of {} bytes in {} ms", dir, next, bytes,
                    (System.nanoTime() - started) / 1_000_000);
        } catch (IOException e) {
            LOG.warn("version index {}: could not write checkpoint {}, keeping the logs: {}", dir, next,
                    e.toString());
            try {
                Files.deleteIfExists(tmp);
            } catch (IOException ignored) {
                // the next open deletes it
            }
        } finally {
            synchronized (this) {
                checkpointing = false;
            }
        }
    }

    /** @return the checkpoint's size, or -1 when entries moved between slots during the copy */
    private long writeCheckpoint(Path tmp, long g) throws IOException {
        try (RandomAccessFile f = new RandomAccessFile(tmp.toFile(), "rw")) {
            f.setLength(0);
            OutputStream out = new BufferedOutputStream(new FileOutputStream(f.getFD()), 1 << 16);
            out.write(ByteBuffer.allocate(FILE_HEADER).putInt(CHECKPOINT_MAGIC).putInt(FORMAT).putLong(g).array());
            long[] written = {FILE_HEADER};
            CRC32C frameCrc = new CRC32C(); // not the writers' crc: the copy runs outside the lock
            int[] defined = {0, 0};
            Frame frame = new Frame();
            long count = 0;
            long moves;
            synchronized (this) {
                moves = keys.moves();
            }
            for (int from = 0;; from += SCAN_SLOTS) {
                synchronized (this) {
                    if (keys.moves() != moves || closed) {
                        return -1;
                    }
                    if (from >= keys.capacity()) {
                        break;
                    }
                    define(frame, defined);
                    for (int s = from; s < Math.min(from + SCAN_SLOTS, keys.capacity()); s++) {
                        if (keys.occupied(s)) {
                            int n = keys.keyLength(s);
                            frame.op(OP_PUT).varint(keys.table(s)).varint(n).key(keys, s, n)
                                    .longValue(keys.hlc(s)).varint(keys.origin(s))
                                    .op((byte) (keys.deleted(s) ? 1 : 0)).intValue(keys.recordedSeconds(s));
                            count++;
                        }
                    }
                }
                if (frame.size() >= CHECKPOINT_FRAME_BYTES) {
                    flush(frame, out, written, frameCrc);
                }
            }
            synchronized (syncLock) {
                synchronized (this) {
                    if (keys.moves() != moves || closed) {
                        return -1;
                    }
                    define(frame, defined);
                    for (Map.Entry<String, Long> c : counters.entrySet()) {
                        frame.op(OP_COUNTER).utf(c.getKey()).longValue(c.getValue());
                    }
                    // what the copy saw must be durable in the new log before the checkpoint can replace the old
                    writePending();
                    log.getFD().sync();
                    syncedFrames = writtenFrames;
                }
            }
            flush(frame, out, written, frameCrc);
            frame.op(OP_END).longValue(count);
            flush(frame, out, written, frameCrc);
            out.flush();
            f.getFD().sync();
            return written[0];
        }
    }

    /** Adds the origins and tables defined since the last call. Under this index's lock. */
    private void define(Frame frame, int[] defined) {
        for (; defined[0] < origins.size(); defined[0]++) {
            frame.op(OP_ORIGIN).varint(defined[0]).utf(origins.get(defined[0]));
        }
        for (; defined[1] < tables.size(); defined[1]++) {
            frame.op(OP_TABLE).varint(defined[1]).utf(tables.get(defined[1]).toString());
        }
    }

    private static void flush(Frame frame, OutputStream out, long[] written, CRC32C frameCrc) throws IOException {
        if (!frame.isEmpty()) {
            int n = frame.seal(frameCrc);
            out.write(frame.bytes(), 0, n);
            written[0] += n;
            frame.clear();
        }
    }

    private void syncFolder() {
        try (FileChannel folder = FileChannel.open(dir, StandardOpenOption.READ)) {
            folder.force(true);
        } catch (IOException e) {
            // some systems cannot sync a folder; the rename is still atomic
            LOG.debug("version index {}: cannot sync the folder: {}", dir, e.toString());
        }
    }

    /**
     * The keys of a table whose newest version is a live row made by the given origin before the given clock reading:
     * what a snapshot of that origin, started at that reading, did not confirm.
     *
     * @param table the table
     * @param origin the publishing node
     * @param beforeHlc the snapshot's start
     * @return the keys
     */
    public synchronized List<Key> staleKeys(TableId table, String origin, long beforeHlc) {
        checkOpen();
        List<Key> out = new ArrayList<>();
        Integer t = tableIds.get(table);
        Integer o = originIds.get(origin);
        if (t == null || o == null) {
            return out;
        }
        for (int s = 0; s < keys.capacity(); s++) {
            if (keys.occupied(s) && keys.table(s) == t && keys.origin(s) == o && !keys.deleted(s)
                    && keys.hlc(s) < beforeHlc) {
                out.add(KeyBytes.decode(keys.key(s)));
            }
        }
        return out;
    }

    /**
     * Removes tombstones recorded before the given time, and commits. Status thread, hourly.
     *
     * @param olderThanMillis epoch milliseconds
     * @return how many were removed
     */
    public int pruneTombstones(long olderThanMillis) {
        int removed = 0;
        synchronized (this) {
            checkOpen();
            List<byte[]> gone = new ArrayList<>();
            List<Integer> goneTables = new ArrayList<>();
            for (int s = 0; s < keys.capacity(); s++) {
                if (keys.occupied(s) && keys.deleted(s)
                        && Integer.toUnsignedLong(keys.recordedSeconds(s)) * 1000 < olderThanMillis) {
                    gone.add(keys.key(s));
                    goneTables.add(keys.table(s));
                }
            }
            for (int i = 0; i < gone.size(); i++) {
                byte[] k = gone.get(i);
                int t = goneTables.get(i);
                int s = keys.find(t, k, k.length, KeyTable.hash(t, k, k.length));
                keys.remove(s);
                pending.op(OP_REMOVE).varint(t).varint(k.length).bytes(k, k.length);
                removed++;
            }
        }
        commit();
        return removed;
    }

    /**
     * Imports the index of the previous version of mqdb: one MapDB file, a map {@code counters} and per table a map
     * {@code v:<table>} from {@link #encodeKey} to hlc, deleted flag, recorded millis and origin.
     */
    private void importMapDb(Path legacy) {
        int n = 0;
        DB db = DBMaker.fileDB(legacy.toFile()).fileMmapEnableIfSupported().readOnly().make();
        try {
            synchronized (this) {
                for (String name : db.getAllNames()) {
                    if (name.equals("counters")) {
                        HTreeMap<String, Long> m = db.hashMap(name, Serializer.STRING, Serializer.LONG).open();
                        for (Map.Entry<String, Long> e : m.getEntries()) {
                            counter(e.getKey(), e.getValue());
                        }
                    } else if (name.startsWith("v:")) {
                        int t = tableId(TableId.parse(name.substring(2)), true);
                        HTreeMap<String, byte[]> m = db.hashMap(name, Serializer.STRING, Serializer.BYTE_ARRAY).open();
                        for (Map.Entry<String, byte[]> e : m.getEntries()) {
                            ByteBuffer b = ByteBuffer.wrap(e.getValue());
                            long hlc = b.getLong();
                            boolean deleted = b.get() == 1;
                            long recorded = b.getLong();
                            String origin = new String(e.getValue(), b.position(), b.remaining(),
                                    StandardCharsets.UTF_8);
                            int len = encoder.encode(decodeKey(e.getKey()));
                            byte[] k = encoder.buffer();
                            int h = KeyTable.hash(t, k, len);
                            put(keys.find(t, k, len, h), t, k, len, h, hlc, originId(origin, true), deleted,
                                    (int) (recorded / 1000));
                            n++;
                        }
                    }
                }
            }
        } finally {
            db.close();
        }
        commit();
        checkpoint();
        LOG.info("version index {}: imported {} keys and {} counters from the previous version's {}", dir, n,
                counters.size(), legacy);
    }

    /** @return the index folder */
    public Path file() {
        return dir;
    }

    /** @return what the index holds and uses, for logs and benchmarks */
    synchronized String describe() {
        return keys.size() + " keys, heap slots " + (keys.slotBytes() >> 20) + " MiB, off-heap entries "
                + (keys.arenaBytes() >> 20) + " MiB, generation " + generation + ", log " + logBytes + " bytes";
    }

    private void checkOpen() {
        if (closed) {
            throw new MqdbException("version index " + dir + " is closed");
        }
        if (failed != null) {
            throw new MqdbException(failed.getMessage(), failed);
        }
    }

    private MqdbException fail(String what, IOException e) {
        failed = new MqdbException("version index " + dir + ": " + what + " " + logPath(generation) + ": "
                + e.getMessage() + " (restart the node: the index reopens at its last commit)", e);
        return failed;
    }

    /**
     * Drops the index as a kill -9 would: what was written stays in the files, nothing pending is written, no
     * checkpoint. Tests only.
     */
    void abandon() {
        synchronized (syncLock) {
            synchronized (this) {
                closed = true;
                try {
                    unlock();
                } catch (IOException e) {
                    throw new MqdbException("cannot abandon " + dir, e);
                }
            }
        }
    }

    /**
     * Writes a checkpoint (so the next open reads no log), commits what is still pending, and closes. Called by the
     * node on shutdown, after the appliers stopped. Idempotent.
     */
    @Override
    public void close() {
        boolean due;
        synchronized (this) {
            due = !closed && failed == null && (!pending.isEmpty() || logBytes > FILE_HEADER);
        }
        if (due) {
            try {
                checkpoint();
            } catch (MqdbException e) {
                LOG.warn("version index {}: could not write a checkpoint: {}", dir, e.toString());
            }
        }
        synchronized (syncLock) {
            synchronized (this) {
                if (closed) {
                    return;
                }
                try {
                    if (failed == null && !pending.isEmpty()) {
                        writePending();
                        log.getFD().sync();
                    }
                } catch (IOException e) {
                    LOG.warn("version index {}: could not make the last updates durable: {}", dir, e.toString());
                } finally {
                    closed = true;
                    try {
                        unlock();
                    } catch (IOException e) {
                        LOG.warn("version index {}: could not close: {}", dir, e.toString());
                    }
                }
            }
        }
    }

    /**
     * Encodes a key's canonical values unambiguously and reversibly: per value a type tag, its text length and its
     * text.
     *
     * @param key a key
     * @return the text used as the index key
     */
    public static String encodeKey(Key key) {
        StringBuilder sb = new StringBuilder();
        for (Object v : key.values()) {
            char tag;
            String text;
            if (v instanceof String s) {
                tag = 's';
                text = s;
            } else if (v instanceof Long l) {
                tag = 'l';
                text = Long.toString(l);
            } else if (v instanceof Double d) {
                tag = 'd';
                text = Double.toString(d);
            } else if (v instanceof BigDecimal d) {
                tag = 'n';
                text = d.toString();
            } else if (v instanceof Boolean b) {
                tag = 'b';
                text = b.toString();
            } else if (v instanceof Bytes b) {
                tag = 'x';
                text = b.toBase64();
            } else if (v instanceof Instant t) {
                tag = 't';
                text = t.toString();
            } else if (v instanceof LocalDate d) {
                tag = 'a';
                text = d.toString();
            } else if (v instanceof UUID u) {
                tag = 'u';
                text = u.toString();
            } else if (v instanceof Json j) {
                tag = 'j';
                text = j.text();
            } else {
                throw new IllegalArgumentException("not a canonical key value: " + v.getClass().getName());
            }
            sb.append(tag).append(text.length()).append(':').append(text);
        }
        return sb.toString();
    }

    /**
     * @param encoded a text made by {@link #encodeKey}
     * @return the key
     */
    public static Key decodeKey(String encoded) {
        List<Object> values = new ArrayList<>();
        int i = 0;
        while (i < encoded.length()) {
            char tag = encoded.charAt(i);
            int colon = encoded.indexOf(':', i + 1);
            int len = Integer.parseInt(encoded.substring(i + 1, colon));
            String text = encoded.substring(colon + 1, colon + 1 + len);
            i = colon + 1 + len;
            values.add(switch (tag) {
                case 's' -> text;
                case 'l' -> Long.parseLong(text);
                case 'd' -> Double.parseDouble(text);
                case 'n' -> new BigDecimal(text);
                case 'b' -> Boolean.parseBoolean(text);
                case 'x' -> Bytes.fromBase64(text);
                case 't' -> Instant.parse(text);
                case 'a' -> LocalDate.parse(text);
                case 'u' -> UUID.fromString(text);
                case 'j' -> new Json(text);
                default -> throw new IllegalArgumentException("not an encoded key: " + encoded);
            });
        }
        return Key.of(values);
    }

    /** A log frame being built: 8 header bytes (length, CRC32C), then the updates. */
    private static final class Frame {
        private byte[] b = new byte[1 << 12];
        private int len = FRAME_HEADER;

        boolean isEmpty() {
            return len == FRAME_HEADER;
        }

        int size() {
            return len;
        }

        byte[] bytes() {
            return b;
        }

        void clear() {
            len = FRAME_HEADER;
        }

        /** Fills in the header; returns the frame's length in bytes. */
        int seal(CRC32C crc) {
            crc.reset();
            crc.update(b, FRAME_HEADER, len - FRAME_HEADER);
            putInt(0, len - FRAME_HEADER);
            putInt(4, (int) crc.getValue());
            return len;
        }

        private void ensure(int more) {
            if (len + more > b.length) {
                b = Arrays.copyOf(b, Math.max(b.length * 2, len + more));
            }
        }

        Frame op(byte op) {
            ensure(1);
            b[len++] = op;
            return this;
        }

        Frame varint(int v) {
            ensure(5);
            while ((v & ~0x7F) != 0) {
                b[len++] = (byte) ((v & 0x7F) | 0x80);
                v >>>= 7;
            }
            b[len++] = (byte) v;
            return this;
        }

        Frame bytes(byte[] src, int n) {
            ensure(n);
            System.arraycopy(src, 0, b, len, n);
            len += n;
            return this;
        }

        Frame key(KeyTable keys, int slot, int n) {
            ensure(n);
            keys.copyKey(slot, b, len);
            len += n;
            return this;
        }

        Frame utf(String s) {
            byte[] u = s.getBytes(StandardCharsets.UTF_8);
            return varint(u.length).bytes(u, u.length);
        }

        Frame longValue(long v) {
            ensure(8);
            for (int i = 56; i >= 0; i -= 8) {
                b[len++] = (byte) (v >>> i);
            }
            return this;
        }

        Frame intValue(int v) {
            ensure(4);
            putInt(len, v);
            len += 4;
            return this;
        }

        private void putInt(int at, int v) {
            b[at] = (byte) (v >>> 24);
            b[at + 1] = (byte) (v >>> 16);
            b[at + 2] = (byte) (v >>> 8);
            b[at + 3] = (byte) v;
        }
    }

    /** Reads the updates of a frame. */
    private static final class Cursor {
        private final byte[] b;
        private final int limit;
        int at;

        Cursor(byte[] b, int limit) {
            this.b = b;
            this.limit = limit;
        }

        int varint() {
            int v = 0;
            for (int shift = 0; shift < 35; shift += 7) {
                byte x = b[at++];
                v |= (x & 0x7F) << shift;
                if (x >= 0) {
                    return v;
                }
            }
            throw new IllegalArgumentException("bad varint");
        }

        /** Skips {@code n} bytes; returns where they start. */
        int skip(int n) {
            if (n < 0 || at + n > limit) {
                throw new IllegalArgumentException("length " + n + " past the frame's end");
            }
            at += n;
            return at - n;
        }

        byte[] bytes(int n) {
            if (n < 0 || at + n > limit) {
                throw new IllegalArgumentException("length " + n + " past the frame's end");
            }
            byte[] out = Arrays.copyOfRange(b, at, at + n);
            at += n;
            return out;
        }

        String utf() {
            return new String(bytes(varint()), StandardCharsets.UTF_8);
        }

        long longValue() {
            long v = 0;
            for (int i = 0; i < 8; i++) {
                v = (v << 8) | (b[at++] & 0xFF);
            }
            return v;
        }

        int intValue() {
            int v = 0;
            for (int i = 0; i < 4; i++) {
                v = (v << 8) | (b[at++] & 0xFF);
            }
            return v;
        }
    }

    /** A file of the index that is damaged beyond a torn tail. */
    private static final class Corrupt extends Exception {
        Corrupt(String message) {
            super(message);
        }
    }
}
