package io.mqdb.node.publish;

import io.mqdb.config.ChannelConfig;
import io.mqdb.node.StoreSet;
import io.mqdb.node.catchup.Control;
import io.mqdb.node.catchup.NodeState;
import io.mqdb.node.outbox.OutboxEntry;
import io.mqdb.node.outbox.OutboxSender;
import io.mqdb.node.outbox.OutboxSender.SnapshotRequest;
import io.mqdb.node.runtime.Backoff;
import io.mqdb.node.runtime.NodeContext;
import io.mqdb.node.runtime.Worker;
import io.mqdb.node.runtime.Workers;
import io.mqdb.queue.DiskFloor;
import io.mqdb.queue.DurableQueue;
import io.mqdb.spi.CapturePosition;
import io.mqdb.spi.CapturedChange;
import io.mqdb.spi.ChangeCapture;
import io.mqdb.spi.ChangeEvent;
import io.mqdb.spi.Key;
import io.mqdb.spi.MqdbException;
import io.mqdb.spi.Mutation;
import io.mqdb.spi.Op;
import io.mqdb.spi.RetriableException;
import io.mqdb.spi.Row;
import io.mqdb.spi.ScanPage;
import io.mqdb.spi.Store;
import io.mqdb.spi.TableId;
import io.mqdb.spi.TableSchema;
import io.mqdb.spi.Version;
import io.mqdb.version.VersionIndex;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.ReentrantLock;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Captures the changes of one store's published tables into the store's durable outbox, from which an
 * {@link OutboxSender} publishes them: first the initial load (a snapshot) of every table not loaded before, then,
 * forever, the changes its {@link ChangeCapture} reports (or, for a store without capture, the writes made through
 * mqdb's embedding API, handed in by {@link io.mqdb.node.LocalTable}), in order, in batches of at most the channel's
 * {@code batch-size} events per MQTT message.
 *
 * <p>Store and forward: a batch is numbered (per channel, without gaps, from the epoch of {@link #epochStart}), versioned and appended to the outbox
 * in one commit together with the channel's sequence counter; only then is the capture position saved and
 * acknowledged to the store, so the store may prune it. Capture thus goes on while the broker is unreachable, until the
 * outbox is full: then the capture thread waits (back-pressure) and the store keeps its own backlog meanwhile. A
 * crash between the append and the save captures a batch twice; applying it twice changes nothing.
 *
 * <p>Snapshots are chunked and resumable: after each page of rows is in the outbox, the page's last key is saved in
 * the {@link NodeState}, and a snapshot interrupted by a stop or a crash resumes after it. Live changes are captured
 * between pages, so they are not held up by a long load, and any change of a row made while the snapshot runs is
 * published after it with a newer version. A subscriber that misses numbers the outbox no longer holds gets a fresh
 * snapshot of the channel made for it alone (see {@link OutboxSender}): numbered in a stream of its own, not the
 * channel's, published on its direct topic from a second outbox ({@code outbox/targeted/<store>.db}) that keeps
 * nothing once delivered, so it never takes room from the resend window; its progress is saved per node in the
 * {@link NodeState} and resumes after a restart like an initial load's.
 *
 * <p>Two-way tables (published and subscribed by this node): captured changes are versioned under the store's lock,
 * which the {@link io.mqdb.node.apply.ChannelApplier} holds while it applies replicated changes; a captured change of
 * a key whose newest write came from another node is published as the row now is, re-read from the store, so both
 * sides converge on the same row whichever order the two writes hit the store in.
 *
 * <h2>Threads</h2>
 * One thread per store, {@code capture-<store>}, started by {@link #start()} and stopped by {@link #close()}; it sets
 * the adapter's class loader as its context class loader. {@link #requestEnable}, {@link #requestResend} and
 * {@link #submitLocal} may be called from any thread.
 */
public final class ChannelPublisher extends Worker {
    private static final Logger LOG = LoggerFactory.getLogger(ChannelPublisher.class);
    private static final Duration POLL_WAIT = Duration.ofMillis(100);
    private static final long MB = 1024L * 1024L;

    private final String storeName;
    private final Store store;
    private final ClassLoader storeLoader;
    private final ChangeCapture capture;
    private final Map<TableId, ChannelConfig> channels;
    private final NodeContext ctx;
    private final Backoff backoff;
    private final Map<TableId, TableSchema> enabled = new ConcurrentHashMap<>();
    private final Map<TableId, CompletableFuture<Void>> enableRequests = new ConcurrentHashMap<>();
    private final ConcurrentLinkedQueue<TableId> pending = new ConcurrentLinkedQueue<>();
    private final ConcurrentLinkedQueue<SnapshotRequest> snapshotRequests = new ConcurrentLinkedQueue<>();
    private final BlockingQueue<LocalWrites> direct = new ArrayBlockingQueue<>(64);
    private final int maxPoll;
    /** Per channel, the last sequence number used; touched only by the capture thread. */
    private final Map<TableId, Long> sequences = new HashMap<>();
    private DurableQueue outbox;
    /**
     * The outbox of snapshots made for single nodes: same ordering and durability as {@link #outbox}, but it keeps
     * nothing once delivered, so such a snapshot never pushes out of the resend window what resends need.
     */
    private DurableQueue targetedOutbox;
    private OutboxSender sender;

    public ChannelPublisher(String storeName, Store store, ClassLoader storeLoader, ChangeCapture capture,
                            List<ChannelConfig> channels, NodeContext ctx) {
        super("capture-" + storeName, "capture of store " + storeName, storeLoader, LOG, ctx::fail);
        this.storeName = storeName;
        this.store = store;
        this.storeLoader = storeLoader;
        this.capture = capture;
        this.channels = new LinkedHashMap<>();
        int max = 1;
        for (ChannelConfig c : channels) {
            this.channels.put(c.table(), c);
            max = Math.max(max, c.batchSize());
        }
        this.maxPoll = Math.max(5000, max); // changes per capture poll: fewer round trips per change
        this.ctx = ctx;
        this.backoff = new Backoff(Duration.ofSeconds(1), LOG, ctx.metrics());
        pending.addAll(this.channels.keySet());
        for (ChannelConfig c : channels) {
            c.transform().ifPresent(t -> filters.put(c.table(), new io.mqdb.transform.EventTransformer(
                    t.transform(), key -> backoff.retry("read " + c.table() + " " + key + " for its filter",
                            this::running, () -> store.get(c.table(), key)))));
        }
    }

    /**
     * The published channels' filters ({@code transform.filter} on a publish-only channel, docs/transforms.md): a row
     * that does not pass is published as a delete of its key, and left out of snapshots. Capture thread only.
     */
    private final Map<TableId, io.mqdb.transform.EventTransformer> filters = new HashMap<>();
    private final io.mqdb.node.runtime.RefusalLog filterFailures = new io.mqdb.node.runtime.RefusalLog(LOG);

    /**
     * Where a channel's numbering starts when this node has never numbered it (a new data dir): the clock in
     * milliseconds shifted left by 20 bits. A publisher whose data dir was wiped thus numbers above anything it
     * numbered before (it would have had to number more than a million events per millisecond of its earlier life to
     * reach it), so subscribers never take its new events for old ones: they see the jump, skip to the initial load
     * it runs first (a snapshot announced with its first number) and merge it. Valid until the year 2248.
     *
     * @param nowMillis the wall clock
     * @return the number before the epoch's first event
     */
    static long epochStart(long nowMillis) {
        return nowMillis << 20;
    }

    /**
     * Opens the outbox ({@code <data-dir>/outbox/<store>.db}) and starts the capture and send threads. Called once by
     * the node on its start-up thread.
     */
    public void start() {
        java.nio.file.Path outboxDir = ctx.config().dataDir().resolve("outbox");
        try {
            java.nio.file.Files.createDirectories(outboxDir);
        } catch (java.io.IOException e) {
            throw new MqdbException("cannot create the outbox folder " + outboxDir + ": " + e, e);
        }
        DiskFloor floor = DiskFloor.of(outboxDir, (long) ctx.config().minFreeDiskMb() * MB);
        outbox = DurableQueue.open(outboxDir.resolve(storeName + ".db"),
                ctx.config().outboxMaxMb() * MB, ctx.config().resendWindowMb() * MB, floor);
        targetedOutbox = DurableQueue.open(outboxDir.resolve("targeted").resolve(storeName + ".db"),
                ctx.config().outboxMaxMb() * MB, 0, floor);
        ctx.metrics().diskPaused.put(storeName, floor::paused);
        ctx.metrics().outboxDepth.put(storeName, () -> outbox.undeliveredCount() + targetedOutbox.undeliveredCount());
        ctx.metrics().outboxBytes.put(storeName, () -> outbox.undeliveredBytes() + targetedOutbox.undeliveredBytes());
        for (TableId t : channels.keySet()) {
            long seq = outbox.counter(OutboxSender.sequenceCounter(t));
            if (seq == 0) {
                seq = ctx.state().sequence(t.toString());
            }
            if (seq == 0) {
                seq = epochStart(System.currentTimeMillis());
                ctx.state().epoch(t.toString(), seq);
                ctx.state().save();
                LOG.info("channel {}: new numbering epoch: events are numbered from {}", t, seq + 1);
            }
            sequences.put(t, seq);
        }
        if (outbox.undeliveredCount() > 0) {
            LOG.info("store {}: {} messages wait in the outbox from before, publishing them first", storeName,
                    outbox.undeliveredCount());
        }
        sender = new OutboxSender(storeName, outbox, targetedOutbox, ctx, channels.keySet(), snapshotRequests::add);
        sender.start();
        startThread();
    }

    /** @return whether the table's capture is enabled (it exists and the publisher has started capturing it) */
    boolean isEnabled(TableId table) {
        return enabled.containsKey(table);
    }

    /**
     * Asks the capture thread to enable a table that was just created, and returns when it has.
     *
     * @param table a published table of this store
     * @return completed once its changes are captured
     */
    public CompletableFuture<Void> requestEnable(TableId table) {
        if (enabled.containsKey(table)) {
            return CompletableFuture.completedFuture(null);
        }
        return enableRequests.computeIfAbsent(table, t -> new CompletableFuture<>());
    }

    /** Passes a subscriber's resend request to the send thread; any thread. */
    public void requestResend(Control.Resend r) {
        if (sender != null) {
            sender.requestResend(r);
        }
    }

    /**
     * @return whether the store captures its own changes; if not, local writes are handed in by
     *     {@link io.mqdb.node.LocalTable}
     */
    public boolean capturesItself() {
        return capture != null;
    }

    /**
     * Hands in writes made through mqdb's own write path (the embedding API) to a store that cannot capture its own
     * changes, after the store committed them; they are published in order. Blocks when the publisher is behind.
     *
     * @param table a published table of this store
     * @param batch the committed writes
     * @throws InterruptedException when interrupted while waiting for room
     */
    void submitLocal(TableId table, List<Mutation> batch) throws InterruptedException {
        direct.put(new LocalWrites(table, List.copyOf(batch)));
    }

    /**
     * The embedding API's write to a store without change capture: versions the writes, commits them to the store
     * and hands them in to be published. For a two-way table the versions are recorded and the store written under
     * the store's lock, like a replicated apply. Runs on the caller's thread.
     *
     * @param table a published table of this store
     * @param batch the writes
     * @throws InterruptedException when interrupted while waiting for the lock or for room
     */
    public void writeLocal(TableId table, List<Mutation> batch) throws InterruptedException {
        List<Mutation> versioned = new ArrayList<>(batch.size());
        boolean twoWay = channels.get(table).subscribe();
        ReentrantLock lock = ctx.storeLock(storeName);
        lock.lockInterruptibly();
        try {
            TableSchema schema = store.describe(table).orElseThrow(() -> new MqdbException(table + " does not exist"));
            for (Mutation m : batch) {
                Version v = new Version(ctx.clock().now(), ctx.nodeName());
                if (m instanceof Mutation.Upsert u) {
                    versioned.add(new Mutation.Upsert(u.row(), v));
                    if (twoWay) {
                        ctx.versions().record(table, schema.keyOf(u.row()), v, false);
                    }
                } else {
                    Key k = ((Mutation.Delete) m).key();
                    versioned.add(new Mutation.Delete(k, v));
                    if (twoWay) {
                        ctx.versions().record(table, k, v, true);
                    }
                }
            }
            store.apply(table, versioned, io.mqdb.spi.WriteOrigin.LOCAL);
            if (twoWay) {
                ctx.versions().commit();
            }
        } finally {
            lock.unlock();
        }
        submitLocal(table, versioned);
    }

    /** Repairs waiting to be published, at most {@link #REPUBLISH_QUEUE}. */
    private final BlockingQueue<Control.Republish> republish = new ArrayBlockingQueue<>(REPUBLISH_QUEUE);
    private static final int REPUBLISH_QUEUE = 16;

    /**
     * Asks this publisher to publish chosen keys of a channel again (a repair): on its thread, between two captures,
     * each key is read from the store and published as it is now (a key with no row as a delete), numbered and
     * versioned now like a captured change, so a write made after it still wins. Callback thread; never blocks.
     *
     * @param r the request (checked: a channel of this store)
     * @return false when {@link #REPUBLISH_QUEUE} requests wait already (the requester asks again)
     */
    public boolean requestRepublish(Control.Republish r) {
        return republish.offer(r);
    }

    /** Publishes the waiting repairs. Publisher thread. */
    private void takeRepublishRequests() throws InterruptedException {
        for (Control.Republish r; (r = republish.poll()) != null; ) {
            TableId table = r.channel();
            if (!enabled.containsKey(table)) {
                LOG.warn("channel {}: ignoring a republish request of {}: the channel is not published yet", table,
                        r.requester());
                continue;
            }
            TableSchema schema = backoff.retry("describe " + table, this::running, () -> store.describe(table))
                    .orElse(null);
            if (schema == null) {
                LOG.warn("channel {}: ignoring a republish request of {}: the table is gone", table, r.requester());
                continue;
            }
            List<Mutation> writes = new ArrayList<>(r.keys().size());
            int deletes = 0;
            for (com.google.gson.JsonObject k : r.keys()) {
                Key key;
                try {
                    key = io.mqdb.codec.RowJson.key(schema, k);
                } catch (io.mqdb.spi.InvalidDataException e) {
                    LOG.warn("channel {}: skipping a key of {}'s republish request: {}", table, r.requester(),
                            e.getMessage());
                    continue;
                }
                Optional<Row> row = backoff.retry("read " + table + " " + key, this::running,
                        () -> store.get(table, key));
                writes.add(row.<Mutation>map(Mutation.Upsert::of).orElseGet(() -> Mutation.Delete.of(key)));
                deletes += row.isPresent() ? 0 : 1;
            }
            for (int from = 0; from < writes.size(); from += channels.get(table).batchSize()) {
                append(table, writes.subList(from, Math.min(writes.size(), from + channels.get(table).batchSize())),
                        true);
            }
            ctx.metrics().republished.add(writes.size());
            LOG.info("channel {}: published {} key(s) again for {} (a repair): {} as rows, {} as deletes", table,
                    writes.size(), r.requester(), writes.size() - deletes, deletes);
        }
    }

    /** Writes handed in by {@link #submitLocal}. */
    private record LocalWrites(TableId table, List<Mutation> batch) {
    }

    @Override
    protected void work() throws InterruptedException {
        enablePending(true);
        if (capture != null) {
            currentPosition = Optional.ofNullable(ctx.state().capturePosition(storeName))
                    .map(CapturePosition::new).orElseGet(capture::start);
            LOG.info("store {}: capturing {} from position {}", storeName, enabled.keySet(), currentPosition);
        } else {
            LOG.info("store {}: no change capture; publishing {} from mqdb's own writes only", storeName,
                    channels.keySet());
        }
        while (running()) {
            if (!pending.isEmpty()) {
                enablePending(false);
            }
            takeSnapshotRequests();
            takeRepublishRequests();
            boolean loading = snapshotChunk();
            if (capture != null) {
                captureOnce(loading ? Duration.ZERO : POLL_WAIT);
            } else {
                takeLocalWrites(loading ? Duration.ZERO : POLL_WAIT);
            }
        }
        checkpoint(true);
    }

    /** A stop during a wait or a retry: the last checkpoint still goes to the node state. */
    @Override
    protected void stopped() {
        finalCheckpoint();
    }

    /** The position after the last change in the outbox; touched only by the capture thread. */
    private CapturePosition currentPosition;

    /** Polls the store's capture once and puts what it reports in the outbox. */
    private void captureOnce(Duration wait) throws InterruptedException {
        long generationBefore = ctx.foreignWrites().generation();
        List<CapturedChange> changes = backoff.retry("poll changes of store " + storeName, this::running, () -> {
            try {
                return capture.poll(currentPosition, maxPoll, wait);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new Workers.StopSignal();
            }
        });
        if (!changes.isEmpty()) {
            // Group by table, keeping each table's order; tables are independent channels.
            Map<TableId, List<CapturedChange>> byTable = new LinkedHashMap<>();
            for (CapturedChange c : changes) {
                if (enabled.containsKey(c.table())) {
                    byTable.computeIfAbsent(c.table(), t -> new ArrayList<>()).add(c);
                }
            }
            for (Map.Entry<TableId, List<CapturedChange>> e : byTable.entrySet()) {
                List<Mutation> writes = new ArrayList<>(e.getValue().size());
                for (CapturedChange c : e.getValue()) {
                    writes.add(c.op() == Op.UPSERT ? Mutation.Upsert.of(c.row()) : Mutation.Delete.of(c.key()));
                }
                append(e.getKey(), writes, true);
            }
            currentPosition = changes.get(changes.size() - 1).position();
        }
        if (changes.size() < maxPoll) {
            // Caught up: every local change committed before the previous caught-up poll started is captured.
            ctx.foreignWrites().forgetUpTo(caughtUpGeneration);
            caughtUpGeneration = generationBefore;
        }
        checkpoint(false);
    }

    /** The replicated-batch generation before the last poll that returned everything committed. */
    private long caughtUpGeneration;

    /** Takes the writes the embedding API handed in, for a store without capture. */
    private void takeLocalWrites(Duration wait) throws InterruptedException {
        LocalWrites w = direct.poll(wait.toMillis(), TimeUnit.MILLISECONDS);
        while (w != null) {
            if (enabled.containsKey(w.table())) {
                append(w.table(), w.batch(), false);
            }
            w = direct.poll();
        }
    }

    /**
     * Numbers, versions and encodes a table's local writes and appends them to the outbox with the table's sequence
     * counter, in one commit.
     */
    private void append(TableId table, List<Mutation> writes, boolean captured) throws InterruptedException {
        append(table, writes, captured, null);
    }

    /**
     * As {@link #append(TableId, List, boolean)}; with a stream, the events are numbered in that stream (a snapshot
     * made for one node) instead of the channel's numbering, and go to that node's direct topic.
     */
    private void append(TableId table, List<Mutation> writes, boolean captured, Stream stream)
            throws InterruptedException {
        append(table, writes, captured, stream, false);
    }

    /** As {@link #append(TableId, List, boolean, Stream)}; {@code snapshot}: rows of a snapshot page. */
    private void append(TableId table, List<Mutation> writes, boolean captured, Stream stream, boolean snapshot)
            throws InterruptedException {
        TableSchema schema = refreshSchema(table, writes);
        List<ChangeEvent> events = new ArrayList<>(writes.size());
        ChannelConfig ch = channels.get(table);
        if (ch.subscribe() && capture != null) {
            versionTwoWay(table, schema, writes, captured, events, stream);
        } else {
            io.mqdb.transform.EventTransformer filter = filters.get(table);
            for (Mutation m : writes) {
                Mutation w = filter == null ? m : filtered(table, filter, m, snapshot);
                if (w == null) {
                    continue; // a snapshot row the filter leaves out: no number, no message
                }
                Version v = w.version() != null ? w.version() : new Version(ctx.clock().now(), ctx.nodeName());
                events.add(event(table, w, v, stream));
            }
            if (filter != null) {
                filter.batchDone();
            }
        }
        appendEvents(schema, events, stream);
    }

    /**
     * A published channel's filter on one write: an upsert of a row that does not pass becomes a delete of its key
     * (the row may have passed before), or, in a snapshot, nothing. A row the filter cannot be evaluated on (a null
     * where it needs a value) is treated as not passing, with a rate-limited WARN: the filter hides rows, so it fails
     * closed.
     *
     * @return the write to publish, or null for none
     */
    private Mutation filtered(TableId table, io.mqdb.transform.EventTransformer filter, Mutation m, boolean snapshot)
            throws InterruptedException {
        if (!(m instanceof Mutation.Upsert u)) {
            return m;
        }
        Key key = enabled.get(table).keyOf(u.row());
        boolean passes;
        try {
            passes = filter.transform(new ChangeEvent(table, Op.UPSERT, key, u.row(),
                    new Version(0, ctx.nodeName()), 0)).event().op() == Op.UPSERT;
        } catch (io.mqdb.spi.InvalidDataException e) {
            filterFailures.warn("channel " + table + ": row " + key + " is published as not passing the filter: "
                    + e.getMessage());
            passes = false;
        }
        if (passes) {
            return m;
        }
        return snapshot ? null : new Mutation.Delete(key, m.version());
    }

    /**
     * Versions the captured changes (or snapshot rows) of a two-way table under the store's lock and records the
     * versions, so a replicated change older than a local one is not applied over it.
     *
     * <p>A captured change of a key that a replicated change wrote since the capture last caught up (see
     * {@link ForeignWrites}), or whose newest recorded write came from another node, may be older or newer than that
     * write (the capture cannot tell when it was committed), so it is published as the row is now, re-read from the
     * store: whichever order the writes hit the store in, every node converges on the row this store holds unless a
     * newer write wins everywhere.
     */
    private void versionTwoWay(TableId table, TableSchema schema, List<Mutation> writes, boolean captured,
                               List<ChangeEvent> events, Stream stream) throws InterruptedException {
        ReentrantLock lock = ctx.storeLock(storeName);
        lock.lockInterruptibly();
        try {
            VersionIndex versions = ctx.versions();
            for (Mutation m : writes) {
                Key key = m instanceof Mutation.Upsert u ? schema.keyOf(u.row()) : ((Mutation.Delete) m).key();
                Optional<VersionIndex.Entry> held = versions.get(table, key);
                Mutation write = m;
                boolean foreign = ctx.foreignWrites().isMarked(table, key)
                        || held.isPresent() && !held.get().version().origin().equals(ctx.nodeName());
                if (captured && foreign) {
                    Optional<Row> now = backoff.retry("read " + table + " " + key, this::running,
                            () -> store.get(table, key));
                    write = now.<Mutation>map(Mutation.Upsert::of).orElseGet(() -> Mutation.Delete.of(key));
                }
                Version v = new Version(ctx.clock().now(), ctx.nodeName());
                versions.record(table, key, v, write instanceof Mutation.Delete);
                events.add(event(table, write, v, stream));
            }
            versions.commit();
        } finally {
            lock.unlock();
        }
    }

    private ChangeEvent event(TableId table, Mutation m, Version v, Stream stream) {
        long seq = stream == null ? sequences.merge(table, 1L, Long::sum) : ++stream.last;
        if (m instanceof Mutation.Upsert u) {
            return new ChangeEvent(table, Op.UPSERT, enabled.get(table).keyOf(u.row()), u.row(), v, seq);
        }
        return new ChangeEvent(table, Op.DELETE, ((Mutation.Delete) m).key(), null, v, seq);
    }

    /** Encodes events into messages of the channel's batch size and appends them, with the sequence counter. */
    private void appendEvents(TableSchema schema, List<ChangeEvent> events, Stream stream)
            throws InterruptedException {
        if (events.isEmpty()) {
            return;
        }
        TableId table = schema.table();
        int batchSize = channels.get(table).batchSize();
        String topic = stream == null ? ctx.topics().channel(table) : ctx.topics().directSnapshot(stream.to, table);
        List<byte[]> entries = new ArrayList<>();
        for (int from = 0; from < events.size(); from += batchSize) {
            encodeChunk(topic, schema, events.subList(from, Math.min(events.size(), from + batchSize)), entries);
        }
        if (stream != null) {
            targetedOutbox.append(entries, Map.of()); // its numbers are saved with the snapshot's progress
        } else {
            outbox.append(entries, Map.of(OutboxSender.sequenceCounter(table), sequences.get(table)));
        }
    }

    /**
     * The most bytes of one batch message: half of what a subscriber decodes ({@code CodecLimits}, 32 MiB by default)
     * and announces to its broker as its maximum packet size, so wide rows never make a message a subscriber cannot
     * take (the broker would discard it for that subscriber, and a resend would be discarded again). Lower when this
     * node's own {@code node.limits.max-message-mb} is: half of that.
     */
    static final int MAX_BATCH_BYTES = 16 << 20;

    private int maxBatchBytes() {
        return Math.min(MAX_BATCH_BYTES, ctx.codec().limits().maxPayloadBytes() / 2);
    }

    /** Encodes and seals events as one outbox entry, or as several when their message would exceed the byte bound. */
    private void encodeChunk(String topic, TableSchema schema, List<ChangeEvent> chunk, List<byte[]> entries) {
        byte[] encoded = ctx.codec().encodeBatch(ctx.nodeName(), schema, chunk);
        if (encoded.length > maxBatchBytes() && chunk.size() > 1) {
            int half = chunk.size() / 2;
            encodeChunk(topic, schema, chunk.subList(0, half), entries);
            encodeChunk(topic, schema, chunk.subList(half, chunk.size()), entries);
            return;
        }
        // Signed here, once: restarts and resends publish these same bytes (see Signing#context).
        byte[] payload = ctx.seal(topic, encoded);
        entries.add(new OutboxEntry(topic, false, schema.table().toString(), chunk.get(0).sequence(),
                chunk.get(chunk.size() - 1).sequence(), payload).encode());
    }

    /** The numbering of a snapshot made for one node; capture thread only. */
    private static final class Stream {
        final String to;
        long last;

        Stream(String to, long last) {
            this.to = to;
            this.last = last;
        }
    }

    /** A snapshot to run: of a table, for one node or (to = null) for every subscriber. */
    private record Job(TableId table, String to) {
    }

    /** How often the captured position is saved and acknowledged while changes flow. */
    private static final long CHECKPOINT_EVERY_NANOS = 200_000_000L;
    private long lastCheckpointNanos;
    private CapturePosition checkpointed;

    /**
     * Saves the position after the last change in the outbox (fsync) and then lets the store prune up to it: at most
     * every 200 ms while changes flow, and always when the publisher stops. What was captured after the last
     * checkpoint is captured again after a crash, which changes nothing where it is applied.
     */
    private void checkpoint(boolean force) {
        if (currentPosition == null || currentPosition.equals(checkpointed)) {
            return;
        }
        long now = System.nanoTime();
        if (!force && now - lastCheckpointNanos < CHECKPOINT_EVERY_NANOS) {
            return;
        }
        lastCheckpointNanos = now;
        ctx.state().capturePosition(storeName, currentPosition.token());
        ctx.state().save();
        checkpointed = currentPosition;
        acknowledge(currentPosition);
    }

    /** Saves what was captured when the publisher is stopped; the interrupt is cleared meanwhile (file I/O). */
    private void finalCheckpoint() {
        Thread.interrupted();
        try {
            checkpoint(true);
        } catch (RuntimeException e) {
            LOG.warn("store {}: could not save the captured position on stop (it is captured again after the "
                    + "restart): {}", storeName, e.getMessage());
        }
    }

    /** When the last failed acknowledgement was logged, to log at most one a minute. */
    private long lastAckWarningNanos;

    /**
     * Lets the store prune what is in the outbox. Acknowledgements are cumulative, so one that fails (a busy
     * database) is simply made again with the next batch; it never stops capture.
     */
    private void acknowledge(CapturePosition position) {
        try {
            capture.acknowledge(position);
        } catch (RetriableException e) {
            ctx.metrics().retries.increment();
            long now = System.nanoTime();
            if (lastAckWarningNanos == 0 || now - lastAckWarningNanos > 60_000_000_000L) {
                lastAckWarningNanos = now;
                LOG.warn("store {}: could not prune captured changes yet, will retry with the next batch: {}",
                        storeName, e.getMessage());
            }
        }
    }

    /** Enables the tables that exist now, publishes their schemas and queues their initial loads. */
    private void enablePending(boolean firstTime) throws InterruptedException {
        for (TableId requested : enableRequests.keySet()) {
            if (!pending.contains(requested) && !enabled.containsKey(requested)) {
                pending.add(requested);
            }
        }
        int size = pending.size();
        for (int i = 0; i < size; i++) {
            TableId table = pending.poll();
            if (table == null) {
                break;
            }
            if (failed.containsKey(table)) {
                continue;
            }
            Optional<TableSchema> schema;
            try {
                schema = backoff.retry("describe " + table, this::running, () -> store.describe(table));
                if (schema.isPresent()) {
                    StoreSet.checkKey(channels.get(table), schema.get()); // a key: the store did not honour
                    // The filter's declared source columns must be the table's, with their types.
                    channels.get(table).transform().ifPresent(t -> t.transform().targetSchema(schema.get()));
                }
                if (schema.isPresent() && capture != null) {
                    capture.enable(table);
                }
            } catch (MqdbException | IllegalArgumentException e) {
                failChannel(table, e);
                continue;
            }
            if (schema.isEmpty()) {
                if (firstTime) {
                    LOG.info("channel {}: table does not exist yet in store {}; publishing starts when it does",
                            table, storeName);
                }
                pending.add(table);
                continue;
            }
            enabled.put(table, schema.get());
            appendSchema(schema.get());
            NodeState.SnapshotState snap = ctx.state().snapshot(table.toString());
            if (!ctx.state().snapshotDone(table.toString()) || (snap != null && !snap.done)) {
                snapshotQueue.add(new Job(table, null));
            }
            for (Map.Entry<String, NodeState.SnapshotState> t : ctx.state().targeted(table.toString()).entrySet()) {
                if (!t.getValue().done) {
                    snapshotQueue.add(new Job(table, t.getKey())); // resumes after its last page
                }
            }
            CompletableFuture<Void> f = enableRequests.remove(table);
            if (f != null) {
                f.complete(null);
            }
        }
    }

    /**
     * Channels of this store that cannot be published (a table without a primary key, a refused {@code key:}, a key
     * type the capture cannot record), with the reason; capture thread only. The other channels of the store go on.
     */
    private final Map<TableId, String> failed = new HashMap<>();

    /** Takes a channel out of this publisher for good (until the node restarts), saying why once. */
    private void failChannel(TableId table, RuntimeException e) {
        failed.put(table, e.getMessage());
        ctx.metrics().channelErrors.increment();
        LOG.error("channel {}: cannot be published from store {}, the store's other channels go on: {} (fix the "
                + "table, then restart the node; `mqdb check-config --connect` lists such channels)", table,
                storeName, e.getMessage());
        CompletableFuture<Void> f = enableRequests.remove(table);
        if (f != null) {
            f.completeExceptionally(e);
        }
    }

    private void appendSchema(TableSchema schema) throws InterruptedException {
        OutboxEntry e = new OutboxEntry(ctx.topics().schema(schema.table()), true, schema.table().toString(), 0, 0,
                ctx.codec().encodeSchema(schema));
        outbox.append(List.of(e.encode()), Map.of());
    }

    /** Picks up columns added to a table since it was enabled, so subscribers learn them. */
    private TableSchema refreshSchema(TableId table, List<Mutation> writes) throws InterruptedException {
        TableSchema schema = enabled.get(table);
        for (Mutation m : writes) {
            if (m instanceof Mutation.Upsert u) {
                for (String col : u.row().values().keySet()) {
                    if (!schema.hasColumn(col)) {
                        TableSchema fresh = store.describe(table).orElse(schema);
                        enabled.put(table, fresh);
                        appendSchema(fresh);
                        return fresh;
                    }
                }
            }
        }
        return schema;
    }

    // ------------------------------------------------------------------------------------------------ snapshots

    /**
     * Tables whose snapshot is to run. They take turns a page at a time (the first one publishes a page and goes to
     * the end), so a small table's load is not held up behind a big one's. Capture thread only.
     */
    private final List<Job> snapshotQueue = new ArrayList<>();
    private final Map<Job, Progress> progress = new HashMap<>();
    /** The numbering of each running snapshot made for one node. */
    private final Map<Job, Stream> streams = new HashMap<>();

    /**
     * Queues the snapshots the send thread asked for. A snapshot for a node that is already queued or running is not
     * started again (unless the node's store lost what it was sent): one at a time per node and channel.
     */
    private void takeSnapshotRequests() {
        for (SnapshotRequest r; (r = snapshotRequests.poll()) != null; ) {
            TableId t = r.table();
            Job job = new Job(t, r.to());
            if (!enabled.containsKey(t)) {
                continue;
            }
            if (snapshotQueue.contains(job)) {
                if (r.to() == null || !r.restart()) {
                    LOG.debug("channel {}: a snapshot for {} is already running", t, r.to() == null ? "all" : r.to());
                    continue;
                }
                LOG.info("channel {}: {} lost what its running snapshot sent it: starting it again", t, r.to());
                snapshotQueue.remove(job);
                Progress p = progress.remove(job);
                if (p != null) {
                    p.done();
                }
                streams.remove(job);
            }
            NodeState.SnapshotState s = r.to() == null ? new NodeState.SnapshotState()
                    : Optional.ofNullable(ctx.state().targeted(t.toString(), r.to()))
                            .orElseGet(NodeState.SnapshotState::new);
            s.firstSeq = 0; // a fresh one: started by the next chunk (a targeted one keeps its endSeq, to number above)
            s.done = false;
            if (r.to() == null) {
                ctx.state().snapshot(t.toString(), s);
            } else {
                s.to = r.to();
                ctx.state().targeted(t.toString(), r.to(), s);
            }
            snapshotQueue.add(job);
        }
    }

    /**
     * Publishes the next page of the running snapshot, starting or resuming it first.
     *
     * @return whether a snapshot is running (so capture polls without waiting between pages)
     */
    private boolean snapshotChunk() throws InterruptedException {
        if (snapshotQueue.isEmpty()) {
            return false;
        }
        Job job = snapshotQueue.get(0);
        TableId table = job.table();
        TableSchema schema = enabled.get(table);
        String channel = table.toString();
        String what = job.to() == null ? "snapshot" : "snapshot for " + job.to();
        NodeState.SnapshotState s = job.to() == null ? ctx.state().snapshot(channel)
                : ctx.state().targeted(channel, job.to());
        if (s == null || s.firstSeq == 0 || s.done) {
            long previousEnd = s == null ? 0 : s.endSeq;
            s = new NodeState.SnapshotState();
            s.startHlc = ctx.clock().now();
            if (job.to() == null) {
                s.firstSeq = sequences.get(table) + 1;
            } else {
                // A stream of its own, above every earlier one for this node: the channel's numbering has no hole.
                s.to = job.to();
                s.base = sequences.get(table);
                s.firstSeq = Math.max(epochStart(System.currentTimeMillis()), previousEnd) + 1;
                s.endSeq = s.firstSeq - 1;
                ctx.metrics().targetedSnapshots.increment();
            }
            s.total = backoff.retry("count " + table, this::running, () -> store.count(table));
            saveSnapshot(job, s);
            ctx.state().save();
            progress.put(job, new Progress("channel " + table + ": " + what, s.total, 0, LOG));
            if (job.to() == null) {
                LOG.info("channel {}: snapshot of {} rows, from event number {}", table, s.total, s.firstSeq);
            } else {
                LOG.info("channel {}: snapshot of {} rows for {} alone, on its direct topic (stream numbers from {}, "
                        + "covering the channel up to {})", table, s.total, job.to(), s.firstSeq, s.base);
            }
        } else if (!progress.containsKey(job)) {
            progress.put(job, new Progress("channel " + table + ": " + what, s.total, s.rows, LOG));
            LOG.info("channel {}: resuming the {} after {} of {} rows", table, what, s.rows, s.total);
        }
        Stream stream = null;
        if (job.to() != null) {
            long last = s.endSeq;
            stream = streams.computeIfAbsent(job, j -> new Stream(j.to(), last));
        }
        Key cursor = s.cursor == null ? null : VersionIndex.decodeKey(s.cursor);
        int pageSize = snapshotPageRows(channels.get(table).batchSize());
        ScanPage page = backoff.retry("scan " + table, this::running, () -> store.scan(table, cursor, pageSize));
        if (!page.rows().isEmpty()) {
            List<Mutation> rows = new ArrayList<>(page.rows().size());
            for (Row r : page.rows()) {
                rows.add(Mutation.Upsert.of(r));
            }
            append(table, rows, false, stream, true);
            (stream == null ? ctx.metrics().snapshotRows : ctx.metrics().targetedSnapshotRows).add(rows.size());
            progress.get(job).advance(rows.size());
            s.rows += rows.size();
            s.cursor = VersionIndex.encodeKey(schema.keyOf(page.rows().get(page.rows().size() - 1)));
        }
        if (stream != null) {
            s.endSeq = stream.last;
        }
        if (page.next().isEmpty()) {
            if (stream == null) {
                s.endSeq = sequences.get(table);
                ctx.state().snapshotDone(channel, true);
            } else {
                s.activeAtMillis = System.currentTimeMillis();
                streams.remove(job);
            }
            s.done = true;
            s.cursor = null;
            saveSnapshot(job, s);
            ctx.state().save();
            progress.remove(job).done();
            snapshotQueue.remove(0);
            return !snapshotQueue.isEmpty();
        }
        saveSnapshot(job, s);
        ctx.state().save();
        if (snapshotQueue.size() > 1) {
            snapshotQueue.add(snapshotQueue.remove(0)); // the next table's turn
        }
        return true;
    }

    private void saveSnapshot(Job job, NodeState.SnapshotState s) {
        if (job.to() == null) {
            ctx.state().snapshot(job.table().toString(), s);
        } else {
            ctx.state().targeted(job.table().toString(), job.to(), s);
        }
    }

    /**
     * The rows a snapshot reads per page: ten messages' worth, at least 5,000 and at most 50,000. Each page costs a
     * scan query, one outbox commit (an fsync), a save of the node state (another fsync) and a capture poll, so
     * pages of 1,000 rows spent more time on those than on the rows during a 1M-row initial load.
     */
    static int snapshotPageRows(int batchSize) {
        return (int) Math.min(50_000, Math.max(5_000, 10L * batchSize));
    }

    /** After the capture thread ended ({@link #close()}): stops the send thread and closes the outboxes. */
    @Override
    protected void closed() {
        if (sender != null) {
            sender.close();
        }
        if (outbox != null) {
            ctx.metrics().outboxDepth.remove(storeName);
            outbox.close();
        }
        if (targetedOutbox != null) {
            targetedOutbox.close();
        }
        for (CompletableFuture<Void> f : enableRequests.values()) {
            f.completeExceptionally(new MqdbException("node stopped"));
        }
    }
}
