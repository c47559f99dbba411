package io.mqdb.spi;

import java.time.Duration;
import java.util.List;

/**
 * The optional ability of a store to report every insert, update and delete made to its tables, in commit order, as
 * a stream with a resumable position. Reached through {@link Store#capture()}.
 *
 * <p>Writes made with {@link WriteOrigin#REPLICATED} are never reported. Everything else that changed an enabled
 * table is, including changes made by other clients of the store where the store can see them (database triggers);
 * each adapter's documentation says what it sees.
 *
 * <h2>Threads and order of calls</h2>
 * The runtime calls {@link #enable} for each published table on its start-up thread, then {@link #poll} and
 * {@link #acknowledge} from one capture thread per store, never concurrently with each other. Writes through
 * {@link TableAccess} happen concurrently on other threads.
 */
public interface ChangeCapture {

    /**
     * Starts capturing a table (installing triggers, say). Idempotent: a table enabled before, in this process or an
     * earlier one, stays enabled without losing changes.
     *
     * @param table the table to capture; it exists
     * @throws MqdbException when the store cannot capture this table
     */
    void enable(TableId table);

    /**
     * The position before every change that has not been acknowledged: where a node that never published anything
     * starts.
     *
     * @return the position
     */
    CapturePosition start();

    /**
     * The position after the latest change committed so far. The runtime reads it just before an initial load, so
     * that the changes committed during the load are published after it.
     *
     * @return the position
     */
    CapturePosition current();

    /**
     * Returns changes after a position, in commit order, waiting up to {@code wait} for the first one.
     *
     * @param after a position returned by this capture
     * @param maxChanges the most changes to return, at least 1
     * @param wait how long to wait when there is no change yet; may return earlier, empty
     * @return the changes, possibly empty
     * @throws InterruptedException when the capture thread is interrupted while waiting; the runtime is stopping
     * @throws RetriableException when the store cannot be reached
     */
    List<CapturedChange> poll(CapturePosition after, int maxChanges, Duration wait) throws InterruptedException;

    /**
     * Tells the store that every change up to and including {@code upTo} has been published durably, so the store
     * may prune what it kept for them. Never called with a position older than an earlier call's.
     *
     * <p>Acknowledgements are cumulative: when this throws a {@link RetriableException} (a busy database), the
     * runtime carries on capturing and acknowledges a later position with a later batch, which covers this one.
     *
     * @param upTo a position returned by {@link #poll}
     * @throws RetriableException when the store cannot prune now
     */
    void acknowledge(CapturePosition upTo);
}
