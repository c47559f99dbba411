package io.mqdb.node.publish;

import org.slf4j.Logger;

/**
 * Reports the progress of a long job (an initial load) in the log every few seconds: rows done of total, rate and
 * estimated time left. Used by one thread at a time.
 */
final class Progress {
    private static final long REPORT_EVERY_NANOS = 5_000_000_000L;
    private final String what;
    private final long total;
    private final Logger log;
    private final long startNanos = System.nanoTime();
    private long done;
    private final long startDone;
    private long lastReport = startNanos;

    Progress(String what, long total, long alreadyDone, Logger log) {
        this.what = what;
        this.total = total;
        this.log = log;
        this.done = alreadyDone;
        this.startDone = alreadyDone;
    }

    void advance(long rows) {
        done += rows;
        long now = System.nanoTime();
        if (now - lastReport >= REPORT_EVERY_NANOS) {
            lastReport = now;
            double seconds = (now - startNanos) / 1e9;
            double rate = (done - startDone) / Math.max(seconds, 1e-3);
            long left = Math.max(0, total - done);
            log.info("{}: {} / {} rows ({}%), {} rows/s, about {} s left", what, done, total,
                    total == 0 ? 100 : done * 100 / total, Math.round(rate), Math.round(left / Math.max(rate, 1)));
        }
    }

    void done() {
        double seconds = (System.nanoTime() - startNanos) / 1e9;
        log.info("{}: done, {} rows in {} s ({} rows/s)", what, done, String.format("%.1f", seconds),
                Math.round((done - startDone) / Math.max(seconds, 1e-3)));
    }
}
