package io.mqdb.node.runtime;

import io.mqdb.node.NodeMetrics;
import io.mqdb.spi.RetriableException;
import java.time.Duration;
import java.util.function.BooleanSupplier;
import java.util.function.Supplier;
import org.slf4j.Logger;

/**
 * Retries an operation while it fails with a {@link RetriableException}: 100 ms after the first failure, then twice as
 * long each time, at most {@code max} (one second for every worker of the node), so a store or broker that comes
 * back is used again within {@code max} of its return. A failed attempt is only a probe: the operation itself, which
 * for the stores is one round trip that fails fast while they are down.
 *
 * <p>An outage is logged twice: a WARN when it starts (what failed and why) and an INFO when it ends (how long it
 * lasted, how many attempts it took and, when the caller says, what was held meanwhile). While it lasts, a WARN
 * every five minutes says it is still going on; the attempts in between are logged at DEBUG.
 *
 * <p>Used by the apply, capture and send threads; runs on the caller's thread and keeps no state between calls.
 */
public final class Backoff {
    private static final long FIRST_WAIT_MS = 100;
    private static final long REMIND_EVERY_NANOS = 300_000_000_000L;

    private final Duration max;
    private final Logger log;
    private final NodeMetrics metrics;

    /**
     * @param max the longest wait between two attempts
     * @param log where the outage is logged (the worker's logger)
     * @param metrics counts every failed attempt in {@code retries}
     */
    public Backoff(Duration max, Logger log, NodeMetrics metrics) {
        this.max = max;
        this.log = log;
        this.metrics = metrics;
    }

    /**
     * Same as {@link #retry(String, BooleanSupplier, Supplier, Supplier)} without a description of what is held.
     */
    public <T> T retry(String what, BooleanSupplier running, Supplier<T> action) throws InterruptedException {
        return retry(what, running, action, null);
    }

    /**
     * @param what a description for the log, e.g. {@code apply 500 events to shop:orders}
     * @param running false once the node stops; checked between attempts
     * @param action the operation
     * @param held what waits for the operation meanwhile, for the recovery line (e.g. {@code 12 messages queued}),
     *     or null
     * @return the operation's result
     * @throws InterruptedException when interrupted while waiting, or when {@code running} turned false
     */
    public <T> T retry(String what, BooleanSupplier running, Supplier<T> action, Supplier<String> held)
            throws InterruptedException {
        long waitMs = FIRST_WAIT_MS;
        int attempts = 0;
        long startNanos = 0;
        long remindedNanos = 0;
        while (true) {
            try {
                T result = action.get();
                if (attempts > 0) {
                    long ms = (System.nanoTime() - startNanos) / 1_000_000;
                    String h = held == null ? null : held.get();
                    log.info("{} succeeded again after an outage of {} ms ({} failed attempts{})", what, ms, attempts,
                            h == null ? "" : "; held meanwhile: " + h);
                }
                return result;
            } catch (RetriableException e) {
                long now = System.nanoTime();
                attempts++;
                metrics.retries.increment();
                if (attempts == 1) {
                    startNanos = now;
                    remindedNanos = now;
                    log.warn("{} failed, retrying at least every {} ms until it succeeds: {}", what, max.toMillis(),
                            e.getMessage());
                } else if (now - remindedNanos >= REMIND_EVERY_NANOS) {
                    remindedNanos = now;
                    log.warn("{} still failing after {} s ({} attempts): {}", what, (now - startNanos) / 1_000_000_000L,
                            attempts, e.getMessage());
                } else {
                    log.debug("{} failed (attempt {}): {}", what, attempts, e.getMessage());
                }
                if (!running.getAsBoolean()) {
                    throw new InterruptedException("stopping while retrying " + what);
                }
                Thread.sleep(waitMs);
                waitMs = Math.min(waitMs * 2, max.toMillis());
            }
        }
    }
}
