package io.mqdb.transport;

import java.util.List;
import org.slf4j.Logger;

/**
 * The failover rhythm both transports' connector threads follow, kept in one place: the brokers of the list are tried
 * in turn with no pause between them; after a whole round failed, a pause of 100 ms doubling to 5 s; a success resets
 * both. Each failure is logged (INFO for what retrying can cure, ERROR for a refusal, see {@link ConnectFailure}), and
 * refusals before the first connection are counted so {@code start()} can give up after
 * {@link ConnectFailure#START_ATTEMPTS} rounds.
 *
 * <p>It also logs each move at INFO once the node is connected again: from which broker to which, why the old
 * connection was lost and how long the node was disconnected.
 *
 * <p>Used by one connector thread only; not thread-safe.
 */
final class ConnectAttempts {
    static final long MIN_BACKOFF_MS = 100;
    static final long MAX_BACKOFF_MS = 5_000;

    private final Logger log;
    private final String clientId;
    private final int brokers;
    private long backoffMs = MIN_BACKOFF_MS;
    private int failedInRound;
    private int refusals;
    /** The broker whose connection was lost, until the next connection; null while connected or before the first. */
    private String lostFrom;
    private String lostCause;
    private long lostAtNanos;

    /**
     * @param log the transport's logger
     * @param clientId the client id, for the log
     * @param uris the broker list
     */
    ConnectAttempts(Logger log, String clientId, List<String> uris) {
        this.log = log;
        this.clientId = clientId;
        this.brokers = uris.size();
    }

    /**
     * A connection was made: the next failure starts a fresh round. After a {@link #lost} connection, logs the move.
     *
     * @param uri the broker connected to
     */
    void connected(String uri) {
        backoffMs = MIN_BACKOFF_MS;
        failedInRound = 0;
        if (lostFrom != null) {
            long ms = (System.nanoTime() - lostAtNanos) / 1_000_000;
            if (lostFrom.equals(uri)) {
                log.info("mqtt {}: {} connected again to the same broker after {} ms disconnected (lost: {})", uri,
                        clientId, ms, lostCause);
            } else {
                log.info("mqtt {}: {} moved from {} after {} ms disconnected (lost: {})", uri, clientId, lostFrom, ms,
                        lostCause);
            }
            lostFrom = null;
        }
    }

    /**
     * The live connection was lost; the move is logged by the next {@link #connected}.
     *
     * <p>A broker that went silent (its socket open, no answer to the keep-alive ping: a hung process or host, a
     * network that drops packets) would most likely hold the next connection attempt for a whole connect timeout
     * too, as its socket still accepts connections; so when the list has other brokers the connector tries the next
     * one first. A broker that closed or reset the socket is tried again first (a restart keeps its sessions).
     *
     * @param uri the broker it was to
     * @param cause why, as the client library reported it (or null when unknown)
     * @return whether the connector should start at the next broker of the list rather than this one
     */
    boolean lost(String uri, String cause) {
        lostFrom = uri;
        lostCause = cause == null ? "unknown cause" : cause;
        lostAtNanos = System.nanoTime();
        boolean next = brokers > 1 && silent(lostCause);
        if (next) {
            log.info("mqtt {}: {} got no answer to its keep-alive ping; trying the next broker first", uri,
                    clientId);
        }
        return next;
    }

    /**
     * @param cause a loss cause as the HiveMQ or Paho client reports it
     * @return whether it says the broker stopped answering the keep-alive ping
     */
    static boolean silent(String cause) {
        return cause.contains("PINGRESP") // HiveMQ client: "Timeout while waiting for PINGRESP"
                || cause.contains("Timed out waiting for a response from the server") // Paho, reason code 32000
                || cause.contains("(32000)");
    }

    /**
     * Records a failed attempt and logs it.
     *
     * @param uri the broker that failed
     * @param next the broker tried next
     * @param failure why
     * @return how long to pause before trying {@code next}: 0 within a round
     */
    long failed(String uri, String next, ConnectFailure failure) {
        failedInRound++;
        boolean roundOver = failedInRound >= brokers;
        long pause = roundOver ? backoffMs : 0;
        if (failure.fatal()) {
            refusals++;
            log.error("mqtt {}: cannot connect as {}: {}", uri, clientId, failure.description());
        } else if (!roundOver) {
            log.info("mqtt {}: cannot connect ({}); failing over to {}", uri, failure.description(), next);
        } else {
            log.info("mqtt {}: cannot connect ({}); next attempt on {} in {} ms", uri, failure.description(), next,
                    backoffMs);
        }
        if (roundOver) {
            failedInRound = 0;
            backoffMs = Math.min(backoffMs * 2, MAX_BACKOFF_MS);
        }
        return pause;
    }

    /** @return refusals so far (reset by nothing: only read before the first connection) */
    int refusals() {
        return refusals;
    }

    /** @return whether the refusals so far are enough for {@code start()} to give up, if it has not connected yet */
    boolean refusedEnough() {
        return refusals >= ConnectFailure.START_ATTEMPTS * brokers;
    }
}
