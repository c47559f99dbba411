package io.mqdb.queue;

import java.io.IOException;
import java.nio.file.FileStore;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.function.LongSupplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The least free space a queue's writer leaves on the disk holding the queue ({@code node.min-free-disk-mb}): a
 * {@link DurableQueue#append} that would leave less waits, polling every second, and goes on by itself once space
 * returns. A full disk thus pauses capture (the store keeps its own backlog, as when the outbox is full) instead of
 * failing a write and stopping the node. Logs one WARN when a pause starts and one INFO when it ends, with its length.
 *
 * <h2>Threads</h2>
 * Thread-safe; called by the appending thread.
 */
public final class DiskFloor {
    private static final Logger LOG = LoggerFactory.getLogger(DiskFloor.class);
    /** No floor: writes never wait for disk space. */
    public static final DiskFloor NONE = new DiskFloor(null, 0, () -> Long.MAX_VALUE);

    private final Path path;
    private final long minFreeBytes;
    private final LongSupplier usableBytes;
    private long pausedSinceNanos = -1;

    private DiskFloor(Path path, long minFreeBytes, LongSupplier usableBytes) {
        this.path = path;
        this.minFreeBytes = minFreeBytes;
        this.usableBytes = usableBytes;
    }

    /**
     * @param dir a folder on the disk to watch; it exists
     * @param minFreeBytes the space to leave free; 0 for no floor
     * @return the floor, reading the free space of {@code dir}'s file store
     */
    public static DiskFloor of(Path dir, long minFreeBytes) {
        if (minFreeBytes <= 0) {
            return NONE;
        }
        FileStore store;
        try {
            store = Files.getFileStore(dir);
        } catch (IOException e) {
            LOG.warn("{}: cannot read the free space of its disk ({}); node.min-free-disk-mb is not applied", dir,
                    e.toString());
            return NONE;
        }
        return new DiskFloor(dir, minFreeBytes, () -> {
            try {
                return store.getUsableSpace();
            } catch (IOException e) {
                return Long.MAX_VALUE; // unknown: never hold writes back for it
            }
        });
    }

    /** As {@link #of(Path, long)}, with the free space from a supplier (tests). */
    static DiskFloor of(Path dir, long minFreeBytes, LongSupplier usableBytes) {
        return new DiskFloor(dir, minFreeBytes, usableBytes);
    }

    /**
     * @param bytes the size of the write about to be made
     * @return whether it leaves at least the floor free; the first refusal of a pause and the first acceptance after
     *     it are logged
     */
    synchronized boolean allows(long bytes) {
        if (minFreeBytes <= 0) {
            return true;
        }
        long usable = usableBytes.getAsLong();
        boolean ok = usable - bytes >= minFreeBytes;
        if (!ok && pausedSinceNanos < 0) {
            pausedSinceNanos = System.nanoTime();
            LOG.warn("{}: the disk has {} MiB free, below node.min-free-disk-mb ({} MiB): writes to this queue wait, "
                    + "and capture with them, until space returns", path, usable >> 20, minFreeBytes >> 20);
        } else if (ok && pausedSinceNanos >= 0) {
            LOG.info("{}: the disk has {} MiB free again: writes go on after a pause of {} s", path, usable >> 20,
                    (System.nanoTime() - pausedSinceNanos) / 1_000_000_000L);
            pausedSinceNanos = -1;
        }
        return ok;
    }

    /** @return whether writes are waiting for space now */
    public synchronized boolean paused() {
        return pausedSinceNanos >= 0;
    }
}
