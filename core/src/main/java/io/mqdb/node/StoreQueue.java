package io.mqdb.node;

import io.mqdb.plugin.LoaderSwap;
import io.mqdb.spi.AtomicWrites;
import io.mqdb.spi.AtomicWrites.TableBatch;
import io.mqdb.spi.MqdbException;
import io.mqdb.spi.Store;
import io.mqdb.spi.WriteOrigin;
import java.time.Duration;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A persistent FIFO queue of byte payloads kept in a table of one of the node's stores (any adapter): the embedding
 * API's {@code node.queue("frames")}. Not the publisher's file-based outbox ({@code io.mqdb.queue.DurableQueue}):
 * this one lives in a store the application chose, and is neither captured nor replicated.
 *
 * <h2>Layout and commits</h2>
 * Entries are rows keyed by a sequence number, with a head and a tail counter beside them
 * ({@link StoreQueueTables}). A put writes its entry and the new tail in one commit; a take deletes its entry and
 * writes the new head in one commit, when the store has {@link AtomicWrites} (every bundled adapter except a Redis
 * cluster). Without it, the two writes are ordered (entry first, then the counter), and opening the queue repairs
 * what a crash between them left: an entry at the tail counter is counted in, a missing entry at the head counter
 * is skipped. Put and take are O(1): one write (put) or one read and one write (take), never a scan.
 *
 * <h2>What a crash can lose</h2>
 * Once {@link #put} returned, the entry survives a {@code kill -9} of the process; once {@link #take} returned, the
 * entry is never taken again. A put or take that had not returned may have happened or not (at most one per thread):
 * a taken entry whose take did not return is gone. Durability beyond the process is the store's: a commit of
 * PostgreSQL or MariaDB, MapDB's commit (its write-ahead log), Redis only as far as its append-only file is synced
 * ({@code appendfsync}), Cassandra at the store's write consistency with its commit log settings.
 *
 * <h2>Threads and lifecycle</h2>
 * Thread-safe: any application thread may put, take, peek and ask the size. Puts take turns among themselves, and
 * so do takes, but a put and a take run at the same time (they write different rows). {@link #take()} and
 * {@link #poll(Duration)} wait without holding the store; they wake on a put, on an interrupt (and then throw
 * {@link InterruptedException}) or when the node closes the queue ({@link MqdbException}). One instance per queue
 * and store in a process: the counters live in memory between commits, so two processes (or two nodes on one
 * database) must not open the same queue. The node opens a queue on first use and closes it, before its stores,
 * when it stops; the queue starts no thread.
 */
public final class StoreQueue {
    private static final Logger LOG = LoggerFactory.getLogger(StoreQueue.class);

    private final StoreQueueTables tables;
    private final Store store;
    private final ClassLoader loader;
    private final Optional<AtomicWrites> atomic;
    private final ReentrantLock putLock = new ReentrantLock();
    private final ReentrantLock takeLock = new ReentrantLock();
    private final ReentrantLock state = new ReentrantLock();
    private final Condition notEmpty = state.newCondition();
    /** The seq of the next take; guarded by {@link #state}, written only with {@link #takeLock} held too. */
    private long head;
    /** The seq of the next put; guarded by {@link #state}, written only with {@link #putLock} held too. */
    private long tail;
    /** False after a put failed: the tail is read back from the store before the next put. Guarded by putLock. */
    private boolean tailKnown;
    /** False after a take failed: the head is read back before the next take. Guarded by takeLock. */
    private boolean headKnown;
    private volatile boolean closed;

    private StoreQueue(StoreQueueTables tables, Store store, ClassLoader loader) {
        this.tables = tables;
        this.store = store;
        this.loader = loader;
        this.atomic = call(store::atomicWrites);
    }

    /**
     * Opens (creating where missing) a queue in a store. The node calls it from {@code MqdbNode.queue}; tools and
     * tests may call it on a store they opened themselves. Caller's thread.
     *
     * @param store the store, which the caller keeps open while it uses the queue and closes afterwards
     * @param loader the store adapter's class loader, made the context class loader of every call into the store
     * @param name the queue's name: a letter or underscore, then letters, digits or underscores, at most 46
     * @return the open queue, its head and tail read back from the store
     * @throws IllegalArgumentException when the name is not valid
     * @throws io.mqdb.spi.RetriableException when the store cannot be reached
     */
    public static StoreQueue open(Store store, ClassLoader loader, String name) {
        StoreQueue q = new StoreQueue(new StoreQueueTables(name), Objects.requireNonNull(store, "store"),
                Objects.requireNonNull(loader, "loader"));
        q.call(() -> {
            q.tables.ensure(store);
            return null;
        });
        q.putLock.lock();
        q.takeLock.lock();
        try {
            q.recoverTail();
            q.recoverHead();
        } finally {
            q.takeLock.unlock();
            q.putLock.unlock();
        }
        LOG.info("queue {} in {}: size {} (seq {} to {}), {}", name, store.describeTarget(), q.size(), q.head,
                q.tail - 1, q.atomic.isPresent() ? "entries and counters in one commit"
                        : "entries then counters (the store has no atomic writes across tables)");
        return q;
    }

    /** @return the queue's name */
    public String name() {
        return tables.name();
    }

    /**
     * Appends an entry; when this returns, it is committed with the new tail. Waits for puts of other threads.
     *
     * @param payload the entry, copied; may be empty
     * @return the entry's sequence number (1, 2, 3, ... in put order; never given twice)
     * @throws io.mqdb.spi.RetriableException when the store failed; the entry may or may not be in the queue then
     * @throws MqdbException when the queue was closed
     */
    public long put(byte[] payload) {
        return putAll(List.of(Objects.requireNonNull(payload, "payload")));
    }

    /**
     * Appends entries in order, all in one commit with the new tail (where the store has atomic writes; else the
     * entries in one write, then the tail). Keep batches small on Cassandra: a logged batch over 50 KiB is refused by
     * its default {@code batch_size_fail_threshold}.
     *
     * @param payloads the entries, copied; at least one
     * @return the sequence number of the first; the others follow it
     * @throws io.mqdb.spi.RetriableException when the store failed; the entries may or may not be in the queue then
     * @throws MqdbException when the queue was closed
     */
    public long putAll(List<byte[]> payloads) {
        if (payloads.isEmpty()) {
            throw new IllegalArgumentException("putAll needs at least one entry");
        }
        putLock.lock();
        try {
            requireOpen();
            if (!tailKnown) {
                recoverTail();
            }
            long seq = tail;
            tailKnown = false; // until the commit is known to have happened
            commit(tables.put(seq, payloads));
            tailKnown = true;
            state.lock();
            try {
                tail = seq + payloads.size();
                notEmpty.signal();
            } finally {
                state.unlock();
            }
            return seq;
        } finally {
            putLock.unlock();
        }
    }

    /**
     * Removes and returns the head entry, waiting for one when the queue is empty.
     *
     * @return the payload of the oldest entry; once returned, the entry is deleted in the store
     * @throws InterruptedException when interrupted while waiting (nothing was taken)
     * @throws io.mqdb.spi.RetriableException when the store failed; the entry may or may not have been taken then
     * @throws MqdbException when the queue was closed
     */
    public byte[] take() throws InterruptedException {
        takeLock.lockInterruptibly();
        try {
            return takeLocked(Long.MAX_VALUE).orElseThrow();
        } finally {
            takeLock.unlock();
        }
    }

    /**
     * Removes and returns the head entry, waiting up to {@code timeout} for one.
     *
     * @param timeout the longest wait; zero or less does not wait
     * @return the payload of the oldest entry, or empty when the queue stayed empty for {@code timeout}
     * @throws InterruptedException when interrupted while waiting (nothing was taken)
     * @throws io.mqdb.spi.RetriableException when the store failed; the entry may or may not have been taken then
     * @throws MqdbException when the queue was closed
     */
    public Optional<byte[]> poll(Duration timeout) throws InterruptedException {
        long nanos = Math.max(0, timeout.toNanos());
        long deadline = System.nanoTime() + nanos;
        if (!takeLock.tryLock(nanos, TimeUnit.NANOSECONDS)) {
            return Optional.empty();
        }
        try {
            return takeLocked(Math.max(0, deadline - System.nanoTime()));
        } finally {
            takeLock.unlock();
        }
    }

    /** @return the head entry's payload without removing it, or empty when the queue is empty */
    public Optional<byte[]> peek() {
        requireOpen();
        long h;
        long t;
        state.lock();
        try {
            h = head;
            t = tail;
        } finally {
            state.unlock();
        }
        // An entry below the tail is missing only while a take deletes it; the next one is then the head.
        for (long seq = h; seq < t; seq++) {
            long s = seq;
            Optional<byte[]> payload = call(() -> tables.readEntry(store, s));
            if (payload.isPresent()) {
                return payload;
            }
        }
        return Optional.empty();
    }

    /** @return the number of entries committed and not yet taken */
    public long size() {
        state.lock();
        try {
            return tail - head;
        } finally {
            state.unlock();
        }
    }

    /**
     * Closes the queue: waiting takes and every later call throw {@link MqdbException}. Called by the node before it
     * closes its stores, on its shutdown thread; idempotent. The data stays in the store.
     */
    void close() {
        closed = true;
        state.lock();
        try {
            notEmpty.signalAll();
        } finally {
            state.unlock();
        }
    }

    /** The take, with {@link #takeLock} held. */
    private Optional<byte[]> takeLocked(long nanos) throws InterruptedException {
        requireOpen();
        if (!headKnown) {
            recoverHead();
        }
        long seq;
        state.lockInterruptibly();
        try {
            while (head == tail) {
                if (nanos <= 0) {
                    return Optional.empty();
                }
                nanos = notEmpty.awaitNanos(nanos);
                requireOpen();
            }
            seq = head;
        } finally {
            state.unlock();
        }
        long s = seq;
        byte[] payload = call(() -> tables.readEntry(store, s)).orElseThrow(() -> new MqdbException("queue "
                + name() + " in " + store.describeTarget() + ": entry " + s + " is missing below the tail"
                + " (was the table changed by someone else?)"));
        headKnown = false; // until the commit is known to have happened
        commit(tables.take(seq));
        headKnown = true;
        state.lock();
        try {
            head = seq + 1;
        } finally {
            state.unlock();
        }
        return Optional.of(payload);
    }

    /** One commit where the store can; else the entry's write, then the counter's. */
    private void commit(List<TableBatch> writes) {
        call(() -> {
            if (atomic.isPresent()) {
                atomic.get().applyAtomically(writes, WriteOrigin.LOCAL);
            } else {
                for (TableBatch b : writes) {
                    store.apply(b.table(), b.mutations(), WriteOrigin.LOCAL);
                }
            }
            return null;
        });
    }

    /**
     * Reads the tail counter back and counts in the entries at and after it: the one a put wrote before a crash
     * or a failure kept it from writing the counter. With {@link #putLock} held.
     */
    private void recoverTail() {
        long stored = call(() -> tables.readCounter(store, StoreQueueTables.TAIL)).orElse(1L);
        long t = skip(stored, Long.MAX_VALUE, true, "at the tail without its counter (a put cut between its two "
                + "writes): kept");
        state.lock();
        try {
            tail = Math.max(t, head);
        } finally {
            state.unlock();
        }
        tailKnown = true;
    }

    /**
     * Reads the head counter back and skips the missing entries at it: the one a take deleted before a crash or a
     * failure kept it from writing the counter. With {@link #takeLock} held.
     */
    private void recoverHead() {
        long stored = call(() -> tables.readCounter(store, StoreQueueTables.HEAD)).orElse(1L);
        long t;
        state.lock();
        try {
            t = tail;
        } finally {
            state.unlock();
        }
        long h = skip(stored, t, false, "at the head deleted without its counter (a take cut between its two "
                + "writes): skipped");
        state.lock();
        try {
            head = h;
        } finally {
            state.unlock();
        }
        headKnown = true;
    }

    /**
     * @return the first seq from {@code from} on (and below {@code until}) whose entry is not {@code present}; logs
     *     how many were passed over, with {@code what}
     */
    private long skip(long from, long until, boolean present, String what) {
        long seq = from;
        while (seq < until) {
            long s = seq;
            if (call(() -> tables.readEntry(store, s)).isPresent() != present) {
                break;
            }
            seq++;
        }
        if (seq != from) {
            LOG.info("queue {}: {} entr{} {}", name(), seq - from, seq - from == 1 ? "y" : "ies", what);
        }
        return seq;
    }

    private void requireOpen() {
        if (closed) {
            throw new MqdbException("queue " + name() + " in " + store.describeTarget() + " is closed");
        }
    }

    private <T> T call(Supplier<T> action) {
        try (LoaderSwap swap = LoaderSwap.to(loader)) {
            return action.get();
        }
    }
}
