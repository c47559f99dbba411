package io.mqdb.node.outbox;

import java.util.ArrayDeque;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;

/**
 * End-to-end flow control of a publishing node: keeps each channel at most {@code window} messages ahead of the
 * slowest active subscriber, so a subscriber slower than its publisher is never overrun.
 *
 * <p>Why: a broker acknowledges a QoS 1 message as soon as it has queued it, whatever the subscribers' speed; a
 * subscriber that falls more than the broker's per-client queue behind (the embedded broker's 100 in flight + 256
 * queued, Mosquitto's 20 + 1,000) loses the newest messages there. They were recovered by resend requests, but each
 * gap cost a round of gap detection, and under a lasting overload the resends were dropped in turn: a 300,000-change
 * stream spent its last 18 s in nine rounds of resends (bench, 2026-12-02). Subscribers therefore report how far they
 * received ({@code io.mqdb.node.catchup.Control.Flow}, on {@code mqdb/<cluster>/flow/<schema>/<table>/<node>}) and the
 * send thread publishes a channel's next message only while fewer than {@code window} of its messages lie beyond
 * what the slowest active subscriber reported.
 *
 * <p>Active: a subscriber counts while it keeps up, i.e. within {@link #ACTIVE_NANOS} of the last time its report
 * moved or showed it had received everything published. One that is away, whose store is down, or that stopped
 * reporting (an older node) stops counting after that, so it never holds the others back for long; it catches up as
 * before, by gap detection and resends from the outbox. With no active subscriber nothing waits.
 *
 * <h2>Threads</h2>
 * Thread-safe. {@link #report} runs on the transport's callback thread; {@link #admissible}, {@link #sent} and
 * {@link #awaitReport} on the send thread of the channel's store (each channel belongs to one store, so the per
 * channel record of sent messages has one writer).
 */
public final class FlowWindow {
    /** How long a subscriber counts after it last moved or was caught up. */
    static final long ACTIVE_NANOS = TimeUnit.SECONDS.toNanos(3);

    private final int window;
    /** Per channel (as {@code schema:table}), per subscriber: what it reported. */
    private final Map<String, Map<String, Subscriber>> reports = new ConcurrentHashMap<>();
    /** Per channel: the last sequence numbers of the messages published and not yet reported by every one. */
    private final Map<String, ArrayDeque<Long>> sent = new ConcurrentHashMap<>();
    /** Per channel: the last sequence number published. */
    private final Map<String, Long> lastSent = new ConcurrentHashMap<>();
    private final Object signal = new Object();

    /** What one subscriber reported on one channel; guarded by itself. */
    private static final class Subscriber {
        long seq = -1;
        long applied = -1;
        long activeAtNanos;
    }

    /** @param window the most messages of a channel beyond the slowest active subscriber; 0 turns it off */
    public FlowWindow(int window) {
        if (window < 0) {
            throw new IllegalArgumentException("window must be 0 or more, got " + window);
        }
        this.window = window;
    }

    /** @return whether the window is on */
    public boolean enabled() {
        return window > 0;
    }

    /** @return the window, in messages; 0 when off */
    int window() {
        return window;
    }

    /**
     * Takes a subscriber's report; any thread.
     *
     * @param subscriber the subscribing node
     * @param channel the channel, {@code schema:table}
     * @param seq the highest of this node's sequence numbers on the channel it received
     * @param applied the number up to which it received all of them, or -1 when the report does not say
     * @param nowNanos {@link System#nanoTime()}
     */
    public void report(String subscriber, String channel, long seq, long applied, long nowNanos) {
        Subscriber s = reports.computeIfAbsent(channel, c -> new ConcurrentHashMap<>())
                .computeIfAbsent(subscriber, n -> new Subscriber());
        synchronized (s) {
            if (seq > s.seq) {
                s.seq = seq;
                s.activeAtNanos = nowNanos;
            }
            s.applied = Math.max(s.applied, applied);
        }
        synchronized (signal) {
            signal.notifyAll();
        }
    }

    /**
     * Paces a resend: waits until the requester reported it applied the channel without a gap up to {@code seq}, as
     * long as its reports keep moving. Returns at once when the window is off or the requester never reported (an
     * older node); gives up after {@link #ACTIVE_NANOS} without movement (what was lost is asked for again). Send
     * thread.
     *
     * @return whether the requester got there
     * @throws InterruptedException when the thread is interrupted; the node is stopping
     */
    boolean awaitApplied(String requester, String channel, long seq) throws InterruptedException {
        Map<String, Subscriber> subs = reports.get(channel);
        Subscriber s = window == 0 || subs == null ? null : subs.get(requester);
        if (s == null) {
            return true;
        }
        long movedAt = System.nanoTime();
        long last;
        synchronized (s) {
            last = s.applied;
        }
        while (last < seq) {
            if (last < 0 || System.nanoTime() - movedAt >= ACTIVE_NANOS) {
                return false;
            }
            awaitReport(FLOW_POLL_MILLIS);
            long now;
            synchronized (s) {
                now = s.applied;
            }
            if (now > last) {
                last = now;
                movedAt = System.nanoTime();
            }
        }
        return true;
    }

    /** The longest wait for a report before the state is looked at again. */
    private static final long FLOW_POLL_MILLIS = 20;

    /**
     * How many of the next messages may be published now, in order: all up to the first message of a channel whose
     * window is full. Messages without a sequence number (schemas) never wait. Send thread.
     *
     * @param messages the next messages of the outbox, in order
     * @param nowNanos {@link System#nanoTime()}
     * @return how many of the first messages to publish
     */
    int admissible(List<OutboxEntry> messages, long nowNanos) {
        if (window == 0) {
            return messages.size();
        }
        Map<String, Integer> more = new java.util.HashMap<>();
        for (int i = 0; i < messages.size(); i++) {
            OutboxEntry m = messages.get(i);
            if (m.lastSeq() == 0) {
                continue;
            }
            int ahead = more.computeIfAbsent(m.channel(), c -> outstanding(c, nowNanos));
            if (ahead < 0) {
                continue; // nobody active to wait for
            }
            if (ahead >= window) {
                return i;
            }
            more.put(m.channel(), ahead + 1);
        }
        return messages.size();
    }

    /** Records messages the broker acknowledged on their channel topics. Send thread. */
    void sent(List<OutboxEntry> messages) {
        if (window == 0) {
            return;
        }
        for (OutboxEntry m : messages) {
            if (m.lastSeq() > 0) {
                sent.computeIfAbsent(m.channel(), c -> new ArrayDeque<>()).addLast(m.lastSeq());
                lastSent.merge(m.channel(), m.lastSeq(), Math::max);
            }
        }
    }

    /**
     * The messages of a channel published beyond what its slowest active subscriber reported; forgets those every
     * active subscriber has. Send thread.
     *
     * @return how many, or -1 when no subscriber of the channel is active
     */
    int outstanding(String channel, long nowNanos) {
        long slowest = slowest(channel, nowNanos);
        ArrayDeque<Long> q = sent.get(channel);
        if (slowest == Long.MAX_VALUE) {
            if (q != null) {
                q.clear();
            }
            return -1;
        }
        if (q == null) {
            return 0;
        }
        while (!q.isEmpty() && q.peekFirst() <= slowest) {
            q.pollFirst();
        }
        return q.size();
    }

    /** @return the lowest report of the channel's active subscribers, or {@link Long#MAX_VALUE} when none is */
    private long slowest(String channel, long nowNanos) {
        Map<String, Subscriber> subs = reports.get(channel);
        if (subs == null) {
            return Long.MAX_VALUE;
        }
        long last = lastSent.getOrDefault(channel, 0L);
        long min = Long.MAX_VALUE;
        for (Subscriber s : subs.values()) {
            synchronized (s) {
                if (s.seq >= last) {
                    s.activeAtNanos = nowNanos; // caught up: it counts as soon as more is published
                }
                if (s.seq >= 0 && nowNanos - s.activeAtNanos < ACTIVE_NANOS) {
                    min = Math.min(min, s.seq);
                }
            }
        }
        return min;
    }

    /**
     * Waits until a subscriber reports, or at most {@code maxMillis}. Send thread.
     *
     * @throws InterruptedException when the thread is interrupted; the node is stopping
     */
    void awaitReport(long maxMillis) throws InterruptedException {
        synchronized (signal) {
            signal.wait(maxMillis);
        }
    }
}
