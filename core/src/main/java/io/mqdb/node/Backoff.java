package io.mqdb.node;

import io.mqdb.spi.RetriableException;
import java.time.Duration;
import java.util.function.BooleanSupplier;
import java.util.function.Supplier;
import org.slf4j.Logger;

/**
 * Retries an operation while it fails with a {@link RetriableException}, waiting 100 ms, then twice as long each
 * time, at most {@code max}. Used by the apply and capture threads; runs on the caller's thread.
 */
final class Backoff {
    private final Duration max;
    private final Logger log;
    private final NodeMetrics metrics;

    Backoff(Duration max, Logger log, NodeMetrics metrics) {
        this.max = max;
        this.log = log;
        this.metrics = metrics;
    }

    /**
     * @param what a description for the log, e.g. {@code apply 500 events to shop:orders}
     * @param running false once the node stops; checked between attempts
     * @param action the operation
     * @return the operation's result
     * @throws InterruptedException when interrupted while waiting, or when {@code running} turned false
     */
    <T> T retry(String what, BooleanSupplier running, Supplier<T> action) throws InterruptedException {
        long waitMs = 100;
        int attempt = 0;
        while (true) {
            try {
                return action.get();
            } catch (RetriableException e) {
                attempt++;
                metrics.retries.increment();
                if (!running.getAsBoolean()) {
                    throw new InterruptedException("stopping while retrying " + what);
                }
                if (attempt == 1 || attempt % 10 == 0) {
                    log.warn("{} failed (attempt {}), retrying in {} ms: {}", what, attempt, waitMs, e.getMessage());
                }
                Thread.sleep(waitMs);
                waitMs = Math.min(waitMs * 2, max.toMillis());
            }
        }
    }
}
