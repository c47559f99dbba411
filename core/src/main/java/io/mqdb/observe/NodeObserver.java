package io.mqdb.observe;

import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.Tags;
import io.micrometer.core.instrument.Timer;
import io.micrometer.core.instrument.binder.jvm.JvmMemoryMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmThreadMetrics;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.mqdb.config.ChannelConfig;
import io.mqdb.config.HttpConfig;
import io.mqdb.config.NodeConfig;
import io.mqdb.node.NodeMetrics;
import io.mqdb.node.apply.ApplyProgress;
import io.mqdb.node.runtime.NodeContext;
import io.mqdb.spi.TableId;
import io.mqdb.transport.Transport;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.LongAdder;
import java.util.function.ToDoubleFunction;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A node's observability: the lag of every subscribed channel, the applied positions the node keeps retained on the
 * broker, its Micrometer meters (a Prometheus registry), and, with {@code node.http}, the HTTP listener serving them.
 *
 * <h2>Lifecycle</h2>
 * <ol>
 *   <li>The node makes it on its start-up thread before its appliers, and takes each applier's
 *       {@link ApplyProgress} from {@link #progress} (which wires the apply latency timer).</li>
 *   <li>{@link #start} (start-up thread, once the node's sessions are connected): registers the meters, starts the
 *       thread {@code observe-<node>} that publishes the applied positions once a second, and, with
 *       {@code node.http}, the HTTP listener; throws {@link io.mqdb.spi.MqdbException} when it cannot listen.</li>
 *   <li>{@link #close} (any thread, idempotent): stops the listener and the thread. The retained applied positions
 *       stay on the broker, so {@code mqdb status} shows how far a stopped node got.</li>
 * </ol>
 */
public final class NodeObserver implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(NodeObserver.class);
    private static final long PUBLISH_EVERY_MS = 1000;

    private final NodeConfig config;
    private final NodeMetrics metrics;
    private final PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
    private final Map<TableId, ApplyProgress> progress = new LinkedHashMap<>();
    private ScheduledExecutorService scheduler;
    private HttpEndpoint http;
    private AppliedPositions applied;
    private List<Transport> sessions = List.of();
    private boolean closed;

    /**
     * @param config the node's config
     * @param metrics the node's counters
     */
    public NodeObserver(NodeConfig config, NodeMetrics metrics) {
        this.config = config;
        this.metrics = metrics;
        registry.config().commonTags("node", config.node().name());
    }

    /**
     * Makes the progress record of a subscribed channel; its committed batches feed the channel's
     * {@code mqdb_apply_batch_seconds} timer. Start-up thread, before {@link #start}.
     *
     * @param channel a subscribed channel
     * @return its progress, for its applier
     */
    public ApplyProgress progress(TableId channel) {
        Timer timer = Timer.builder("mqdb.apply.batch").description("time to decode, apply and commit one batch")
                .tags(channelTag(channel)).publishPercentileHistogram()
                .minimumExpectedValue(java.time.Duration.ofMillis(1))
                .maximumExpectedValue(java.time.Duration.ofSeconds(60)).register(registry);
        ApplyProgress p = new ApplyProgress(channel, (nanos, events) -> timer.record(nanos, TimeUnit.NANOSECONDS));
        progress.put(channel, p);
        return p;
    }

    /**
     * Registers the meters and starts publishing applied positions and, when configured, the HTTP listener.
     * Start-up thread, once.
     *
     * @param ctx what the node's jobs share (topics, control transport, signing)
     * @param channelSessions the MQTT sessions of the subscribed channels, one per channel
     */
    public synchronized void start(NodeContext ctx, Map<TableId, Transport> channelSessions) {
        List<Transport> all = new ArrayList<>();
        all.add(ctx.transport());
        all.addAll(channelSessions.values());
        sessions = List.copyOf(all);
        registerMeters(ctx.transport(), channelSessions);
        String node = config.node().name();
        scheduler = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "observe-" + node);
            t.setDaemon(true);
            return t;
        });
        applied = new AppliedPositions(ctx, progress.values());
        scheduler.scheduleWithFixedDelay(this::publishApplied, PUBLISH_EVERY_MS, PUBLISH_EVERY_MS,
                TimeUnit.MILLISECONDS);
        Optional<HttpConfig> h = config.node().http();
        if (h.isPresent()) {
            http = HttpEndpoint.start(h.get(), node, registry, this::readiness);
            LOG.info("node {}: metrics and health on http://{}:{}/ (/metrics, /health, /ready){}", node,
                    h.get().bind(), h.get().port(), h.get().token().isPresent() ? ", bearer token required" : "");
        }
    }

    /** Publishes the applied positions that changed. Thread {@code observe-<node>}; never throws. */
    private void publishApplied() {
        try {
            applied.publishChanged(ctrlConnected(), System.currentTimeMillis());
        } catch (RuntimeException e) {
            LOG.warn("node {}: could not publish its applied positions: {}", config.node().name(), e.toString());
        }
    }

    private boolean ctrlConnected() {
        return !sessions.isEmpty() && sessions.get(0).isConnected();
    }

    /** @return the lag of every subscribed channel now */
    public Map<TableId, Lag> lags() {
        long now = System.currentTimeMillis();
        Map<TableId, Lag> out = new LinkedHashMap<>();
        for (ApplyProgress p : progress.values()) {
            out.put(p.channel(), Lag.of(p.snapshot(), now));
        }
        return out;
    }

    /** @return the reasons the node is not ready (empty: ready); on the HTTP handler thread */
    List<String> readiness() {
        List<String> reasons = new ArrayList<>();
        for (int i = 0; i < sessions.size(); i++) {
            if (!sessions.get(i).isConnected()) {
                reasons.add(i == 0 ? "not connected to the broker" : "a channel session is not connected");
            }
        }
        long max = config.node().http().map(HttpConfig::readyMaxLagEvents).orElse(HttpConfig.DEFAULT_READY_MAX_LAG);
        for (Map.Entry<TableId, Lag> e : lags().entrySet()) {
            if (e.getValue().events() > max) {
                reasons.add("channel " + e.getKey() + " is " + e.getValue().events() + " events behind (ready-max-lag "
                        + max + ")");
            }
        }
        return reasons;
    }

    /** @return the registry, for tests and embedders that scrape it themselves */
    public PrometheusMeterRegistry registry() {
        return registry;
    }

    private void registerMeters(Transport control, Map<TableId, Transport> channelSessions) {
        for (ApplyProgress p : progress.values()) {
            Tags tags = channelTag(p.channel());
            FunctionCounter.builder("mqdb.applied.events", p, ApplyProgress::appliedEvents)
                    .description("events applied to the local store on the channel").tags(tags).register(registry);
            Gauge.builder("mqdb.lag.events", p, q -> Lag.of(q.snapshot(), System.currentTimeMillis()).events())
                    .description("events the origins published on the channel and this node has not applied")
                    .tags(tags).register(registry);
            Gauge.builder("mqdb.lag.seconds", p, q -> Lag.of(q.snapshot(), System.currentTimeMillis()).seconds())
                    .description("seconds this node is behind on the channel (NaN: unknown)").tags(tags)
                    .register(registry);
            LongAdder dead = metrics.deadLetters(p.channel());
            FunctionCounter.builder("mqdb.dead.letters", dead, LongAdder::doubleValue)
                    .description("messages or events of the channel that went to the dead letters").tags(tags)
                    .register(registry);
            Transport session = channelSessions.get(p.channel());
            if (session != null) {
                Gauge.builder("mqdb.mqtt.connected", session, t -> t.isConnected() ? 1 : 0)
                        .description("1 while the MQTT session is connected")
                        .tags("session", p.channel().toString())
                        .register(registry);
            }
        }
        Gauge.builder("mqdb.mqtt.connected", control, t -> t.isConnected() ? 1 : 0)
                .description("1 while the MQTT session is connected").tags("session", "control")
                .register(registry);
        List<String> stores = new ArrayList<>();
        for (ChannelConfig c : config.channels()) {
            if (c.publish()) {
                LongAdder published = metrics.published(c.table());
                FunctionCounter.builder("mqdb.published.events", published, LongAdder::doubleValue)
                        .description("changes of the channel delivered to the broker").tags(channelTag(c.table()))
                        .register(registry);
                if (!stores.contains(c.store())) {
                    stores.add(c.store());
                }
            }
        }
        for (String store : stores) {
            Gauge.builder("mqdb.outbox.depth", metrics, m -> {
                var depth = m.outboxDepth.get(store);
                return depth == null ? 0 : depth.getAsLong();
            }).description("changes in the store's outbox not yet acknowledged by the broker").tags("store", store)
                    .register(registry);
            Gauge.builder("mqdb.capture.disk.paused", metrics.diskPaused, m -> {
                java.util.function.BooleanSupplier paused = m.get(store);
                return paused != null && paused.getAsBoolean() ? 1 : 0;
            }).description("1 while the store's capture waits for disk space (node.min-free-disk-mb)")
                    .tags("store", store).register(registry);
        }
        counter("mqdb.snapshot.rows", metrics.snapshotRows, "rows published by initial loads");
        counter("mqdb.retries", metrics.retries, "store or broker operations retried after a retriable failure");
        counter("mqdb.skipped.older", metrics.skippedOlder, "events not applied: the key holds a newer version");
        counter("mqdb.skipped.duplicates", metrics.skippedDuplicates,
                "events not applied again: their origin's number was applied already (mirror mode, redeliveries)");
        counter("mqdb.resend.requests", metrics.resendRequests, "resend requests this node sent (gaps found)");
        counter("mqdb.resent", metrics.resent, "messages this node published again on request");
        counter("mqdb.target.losses", metrics.targetLosses, "times a subscribed store lost what was applied to it");
        counter("mqdb.channel.errors", metrics.channelErrors, "channels that could not be started");
        counter("mqdb.targeted.snapshots", metrics.targetedSnapshots, "snapshots made for a single node");
        counter("mqdb.dead.letter.payloads.dropped", metrics.deadLetterPayloadsDropped,
                "dead letters kept without their payload: the folder was over node.dead-letter-max-mb");
        counter("mqdb.resend.refused", metrics.requestsRefused,
                "resend requests refused: beyond the rate bound, replayed or stale");
        counter("mqdb.signature.refused", metrics.signatureRefused, "messages refused for their signature");
        counter("mqdb.clock.skew.refused", metrics.clockSkewRefused, "events refused: version too far ahead");
        counter("mqdb.merge.deletes", metrics.mergeDeletes, "rows removed by snapshot merges");
        new JvmMemoryMetrics().bindTo(registry);
        new JvmThreadMetrics().bindTo(registry);
        Gauge.builder("mqdb.process.resident.memory", ProcessMemory::residentBytes).baseUnit("bytes")
                .description("the process's resident set size (VmRSS of /proc/self/status; NaN elsewhere)")
                .register(registry);
    }

    private void counter(String name, LongAdder adder, String description) {
        FunctionCounter.builder(name, adder, (ToDoubleFunction<LongAdder>) LongAdder::doubleValue)
                .description(description).register(registry);
    }

    private static Tags channelTag(TableId channel) {
        return Tags.of("channel", channel.toString());
    }

    /** Stops the HTTP listener and the publishing thread. Idempotent, any thread. */
    @Override
    public synchronized void close() {
        if (closed) {
            return;
        }
        closed = true;
        if (http != null) {
            http.close();
        }
        if (scheduler != null) {
            scheduler.shutdownNow();
        }
        registry.close();
    }
}
