package io.mqdb.node.apply;

import io.mqdb.codec.EventCodec;
import io.mqdb.codec.SchemaInference;
import io.mqdb.codec.WireBatch;
import io.mqdb.codec.WireEvent;
import io.mqdb.config.ChannelConfig;
import io.mqdb.config.TransformConfig;
import io.mqdb.transform.ChannelTransform;
import io.mqdb.transform.EventTransformer;
import io.mqdb.node.catchup.Control;
import io.mqdb.node.runtime.Backoff;
import io.mqdb.node.runtime.NodeContext;
import io.mqdb.node.runtime.RefusalLog;
import io.mqdb.node.runtime.Worker;
import io.mqdb.signing.Envelope;
import io.mqdb.signing.SignatureRefused;
import io.mqdb.signing.Signing;
import io.mqdb.spi.ChangeEvent;
import io.mqdb.spi.InvalidDataException;
import io.mqdb.spi.Key;
import io.mqdb.spi.Op;
import io.mqdb.spi.Version;
import io.mqdb.version.VersionIndex;
import io.mqdb.spi.MqdbException;
import io.mqdb.spi.Mutation;
import io.mqdb.spi.Store;
import io.mqdb.spi.TableId;
import io.mqdb.spi.TableMissingException;
import io.mqdb.spi.TableSchema;
import io.mqdb.spi.WriteOrigin;
import io.mqdb.transport.InboundMessage;
import io.mqdb.transport.MessageHandler;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Map;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.ReentrantLock;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Applies the changes received on one subscribed channel to the local store, in arrival order, and acknowledges each
 * MQTT message only after the store committed what it carried.
 *
 * <p>Apply is idempotent and convergent (last writer wins): an event is applied only when its version is at least the
 * newest the node holds for its key in its {@link VersionIndex}; a delete leaves a tombstone version there, so a late,
 * older update cannot bring the row back. The index is updated under the store's lock, in the same commit as the
 * last contiguous sequence number applied per origin.
 *
 * <p>Catch-up: when an origin's sequence numbers jump (the broker lost messages, or this node was away longer than its
 * session), or the origin's retained position shows more than was applied, the applier asks the origin, on its
 * resend topic, to publish again from the first missing number; an origin that no longer holds it publishes a fresh
 * snapshot, which the applier merges: once it applied the whole snapshot it removes the rows of that origin the
 * snapshot did not confirm.
 *
 * <p>Targeted catch-up: resends come on this node's direct topic of the channel
 * ({@code mqdb/<cluster>/to/<node>/ch/<schema>/<table>}), numbered as on the channel; a snapshot made for this node
 * comes on {@code .../to/<node>/snap/<schema>/<table>}, numbered in a stream of its own that is tracked per origin
 * apart from the channel's numbering. The origin's position announces it ({@link Control.Targeted}); once the whole
 * stream is applied the applier merges it (as above) and moves the origin's channel number to the snapshot's
 * {@code base}: what came later on the channel waits in the numbers handled ahead, or is asked for again. Events keep
 * their origin's versions, so last-writer-wins is the same whichever topic they came on.
 *
 * <p>Messages are gathered into one store batch until the channel's {@code batch-size} events or its
 * {@code flush-interval} is reached. The table is created from the schema the publisher sends when it is missing,
 * and grows when the publisher's schema grows. Events this node made itself are skipped. A malformed message, or an
 * event that can never be applied, goes to the {@link io.mqdb.node.deadletter.DeadLetters} with its reason and the
 * channel keeps going; a store that is unavailable is retried with backoff, the messages staying unacknowledged
 * meanwhile.
 *
 * <p>Relays: a channel subscribed via one broker connection and published via another ({@link ChannelConfig#relays()},
 * an edge node) writes what it receives as local writes, so its store's capture publishes them on the other.
 *
 * <p>Acknowledged writes: a message that carries an MQTT 5 response topic gets a receipt ({@link WriteReceipts}) once
 * the store committed the batch it was applied in, before the message is acknowledged; it counts the events the node
 * holds and those it dead-lettered.
 *
 * <h2>Threads</h2>
 * {@link #onMessage} runs on the transport's callback thread and only queues the message (blocking when the queue is
 * full: back-pressure to the broker). One thread per channel, {@code apply-<schema>:<table>}, does the rest; it is
 * started by {@link #start()} and stopped by {@link #close()}. Position messages ({@link #positionHandler()}) are
 * queued by the callback thread too and handled by the apply thread; the callback thread also notes them in the
 * channel's {@link ApplyProgress} (its lag), as does {@link #lagPositionHandler()} on the node's control session.
 */
public final class ChannelApplier extends Worker implements MessageHandler {
    private static final Logger LOG = LoggerFactory.getLogger(ChannelApplier.class);
    private static final int QUEUE_MESSAGES = 256;
    private static final long GAP_CHECK_NANOS = 1_000_000_000L;
    private static final long RESEND_EVERY_NANOS = 5_000_000_000L;
    private static final long MAX_RESEND_WAIT_NANOS = 60_000_000_000L;
    /** The table, in the channel's schema of the target store, holding one marker row per subscribed channel. */
    static final String MARKER_TABLE = "mqdb_incarnation";
    private static final long MARKER_FIRST_CHECK_NANOS = 0;
    private static final long MARKER_CHECK_EVERY_NANOS = 2_000_000_000L;

    private final ChannelConfig channel;
    private final TableId table;
    private final Store store;
    private final ClassLoader storeLoader;
    private final NodeContext ctx;
    private final Backoff backoff;
    private final BlockingQueue<InboundMessage> queue = new ArrayBlockingQueue<>(QUEUE_MESSAGES);
    private final VersionIndex versions;
    private final ConcurrentLinkedQueue<Control.Position> positions = new ConcurrentLinkedQueue<>();
    /** Per origin: the last sequence number up to which everything was applied (cache of the index's counter). */
    private final Map<String, Long> contiguous = new HashMap<>();
    /** Per origin: the highest sequence number it announced or sent. */
    private final Map<String, Long> announced = new HashMap<>();
    /** Per origin: {@link #contiguous} at the last gap check, to see whether it is stuck. */
    private final Map<String, Long> lastChecked = new HashMap<>();
    private final Map<String, Long> lastRequestNanos = new HashMap<>();
    private final Map<String, Long> resendWaitNanos = new HashMap<>();
    /** Per origin: a complete snapshot to merge once everything up to its end is applied. */
    private final Map<String, Control.Snapshot> pendingMerges = new HashMap<>();
    /** Per origin: the newest snapshot made for this node that it announced and this node has not merged yet. */
    private final Map<String, Control.Targeted> targetedInFlight = new HashMap<>();
    /** Per origin: the stream number of its targeted snapshot at the last gap check, to see whether it moves. */
    private final Map<String, Long> lastCheckedStream = new HashMap<>();
    /**
     * Per origin, after this node's store lost its data: a clock reading; the origin's targeted snapshots that started
     * at or before it do not count (what they sent is lost). Cleared once a newer one is announced.
     */
    private final Map<String, Long> resetHlc = new HashMap<>();
    /** This node's direct topic for snapshots of the channel made for it. */
    private final String snapshotTopic;
    /** Per origin: sequence numbers handled beyond a gap, waiting for it to close (in memory only). */
    private final Map<String, TreeSet<Long>> ahead = new HashMap<>();
    private static final int MAX_AHEAD = 1_000_000;
    private long lastGapCheckNanos;
    /** The marker this channel keeps in its store, to notice when the store lost what was applied to it. */
    private final TableId markerTable;
    private long nextMarkerCheckNanos;
    /** Set when the store lost its data: every origin's numbering is reset on the next catch-up. */
    private boolean resyncPending;
    /** Set by {@link #resync()} on any thread; turned into {@link #resyncPending} by the apply thread. */
    private volatile boolean resyncRequested;
    /** Set by {@link #pause}, cleared by {@link #resume()}: the apply thread takes nothing off the queue. */
    private volatile boolean paused;
    /** Set by the apply thread while it holds for a pause (no batch in progress). */
    private volatile boolean holding;
    private TableSchema schema;
    /** Keys applied as live at different times, read back by {@link #probeRows()}. Apply thread only. */
    private final java.util.ArrayDeque<Key> probeSamples = new java.util.ArrayDeque<>();
    private long lastSampleNanos;
    private static final int PROBE_SAMPLES = 8;
    private static final long SAMPLE_EVERY_NANOS = 30_000_000_000L;

    private final ApplyProgress progress;
    /** The channel's transform ({@code transform:}), run on each event before the store write; else empty. */
    private final Optional<ChannelTransform> transform;
    private final Optional<EventTransformer> transformer;
    /**
     * With a transform: the publisher's schema the events are decoded with (the source columns), while
     * {@link #schema} is the target table's.
     */
    private TableSchema sourceSchema;
    /** The expiries {@code transform.ttl} gave the upserts of the batch being processed. Apply thread only. */
    private final Map<ChangeEvent, java.time.Instant> expiries = new java.util.IdentityHashMap<>();

    /** An applier whose progress is kept for nobody but {@link #progress()}. */
    public ChannelApplier(ChannelConfig channel, Store store, ClassLoader storeLoader, NodeContext ctx) {
        this(channel, store, storeLoader, ctx, new ApplyProgress(channel.table(), (nanos, events) -> { }));
    }

    /**
     * @param channel the channel's config
     * @param store its store
     * @param storeLoader the store's class loader, the apply thread's context loader
     * @param ctx what the node's jobs share
     * @param progress where the applier keeps how far it applied the channel (for lag and metrics)
     */
    public ChannelApplier(ChannelConfig channel, Store store, ClassLoader storeLoader, NodeContext ctx,
            ApplyProgress progress) {
        super("apply-" + channel.table(), "channel " + channel.table() + ": apply", storeLoader, LOG, ctx::fail);
        this.channel = channel;
        this.table = channel.table();
        this.store = store;
        this.storeLoader = storeLoader;
        this.ctx = ctx;
        this.backoff = new Backoff(Duration.ofSeconds(1), LOG, ctx.metrics());
        this.versions = ctx.versions();
        this.markerTable = new TableId(table.schema(), MARKER_TABLE);
        this.snapshotTopic = ctx.topics().directSnapshot(ctx.nodeName(), table);
        this.nextMarkerCheckNanos = System.nanoTime() + MARKER_FIRST_CHECK_NANOS;
        this.progress = progress;
        this.receipts = new WriteReceipts(ctx, channel.table());
        this.applyOrigin = channel.relays() ? WriteOrigin.LOCAL : WriteOrigin.REPLICATED;
        this.transform = channel.transform().map(TransformConfig::transform);
        this.transformer = transform.map(t -> new EventTransformer(t, key -> backoff.retry("read " + table + " "
                + key + " for its transform", this::running, () -> store.get(table, key))));
    }

    /** @return how far the channel is applied; thread-safe */
    public ApplyProgress progress() {
        return progress;
    }

    /**
     * @return the handler of the channel's position topic ({@code mqdb/<cluster>/pos/<schema>/<table>/+}): it queues
     *     the publishers' positions for the apply thread
     */
    public MessageHandler positionHandler() {
        return m -> {
            Control.Position p = openPosition(m, true);
            if (p != null) {
                positions.add(p);
                progress(p);
            }
            m.ack();
        };
    }

    /**
     * @return a handler of the channel's position topic for another session than the channel's (the node's control
     *     session): it only keeps the publishers' positions for the channel's lag. On the channel's own session a
     *     position waits behind the channel's unacknowledged messages (PUBACKs go in order, and a broker's in-flight
     *     window is per session), so while a batch is held for a store that is down the lag would not grow there.
     *     It refuses what {@link #positionHandler()} refuses, silently: that one counts and logs the refusals.
     */
    public MessageHandler lagPositionHandler() {
        return m -> {
            Control.Position p = openPosition(m, false);
            if (p != null) {
                progress(p);
            }
            m.ack();
        };
    }

    private void progress(Control.Position p) {
        if (!p.node().equals(ctx.nodeName()) && p.channel().equals(table)) {
            progress.position(p, () -> versions.counter(sequenceCounter(p.node())));
        }
    }

    /**
     * @param report whether to count and log a refused or bad position
     * @return the position a message carries when it is one of this channel that comes, signed when signing is on,
     *     from the node it names; else null. Callback thread.
     */
    private Control.Position openPosition(InboundMessage m, boolean report) {
        if (m.payload().length == 0) {
            return null;
        }
        try {
            Signing.Verified v;
            try {
                v = ctx.openControl(m.topic(), m.payload());
            } catch (SignatureRefused e) {
                if (report) {
                    refusePosition(m.topic(), e.getMessage());
                }
                return null;
            }
            String signer = v.signer();
            Control.Position p = Control.Position.parse(v.payload());
            String topicNode = m.topic().substring(m.topic().lastIndexOf('/') + 1);
            if (signer != null && (!signer.equals(topicNode) || !signer.equals(p.node())
                    || !p.channel().equals(table))) {
                if (report) {
                    refusePosition(m.topic(), "signed by " + signer + " but is the position of " + p.node()
                            + " on " + p.channel() + ", published on " + topicNode + "'s topic");
                }
                return null;
            }
            return p;
        } catch (InvalidDataException e) {
            if (report) {
                LOG.warn("channel {}: ignoring a bad position message on {}: {}", table, m.topic(), e.getMessage());
            }
            return null;
        }
    }

    private final RefusalLog positionRefusals = new RefusalLog(LOG);

    /**
     * A position that does not come, signed, from the node it names: it never reaches gap detection nor merges.
     * Callback thread.
     */
    private void refusePosition(String topic, String reason) {
        ctx.metrics().signatureRefused.increment();
        positionRefusals.warn("channel " + table + ": ignoring the position on " + topic + ": " + reason);
    }

    /** Starts the apply thread. Called once by the node on its start-up thread, before subscribing. */
    public void start() {
        startThread();
    }

    @Override
    public void onMessage(InboundMessage message) throws InterruptedException {
        if (message.retained() && message.payload().length == 0) {
            message.ack();
            return;
        }
        while (!queue.offer(message, 1, TimeUnit.SECONDS)) {
            if (!running()) {
                return; // not acknowledged: the broker delivers it again after restart
            }
        }
    }

    @Override
    protected void work() throws InterruptedException {
        List<InboundMessage> messages = new ArrayList<>();
        reportFlow();
        while (running()) {
            if (paused) {
                holding = true;
                waitWhilePaused();
                continue;
            }
            catchUp();
            InboundMessage first = queue.poll(200, TimeUnit.MILLISECONDS);
            if (first == null) {
                reportFlow();
                continue;
            }
            messages.clear();
            messages.add(first);
            long deadline = System.nanoTime() + channel.flushInterval().toNanos();
            int approxEvents = 1;
            while (approxEvents < channel.batchSize()) {
                long left = deadline - System.nanoTime();
                InboundMessage next = left > 0 ? queue.poll(left, TimeUnit.NANOSECONDS) : queue.poll();
                if (next == null) {
                    break;
                }
                messages.add(next);
                approxEvents += Math.max(1, next.payload().length / 100);
            }
            process(messages);
            reportFlow();
        }
    }

    /**
     * Takes nothing off the queue while the channel is paused: the queue fills, then the channel session's receive
     * thread waits in {@link #onMessage} and the broker keeps the rest. No catch-up meanwhile (the gaps a pause makes
     * are not losses); when it resumes, the gap checks start afresh, so the first one waits its full time before it
     * asks for anything. Apply thread.
     */
    private void waitWhilePaused() throws InterruptedException {
        Thread.sleep(50);
        if (!paused) {
            holding = false;
            lastChecked.clear();
            lastCheckedStream.clear();
            lastGapCheckNanos = System.nanoTime();
            LOG.info("channel {}: resumed; {} message(s) waiting", table, queue.size());
        }
    }

    /**
     * Stops applying the channel (admin API): what arrives waits in the apply queue, then at the broker; lag grows.
     * Waits (at most {@code wait}) until the apply thread finished the batch it was applying, so that nothing is
     * applied after this returns true. Not kept across a restart: a node starts with every channel applying. Any
     * thread.
     *
     * @param wait how long to wait for the batch being applied (a store being retried may hold it longer)
     * @return whether the apply thread is holding: false when it was still busy with a batch after {@code wait}
     * @throws InterruptedException when interrupted while waiting (the channel stays paused)
     */
    public boolean pause(Duration wait) throws InterruptedException {
        if (!paused) {
            paused = true;
            LOG.info("channel {}: paused (admin API): nothing is applied until it is resumed", table);
        }
        long deadline = System.nanoTime() + wait.toNanos();
        while (!holding && paused && System.nanoTime() - deadline < 0) {
            Thread.sleep(10);
        }
        return holding;
    }

    /**
     * Applies the channel again after {@link #pause}. Any thread.
     *
     * @return whether it was paused
     */
    public boolean resume() {
        boolean was = paused;
        paused = false;
        return was;
    }

    /** @return the messages taken off the broker and waiting in the apply queue */
    public int waiting() {
        return queue.size();
    }

    /** @return whether the channel is paused */
    public boolean paused() {
        return paused;
    }

    /**
     * Syncs the channel again from every origin (admin API), as after a loss of the store's data: each origin is
     * asked for its numbering from 1, which it answers from its resend window or with a snapshot made for this node,
     * merged (rows the origin no longer has are removed). Rows applied stay while it runs. On the apply thread, between
     * two batches. Any thread.
     */
    public void resync() {
        LOG.info("channel {}: re-sync requested (admin API)", table);
        resyncRequested = true;
    }

    /** The shortest time between two flow reports of the channel. */
    private static final long FLOW_EVERY_NANOS = 50_000_000L;
    private long lastFlowNanos;
    /** The last report made; null to make it again (set so by the transport when the broker refused it). */
    private volatile Map<String, Long> lastFlow;

    /**
     * Tells the publishers how far this node received each origin's numbering of the channel (the highest number
     * handled, gaps or not: what left the broker's queue for this node) and applied it without a gap, so they stay
     * within their flow window ({@link io.mqdb.node.outbox.FlowWindow}). Origins known only from their positions are
     * reported too, with how far a snapshot an origin makes for this node alone has arrived (its stream), so that
     * one is paced as well; the first report, made when the apply thread starts, names none: a publisher then counts this
     * node as having received nothing of it yet, so it paces this node from its very first burst. When it changed, at most every {@link #FLOW_EVERY_NANOS}; the idle
     * loop sends the last one within 200 ms. Apply thread; QoS 1, retained, so a publisher that starts later learns it
     * at once; a report the broker did not take is published again.
     */
    private void reportFlow() {
        long now = System.nanoTime();
        if (now - lastFlowNanos < FLOW_EVERY_NANOS) {
            return;
        }
        Map<String, Long> received = new java.util.TreeMap<>();
        Map<String, Long> applied = new java.util.TreeMap<>();
        java.util.Set<String> origins = new java.util.TreeSet<>(announced.keySet());
        origins.addAll(contiguous.keySet());
        for (String origin : origins) {
            if (isStreamKey(origin) || origin.equals(ctx.nodeName())) {
                continue;
            }
            long have = contiguous(origin);
            TreeSet<Long> beyond = ahead.get(origin);
            received.put(origin, beyond == null || beyond.isEmpty() ? have : Math.max(have, beyond.last()));
            applied.put(origin, have);
        }
        Map<String, Long> stream = new java.util.TreeMap<>();
        java.util.Set<String> streaming = new java.util.TreeSet<>(targetedInFlight.keySet());
        for (String key : contiguous.keySet()) {
            if (isStreamKey(key)) {
                streaming.add(key.substring(0, key.indexOf('\u0000')));
            }
        }
        for (String origin : streaming) {
            String key = streamKey(origin);
            long have = contiguous(key);
            TreeSet<Long> beyond = ahead.get(key);
            stream.put(origin, beyond == null || beyond.isEmpty() ? have : Math.max(have, beyond.last()));
        }
        Map<String, Long> both = new java.util.HashMap<>(received);
        applied.forEach((o, v) -> both.put(o + "\u0000applied", v));
        stream.forEach((o, v) -> both.put(o + "\u0000stream", v));
        if (both.equals(lastFlow)) {
            return; // the first report, before any origin is known, is the empty one: it registers this node
        }
        lastFlowNanos = now;
        lastFlow = both;
        String topic = ctx.topics().flow(ctx.nodeName(), table);
        ctx.transport().publish(topic, ctx.seal(topic, new Control.Flow(ctx.nodeName(), table, received, applied,
                stream).toJson()), true).exceptionally(t -> {
                    lastFlow = null; // the next call publishes it again
                    return null;
                });
    }

    /** Decodes, applies and acknowledges a group of messages. */
    private void process(List<InboundMessage> messages) throws InterruptedException {
        long started = System.nanoTime();
        List<ChangeEvent> events = new ArrayList<>();
        List<SeqMark> marks = new ArrayList<>();
        Set<SeqMark> inGroup = new HashSet<>();
        long receiveMillis = System.currentTimeMillis();
        List<WriteReceipts.Pending> toReceipt = new ArrayList<>(0);
        int[] starts = new int[messages.size() + 1];
        WriteReceipts.Pending[] asked = new WriteReceipts.Pending[messages.size()];
        int index = -1;
        for (InboundMessage m : messages) {
            starts[++index] = events.size();
            receipt = receipts.pending(m);
            if (receipt != null) {
                toReceipt.add(receipt);
                asked[index] = receipt;
            }
            byte[] payload = m.payload();
            String signer = null;
            if (ctx.signing().isPresent()) {
                if (Envelope.isSigned(payload)) {
                    try {
                        Signing.Verified v = ctx.signing().get().open(m.topic(), payload);
                        payload = v.payload();
                        signer = v.signer();
                    } catch (SignatureRefused e) {
                        refuse(m, e.getMessage());
                        continue;
                    }
                } else if (!channel.acceptPlainWrites()) {
                    refuse(m, "unsigned message refused (node.signing is on; accept-plain-writes is off for this "
                            + "channel)");
                    continue;
                }
            }
            WireBatch batch;
            try {
                batch = ctx.codec().decode(payload, table);
            } catch (InvalidDataException e) {
                deadLetter(m.topic(), m.payload(), e.getMessage());
                continue;
            }
            if (receipt != null) {
                receipt.events(batch.events().size());
            }
            if (ctx.signing().isPresent() && signer == null) {
                plainWrite(m, batch, events, receiveMillis);
                continue;
            }
            if (signer != null) {
                String claimed = claimedOtherThan(batch, signer);
                if (claimed != null) {
                    refuse(m, "signed by " + signer + " but claims origin " + claimed);
                    continue;
                }
            }
            if (ctx.nodeName().equals(batch.origin())) {
                ctx.metrics().skippedOwn.add(batch.events().size());
                continue;
            }
            boolean stream = snapshotTopic.equals(m.topic());
            for (WireEvent we : batch.events()) {
                if (we.origin().map(ctx.nodeName()::equals).orElse(false)) {
                    ctx.metrics().skippedOwn.increment();
                    continue;
                }
                String origin = we.origin().orElse(batch.origin());
                if (origin != null && we.seq() > 0) {
                    SeqMark mark = new SeqMark(origin, we.seq(), stream);
                    if (!stream && (!inGroup.add(mark) || handled(origin, we.seq()))) {
                        // The same event again: through a second broker (broker.mode: mirror), a redelivery of a
                        // message whose ack was lost, or a resend of what had arrived meanwhile.
                        ctx.metrics().skippedDuplicates.increment();
                        continue;
                    }
                    marks.add(mark);
                }
                try {
                    TableSchema s = resolveSchema(batch.schema(), we);
                    ChangeEvent event = EventCodec.requireNoNul(ctx.codec().toEvent(we, s, receiveMillis));
                    long ahead = ctx.clock().beyondSkewMillis(event.version().hlc(), receiveMillis);
                    if (ahead > 0) {
                        ctx.metrics().clockSkewRefused.increment();
                        deadLetter(m.topic(), m.payload(), "event " + we.index() + ": its version "
                                + event.version().hlc() + " is " + (ahead == Long.MAX_VALUE ? "invalid (negative)"
                                : ahead + " ms further ahead of this node's clock than node.max-clock-skew ("
                                + ctx.config().maxClockSkew().toMillis() + " ms) allows") + "; not applied");
                        continue;
                    }
                    events.add(transformed(event));
                } catch (InvalidDataException e) {
                    deadLetter(m.topic(), m.payload(), "event " + we.index() + ": " + e.getMessage());
                }
            }
        }
        receipt = null;
        starts[messages.size()] = events.size();
        if (!toReceipt.isEmpty()) {
            for (int k = 0; k < messages.size(); k++) {
                for (int e = starts[k]; asked[k] != null && e < starts[k + 1]; e++) {
                    eventReceipts.put(events.get(e), asked[k]); // for a store's refusal of one event, in apply
                }
            }
        }
        transformer.ifPresent(EventTransformer::batchDone);
        if (!events.isEmpty() || !marks.isEmpty()) {
            long oldest = Long.MAX_VALUE;
            for (ChangeEvent e : events) {
                oldest = Math.min(oldest, e.version().millis());
            }
            if (oldest != Long.MAX_VALUE) {
                progress.unapplied(oldest);
            }
            applyNewest(events, marks);
        }
        eventReceipts.clear();
        expiries.clear();
        progress.batchDone(appliedNewestMillis, appliedCount, System.nanoTime() - started);
        appliedNewestMillis = 0;
        appliedCount = 0;
        for (WriteReceipts.Pending p : toReceipt) {
            receipts.send(p); // committed: the store holds what the message carried
        }
        for (InboundMessage m : messages) {
            m.ack();
        }
    }

    /** The receipt of the message {@link #process} is decoding, if it asked for one; apply thread. */
    private WriteReceipts.Pending receipt;
    /** The receipt each event of the batch being applied counts in, for those whose message asked for one. */
    private final Map<ChangeEvent, WriteReceipts.Pending> eventReceipts = new java.util.IdentityHashMap<>();
    private final WriteReceipts receipts;
    /**
     * How the changes received are written: replicated (never captured, so never published again), or, on a channel
     * that relays (subscribed via one broker connection and published via another: an edge node), as local writes,
     * which the store's capture publishes on the other connection.
     */
    private final WriteOrigin applyOrigin;

    /**
     * @return an origin the batch or one of its events names that is not the signer (an event without one takes
     *     the batch's, and a batch without one stands for {@code mqtt}), or null when all are the signer's
     */
    private static String claimedOtherThan(WireBatch batch, String signer) {
        String batchOrigin = batch.origin() == null ? io.mqdb.codec.EventCodec.DEFAULT_ORIGIN : batch.origin();
        if (!batchOrigin.equals(signer)) {
            return batchOrigin;
        }
        for (WireEvent we : batch.events()) {
            if (we.origin().isPresent() && !we.origin().get().equals(signer)) {
                return we.origin().get();
            }
        }
        return null;
    }

    /**
     * A batch refused for its signature: dead-lettered with the reason, the whole message as it came. Also in strict
     * mode ({@code on-error: stop}): what anyone may publish must not be able to stop the node.
     */
    private void refuse(InboundMessage m, String reason) {
        if (receipt != null) {
            receipt.deadLettered("refused: " + reason);
        }
        ctx.metrics().signatureRefused.increment();
        ctx.deadLetters().record(table, m.topic(), m.payload(), reason);
    }

    /**
     * The origin plain writes of this channel are stamped with: not a node name (those have no {@code :}), so no
     * node can sign positions or snapshots for it, and no merge ever removes its rows.
     */
    String plainOrigin() {
        return "plain:" + table;
    }

    /**
     * An unsigned batch on a channel with {@code accept-plain-writes} (signing on): whatever origin, sequence numbers
     * and versions it carries are ignored; each event gets this node's clock and the origin {@link #plainOrigin()},
     * and no sequence number, so it neither moves any origin's numbering nor takes part in catch-up or merges. With
     * {@code plain-writes: upserts} a delete is dead-lettered.
     */
    private void plainWrite(InboundMessage m, WireBatch batch, List<ChangeEvent> events, long receiveMillis)
            throws InterruptedException {
        for (WireEvent we : batch.events()) {
            if (we.op() == Op.DELETE && channel.plainWrites() == ChannelConfig.PlainWrites.UPSERTS) {
                // Never stops the node, even in strict mode: it is a refusal, like a signature's.
                if (receipt != null) {
                    receipt.deadLettered("event " + we.index() + ": a plain delete refused (plain-writes: upserts)");
                }
                ctx.deadLetters().record(table, m.topic(), m.payload(), "event " + we.index() + ": a plain delete "
                        + "refused (plain-writes: upserts on this channel)");
                continue;
            }
            try {
                TableSchema s = resolveSchema(batch.schema(), we);
                ChangeEvent e = EventCodec.requireNoNul(ctx.codec().toEvent(we, s, receiveMillis));
                events.add(transformed(new ChangeEvent(e.table(), e.op(), e.key(), e.row(),
                        new Version(ctx.clock().now(), plainOrigin()), 0)));
                ctx.metrics().plainWrites.increment();
            } catch (InvalidDataException e) {
                deadLetter(m.topic(), m.payload(), "event " + we.index() + ": " + e.getMessage());
            }
        }
    }

    /**
     * Applies the events that are at least as new as what the node holds for their keys, records their versions and
     * the origins' sequence numbers, and commits the index; all under the store's lock, so that a two-way table's
     * capture versions its changes either before or after, never in between.
     */
    private void applyNewest(List<ChangeEvent> events, List<SeqMark> marks) throws InterruptedException {
        ReentrantLock lock = ctx.storeLock(channel.store());
        lock.lockInterruptibly();
        try {
            Map<Key, Version> inBatch = new HashMap<>();
            List<ChangeEvent> newest = new ArrayList<>(events.size());
            for (ChangeEvent e : events) {
                Version held = inBatch.get(e.key());
                if (held == null) {
                    held = versions.get(table, e.key()).map(VersionIndex.Entry::version).orElse(null);
                }
                if (held != null && held.compareTo(e.version()) > 0) {
                    ctx.metrics().skippedOlder.increment();
                    continue;
                }
                inBatch.put(e.key(), e.version());
                newest.add(e);
            }
            List<ChangeEvent> applied = apply(newest);
            List<Key> keys = new ArrayList<>(applied.size());
            Key lastLive = null;
            appliedCount += applied.size();
            for (ChangeEvent e : applied) {
                appliedNewestMillis = Math.max(appliedNewestMillis, e.version().millis());
                versions.record(table, e.key(), e.version(), e.op() == Op.DELETE);
                keys.add(e.key());
                if (e.op() != Op.DELETE) {
                    lastLive = e.key();
                }
            }
            if (lastLive != null) {
                sample(lastLive); // once a batch: samples are minutes apart, not one per event
            }
            if (channel.publish() && !channel.relays() && !keys.isEmpty()) {
                ctx.foreignWrites().mark(table, keys);
            }
            for (SeqMark m : marks) {
                if (m.stream()) {
                    advance(streamKey(m.origin()), m.seq());
                } else {
                    trackSequence(m.origin(), m.seq());
                }
            }
            versions.commit();
        } finally {
            lock.unlock();
        }
    }

    /** The events {@link #applyNewest} applied in the batch being processed, and the newest one's version time. */
    private int appliedCount;
    private long appliedNewestMillis;

    private String sequenceCounter(String origin) {
        return "seq\u0000" + table + "\u0000" + origin;
    }

    private String mergedCounter(String origin) {
        return "merged\u0000" + table + "\u0000" + origin;
    }

    private long contiguous(String origin) {
        return contiguous.computeIfAbsent(origin, o -> versions.counter(sequenceCounter(o)));
    }

    private void contiguous(String origin, long seq) {
        contiguous.put(origin, seq);
        versions.counter(sequenceCounter(origin), seq);
        if (!isStreamKey(origin)) {
            progress.applied(origin, seq);
        }
    }

    /**
     * An origin's sequence number seen in a batch (applied, skipped as older, or dead-lettered: handled); with
     * {@code stream}, a number of the origin's targeted snapshot for this node.
     */
    private record SeqMark(String origin, long seq, boolean stream) {
    }

    /**
     * The key under which the numbers of an origin's targeted snapshots for this node are tracked, apart from its
     * channel numbering. Contains a character no node name has, so it is never taken for an origin.
     */
    static String streamKey(String origin) {
        return origin + "\u0000snapshot";
    }

    private static boolean isStreamKey(String key) {
        return key.indexOf('\u0000') >= 0;
    }

    /**
     * Advances the origin's contiguous sequence number over this one and over those handled before it that were
     * waiting for it (events delivered out of order), or remembers it as handled ahead of a gap.
     */
    private void trackSequence(String origin, long seq) {
        announced.merge(origin, seq, Math::max);
        advance(origin, seq);
    }

    /**
     * @return whether the origin's channel number was handled already (applied, skipped as older or dead-lettered):
     *     at or below its contiguous number, or among the numbers handled ahead of a gap
     */
    private boolean handled(String origin, long seq) {
        if (seq <= contiguous(origin)) {
            return true;
        }
        TreeSet<Long> waiting = ahead.get(origin);
        return waiting != null && waiting.contains(seq);
    }

        /** As {@link #trackSequence} without announcing: for channel numbers and targeted-snapshot streams alike. */
    private void advance(String key, long seq) {
        long have = contiguous(key);
        if (seq <= have) {
            return;
        }
        TreeSet<Long> waiting = ahead.computeIfAbsent(key, o -> new TreeSet<>());
        if (seq != have + 1) {
            if (waiting.size() < MAX_AHEAD) {
                waiting.add(seq); // beyond that, the resend request fills the gap again
            }
            return;
        }
        contiguous(key, seq);
        drainWaiting(key);
    }

    /** Moves the origin's contiguous number over the numbers handled ahead of it that now follow on. */
    private void drainWaiting(String origin) {
        TreeSet<Long> waiting = ahead.get(origin);
        long next = contiguous(origin);
        while (waiting != null && !waiting.isEmpty() && waiting.first() <= next + 1) {
            next = Math.max(next, waiting.pollFirst());
        }
        if (next != contiguous(origin)) {
            contiguous(origin, next);
        }
    }

    /**
     * Handles the publishers' positions, asks for what is missing and merges complete snapshots. Called by the apply
     * thread between batches.
     */
    private void catchUp() throws InterruptedException {
        for (Control.Position p; (p = positions.poll()) != null; ) {
            onPosition(p);
        }
        long now = System.nanoTime();
        if (now - nextMarkerCheckNanos >= 0) {
            nextMarkerCheckNanos = now + MARKER_CHECK_EVERY_NANOS;
            checkMarker();
        }
        if (resyncRequested) {
            resyncRequested = false;
            resyncPending = true;
        }
        if (resyncPending) {
            resyncPending = false;
            resetOrigins();
        }
        if (now - lastGapCheckNanos < GAP_CHECK_NANOS) {
            return;
        }
        lastGapCheckNanos = now;
        for (Map.Entry<String, Long> e : announced.entrySet()) {
            String origin = e.getKey();
            long have = contiguous(origin);
            Long before = lastChecked.put(origin, have);
            // A targeted snapshot for this node that is still arriving is progress too: no request meanwhile.
            long streamHave = contiguous(streamKey(origin));
            Long streamBefore = lastCheckedStream.put(origin, streamHave);
            boolean streamMoving = targetedInFlight.containsKey(origin) && streamBefore != null
                    && streamBefore != streamHave;
            if (before != null && before != have) {
                resetHlc.remove(origin); // the origin's window served it: nothing to restart
            }
            if (e.getValue() <= have || before == null || before != have || streamMoving) {
                if (before == null || before != have || streamMoving) {
                    resendWaitNanos.remove(origin); // moving again: the next request, if any, waits the least
                    lastRequestNanos.remove(origin);
                }
                continue; // nothing missing, or still moving
            }
            Long last = lastRequestNanos.get(origin);
            Long wait = resendWaitNanos.getOrDefault(origin, RESEND_EVERY_NANOS);
            if (last != null && now - last < wait) {
                continue;
            }
            // Ask again later, and twice as late each time nothing arrived (a resend queued behind a long stream).
            resendWaitNanos.put(origin, last == null ? RESEND_EVERY_NANOS : Math.min(wait * 2, MAX_RESEND_WAIT_NANOS));
            lastRequestNanos.put(origin, now);
            TreeSet<Long> waiting = ahead.get(origin);
            long to = waiting == null || waiting.isEmpty() ? 0 : waiting.first() - 1;
            ctx.metrics().resendRequests.increment();
            LOG.info("channel {}: applied the changes of {} up to number {} but it published up to {}; asking it to "
                    + "publish again from {}{}", table, origin, have, e.getValue(), have + 1,
                    to == 0 ? "" : " to " + to);
            String resendTopic = ctx.topics().resend(origin);
            ctx.transport().publish(resendTopic, ctx.seal(resendTopic, new Control.Resend(table, have + 1, to,
                    ctx.nodeName(), true, versions.counter(mergedCounter(origin)), streamHave,
                    resetHlc.getOrDefault(origin, 0L), ctx.clock().now()).toJson()), false).exceptionally(t -> null);
        }
        for (var it = targetedInFlight.entrySet().iterator(); it.hasNext(); ) {
            Map.Entry<String, Control.Targeted> e = it.next();
            Control.Targeted t = e.getValue();
            if (t.done() && contiguous(streamKey(e.getKey())) >= t.endSeq()) {
                mergeTargeted(e.getKey(), t);
                it.remove();
            }
        }
        for (var it = pendingMerges.entrySet().iterator(); it.hasNext(); ) {
            Map.Entry<String, Control.Snapshot> e = it.next();
            if (contiguous(e.getKey()) >= e.getValue().endSeq()) {
                merge(e.getKey(), e.getValue());
                it.remove();
            }
        }
    }

    private void onPosition(Control.Position p) {
        if (p.node().equals(ctx.nodeName()) || !p.channel().equals(table)) {
            return;
        }
        announced.merge(p.node(), p.seq(), Math::max);
        if (p.epoch() > 0 && contiguous(p.node()) < p.epoch()) {
            // Numbers up to the epoch do not exist from the origin's data dir: nothing is missing below it.
            long have = contiguous(p.node());
            if (have > 0) {
                LOG.info("channel {}: origin {} numbers from a new epoch ({}; its data dir is new); applied up to {} "
                        + "of its earlier numbering, skipping to the epoch", table, p.node(), p.epoch() + 1, have);
            }
            contiguous(p.node(), p.epoch());
            drainWaiting(p.node());
            versions.commit();
        }
        for (Control.Targeted t : p.targeted()) {
            if (t.to().equals(ctx.nodeName())) {
                onTargeted(p.node(), t);
            }
        }
        if (p.snapshot().isEmpty()) {
            return;
        }
        Control.Snapshot s = p.snapshot().get();
        if (s.startHlc() <= versions.counter(mergedCounter(p.node()))) {
            return;
        }
        long have = contiguous(p.node());
        if (have < s.firstSeq() - 1) {
            // Everything the origin published before the snapshot is in the snapshot: skip the gap.
            LOG.info("channel {}: origin {} published a snapshot from {}; applied up to {}, skipping to it", table,
                    p.node(), s.firstSeq(), have);
            contiguous(p.node(), s.firstSeq() - 1);
            drainWaiting(p.node());
            versions.commit();
        }
        if (s.done()) {
            pendingMerges.put(p.node(), s);
        }
    }

    /**
     * Takes note of a snapshot an origin makes for this node: skips the stream's numbering to its first number, and
     * remembers it, to merge once its whole stream is applied. Ignores one already merged, and, after this node's store
     * lost its data, one that started before the loss.
     */
    private void onTargeted(String origin, Control.Targeted t) {
        if (t.startHlc() <= versions.counter(mergedCounter(origin))
                || t.startHlc() <= resetHlc.getOrDefault(origin, 0L)) {
            return;
        }
        resetHlc.remove(origin);
        Control.Targeted known = targetedInFlight.get(origin);
        if (known != null && known.startHlc() > t.startHlc()) {
            return; // an older announcement arriving late
        }
        if (known == null || known.startHlc() != t.startHlc()) {
            LOG.info("channel {}: origin {} publishes a snapshot for this node alone (stream numbers from {}, covering "
                    + "its numbers up to {})", table, origin, t.firstSeq(), t.base());
        }
        targetedInFlight.put(origin, t);
        String key = streamKey(origin);
        if (contiguous(key) < t.firstSeq() - 1) {
            contiguous(key, t.firstSeq() - 1);
            TreeSet<Long> waiting = ahead.get(key);
            if (waiting != null) {
                waiting.headSet(t.firstSeq()).clear(); // numbers of an earlier stream
            }
            drainWaiting(key);
            versions.commit();
        }
    }

    /**
     * Merges a targeted snapshot whose whole stream was applied, then moves the origin's channel number to the
     * snapshot's base: the snapshot covers every channel event up to it.
     */
    private void mergeTargeted(String origin, Control.Targeted t) throws InterruptedException {
        merge(origin, new Control.Snapshot(t.startHlc(), t.firstSeq(), t.endSeq(), true));
        if (contiguous(origin) < t.base()) {
            LOG.info("channel {}: the snapshot of {} covers its numbers up to {}; applied up to {}, skipping to it",
                    table, origin, t.base(), contiguous(origin));
            contiguous(origin, t.base());
            TreeSet<Long> waiting = ahead.get(origin);
            if (waiting != null) {
                waiting.headSet(t.base() + 1).clear();
            }
        }
        drainWaiting(origin);
        lastRequestNanos.remove(origin);
        resendWaitNanos.remove(origin);
        versions.commit();
    }

    /**
     * Removes the rows the origin's snapshot did not confirm: rows whose newest version is the origin's and older
     * than the snapshot. They get a tombstone just older than the snapshot, so a row the snapshot does hold (arriving
     * again, say) still wins.
     */
    private void merge(String origin, Control.Snapshot s) throws InterruptedException {
        ReentrantLock lock = ctx.storeLock(channel.store());
        lock.lockInterruptibly();
        try {
            List<Key> stale = versions.staleKeys(table, origin, s.startHlc());
            Version tombstone = new Version(s.startHlc() - 1, origin);
            List<Mutation> deletes = new ArrayList<>(stale.size());
            for (Key k : stale) {
                deletes.add(new Mutation.Delete(k, tombstone));
            }
            if (!deletes.isEmpty() && schema != null) {
                int removed = 0;
                try {
                    backoff.retry("remove " + deletes.size() + " rows of " + table + " gone from " + origin,
                            this::running, () -> {
                                store.apply(table, deletes, WriteOrigin.REPLICATED);
                                return null;
                            });
                    removed = deletes.size();
                } catch (InvalidDataException e) {
                    // The store refuses the batch: one by one, so a single bad row does not keep the others.
                    for (Mutation d : deletes) {
                        try {
                            backoff.retry("remove 1 row of " + table + " gone from " + origin, this::running, () -> {
                                store.apply(table, List.of(d), WriteOrigin.REPLICATED);
                                return null;
                            });
                            removed++;
                        } catch (InvalidDataException bad) {
                            LOG.warn("channel {}: merging the snapshot of {}: store {} refused to remove {}: {}; the "
                                    + "row stays", table, origin, channel.store(), ((Mutation.Delete) d).key(), bad.getMessage());
                        }
                    }
                }
                for (Key k : stale) {
                    versions.record(table, k, tombstone, true);
                }
                ctx.metrics().mergeDeletes.add(removed);
            }
            // The newest start merged: what the origin's targeted-snapshot requests report as confirmed.
            versions.counter(mergedCounter(origin), Math.max(s.startHlc(), versions.counter(mergedCounter(origin))));
            versions.commit();
            LOG.info("channel {}: merged the snapshot of {} (events {} to {}): removed {} rows it no longer has",
                    table, origin, s.firstSeq(), s.endSeq(), schema == null ? 0 : deletes.size());
        } finally {
            lock.unlock();
        }
    }

    /**
     * What a loss of the store's data sets going: counted, logged once, the channel synced again from every origin,
     * the table described again (it may be gone with the data), the probe samples forgotten (they are being refilled).
     */
    private void targetLost(String evidence) {
        ctx.metrics().targetLosses.increment();
        LOG.warn("channel {}: store {} ({}) lost what this node applied to it: {}; asking every origin to publish "
                + "the channel again", table, channel.store(), store.describeTarget(), evidence);
        resyncPending = true;
        schema = null;
        coveredSent = null;
        probeSamples.clear();
    }

    private TableSchema markerSchema() {
        return new TableSchema(markerTable, List.of(
                new io.mqdb.spi.Column("channel", io.mqdb.spi.ColumnType.STRING, false),
                new io.mqdb.spi.Column("node", io.mqdb.spi.ColumnType.STRING, false),
                io.mqdb.spi.Column.of("incarnation", io.mqdb.spi.ColumnType.STRING)), List.of("channel", "node"));
    }

    /** Writes a new incarnation number into the store's marker and this node's index. */
    private void writeMarker() {
        long incarnation = 0;
        while (incarnation == 0) {
            incarnation = java.util.concurrent.ThreadLocalRandom.current().nextLong() & Long.MAX_VALUE;
        }
        store.ensureTable(markerSchema());
        store.apply(markerTable, List.of(Mutation.Upsert.of(io.mqdb.spi.Row.of(Map.of("channel",
                table.toString(), "incarnation", Long.toString(incarnation), "node", ctx.nodeName())))),
                WriteOrigin.REPLICATED);
        versions.counter(markerCounter(), incarnation);
        versions.commit();
    }

    private String markerCounter() {
        return "incarnation\u0000" + table;
    }

    /**
     * Checks that the store still holds what this node applied to it: each subscribed channel keeps a marker row
     * ({@code <schema>:mqdb_incarnation}, key = the channel and this node, so several nodes can share a store; value =
     * a random incarnation number also kept in the version index). A missing or different marker means the store lost its data or was replaced (Redis restarted
     * empty, a dropped keyspace or database, a restore from an old backup): the node logs a WARN, writes a new marker
     * and asks every origin to publish the channel again from its first number (a resend, or a snapshot that is
     * merged). A store that cannot be reached is checked again later. Apply thread, every few seconds.
     */
    private void checkMarker() {
        long expected = versions.counter(markerCounter());
        try {
            Optional<io.mqdb.spi.Row> row = store.describe(markerTable).isEmpty() ? Optional.empty()
                    : store.get(markerTable, Key.of(table.toString(), ctx.nodeName()));
            String found = row.map(r -> (String) r.get("incarnation")).orElse(null);
            if (expected != 0 && Long.toString(expected).equals(found)) {
                probeRows();
                return;
            }
            if (expected != 0) {
                targetLost("its marker " + markerTable + " is " + (found == null ? "missing"
                        : "another one (" + found + ")"));
            }
            writeMarker();
        } catch (io.mqdb.spi.RetriableException e) {
            LOG.debug("channel {}: cannot check the store's marker now: {}", table, e.getMessage());
        } catch (MqdbException | IllegalArgumentException e) {
            LOG.warn("channel {}: cannot keep a marker in store {} (loss of the store's data will not be noticed): "
                    + "{}", table, channel.store(), e.getMessage());
            nextMarkerCheckNanos = System.nanoTime() + 600_000_000_000L;
        }
    }

    /** Keeps a key just applied as live among the samples: the first batches' at once, then one every 30 s. */
    private void sample(Key k) {
        long now = System.nanoTime();
        if (probeSamples.size() < PROBE_SAMPLES) {
            if (!probeSamples.contains(k)) {
                probeSamples.addLast(k);
                lastSampleNanos = now;
            }
        } else if (now - lastSampleNanos >= SAMPLE_EVERY_NANOS) {
            probeSamples.removeFirst(); // the oldest goes: the samples span minutes of applies
            probeSamples.addLast(k);
            lastSampleNanos = now;
        }
    }

    /**
     * Catches what the marker cannot: the channel's own table emptied or dropped while the marker table stayed (a
     * {@code TRUNCATE}, a {@code DELETE} without {@code WHERE}, a restore of that table alone). Up to
     * {@value #PROBE_SAMPLES} keys this node applied at different times (the first ones applied, then one
     * replaced every 30 s), and still holds as live in its index, must be in the store; when one is not, the table
     * lost rows, and the channel is synced again as after a target loss. At most that many reads per check. Skipped on
     * a channel this node also publishes (a local delete there may not be captured yet), and on a store that removes
     * rows by itself (a Redis with a {@code ttl}). Apply thread, from {@link #checkMarker()}.
     */
    private void probeRows() {
        if (channel.publish() || store.removesRowsByItself() || transform.map(ChannelTransform::expires)
                .orElse(false)) {
            return;
        }
        if (probeSamples.isEmpty() || schema == null) {
            return;
        }
        boolean gone = store.describe(table).isEmpty();
        for (var it = probeSamples.iterator(); it.hasNext(); ) {
            Key k = it.next();
            Optional<VersionIndex.Entry> held = versions.get(table, k);
            if (held.isEmpty() || held.get().deleted()) {
                it.remove(); // deleted since: no longer a sample
                continue;
            }
            if (!gone && store.get(table, k).isPresent()) {
                continue;
            }
            targetLost((gone ? "the table " + table + " is gone, and row " + k : "row " + k + " of " + table)
                    + ", applied at version " + held.get().version() + ", is missing");
            return;
        }
    }

    /**
     * After the store lost its data: forgets how far every known origin was applied, so the gap check asks each of
     * them to publish again from number 1 (within about a second).
     */
    private void resetOrigins() {
        java.util.Set<String> origins = new java.util.HashSet<>(announced.keySet());
        origins.addAll(contiguous.keySet());
        origins.removeIf(ChannelApplier::isStreamKey);
        for (String origin : origins) {
            // What the origin's snapshots sent before now is lost too: ask for one that starts after this reading.
            long lost = ctx.clock().now();
            Control.Targeted t = targetedInFlight.remove(origin);
            if (t != null) {
                lost = Math.max(lost, t.startHlc());
            }
            resetHlc.put(origin, lost);
            pendingMerges.remove(origin);
            contiguous(origin, 0);
            ahead.remove(origin);
            lastChecked.remove(origin);
            lastRequestNanos.remove(origin);
            resendWaitNanos.remove(origin);
            announced.merge(origin, 1L, Math::max);
        }
        versions.commit();
        LOG.info("channel {}: asking {} to publish again from number 1", table, origins);
    }

    /**
     * The schema to decode an event with: the local table's, grown to the publisher's when the publisher's has more
     * columns; created from the publisher's, or inferred from the event, when the table is missing.
     */
    private TableSchema resolveSchema(Optional<TableSchema> sent, WireEvent event) throws InterruptedException {
        if (transform.isPresent()) {
            return resolveSourceSchema(sent, event, transform.get());
        }
        if (schema == null) {
            schema = backoff.retry("describe " + table, this::running, () -> store.describe(table)).orElse(null);
        }
        TableSchema wanted = sent.orElse(null);
        if (wanted != null && !wanted.table().equals(table)) {
            throw new InvalidDataException("schema for " + wanted.table() + " sent on channel " + table);
        }
        if (wanted == null && schema == null) {
            wanted = SchemaInference.infer(table, event);
            LOG.info("channel {}: no schema known, inferred {} from the first event", table, wanted.columns());
        }
        if (wanted != null && wanted == coveredSent) {
            return schema; // this batch's schema was checked at its first event
        }
        if (wanted != null && (schema == null || !schema.missingColumns(wanted).isEmpty())) {
            TableSchema target = wanted;
            boolean created = schema == null;
            schema = backoff.retry("ensure table " + table, this::running, () -> store.ensureTable(target));
            LOG.info("channel {}: {} table in store {}", table, created ? "created" : "added columns to",
                    store.describeTarget());
        }
        coveredSent = sent.orElse(null);
        return schema;
    }

    /**
     * With a transform: the schema to decode an event with, the publisher's (its source columns); the target table
     * is created or grown to the transform's {@link ChannelTransform#targetSchema} of it. A batch without a schema (a
     * plain MQTT writer) is decoded with the last one sent, else with one inferred from the event, typed and
     * completed by the transform's declared source columns.
     */
    private TableSchema resolveSourceSchema(Optional<TableSchema> sent, WireEvent event, ChannelTransform t)
            throws InterruptedException {
        if (schema == null) {
            schema = backoff.retry("describe " + table, this::running, () -> store.describe(table)).orElse(null);
        }
        TableSchema wanted = sent.orElse(null);
        if (wanted != null && !wanted.table().equals(table)) {
            throw new InvalidDataException("schema for " + wanted.table() + " sent on channel " + table);
        }
        if (wanted == null && sourceSchema != null && schema != null) {
            return sourceSchema;
        }
        if (wanted == null) {
            wanted = sourceSchema != null ? sourceSchema : declaredSource(SchemaInference.infer(table, event), t);
        }
        if (wanted == coveredSent && schema != null) {
            return sourceSchema;
        }
        TableSchema target = t.targetSchema(wanted);
        if (schema == null || !schema.missingColumns(target).isEmpty()) {
            boolean created = schema == null;
            schema = backoff.retry("ensure table " + table, this::running, () -> store.ensureTable(target));
            LOG.info("channel {}: {} table in store {} through the channel's transform", table,
                    created ? "created" : "added columns to", store.describeTarget());
        }
        sourceSchema = wanted;
        coveredSent = wanted;
        return sourceSchema;
    }

    /** An inferred schema with the transform's declared source columns: their declared types, and any it lacks. */
    private TableSchema declaredSource(TableSchema inferred, ChannelTransform t) {
        List<io.mqdb.spi.Column> columns = new ArrayList<>();
        for (io.mqdb.spi.Column c : inferred.columns()) {
            io.mqdb.spi.ColumnType declared = t.source().get(c.name());
            columns.add(declared == null ? c : new io.mqdb.spi.Column(c.name(), declared, c.nullable()));
        }
        t.source().forEach((name, type) -> {
            if (!inferred.hasColumn(name)) {
                columns.add(io.mqdb.spi.Column.of(name, type == null ? io.mqdb.spi.ColumnType.STRING : type));
            }
        });
        LOG.info("channel {}: no schema sent, decoding with {} (inferred from the first event and the transform's "
                + "source)", table, columns);
        return new TableSchema(table, columns, inferred.primaryKey());
    }

    /** The publisher's schema last found covered by {@link #schema}: the events of its batch need no check. */
    private TableSchema coveredSent;

    /**
     * Applies events as one batch; when the store rejects the batch as invalid, one by one to isolate the bad ones,
     * which go to the dead letters (or, in strict mode, stop the channel).
     *
     * @return the events the store applied
     */
    private List<ChangeEvent> apply(List<ChangeEvent> events) throws InterruptedException {
        if (events.isEmpty()) {
            return events;
        }
        for (int attempt = 1; ; attempt++) {
            try {
                return applyOnce(events);
            } catch (TableMissingException gone) {
                if (attempt == MAX_TABLE_RECREATIONS) {
                    throw new MqdbException("channel " + table + ": the table went missing " + attempt
                            + " times in a row while applying one batch: " + gone.getMessage(), gone);
                }
                TableSchema known = schema;
                targetLost(gone.getMessage());
                backoff.retry("re-create the marker of " + table, this::running, () -> {
                    writeMarker();
                    return null;
                });
                if (known != null) {
                    schema = backoff.retry("create table " + table + " again", this::running,
                            () -> store.ensureTable(known));
                    LOG.info("channel {}: created table again in store {}", table, store.describeTarget());
                }
            }
        }
    }

    /** How many times one batch may find its table dropped and re-create it before the channel gives up. */
    static final int MAX_TABLE_RECREATIONS = 3;

    private List<ChangeEvent> applyOnce(List<ChangeEvent> events) throws InterruptedException {
        List<Mutation> batch = new ArrayList<>(events.size());
        long maxHlc = 0;
        for (ChangeEvent e : events) {
            batch.add(mutation(e));
            maxHlc = Math.max(maxHlc, e.version().hlc());
        }
        List<ChangeEvent> applied = events;
        try {
            backoff.retry("apply " + batch.size() + " events to " + table + " in store " + channel.store(),
                    this::running, () -> {
                        store.apply(table, batch, applyOrigin);
                        return null;
                    }, () -> batch.size() + " events of this batch unacknowledged, " + queue.size()
                            + " more messages queued");
            ctx.metrics().applied.add(batch.size());
        } catch (InvalidDataException e) {
            applied = new ArrayList<>(events.size());
            for (ChangeEvent ev : events) {
                try {
                    backoff.retry("apply 1 event to " + table, this::running, () -> {
                        store.apply(table, List.of(mutation(ev)), applyOrigin);
                        return null;
                    });
                    ctx.metrics().applied.increment();
                    applied.add(ev);
                } catch (InvalidDataException bad) {
                    WriteReceipts.Pending asked = eventReceipts.get(ev);
                    if (asked != null) {
                        asked.deadLettered(bad.getMessage());
                    }
                    deadLetter(ctx.topics().channel(table),
                            ctx.codec().encodeBatch(ev.origin(), schema, false, List.of(ev)), bad.getMessage());
                }
            }
        }
        ctx.clock().observe(maxHlc);
        return applied;
    }

    /**
     * Runs the channel's transform on a decoded event (columns, filter, computed columns, ttl), remembering the
     * expiry it gives; an event of a channel without a transform is returned as it is.
     *
     * @throws InvalidDataException when the transform cannot be applied to it: the event is dead-lettered
     */
    private ChangeEvent transformed(ChangeEvent event) throws InterruptedException {
        if (transformer.isEmpty()) {
            return event;
        }
        ChannelTransform.Outcome o = transformer.get().transform(event);
        if (o.expiresAt() != null) {
            expiries.put(o.event(), o.expiresAt());
        }
        return o.event();
    }

    /** @return the store write of an event, with the expiry its transform gave it */
    private Mutation mutation(ChangeEvent e) {
        java.time.Instant expiresAt = expiries.get(e);
        return expiresAt == null ? e.toMutation() : new Mutation.Upsert(e.row(), e.version(), expiresAt);
    }

    /** Records an event that can never be applied, or stops the channel in strict mode. */
    private void deadLetter(String topic, byte[] payload, String reason) {
        if (receipt != null) {
            receipt.deadLettered(reason);
        }
        if (channel.onError() == ChannelConfig.OnError.STOP) {
            throw new MqdbException("channel " + table + " (on-error: stop): cannot apply a message from " + topic
                    + ": " + reason + "; it stays unacknowledged");
        }
        ctx.deadLetters().record(table, topic, payload, reason);
    }
}
