package io.mqdb.node.outbox;

import java.util.ArrayDeque;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;
import java.util.function.ToIntFunction;

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
    /**
     * The most subscribers tracked per channel: reports naming further ones are ignored, so reports under made-up
     * node names (possible without signing on a broker that lets anyone publish) cannot grow the maps without bound.
     */
    static final int MAX_SUBSCRIBERS = 1024;

    private final int window;
    /** Per channel (as {@code schema:table}), per subscriber: what it reported. */
    private final Map<String, Map<String, Subscriber>> reports = new ConcurrentHashMap<>();
    /** Per channel: the last sequence numbers of the messages published and not yet reported by every one. */
    private final Map<String, ArrayDeque<Long>> sent = new ConcurrentHashMap<>();
    /** Per channel: the last sequence number published. */
    private final Map<String, Long> lastSent = new ConcurrentHashMap<>();
    /** Per direct snapshot topic ({@code .../to/<node>/snap/...}): the same two for a snapshot made for one node. */
    private final Map<String, ArrayDeque<Long>> sentStream = new ConcurrentHashMap<>();
    private final Map<String, Long> lastSentStream = new ConcurrentHashMap<>();
    /** Per channel, per requester: how far it reported a snapshot made for it alone. */
    private final Map<String, Map<String, Subscriber>> streamReports = new ConcurrentHashMap<>();
    private final Object signal = new Object();

    /** What one subscriber reported on one channel; guarded by itself. */
    private static final class Subscriber {
        long seq = -1;
        long applied = -1;
        long activeAtNanos;

        /** Takes a reported number: a higher one makes the subscriber active as of now. */
        synchronized void moved(long reported, long nowNanos) {
            if (reported > seq) {
                seq = reported;
                activeAtNanos = nowNanos;
            }
        }
    }

    private void signal() {
        synchronized (signal) {
            signal.notifyAll();
        }
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
        Subscriber s = tracked(reports, channel, subscriber);
        if (s == null) {
            return;
        }
        synchronized (s) {
            s.moved(seq, nowNanos);
            s.applied = Math.max(s.applied, applied);
        }
        signal();
    }

    /**
     * Takes a subscriber's report of how far it received the snapshot this node makes for it alone; any thread.
     *
     * @param subscriber the node the snapshot is made for
     * @param channel the channel, {@code schema:table}
     * @param seq the highest stream number of the snapshot it received
     * @param nowNanos {@link System#nanoTime()}
     */
    public void reportStream(String subscriber, String channel, long seq, long nowNanos) {
        Subscriber s = tracked(streamReports, channel, subscriber);
        if (s != null) {
            s.moved(seq, nowNanos);
            signal();
        }
    }

    /**
     * @param subscriber a node
     * @param channel the channel, {@code schema:table}
     * @return whether that node sent a flow report for the channel (it subscribes it); any thread
     */
    public boolean knows(String subscriber, String channel) {
        Map<String, Subscriber> subs = reports.get(channel);
        return subs != null && subs.containsKey(subscriber);
    }

    /** @return the record of a subscriber of a channel, made when there is room for it; null when there is not */
    private static Subscriber tracked(Map<String, Map<String, Subscriber>> all, String channel, String subscriber) {
        Map<String, Subscriber> subs = all.computeIfAbsent(channel, c -> new ConcurrentHashMap<>());
        Subscriber s = subs.get(subscriber);
        if (s == null && subs.size() < MAX_SUBSCRIBERS) {
            s = subs.computeIfAbsent(subscriber, n -> new Subscriber());
        }
        return s;
    }

    /**
     * As {@link #admissible} for the messages of snapshots made for single nodes (the targeted outbox): each
     * requester's stream is kept a window ahead of what it reported of it, while it reports (from the first message,
     * it counts as having received nothing). A requester that does not report within {@link #ACTIVE_NANOS} (an older
     * node), or then stands still that long, is not waited for. Send thread.
     *
     * @param messages the next messages of the targeted outbox, in order, on {@code mqdb/<cluster>/to/<node>/snap/...}
     * @return how many of the first messages to publish
     */
    int admissibleTargeted(List<OutboxEntry> messages, long nowNanos) {
        return admit(messages, OutboxEntry::topic, m -> outstandingStream(m.topic(), m.channel(), nowNanos));
    }

    /**
     * How many of the first messages to publish: up to the first whose stream ({@code key}: a channel, a direct
     * topic) has a full window.
     *
     * @param outstanding a stream's messages beyond its slowest active reader, or -1 when nobody is waited for
     */
    private int admit(List<OutboxEntry> messages, Function<OutboxEntry, String> key,
                      ToIntFunction<OutboxEntry> outstanding) {
        if (window == 0) {
            return messages.size();
        }
        Map<String, Integer> more = new HashMap<>();
        for (int i = 0; i < messages.size(); i++) {
            OutboxEntry m = messages.get(i);
            if (m.lastSeq() == 0) {
                continue;
            }
            int ahead = more.computeIfAbsent(key.apply(m), k -> outstanding.applyAsInt(m));
            if (ahead < 0) {
                continue; // nobody active to wait for
            }
            if (ahead >= window) {
                return i;
            }
            more.put(key.apply(m), ahead + 1);
        }
        return messages.size();
    }

    /** Forgets the numbers up to {@code reported} at the head of {@code q}; @return how many are left */
    private static int beyond(ArrayDeque<Long> q, long reported) {
        while (!q.isEmpty() && q.peekFirst() <= reported) {
            q.pollFirst();
        }
        return q.size();
    }

    /** Records messages of the targeted outbox the broker acknowledged. Send thread. */
    void sentTargeted(List<OutboxEntry> messages) {
        if (window == 0) {
            return;
        }
        long now = System.nanoTime();
        for (OutboxEntry m : messages) {
            if (m.lastSeq() > 0) {
                sentStream.computeIfAbsent(m.topic(), t -> new ArrayDeque<>()).addLast(m.lastSeq());
                lastSentStream.merge(m.topic(), m.lastSeq(), Math::max);
                // The first messages of a new snapshot for a node: it has received nothing of it yet, so the window
                // applies from the start (it reports within ACTIVE_NANOS, or is not waited for)
                Subscriber s = streamReports.computeIfAbsent(m.channel(), c -> new ConcurrentHashMap<>())
                        .computeIfAbsent(requesterOf(m.topic()), n -> new Subscriber());
                synchronized (s) {
                    if (s.seq < m.firstSeq() - 1 && (s.seq < 0 || now - s.activeAtNanos >= ACTIVE_NANOS)) {
                        s.seq = m.firstSeq() - 1;
                        s.activeAtNanos = now;
                    }
                }
            }
        }
    }

    /** @return the messages on a direct snapshot topic beyond what its node reported, or -1 when not waited for */
    private int outstandingStream(String topic, String channel, long nowNanos) {
        ArrayDeque<Long> q = sentStream.get(topic);
        Map<String, Subscriber> subs = streamReports.get(channel);
        Subscriber s = subs == null ? null : subs.get(requesterOf(topic));
        long reported = -1;
        if (s != null) {
            synchronized (s) {
                if (s.seq >= lastSentStream.getOrDefault(topic, 0L)) {
                    s.activeAtNanos = nowNanos;
                }
                if (nowNanos - s.activeAtNanos < ACTIVE_NANOS) {
                    reported = s.seq;
                }
            }
        }
        if (reported < 0) {
            if (q != null) {
                q.clear();
            }
            return -1;
        }
        return q == null ? 0 : beyond(q, reported);
    }

    /** The node a direct topic {@code mqdb/<cluster>/to/<node>/...} is for. */
    static String requesterOf(String topic) {
        String[] levels = topic.split("/", 5);
        return levels.length > 3 ? levels[3] : "";
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
        return admit(messages, OutboxEntry::channel, m -> outstanding(m.channel(), nowNanos));
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
        return q == null ? 0 : beyond(q, slowest);
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
