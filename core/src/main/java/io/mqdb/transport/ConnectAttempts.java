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

    /** A connection was made: the next failure starts a fresh round. */
    void connected() {
        backoffMs = MIN_BACKOFF_MS;
        failedInRound = 0;
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
