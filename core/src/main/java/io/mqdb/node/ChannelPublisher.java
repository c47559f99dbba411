package io.mqdb.node;

import io.mqdb.clock.HybridClock;
import io.mqdb.codec.EventCodec;
import io.mqdb.codec.Topics;
import io.mqdb.config.ChannelConfig;
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
import io.mqdb.transport.Transport;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Publishes the changes of one store's published tables: first the initial load of every table not loaded before,
 * then, forever, the changes its {@link ChangeCapture} reports (or, for a store without capture, the writes made
 * through mqdb's embedding API, handed in by {@link LocalTable}), in order, in batches of at most the channel's
 * {@code batch-size} events per MQTT message.
 *
 * <p>A batch's capture position is saved in the {@link NodeState} and acknowledged to the store only after the
 * broker acknowledged every message of the batch (PUBACK), at most every 200 ms while changes flow and always on
 * stop, so nothing is lost when the node, the broker or the network fails; what was published but not yet saved is
 * published again after a restart, and applying it twice changes nothing.
 *
 * <h2>Threads</h2>
 * One thread per store, {@code capture-<store>}, started by {@link #start()} and stopped by {@link #close()}; it sets
 * the adapter's class loader as its context class loader. {@link #requestEnable} may be called from any thread.
 */
final class ChannelPublisher implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(ChannelPublisher.class);
    private static final Duration POLL_WAIT = Duration.ofMillis(100);
    private static final Duration PUBLISH_TIMEOUT = Duration.ofSeconds(30);

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
    private final int maxPoll;
    private volatile boolean running = true;
    private Thread thread;

    ChannelPublisher(String storeName, Store store, ClassLoader storeLoader, ChangeCapture capture,
                     List<ChannelConfig> channels, NodeContext ctx) {
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
        this.maxPoll = Math.max(1000, max);
        this.ctx = ctx;
        this.backoff = new Backoff(Duration.ofSeconds(10), LOG, ctx.metrics());
        pending.addAll(this.channels.keySet());
    }

    /** Starts the capture thread. Called once by the node on its start-up thread. */
    void start() {
        thread = new Thread(this::run, "capture-" + storeName);
        thread.setContextClassLoader(storeLoader);
        thread.setDaemon(false);
        thread.start();
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
    CompletableFuture<Void> requestEnable(TableId table) {
        if (enabled.containsKey(table)) {
            return CompletableFuture.completedFuture(null);
        }
        return enableRequests.computeIfAbsent(table, t -> new CompletableFuture<>());
    }

    /** @return whether the store captures its own changes; if not, local writes are handed in by {@link LocalTable} */
    boolean capturesItself() {
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

    /** Writes handed in by {@link #submitLocal}. */
    private record LocalWrites(TableId table, List<Mutation> batch) {
    }

    private final BlockingQueue<LocalWrites> direct = new ArrayBlockingQueue<>(64);

    private void run() {
        try {
            enablePending(true);
            if (capture == null) {
                runWithoutCapture();
                return;
            }
            currentPosition = Optional.ofNullable(ctx.state().capturePosition(storeName))
                    .map(CapturePosition::new).orElseGet(capture::start);
            LOG.info("store {}: capturing {} from position {}", storeName, enabled.keySet(), currentPosition);
            while (running) {
                if (!pending.isEmpty()) {
                    enablePending(false);
                }
                List<CapturedChange> changes = backoff.retry("poll changes of store " + storeName,
                        () -> running, () -> {
                            try {
                                return capture.poll(currentPosition, maxPoll, POLL_WAIT);
                            } catch (InterruptedException e) {
                                Thread.currentThread().interrupt();
                                throw new StopSignal();
                            }
                        });
                if (changes.isEmpty()) {
                    checkpoint(false);
                    continue;
                }
                publishChanges(changes);
                currentPosition = changes.get(changes.size() - 1).position();
                checkpoint(false);
            }
            checkpoint(true);
        } catch (InterruptedException | StopSignal e) {
            finalCheckpoint();
            Thread.currentThread().interrupt();
            LOG.debug("capture of store {} stopped", storeName);
        } catch (RuntimeException e) {
            LOG.error("capture of store {} failed and stopped: {}", storeName, e.getMessage(), e);
            ctx.fail(new MqdbException("capture of store " + storeName + " failed: " + e.getMessage(), e));
        }
    }

    /** The position after the last change published; touched only by the capture thread. */
    private CapturePosition currentPosition;

    /** The loop for a store without change capture: publishes what the embedding API wrote through mqdb. */
    private void runWithoutCapture() throws InterruptedException {
        LOG.info("store {}: no change capture; publishing {} from mqdb's own writes only", storeName,
                channels.keySet());
        while (running) {
            if (!pending.isEmpty()) {
                enablePending(false);
            }
            LocalWrites w = direct.poll(POLL_WAIT.toMillis(), TimeUnit.MILLISECONDS);
            if (w == null || !enabled.containsKey(w.table())) {
                continue;
            }
            TableSchema schema = enabled.get(w.table());
            List<ChangeEvent> events = new ArrayList<>(w.batch().size());
            for (Mutation m : w.batch()) {
                if (m instanceof Mutation.Upsert u) {
                    events.add(event(w.table(), Op.UPSERT, schema.keyOf(u.row()), u.row()));
                } else if (m instanceof Mutation.Delete d) {
                    events.add(event(w.table(), Op.DELETE, d.key(), null));
                }
            }
            publishEvents(schema, events, channels.get(w.table()).batchSize());
            ctx.state().save();
        }
    }

    /** How often the published position is saved and acknowledged while changes flow. */
    private static final long CHECKPOINT_EVERY_NANOS = 200_000_000L;
    private long lastCheckpointNanos;
    private CapturePosition checkpointed;

    /**
     * Saves the position after the last published change (fsync) and then lets the store prune up to it: at most
     * every 200 ms while changes flow, and always when the publisher stops. What was published after the last
     * checkpoint is published again after a crash, which changes nothing where it is applied.
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

    /** Saves what was published when the publisher is stopped; the interrupt is cleared meanwhile (file I/O). */
    private void finalCheckpoint() {
        Thread.interrupted();
        try {
            checkpoint(true);
        } catch (RuntimeException e) {
            LOG.warn("store {}: could not save the published position on stop (it is published again after the "
                    + "restart): {}", storeName, e.getMessage());
        }
    }

    /** When the last failed acknowledgement was logged, to log at most one a minute. */
    private long lastAckWarningNanos;

    /**
     * Lets the store prune what is published. Acknowledgements are cumulative, so one that fails (a busy database) is
     * simply made again with the next batch; it never stops capture.
     */
    private void acknowledge(CapturePosition position) {
        try {
            capture.acknowledge(position);
        } catch (RetriableException e) {
            ctx.metrics().retries.increment();
            long now = System.nanoTime();
            if (lastAckWarningNanos == 0 || now - lastAckWarningNanos > 60_000_000_000L) {
                lastAckWarningNanos = now;
                LOG.warn("store {}: could not prune published changes yet, will retry with the next batch: {}",
                        storeName, e.getMessage());
            }
        }
    }

    /** Thrown inside a retried action when the thread was interrupted. */
    private static final class StopSignal extends RuntimeException {
        private static final long serialVersionUID = 1L;

        StopSignal() {
            super(null, null, false, false);
        }
    }

    /** Enables the tables that exist now, publishes their schemas and runs their initial loads. */
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
            Optional<TableSchema> schema = backoff.retry("describe " + table, () -> running,
                    () -> store.describe(table));
            if (schema.isEmpty()) {
                if (firstTime) {
                    LOG.info("channel {}: table does not exist yet in store {}; publishing starts when it does",
                            table, storeName);
                }
                pending.add(table);
                continue;
            }
            if (capture != null) {
                capture.enable(table);
            }
            enabled.put(table, schema.get());
            publishSchema(schema.get());
            if (!ctx.state().snapshotDone(table.toString())) {
                initialLoad(schema.get());
            }
            CompletableFuture<Void> f = enableRequests.remove(table);
            if (f != null) {
                f.complete(null);
            }
        }
    }

    private void publishSchema(TableSchema schema) throws InterruptedException {
        publishAndWait(List.of(new Outgoing(ctx.topics().schema(schema.table()), ctx.codec().encodeSchema(schema),
                true)));
    }

    /**
     * Publishes every row of a table, in key order, in pages of the channel's batch size. Changes committed while it
     * runs are captured and published after it.
     */
    private void initialLoad(TableSchema schema) throws InterruptedException {
        TableId table = schema.table();
        ChannelConfig ch = channels.get(table);
        long total = store.count(table);
        LOG.info("channel {}: initial load of {} rows", table, total);
        Progress progress = new Progress("channel " + table + ": initial load", total, LOG);
        Key after = null;
        int pageSize = Math.max(ch.batchSize(), 1000);
        while (running) {
            Key cursor = after;
            ScanPage page = backoff.retry("scan " + table, () -> running, () -> store.scan(table, cursor, pageSize));
            if (!page.rows().isEmpty()) {
                List<ChangeEvent> events = new ArrayList<>(page.rows().size());
                for (Row r : page.rows()) {
                    events.add(event(table, Op.UPSERT, schema.keyOf(r), r));
                }
                publishEvents(schema, events, ch.batchSize());
                ctx.metrics().snapshotRows.add(events.size());
                progress.advance(events.size());
            }
            if (page.next().isEmpty()) {
                break;
            }
            after = page.next().get();
        }
        if (running) {
            ctx.state().snapshotDone(table.toString(), true);
            ctx.state().save();
            progress.done();
        }
    }

    private void publishChanges(List<CapturedChange> changes) throws InterruptedException {
        // Group by table, keeping each table's order; tables are independent channels.
        Map<TableId, List<ChangeEvent>> byTable = new LinkedHashMap<>();
        for (CapturedChange c : changes) {
            if (!enabled.containsKey(c.table())) {
                continue;
            }
            byTable.computeIfAbsent(c.table(), t -> new ArrayList<>())
                    .add(event(c.table(), c.op(), c.key(), c.row()));
        }
        List<Outgoing> out = new ArrayList<>();
        for (Map.Entry<TableId, List<ChangeEvent>> e : byTable.entrySet()) {
            TableSchema schema = refreshSchema(e.getKey(), e.getValue());
            out.addAll(encode(schema, e.getValue(), channels.get(e.getKey()).batchSize()));
        }
        publishAndWait(out);
        ctx.metrics().published.add(changes.size());
    }

    /** Picks up columns added to a table since it was enabled, so subscribers learn them. */
    private TableSchema refreshSchema(TableId table, List<ChangeEvent> events) throws InterruptedException {
        TableSchema schema = enabled.get(table);
        for (ChangeEvent e : events) {
            if (e.row() != null) {
                for (String col : e.row().values().keySet()) {
                    if (schema.column(col).isEmpty()) {
                        TableSchema fresh = store.describe(table).orElse(schema);
                        enabled.put(table, fresh);
                        publishSchema(fresh);
                        return fresh;
                    }
                }
            }
        }
        return schema;
    }

    private ChangeEvent event(TableId table, Op op, Key key, Row row) {
        String channel = table.toString();
        long seq = ctx.state().sequence(channel) + 1;
        ctx.state().sequence(channel, seq);
        return new ChangeEvent(table, op, key, row, new Version(ctx.clock().now(), ctx.nodeName()), seq);
    }

    private void publishEvents(TableSchema schema, List<ChangeEvent> events, int batchSize)
            throws InterruptedException {
        publishAndWait(encode(schema, events, batchSize));
        ctx.metrics().published.add(events.size());
    }

    private List<Outgoing> encode(TableSchema schema, List<ChangeEvent> events, int batchSize) {
        List<Outgoing> out = new ArrayList<>();
        String topic = ctx.topics().channel(schema.table());
        for (int from = 0; from < events.size(); from += batchSize) {
            List<ChangeEvent> chunk = events.subList(from, Math.min(events.size(), from + batchSize));
            out.add(new Outgoing(topic, ctx.codec().encodeBatch(ctx.nodeName(), schema, chunk), false));
        }
        return out;
    }

    private record Outgoing(String topic, byte[] payload, boolean retained) {
    }

    /**
     * Publishes messages in order and waits until the broker acknowledged all of them. After a failure it publishes
     * again from the first message the broker did not acknowledge, until it succeeds or the node stops; messages
     * after that one may arrive twice, which is harmless.
     */
    private void publishAndWait(List<Outgoing> messages) throws InterruptedException {
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
    private void sendFrom(List<Outgoing> messages, int[] acknowledged) {
        if (!running) {
            throw new StopSignal();
        }
        List<CompletableFuture<Void>> futures = new ArrayList<>(messages.size() - acknowledged[0]);
        for (Outgoing m : messages.subList(acknowledged[0], messages.size())) {
            futures.add(ctx.transport().publish(m.topic(), m.payload(), m.retained()));
        }
        for (CompletableFuture<Void> f : futures) {
            try {
                f.get(PUBLISH_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS);
                acknowledged[0]++;
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new StopSignal();
            } catch (ExecutionException | TimeoutException e) {
                Throwable cause = e instanceof ExecutionException ? e.getCause() : e;
                throw new RetriableException("broker " + ctx.transport().currentBroker() + " did not acknowledge "
                        + (messages.size() - acknowledged[0]) + " of " + messages.size() + " messages: "
                        + cause.getMessage(), cause);
            }
        }
    }

    /** Stops the capture thread and waits for it. Idempotent; called on the node's shutdown thread. */
    @Override
    public void close() {
        running = false;
        if (thread != null) {
            thread.interrupt();
            try {
                thread.join(10_000);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
        for (CompletableFuture<Void> f : enableRequests.values()) {
            f.completeExceptionally(new MqdbException("node stopped"));
        }
    }
}
