package io.mqdb.node;

import io.mqdb.codec.SchemaInference;
import io.mqdb.codec.WireBatch;
import io.mqdb.codec.WireEvent;
import io.mqdb.config.ChannelConfig;
import io.mqdb.spi.ChangeEvent;
import io.mqdb.spi.InvalidDataException;
import io.mqdb.spi.MqdbException;
import io.mqdb.spi.Mutation;
import io.mqdb.spi.Store;
import io.mqdb.spi.TableId;
import io.mqdb.spi.TableSchema;
import io.mqdb.spi.WriteOrigin;
import io.mqdb.transport.InboundMessage;
import io.mqdb.transport.MessageHandler;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Applies the changes received on one subscribed channel to the local store, in arrival order, and acknowledges each
 * MQTT message only after the store committed what it carried.
 *
 * <p>Messages are gathered into one store batch until the channel's {@code batch-size} events or its
 * {@code flush-interval} is reached. The table is created from the schema the publisher sends when it is missing,
 * and grows when the publisher's schema grows. Events this node made itself are skipped. A malformed message, or an
 * event that can never be applied, goes to the {@link DeadLetters} with its reason and the channel keeps going; a
 * store that is unavailable is retried with backoff, the messages staying unacknowledged meanwhile.
 *
 * <h2>Threads</h2>
 * {@link #onMessage} runs on the transport's callback thread and only queues the message (blocking when the queue is
 * full: back-pressure to the broker). One thread per channel, {@code apply-<schema>:<table>}, does the rest; it is
 * started by {@link #start()} and stopped by {@link #close()}.
 */
final class ChannelApplier implements MessageHandler, AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(ChannelApplier.class);
    private static final int QUEUE_MESSAGES = 256;

    private final ChannelConfig channel;
    private final TableId table;
    private final Store store;
    private final ClassLoader storeLoader;
    private final NodeContext ctx;
    private final Backoff backoff;
    private final BlockingQueue<InboundMessage> queue = new ArrayBlockingQueue<>(QUEUE_MESSAGES);
    private volatile boolean running = true;
    private TableSchema schema;
    private Thread thread;

    ChannelApplier(ChannelConfig channel, Store store, ClassLoader storeLoader, NodeContext ctx) {
        this.channel = channel;
        this.table = channel.table();
        this.store = store;
        this.storeLoader = storeLoader;
        this.ctx = ctx;
        this.backoff = new Backoff(Duration.ofSeconds(30), LOG, ctx.metrics());
    }

    /** Starts the apply thread. Called once by the node on its start-up thread, before subscribing. */
    void start() {
        thread = new Thread(this::run, "apply-" + table);
        thread.setContextClassLoader(storeLoader);
        thread.start();
    }

    @Override
    public void onMessage(InboundMessage message) throws InterruptedException {
        if (message.retained() && message.payload().length == 0) {
            message.ack();
            return;
        }
        while (!queue.offer(message, 1, TimeUnit.SECONDS)) {
            if (!running) {
                return; // not acknowledged: the broker delivers it again after restart
            }
        }
    }

    private void run() {
        List<InboundMessage> messages = new ArrayList<>();
        try {
            while (running) {
                InboundMessage first = queue.poll(200, TimeUnit.MILLISECONDS);
                if (first == null) {
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
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } catch (RuntimeException e) {
            LOG.error("channel {}: apply failed and stopped: {}", table, e.getMessage(), e);
            ctx.fail(new MqdbException("channel " + table + ": apply failed: " + e.getMessage(), e));
        }
    }

    /** Decodes, applies and acknowledges a group of messages. */
    private void process(List<InboundMessage> messages) throws InterruptedException {
        List<ChangeEvent> events = new ArrayList<>();
        long receiveMillis = System.currentTimeMillis();
        for (InboundMessage m : messages) {
            WireBatch batch;
            try {
                batch = ctx.codec().decode(m.payload(), table);
            } catch (InvalidDataException e) {
                ctx.deadLetters().record(table, m.topic(), m.payload(), e.getMessage());
                continue;
            }
            if (ctx.nodeName().equals(batch.origin())) {
                ctx.metrics().skippedOwn.add(batch.events().size());
                continue;
            }
            for (WireEvent we : batch.events()) {
                if (we.origin().map(ctx.nodeName()::equals).orElse(false)) {
                    ctx.metrics().skippedOwn.increment();
                    continue;
                }
                try {
                    TableSchema s = resolveSchema(batch.schema(), we);
                    events.add(ctx.codec().toEvent(we, s, receiveMillis));
                } catch (InvalidDataException e) {
                    ctx.deadLetters().record(table, m.topic(), m.payload(),
                            "event " + we.index() + ": " + e.getMessage());
                }
            }
        }
        if (!events.isEmpty()) {
            apply(events);
        }
        for (InboundMessage m : messages) {
            m.ack();
        }
    }

    /**
     * The schema to decode an event with: the local table's, grown to the publisher's when the publisher's has more
     * columns; created from the publisher's, or inferred from the event, when the table is missing.
     */
    private TableSchema resolveSchema(Optional<TableSchema> sent, WireEvent event) throws InterruptedException {
        if (schema == null) {
            schema = backoff.retry("describe " + table, () -> running, () -> store.describe(table)).orElse(null);
        }
        TableSchema wanted = sent.orElse(null);
        if (wanted != null && !wanted.table().equals(table)) {
            throw new InvalidDataException("schema for " + wanted.table() + " sent on channel " + table);
        }
        if (wanted == null && schema == null) {
            wanted = SchemaInference.infer(table, event);
            LOG.info("channel {}: no schema known, inferred {} from the first event", table, wanted.columns());
        }
        if (wanted != null && (schema == null || !schema.missingColumns(wanted).isEmpty())) {
            TableSchema target = wanted;
            boolean created = schema == null;
            schema = backoff.retry("ensure table " + table, () -> running, () -> store.ensureTable(target));
            LOG.info("channel {}: {} table in store {}", table, created ? "created" : "added columns to",
                    store.describeTarget());
        }
        return schema;
    }

    /** Applies events as one batch; when the store rejects the batch as invalid, one by one to isolate the bad ones. */
    private void apply(List<ChangeEvent> events) throws InterruptedException {
        List<Mutation> batch = new ArrayList<>(events.size());
        long maxHlc = 0;
        for (ChangeEvent e : events) {
            batch.add(e.toMutation());
            maxHlc = Math.max(maxHlc, e.version().hlc());
        }
        try {
            backoff.retry("apply " + batch.size() + " events to " + table, () -> running, () -> {
                store.apply(table, batch, WriteOrigin.REPLICATED);
                return null;
            });
            ctx.metrics().applied.add(batch.size());
        } catch (InvalidDataException e) {
            for (ChangeEvent ev : events) {
                try {
                    backoff.retry("apply 1 event to " + table, () -> running, () -> {
                        store.apply(table, List.of(ev.toMutation()), WriteOrigin.REPLICATED);
                        return null;
                    });
                    ctx.metrics().applied.increment();
                } catch (InvalidDataException bad) {
                    ctx.deadLetters().record(table, ctx.topics().channel(table),
                            ctx.codec().encodeBatch(ev.origin(), schema, false, List.of(ev)), bad.getMessage());
                }
            }
        }
        ctx.clock().observe(maxHlc);
    }

    /** Stops the apply thread; queued messages stay unacknowledged and are delivered again. Idempotent. */
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
    }
}
