package io.mqdb.node;

/** What the node's worker threads share: how they are stopped, and the signal a retried action throws to stop. */
final class Workers {
    private Workers() {
    }

    /**
     * Interrupts a worker and waits up to 10 s for it to end; keeps the caller's interrupt flag if it is interrupted
     * meanwhile. Called by the {@code close()} of the worker's owner.
     *
     * @param thread the worker, or null when it was never started
     */
    static void stop(Thread thread) {
        if (thread == null) {
            return;
        }
        thread.interrupt();
        try {
            thread.join(10_000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /** Thrown inside a retried action when its thread was interrupted: the worker stops. */
    static final class StopSignal extends RuntimeException {
        private static final long serialVersionUID = 1L;

        StopSignal() {
            super(null, null, false, false);
        }
    }
}
