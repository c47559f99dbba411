package io.mqdb.node.runtime;

/** What the node's worker threads share: how they are stopped, and the signal a retried action throws to stop. */
public final class Workers {
    private Workers() {
    }

    /** How long a stopping worker gets to see its stop flag and end by itself before it is interrupted. */
    private static final long GRACE_MS = 3_000;

    /**
     * Waits for a worker whose owner has already cleared its running flag to end by itself, for up to
     * {@value #GRACE_MS} ms (every worker checks its flag at least every few hundred milliseconds: between polls,
     * batches and retries); only a worker still running then is interrupted, and waited for 10 s more. So a normal stop
     * never interrupts a thread inside file or socket I/O (an interrupt closes a {@code FileChannel} under its user).
     * Keeps the caller's interrupt flag if it is interrupted meanwhile. Called by the {@code close()} of the worker's
     * owner, after it cleared the flag.
     *
     * @param thread the worker, or null when it was never started
     */
    static void stop(Thread thread) {
        if (thread == null) {
            return;
        }
        try {
            thread.join(GRACE_MS);
            if (thread.isAlive()) {
                thread.interrupt();
                thread.join(10_000);
            }
        } catch (InterruptedException e) {
            thread.interrupt();
            Thread.currentThread().interrupt();
        }
    }

    /** Thrown inside a retried action when its thread was interrupted: the worker stops. */
    public static final class StopSignal extends RuntimeException {
        private static final long serialVersionUID = 1L;

        public StopSignal() {
            super(null, null, false, false);
        }
    }
}
