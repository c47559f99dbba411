package io.mqdb.node.runtime;

import org.slf4j.Logger;

/**
 * A WARN line for refused control messages (forged or unsigned positions and resend requests), at most one per
 * {@link #EVERY_NANOS}, saying how many were refused since the last line: a flood of forged messages cannot flood
 * the log. Thread-safe.
 */
public final class RefusalLog {
    static final long EVERY_NANOS = 10_000_000_000L;
    private final Logger log;
    private long lastNanos;
    private long suppressed;
    private boolean logged;

    public RefusalLog(Logger log) {
        this.log = log;
    }

    /** @param message what was refused and why; never key material */
    public synchronized void warn(String message) {
        long now = System.nanoTime();
        if (logged && now - lastNanos < EVERY_NANOS) {
            suppressed++;
            return;
        }
        log.warn("{}{}", message, suppressed == 0 ? "" : " (and " + suppressed + " more refused in the last "
                + (now - lastNanos) / 1_000_000_000L + " s)");
        logged = true;
        lastNanos = now;
        suppressed = 0;
    }
}
