package io.mqdb.node.outbox;

import io.mqdb.node.catchup.Control;
import io.mqdb.spi.TableId;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The resend requests waiting for a publisher's send thread: at most one per requester and channel. A request for a
 * pair already waiting is merged into it (the lowest {@code from}, the widest range, the newest state of the
 * requester), so a subscriber asking again while its first request waits behind a long stream costs nothing, and the
 * send thread never serves two requests of one pair at once. Bounded: beyond {@link #MAX_WAITING} pairs a request is
 * refused (the requester asks again later).
 *
 * <h2>Threads</h2>
 * Thread-safe: {@link #offer} runs on the transport's callback thread, {@link #poll} on the send thread.
 */
final class ResendQueue {
    /** The most distinct (requester, channel) pairs waiting. */
    static final int MAX_WAITING = 1024;

    /** What {@link #offer} did. */
    enum Offered {
        /** Queued as a new request. */
        QUEUED,
        /** Merged into the one already waiting for the same requester and channel. */
        COALESCED,
        /** Refused: the queue is full. */
        REFUSED
    }

    private record Pair(String requester, TableId channel) {
    }

    private final Map<Pair, Control.Resend> waiting = new LinkedHashMap<>();

    /**
     * @param r a request
     * @return whether it was queued, merged into a waiting one, or refused
     */
    synchronized Offered offer(Control.Resend r) {
        Pair key = new Pair(r.requester(), r.channel());
        Control.Resend before = waiting.get(key);
        if (before != null) {
            waiting.put(key, merge(before, r));
            return Offered.COALESCED;
        }
        if (waiting.size() >= MAX_WAITING) {
            return Offered.REFUSED;
        }
        waiting.put(key, r);
        return Offered.QUEUED;
    }

    /** @return the oldest waiting request, removed, or null when none waits */
    synchronized Control.Resend poll() {
        Iterator<Control.Resend> it = waiting.values().iterator();
        if (!it.hasNext()) {
            return null;
        }
        Control.Resend r = it.next();
        it.remove();
        return r;
    }

    /** @return how many requests wait */
    synchronized int size() {
        return waiting.size();
    }

    /**
     * Merges two requests of one requester and channel: from the lower {@code from}; to the higher {@code to}, or
     * open-ended (0) when either is; the newer of the requester's merge, progress and reset readings.
     */
    static Control.Resend merge(Control.Resend a, Control.Resend b) {
        long to = a.toSeq() == 0 || b.toSeq() == 0 ? 0 : Math.max(a.toSeq(), b.toSeq());
        return new Control.Resend(a.channel(), Math.min(a.fromSeq(), b.fromSeq()), to, a.requester(),
                a.targeted() && b.targeted(), Math.max(a.merged(), b.merged()), Math.max(a.streamSeq(), b.streamSeq()),
                Math.max(a.resetHlc(), b.resetHlc()), Math.max(a.at(), b.at()));
    }
}
