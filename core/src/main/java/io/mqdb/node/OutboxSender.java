package io.mqdb.node;

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
import java.util.concurrent.ConcurrentLinkedQueue;
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
 * <h2>Threads</h2>
 * One thread, {@code send-<store>}, started by {@link #start()} and stopped by {@link #close()}.
 * {@link #requestResend} may be called from any thread.
 */
final class OutboxSender implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(OutboxSender.class);
    private static final Duration PUBLISH_TIMEOUT = Duration.ofSeconds(30);
    private static final int MAX_MESSAGES = 256;
    private static final long POSITION_EVERY_NANOS = 1_000_000_000L;

    private final String storeName;
    private final DurableQueue outbox;
    private final NodeContext ctx;
    private final Set<TableId> channels;
    private final Consumer<TableId> snapshotStarter;
    private final Backoff backoff;
    private final ConcurrentLinkedQueue<Control.Resend> resends = new ConcurrentLinkedQueue<>();
    /** Per channel, the last sequence number the broker acknowledged. */
    private final Map<TableId, Long> delivered = new HashMap<>();
    private final Map<TableId, Long> positionSentSeq = new HashMap<>();
    private long lastPositionsNanos;
    private long lastPeriodicNanos;
    private volatile boolean running = true;
    private Thread thread;

    /**
     * @param storeName the store, for thread names and logs
     * @param outbox the store's outbox
     * @param ctx the node's shared parts
     * @param channels the channels the store publishes
     * @param snapshotStarter asks the capture thread for a fresh snapshot of a channel
     */
    OutboxSender(String storeName, DurableQueue outbox, NodeContext ctx, Set<TableId> channels,
                 Consumer<TableId> snapshotStarter) {
        this.storeName = storeName;
        this.outbox = outbox;
        this.ctx = ctx;
        this.channels = Set.copyOf(channels);
        this.snapshotStarter = snapshotStarter;
        this.backoff = new Backoff(Duration.ofSeconds(1), LOG, ctx.metrics());
    }

    /** Starts the send thread. Called once by the publisher. */
    void start() {
        thread = new Thread(this::run, "send-" + storeName);
        thread.start();
    }

    /** Queues a subscriber's request to publish a channel again; any thread. */
    void requestResend(Control.Resend r) {
        resends.add(r);
    }

    private void run() {
        try {
            if (outbox.undeliveredCount() == 0) {
                for (TableId t : channels) {
                    delivered.put(t, outbox.counter(ChannelPublisher.sequenceCounter(t)));
                }
            }
            while (running) {
                for (Control.Resend r; (r = resends.poll()) != null; ) {
                    resend(r);
                }
                List<DurableQueue.Entry> entries = outbox.peek(MAX_MESSAGES, Duration.ofMillis(100));
                if (!entries.isEmpty()) {
                    List<OutboxEntry> messages = new ArrayList<>(entries.size());
                    for (DurableQueue.Entry e : entries) {
                        messages.add(OutboxEntry.decode(e.payload()));
                    }
                    publishAndWait(messages);
                    outbox.markDelivered(entries.get(entries.size() - 1).index());
                    long events = 0;
                    for (OutboxEntry m : messages) {
                        events += m.events();
                        if (m.lastSeq() > 0) {
                            delivered.merge(TableId.parse(m.channel()), m.lastSeq(), Math::max);
                        }
                    }
                    ctx.metrics().published.add(events);
                }
                publishPositions(entries.isEmpty());
            }
        } catch (InterruptedException | Workers.StopSignal e) {
            Thread.currentThread().interrupt();
            LOG.debug("sending of store {} stopped", storeName);
        } catch (RuntimeException e) {
            LOG.error("sending of store {} failed and stopped: {}", storeName, e.getMessage(), e);
            ctx.fail(new io.mqdb.spi.MqdbException("sending of store " + storeName + " failed: " + e.getMessage(), e));
        }
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
            long key = e.getValue() * 1_000_003L + snapKey;
            if (!periodic && Long.valueOf(key).equals(positionSentSeq.get(t))) {
                continue;
            }
            positionSentSeq.put(t, key);
            Optional<Control.Snapshot> s = snap == null ? Optional.empty()
                    : Optional.of(new Control.Snapshot(snap.startHlc, snap.firstSeq, snap.endSeq, snap.done));
            byte[] json = new Control.Position(ctx.nodeName(), t, e.getValue(), s,
                    ctx.state().epoch(t.toString())).toJson();
            ctx.transport().publish(ctx.topics().position(ctx.nodeName(), t), json, true).exceptionally(x -> null);
        }
    }

    /**
     * Publishes a channel again from a sequence number, from the messages the outbox still holds; starts a fresh
     * snapshot of the channel when it no longer holds that number.
     */
    private void resend(Control.Resend r) throws InterruptedException {
        if (!channels.contains(r.channel())) {
            return;
        }
        NodeState.SnapshotState snap = ctx.state().snapshot(r.channel().toString());
        if (snap != null && !snap.done) {
            LOG.info("store {}: {} asked for {} from {}; a snapshot of it is running, which covers it", storeName,
                    r.requester(), r.channel(), r.fromSeq());
            return;
        }
        String channel = r.channel().toString();
        long index = outbox.firstRetained();
        long head = outbox.head();
        boolean first = true;
        boolean done = false;
        long sent = 0;
        while (index < head && running && !done) {
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
                    batch.add(m);
                }
            }
            if (page.get().isEmpty()) {
                break;
            }
            publishAndWait(batch);
            sent += batch.size();
        }
        if (first) {
            if (delivered.getOrDefault(r.channel(), 0L) >= r.fromSeq()) {
                startSnapshot(r, "its resend window holds none of it");
            }
            return;
        }
        ctx.metrics().resent.add(sent);
        LOG.info("store {}: published {} from {}{} again for {} ({} messages)", storeName, r.channel(), r.fromSeq(),
                r.toSeq() == 0 ? "" : " to " + r.toSeq(), r.requester(), sent);
    }

    private void startSnapshot(Control.Resend r, String why) {
        LOG.info("store {}: {} asked for {} from {}, but {}: publishing a fresh snapshot of the channel", storeName,
                r.requester(), r.channel(), r.fromSeq(), why);
        snapshotStarter.accept(r.channel());
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
        backoff.retry("publish " + messages.size() + " messages for store " + storeName, () -> running, () -> {
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
        if (!running) {
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

    /** Stops the send thread and waits for it. Idempotent. */
    @Override
    public void close() {
        running = false;
        Workers.stop(thread);
    }
}
