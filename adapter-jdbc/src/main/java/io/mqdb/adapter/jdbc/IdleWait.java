package io.mqdb.adapter.jdbc;

/**
 * How long a capture sleeps after a poll that found nothing: 1 ms after the first empty poll, doubling with each
 * further one, at most {@value #BUSY_MAX_MS} ms for the first second after the last poll that found changes and at
 * most the store's {@code poll-interval} after that; back to 1 ms as soon as a poll finds changes.
 *
 * <p>A fixed sleep of {@code poll-interval} after an empty poll was the latency tail of trigger capture: a change
 * committed just after an empty poll waited for the whole sleep (p99 about 100 ms at 2,000 changes/s with the 200 ms
 * default). Under load polls keep finding changes, so the sleep stays at a few milliseconds; an idle source is
 * polled about every {@code poll-interval} again after eight empty polls (1 + 2 + ... + 128 ms).
 *
 * <p>Not thread-safe: owned by one capture, used on the node's capture thread only.
 */
final class IdleWait {
    private static final long FIRST_MS = 1;
    /** The longest sleep within {@value #BUSY_NANOS} ns of the last poll that found changes. */
    static final long BUSY_MAX_MS = 10;
    private static final long BUSY_NANOS = 1_000_000_000L;
    private final long maxMs;
    private long nextMs = FIRST_MS;
    private long lastBusyNanos = System.nanoTime();

    /** @param maxMs the longest sleep, the store's {@code poll-interval}; at least 1 */
    IdleWait(long maxMs) {
        this.maxMs = Math.max(FIRST_MS, maxMs);
    }

    /** A poll found changes: the next empty poll sleeps the least again. */
    void busy() {
        nextMs = FIRST_MS;
        lastBusyNanos = System.nanoTime();
    }

    /**
     * Sleeps after an empty poll, never past the caller's deadline.
     *
     * @param leftNanos the time left of the caller's wait, positive
     * @throws InterruptedException when interrupted while sleeping
     */
    void sleep(long leftNanos) throws InterruptedException {
        long cap = System.nanoTime() - lastBusyNanos < BUSY_NANOS ? Math.min(BUSY_MAX_MS, maxMs) : maxMs;
        long ms = Math.min(Math.min(nextMs, cap), Math.max(1, leftNanos / 1_000_000));
        nextMs = Math.min(maxMs, nextMs * 2);
        Thread.sleep(ms);
    }

    /** @return the sleep the next empty poll would take, in ms (for tests) */
    long nextSleepMs() {
        return nextMs;
    }
}
