package io.mqdb.node.outbox;

import io.mqdb.node.catchup.Control;
import io.mqdb.node.catchup.NodeState;
import io.mqdb.node.runtime.Backoff;
import io.mqdb.node.runtime.NodeContext;
import io.mqdb.node.runtime.Worker;
import io.mqdb.node.runtime.Workers;
import io.mqdb.queue.DurableQueue;
import io.mqdb.spi.RetriableException;
import io.mqdb.spi.TableId;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Drains one store's outbox to the broker, in order: publishes the oldest messages, waits for the broker's PUBACKs
 * and only then marks them delivered, so a message leaves the outbox only once the broker has it. After a failure it
 * publishes again from the first message the broker did not acknowledge.
 *
 * <p>It also keeps each channel's position retained on the broker ({@code mqdb/<cluster>/pos/...}: the last sequence
 * number delivered and the channel's last snapshot), and serves subscribers' resend requests from the outbox's
 * resend window; a request for numbers the window no longer holds starts a fresh snapshot of the channel instead.
 *
 * <p>Targeted catch-up: a requester that says so ({@link Control.Resend#targeted()}) gets the resend on its direct
 * topic ({@code mqdb/<cluster>/to/<node>/ch/<schema>/<table>}), and a snapshot made for it alone, published from the
 * store's targeted outbox (which keeps nothing once delivered) on {@code .../to/<node>/snap/<schema>/<table>}. Queued
 * requests are coalesced per requester and channel ({@link ResendQueue}); a request that a snapshot for that node
 * still covers (running, or done but not yet confirmed merged and still being applied) is not served
 * ({@link #coverage}). A done snapshot the requester shows no progress through for {@link #LOST_AFTER_MILLIS} is
 * taken as lost (a broker restarted in memory) and served again.
 *
 * <p>Flow control: a channel's messages wait in the outbox while the channel is a {@link FlowWindow} ahead of its
 * slowest active subscriber; a snapshot made for one node waits while it is a window ahead of that node; a resend is
 * published a window at a time, each once the requester applied the one before.
 *
 * <h2>Threads</h2>
 * One thread, {@code send-<store>}, started by {@link #start()} and stopped by {@link #close()}.
 * {@link #requestResend} may be called from any thread.
 */
public final class OutboxSender extends Worker {
    private static final Logger LOG = LoggerFactory.getLogger(OutboxSender.class);
    private static final Duration PUBLISH_TIMEOUT = Duration.ofSeconds(30);
    private static final int MAX_MESSAGES = 256;
    private static final long POSITION_EVERY_NANOS = 1_000_000_000L;
    /** The longest wait for a subscriber's report while a channel's flow window is full. */
    private static final long FLOW_WAIT_MILLIS = 20;
    /** How long a done targeted snapshot may go unconfirmed, without progress, before it is taken as lost. */
    static final long LOST_AFTER_MILLIS = Long.getLong("mqdb.targeted.lost-after.ms", 60_000L);
    /** How long a done targeted snapshot is still announced when its node neither confirms it nor asks again. */
    static final long FORGET_AFTER_MILLIS = 3_600_000L;

    private final String storeName;
    private final DurableQueue outbox;
    private final DurableQueue targetedOutbox;
    private final NodeContext ctx;
    private final Set<TableId> channels;
    private final Consumer<SnapshotRequest> snapshotStarter;
    private final Backoff backoff;
    private final ResendQueue resends = new ResendQueue();
    /** Per (requester, channel): the progress it last reported through its targeted snapshot, and when. */
    private final Map<String, long[]> streamProgress = new HashMap<>();
    /** Per (requester, channel): the start of the snapshot already logged as covering its requests. */
    private final Map<String, Long> coveredLogged = new HashMap<>();
    /** Per channel, the last sequence number the broker acknowledged. */
    private final Map<TableId, Long> delivered = new HashMap<>();
    private final Map<TableId, Long> positionSentSeq = new HashMap<>();
    private long lastPositionsNanos;
    private long lastPeriodicNanos;

    /**
     * @param storeName the store, for thread names and logs
     * @param outbox the store's outbox
     * @param targetedOutbox the store's outbox of snapshots made for single nodes
     * @param ctx the node's shared parts
     * @param channels the channels the store publishes
     * @param snapshotStarter asks the capture thread for a fresh snapshot of a channel
     */
    public OutboxSender(String storeName, DurableQueue outbox, DurableQueue targetedOutbox, NodeContext ctx,
                        Set<TableId> channels, Consumer<SnapshotRequest> snapshotStarter) {
        super("send-" + storeName, "sending of store " + storeName, null, LOG, ctx::fail);
        this.storeName = storeName;
        this.outbox = outbox;
        this.targetedOutbox = targetedOutbox;
        this.ctx = ctx;
        this.channels = Set.copyOf(channels);
        this.snapshotStarter = snapshotStarter;
        this.backoff = new Backoff(Duration.ofSeconds(1), LOG, ctx.metrics());
    }

    /**
     * @param table a channel
     * @return the outbox counter holding the channel's last sequence number: the publisher commits it with each
     *     append, the sender reads it for the positions it announces
     */
    public static String sequenceCounter(TableId table) {
        return "seq:" + table;
    }

    /**
     * A request for a fresh snapshot of a channel, from the send thread to the publisher's capture thread (through
     * the {@code snapshotStarter} it was given), which makes the snapshot.
     *
     * @param table the channel
     * @param to the node it is for, or null for one published to every subscriber (a request from an older node)
     * @param restart whether to start it again from the first row when one for that node is running (the node's
     *     store lost what it was sent)
     */
    public record SnapshotRequest(TableId table, String to, boolean restart) {
    }

    /** Starts the send thread. Called once by the publisher. */
    public void start() {
        startThread();
    }

    /**
     * Queues a subscriber's request to publish a channel again, merged into one already waiting for the same
     * requester and channel; any thread.
     */
    public void requestResend(Control.Resend r) {
        switch (resends.offer(r)) {
            case COALESCED -> ctx.metrics().requestsCoalesced.increment();
            case REFUSED -> LOG.warn("store {}: too many resend requests waiting; ignoring {}'s for {} (it asks again)",
                    storeName, r.requester(), r.channel());
            default -> { }
        }
    }

    @Override
    protected void work() throws InterruptedException {
        if (outbox.undeliveredCount() == 0) {
            for (TableId t : channels) {
                delivered.put(t, outbox.counter(sequenceCounter(t)));
            }
        }
        while (running()) {
            for (Control.Resend r; (r = resends.poll()) != null; ) {
                resend(r);
            }
            boolean targeted = sendTargeted();
            List<DurableQueue.Entry> entries = outbox.peek(MAX_MESSAGES,
                    targeted ? Duration.ZERO : Duration.ofMillis(100));
            if (!entries.isEmpty()) {
                List<OutboxEntry> messages = new ArrayList<>(entries.size());
                for (DurableQueue.Entry e : entries) {
                    messages.add(OutboxEntry.decode(e.payload()));
                }
                int n = ctx.flow().admissible(messages, System.nanoTime());
                if (n == 0) {
                    ctx.metrics().flowWaits.increment();
                    ctx.flow().awaitReport(FLOW_WAIT_MILLIS); // a subscriber is a window behind: let it take some
                    publishPositions(false);
                    continue;
                }
                if (n < messages.size()) {
                    messages = messages.subList(0, n);
                    entries = entries.subList(0, n);
                }
                publishAndWait(messages);
                ctx.flow().sent(messages);
                outbox.markDelivered(entries.get(entries.size() - 1).index());
                long events = 0;
                for (OutboxEntry m : messages) {
                    events += m.events();
                    if (m.lastSeq() > 0) {
                        TableId channel = TableId.parse(m.channel());
                        ctx.metrics().published(channel).add(m.events());
                        delivered.merge(channel, m.lastSeq(), Math::max);
                    }
                }
                ctx.metrics().published.add(events);
                ctx.metrics().publishedMessages.add(messages.size());
            }
            publishPositions(entries.isEmpty());
        }
    }

    /**
     * Publishes the oldest messages of the targeted outbox (snapshots made for single nodes), at most
     * {@link #MAX_MESSAGES} so the channels' own messages take turns with them, and no more than the flow window lets
     * through ({@link FlowWindow#admissibleTargeted}).
     *
     * @return whether any waits there (published now, or held by the flow window)
     */
    private boolean sendTargeted() throws InterruptedException {
        List<DurableQueue.Entry> entries = targetedOutbox.peek(MAX_MESSAGES, Duration.ZERO);
        if (entries.isEmpty()) {
            return false;
        }
        List<OutboxEntry> messages = new ArrayList<>(entries.size());
        for (DurableQueue.Entry e : entries) {
            messages.add(OutboxEntry.decode(e.payload()));
        }
        int n = ctx.flow().admissibleTargeted(messages, System.nanoTime());
        if (n == 0) {
            ctx.metrics().flowWaits.increment();
            ctx.flow().awaitReport(FLOW_WAIT_MILLIS); // its node is a window behind
            return true; // more waits: the channels' outbox is looked at without waiting
        }
        if (n < messages.size()) {
            messages = messages.subList(0, n);
            entries = entries.subList(0, n);
        }
        publishAndWait(messages);
        ctx.flow().sentTargeted(messages);
        targetedOutbox.markDelivered(entries.get(entries.size() - 1).index());
        return true;
    }

    /**
     * Publishes each channel's position, retained, when it moved: at most once a second while changes flow, at once
     * when the outbox is drained. A position the broker did not take is simply published again later.
     */
    private void publishPositions(boolean idle) {
        long now = System.nanoTime();
        if (!idle && now - lastPositionsNanos < POSITION_EVERY_NANOS) {
            return;
        }
        // Every 10 s every position is published again, moved or not: a broker that restarted without its retained
        // messages (the embedded broker in memory) learns them again, so a subscriber that lost the stream's last
        // changes with it finds the gap even when no change follows. A timer of its own: the idle calls above
        // come every 100 ms and must not push it back.
        boolean periodic = now - lastPeriodicNanos >= 10 * POSITION_EVERY_NANOS;
        if (periodic) {
            lastPeriodicNanos = now;
        }
        lastPositionsNanos = now;
        for (Map.Entry<TableId, Long> e : delivered.entrySet()) {
            TableId t = e.getKey();
            NodeState.SnapshotState snap = ctx.state().snapshot(t.toString());
            long snapKey = snap == null ? 0 : snap.endSeq * 31 + snap.firstSeq + (snap.done ? 7 : 0);
            List<Control.Targeted> targeted = targeted(t);
            long key = e.getValue() * 1_000_003L + snapKey + 17L * targeted.hashCode();
            if (!periodic && Long.valueOf(key).equals(positionSentSeq.get(t))) {
                continue;
            }
            positionSentSeq.put(t, key);
            Optional<Control.Snapshot> s = snap == null ? Optional.empty()
                    : Optional.of(new Control.Snapshot(snap.startHlc, snap.firstSeq, snap.endSeq, snap.done,
                            snap.total));
            java.util.function.LongSupplier depth = ctx.metrics().outboxDepth.get(storeName);
            byte[] json = new Control.Position(ctx.nodeName(), t, e.getValue(), s,
                    ctx.state().epoch(t.toString()), targeted, depth == null ? -1 : depth.getAsLong()).toJson();
            String topic = ctx.topics().position(ctx.nodeName(), t);
            ctx.transport().publish(topic, ctx.seal(topic, json), true).exceptionally(x -> null);
        }
    }

    /**
     * The snapshots of a channel made for single nodes, as announced in its position (at most
     * {@link Control#MAX_TARGETED}); forgets done ones nobody asked about for {@link #FORGET_AFTER_MILLIS}.
     */
    private List<Control.Targeted> targeted(TableId t) {
        List<Control.Targeted> out = new ArrayList<>();
        long now = System.currentTimeMillis();
        for (Map.Entry<String, NodeState.SnapshotState> e : ctx.state().targeted(t.toString()).entrySet()) {
            NodeState.SnapshotState s = e.getValue();
            if (s.done && now - activeAt(t, e.getKey(), s) > FORGET_AFTER_MILLIS) {
                if (ctx.state().removeTargeted(t.toString(), e.getKey(), s.startHlc)) {
                    ctx.state().save();
                }
                continue;
            }
            if (s.firstSeq > 0 && out.size() < Control.MAX_TARGETED) {
                out.add(new Control.Targeted(e.getKey(), s.startHlc, s.firstSeq, s.endSeq, s.base, s.done));
            }
        }
        return out;
    }

    /** What a request means given the snapshot made earlier for its requester. */
    enum Coverage {
        /** There is none: serve the request. */
        NONE,
        /** The requester merged it: forget it and serve the request (a new need). */
        CONFIRMED,
        /** It is running, or done and still being applied: the request is not served. */
        COVERED,
        /** It is done but the requester neither merged it nor made progress through it for too long: serve again. */
        LOST
    }

    /**
     * Decides whether the snapshot made for a requester covers its request. Pure; the rule of "no snapshot while one
     * for the same node is in flight".
     *
     * @param t the snapshot made for the requester on that channel, or null
     * @param r the request
     * @param activeAtMillis when the snapshot was done or the requester last reported progress through it
     * @param nowMillis the wall clock
     * @param lostAfterMillis how long without progress a done snapshot is taken as lost
     */
    static Coverage coverage(NodeState.SnapshotState t, Control.Resend r, long activeAtMillis, long nowMillis,
                             long lostAfterMillis) {
        if (t == null) {
            return Coverage.NONE;
        }
        if (t.firstSeq > 0 && t.startHlc <= r.merged()) {
            return Coverage.CONFIRMED;
        }
        if (r.resetHlc() > 0 && t.startHlc <= r.resetHlc()) {
            return Coverage.NONE; // what it sent is lost with the requester's store: it is started again
        }
        if (!t.done) {
            return Coverage.COVERED;
        }
        return nowMillis - activeAtMillis < lostAfterMillis ? Coverage.COVERED : Coverage.LOST;
    }

    private static String pair(String requester, TableId channel) {
        return requester + "\u0000" + channel;
    }

    /** When a targeted snapshot was done or its node last reported progress through it (epoch ms). */
    private long activeAt(TableId channel, String requester, NodeState.SnapshotState t) {
        long[] p = streamProgress.get(pair(requester, channel));
        return Math.max(t.activeAtMillis, p == null ? 0 : p[1]);
    }

    /**
     * Applies the coverage rule to a request from a node that takes targeted catch-up.
     *
     * @return whether the request is to be served
     */
    private boolean needed(Control.Resend r) {
        String key = pair(r.requester(), r.channel());
        NodeState.SnapshotState t = ctx.state().targeted(r.channel().toString(), r.requester());
        long now = System.currentTimeMillis();
        if (t != null) {
            long[] p = streamProgress.computeIfAbsent(key, k -> new long[2]);
            if (r.streamSeq() > p[0]) {
                p[0] = r.streamSeq();
                p[1] = now; // still applying it
            }
        }
        Coverage c = coverage(t, r, t == null ? 0 : activeAt(r.channel(), r.requester(), t), now, LOST_AFTER_MILLIS);
        switch (c) {
            case CONFIRMED -> {
                if (ctx.state().removeTargeted(r.channel().toString(), r.requester(), t.startHlc)) {
                    ctx.state().save();
                }
                streamProgress.remove(key);
                coveredLogged.remove(key);
                return true;
            }
            case COVERED -> {
                ctx.metrics().requestsCovered.increment();
                boolean first = !Long.valueOf(t.startHlc).equals(coveredLogged.put(key, t.startHlc));
                String msg = "store {}: {} asked for {} from {}; the snapshot made for it ({}, {} of {} rows) covers "
                        + "it: not starting another";
                Object[] args = {storeName, r.requester(), r.channel(), r.fromSeq(),
                        t.done ? "done, not yet merged" : "running", t.rows, t.total};
                if (first) {
                    LOG.info(msg, args);
                } else {
                    LOG.debug(msg, args);
                }
                return false;
            }
            case LOST -> {
                LOG.info("store {}: {} asked for {} from {} and shows no progress through the snapshot made for it "
                        + "for {} s after it was done: taking it as lost, serving the request again", storeName,
                        r.requester(), r.channel(), r.fromSeq(), LOST_AFTER_MILLIS / 1000);
                streamProgress.remove(key);
                coveredLogged.remove(key);
                return true;
            }
            default -> {
                return true;
            }
        }
    }

    /**
     * Publishes a channel again from a sequence number, from the messages the outbox still holds; starts a fresh
     * snapshot of the channel when it no longer holds that number. For a requester that takes targeted catch-up,
     * both go to it alone.
     */
    private void resend(Control.Resend r) throws InterruptedException {
        if (!channels.contains(r.channel())) {
            return;
        }
        String direct = null;
        if (r.targeted()) {
            try {
                direct = ctx.topics().direct(r.requester(), r.channel());
            } catch (IllegalArgumentException e) {
                LOG.warn("store {}: ignoring a resend request for {}: {}", storeName, r.channel(), e.getMessage());
                return;
            }
        }
        NodeState.SnapshotState snap = ctx.state().snapshot(r.channel().toString());
        if (snap != null && !snap.done && r.resetHlc() == 0) {
            LOG.info("store {}: {} asked for {} from {}; a snapshot of it is running, which covers it", storeName,
                    r.requester(), r.channel(), r.fromSeq());
            return;
        }
        if (r.targeted() && !needed(r)) {
            return;
        }
        String channel = r.channel().toString();
        long index = outbox.firstRetained();
        long head = outbox.head();
        boolean first = true;
        boolean done = false;
        long sent = 0;
        long paced = -1;
        while (index < head && running() && !done) {
            Optional<List<DurableQueue.Entry>> page = outbox.read(index, MAX_MESSAGES);
            if (page.isEmpty()) {
                index = outbox.firstRetained(); // pruned meanwhile: start again from the oldest held
                first = true;
                continue;
            }
            List<OutboxEntry> batch = new ArrayList<>();
            for (DurableQueue.Entry e : page.get()) {
                if (e.index() >= head) {
                    break;
                }
                index = e.index() + 1;
                OutboxEntry m = OutboxEntry.decode(e.payload());
                if (!m.channel().equals(channel) || m.lastSeq() == 0) {
                    continue;
                }
                if (first) {
                    first = false;
                    if (m.firstSeq() > r.fromSeq()) {
                        startSnapshot(r, "its resend window starts at " + m.firstSeq());
                        return;
                    }
                }
                if (r.toSeq() > 0 && m.firstSeq() > r.toSeq()) {
                    done = true; // the requester has what follows
                    break;
                }
                if (m.lastSeq() >= r.fromSeq()) {
                    batch.add(direct == null ? m : new OutboxEntry(direct, false, m.channel(), m.firstSeq(),
                            m.lastSeq(), m.payload()));
                }
            }
            if (page.get().isEmpty()) {
                break;
            }
            paced = publishPaced(r, batch, paced);
            sent += batch.size();
        }
        if (first) {
            if (delivered.getOrDefault(r.channel(), 0L) >= r.fromSeq()) {
                startSnapshot(r, "its resend window holds none of it");
            }
            return;
        }
        ctx.metrics().resent.add(sent);
        LOG.info("store {}: published {} from {}{} again for {} ({} messages{})", storeName, r.channel(),
                r.fromSeq(), r.toSeq() == 0 ? "" : " to " + r.toSeq(), r.requester(), sent,
                direct == null ? ", on the channel topic: it is older than targeted catch-up" : ", to it alone");
    }

    /**
     * Publishes resent messages a flow window at a time: before each window, the requester must have applied the
     * one before ({@link FlowWindow#awaitApplied}), so a resend never overruns the broker's queue for it the way the
     * loss it repairs did.
     *
     * @param waitFor the last number of the previous window of this resend, or -1 for none
     * @return the last number of the last window published
     */
    private long publishPaced(Control.Resend r, List<OutboxEntry> batch, long waitFor) throws InterruptedException {
        int step = ctx.flow().window() == 0 ? Math.max(1, batch.size()) : ctx.flow().window();
        long last = waitFor;
        for (int i = 0; i < batch.size(); i += step) {
            if (last >= 0) {
                ctx.flow().awaitApplied(r.requester(), r.channel().toString(), last);
            }
            List<OutboxEntry> piece = batch.subList(i, Math.min(batch.size(), i + step));
            publishAndWait(piece);
            last = piece.get(piece.size() - 1).lastSeq();
        }
        return last;
    }

    private void startSnapshot(Control.Resend r, String why) {
        LOG.info("store {}: {} asked for {} from {}, but {}: publishing a fresh snapshot of the channel {}", storeName,
                r.requester(), r.channel(), r.fromSeq(), why, r.targeted() ? "to it alone"
                        : "to every subscriber (the requester is older than targeted catch-up)");
        if (r.resetHlc() > 0) {
            ctx.clock().observe(r.resetHlc()); // the snapshot for it starts after what it no longer counts
        }
        snapshotStarter.accept(new SnapshotRequest(r.channel(), r.targeted() ? r.requester() : null,
                r.resetHlc() > 0));
    }

    /**
     * Publishes messages in order and waits until the broker acknowledged all of them. After a failure it publishes
     * again from the first message the broker did not acknowledge, until it succeeds or the node stops; messages
     * after that one may arrive twice, which is harmless.
     */
    private void publishAndWait(List<OutboxEntry> messages) throws InterruptedException {
        if (messages.isEmpty()) {
            return;
        }
        int[] acknowledged = {0};
        backoff.retry("publish " + messages.size() + " messages for store " + storeName, this::running, () -> {
            sendFrom(messages, acknowledged);
            return null;
        });
    }

    /**
     * Sends the messages from {@code acknowledged[0]} on and moves {@code acknowledged[0]} past each one the broker
     * acknowledges, in order.
     *
     * @throws RetriableException at the first message the broker did not acknowledge
     */
    private void sendFrom(List<OutboxEntry> messages, int[] acknowledged) {
        if (!running()) {
            throw new Workers.StopSignal();
        }
        List<CompletableFuture<Void>> futures = new ArrayList<>(messages.size() - acknowledged[0]);
        for (OutboxEntry m : messages.subList(acknowledged[0], messages.size())) {
            futures.add(ctx.transport().publish(m.topic(), m.payload(), m.retained()));
        }
        for (CompletableFuture<Void> f : futures) {
            try {
                f.get(PUBLISH_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS);
                acknowledged[0]++;
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new Workers.StopSignal();
            } catch (ExecutionException | TimeoutException e) {
                Throwable cause = e instanceof ExecutionException ? e.getCause() : e;
                throw new RetriableException("broker " + ctx.transport().currentBroker() + " did not acknowledge "
                        + (messages.size() - acknowledged[0]) + " of " + messages.size() + " messages: "
                        + cause.getMessage(), cause);
            }
        }
    }
}
