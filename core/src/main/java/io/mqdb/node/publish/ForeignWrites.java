package io.mqdb.node.publish;

import io.mqdb.spi.Key;
import io.mqdb.spi.TableId;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The keys of two-way tables that replicated changes wrote since the capture last caught up with the store: a local
 * change of such a key that the capture reports may have been committed before the replicated write overwrote it, so
 * the publisher publishes the row as it is now instead of the change's (possibly stale) row.
 *
 * <p>Each replicated batch gets a generation; the capture notes the generation before each poll, and once two polls
 * that each returned everything committed (no backlog) have passed a generation, every local change committed before
 * that batch has been captured, and its keys are forgotten. Kept in memory: after a restart, the version index's
 * newest writer (another node) serves as the same hint.
 *
 * <p>Thread-safe: appliers mark, the capture thread reads and clears.
 */
public final class ForeignWrites {
    private final AtomicLong generation = new AtomicLong();
    private final Map<TableId, Map<Key, Long>> marks = new ConcurrentHashMap<>();

    /** @return the generation the next replicated batch gets; the capture notes it before each poll */
    long generation() {
        return generation.get();
    }

    /** Marks keys written by one replicated batch. Called by an applier under the store's lock. */
    public void mark(TableId table, Iterable<Key> keys) {
        long g = generation.incrementAndGet();
        Map<Key, Long> m = marks.computeIfAbsent(table, t -> new ConcurrentHashMap<>());
        for (Key k : keys) {
            m.put(k, g);
        }
    }

    /** @return whether a replicated batch wrote the key since the capture last caught up */
    boolean isMarked(TableId table, Key key) {
        Map<Key, Long> m = marks.get(table);
        return m != null && m.containsKey(key);
    }

    /** Forgets the keys written by batches up to and including the given generation. Capture thread. */
    void forgetUpTo(long g) {
        for (Map<Key, Long> m : marks.values()) {
            m.values().removeIf(v -> v <= g);
        }
    }
}
