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
import io.mqdb.node.apply.ChannelApplier;
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
 * broker, its Micrometer meters (a Prometheus registry), and, with {@code node.http}, the HTTP listener serving them,
 * the admin API and the dashboard.
 *
 * <h2>Lifecycle</h2>
 * <ol>
 *   <li>The node makes it on its start-up thread before its appliers, and takes each applier's
 *       {@link ApplyProgress} from {@link #progress} (which wires the apply latency timer).</li>
 *   <li>{@link #start} (start-up thread, once the node's sessions are connected): registers the meters, starts the
 *       thread {@code observe-<node>} that publishes the applied positions and follows the loads once a second,
 *       and, with {@code node.http}, the cluster view's watch session (connected here), the lag sampling every 2 s
 *       and the HTTP listener with the {@link AdminApi} and the {@link Dashboard}; throws
 *       {@link io.mqdb.spi.MqdbException} when it cannot listen.</li>
 *   <li>{@link #close} (any thread, idempotent): stops the listener, the watch session and the thread. The
 *       retained applied positions stay on the broker, so {@code mqdb status} shows how far a stopped node got.</li>
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
    private static final long HISTORY_EVERY_MS = 2000;
    private static final long LOAD_LOG_EVERY_MS = 10_000;
    private HttpEndpoint http;
    private Transport watch;
    private final ClusterStatus cluster = new ClusterStatus();
    private final LagHistory history = new LagHistory();
    private final LoadRates loadRates = new LoadRates();
    /** Per "channel origin" of a load being applied: when this node saw it start, and when it last logged it. */
    private final Map<String, Long> loadsRunning = new java.util.HashMap<>();
    private final Map<String, Long> loadLogged = new java.util.HashMap<>();
    private final io.mqdb.node.runtime.RefusalLog watchRefusals = new io.mqdb.node.runtime.RefusalLog(LOG);
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
     * Registers the meters and starts publishing applied positions and, when configured, the HTTP listener with the
     * admin API and the dashboard. Start-up thread, once.
     *
     * @param ctx what the node's jobs share (topics, control transport, signing)
     * @param channelSessions the MQTT sessions of the subscribed channels, one per channel
     * @param appliers the appliers of the subscribed channels, which the admin API steers
     * @param watch a session of its own, not started, for the cluster view of the admin API and the dashboard (the
     *     retained presences, positions and applied positions of every node); null without {@code node.http}. This
     *     observer subscribes and starts it, and closes it.
     * @param version the node's release
     */
    public synchronized void start(NodeContext ctx, Map<TableId, Transport> channelSessions,
            Map<TableId, ChannelApplier> appliers, Transport watch, String version) {
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
        applied = new AppliedPositions(ctx, progress.values(), t -> {
            ChannelApplier a = appliers.get(t);
            return a != null && a.paused();
        });
        scheduler.scheduleWithFixedDelay(this::publishApplied, PUBLISH_EVERY_MS, PUBLISH_EVERY_MS,
                TimeUnit.MILLISECONDS);
        Optional<HttpConfig> h = config.node().http();
        if (h.isPresent()) {
            if (watch != null) {
                this.watch = watch;
                watch(ctx, watch);
            }
            scheduler.scheduleWithFixedDelay(this::sampleHistory, HISTORY_EVERY_MS, HISTORY_EVERY_MS,
                    TimeUnit.MILLISECONDS);
            AdminApi api = new AdminApi(config, ctx, metrics, appliers, new AdminApi.Figures() {
                @Override
                public Map<TableId, Lag> lags() {
                    return NodeObserver.this.lags();
                }

                @Override
                public List<LoadProgress> loads(TableId channel) {
                    ApplyProgress p = progress.get(channel);
                    return p == null ? List.of() : LoadProgress.of(p.snapshot());
                }

                @Override
                public double loadRate(TableId channel, String origin) {
                    return loadRates.rate(channel, origin);
                }
            }, cluster, history, version);
            http = HttpEndpoint.start(h.get(), node, registry, this::readiness, api);
            LOG.info("node {}: dashboard, admin API, metrics and health on http://{}:{}/ (/, /api/, /metrics, /health,"
                    + " /ready){}", node,
                    h.get().bind(), h.get().port(), h.get().token().isPresent() ? ", bearer token required" : "");
        }
    }

    /**
     * Feeds the cluster view from the watch session: every node's retained presence, position and applied position
     * (unverified: the view shows what nodes published, as {@code mqdb status} does; it acts on nothing).
     */
    private void watch(NodeContext ctx, Transport watch) {
        io.mqdb.codec.Topics topics = ctx.topics();
        watch.subscribe(topics.presenceFilter(), m -> take(m, p -> cluster.addPresence(p)));
        watch.subscribe(topics.positionFilter(), m -> take(m,
                p -> cluster.addPosition(io.mqdb.node.catchup.Control.Position.parse(p))));
        watch.subscribe(topics.appliedFilter(), m -> take(m,
                p -> cluster.addApplied(io.mqdb.node.catchup.Control.Applied.parse(p))));
        try {
            watch.start();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new io.mqdb.spi.MqdbException("interrupted while the cluster view's session connected", e);
        }
    }

    private void take(io.mqdb.transport.InboundMessage m, java.util.function.Consumer<byte[]> reader) {
        try {
            if (m.payload().length > 0) {
                reader.accept(io.mqdb.signing.Envelope.unverifiedPayload(m.payload()));
            }
        } catch (RuntimeException e) {
            watchRefusals.warn("node " + config.node().name() + ": the cluster view ignores a bad message on "
                    + m.topic() + ": " + e.getMessage());
        } finally {
            m.ack();
        }
    }

    /** Samples the cluster's lags for the dashboard's chart. Thread {@code observe-<node>}; never throws. */
    private void sampleHistory() {
        try {
            long now = System.currentTimeMillis();
            history.record(now, cluster.report(now, -1));
        } catch (RuntimeException e) {
            LOG.warn("node {}: could not sample the lags: {}", config.node().name(), e.toString());
        }
    }

    /** Publishes the applied positions that changed. Thread {@code observe-<node>}; never throws. */
    private void publishApplied() {
        try {
            sampleLoads(System.currentTimeMillis());
            applied.publishChanged(ctrlConnected(), System.currentTimeMillis());
        } catch (RuntimeException e) {
            LOG.warn("node {}: could not publish its applied positions: {}", config.node().name(), e.toString());
        }
    }

    /**
     * Follows the loads (snapshots) this node applies: their rate for the admin API, and, on the subscribing node's
     * log, a line every {@link #LOAD_LOG_EVERY_MS} while one runs and one when it completed.
     */
    private void sampleLoads(long now) {
        for (ApplyProgress p : progress.values()) {
            for (LoadProgress l : LoadProgress.of(p.snapshot())) {
                String key = p.channel() + " " + l.origin();
                loadRates.sample(p.channel(), l.origin(), now, l.applied());
                boolean running = !l.complete();
                if (running) {
                    if (!loadsRunning.containsKey(key)) {
                        loadsRunning.put(key, now);
                        loadLogged.put(key, now);
                        LOG.info("channel {}: applying the load of {}: {} of {} rows", p.channel(), l.origin(),
                                l.applied(), l.total());
                    } else if (now - loadLogged.get(key) >= LOAD_LOG_EVERY_MS) {
                        loadLogged.put(key, now);
                        double rate = loadRates.rate(p.channel(), l.origin());
                        LOG.info("channel {}: applying the load of {}: {} of {} rows ({}%){}", p.channel(),
                                l.origin(), l.applied(), l.total(), l.applied() * 100 / l.total(),
                                Double.isNaN(rate) || rate <= 0 ? "" : String.format(java.util.Locale.ROOT,
                                        ", %.0f rows/s, about %d s left", rate,
                                        Math.round((l.total() - l.applied()) / rate)));
                    }
                } else if (loadsRunning.containsKey(key)) {
                    long took = now - loadsRunning.remove(key);
                    loadLogged.remove(key);
                    LOG.info("channel {}: the load of {} is applied: {} rows in {} s", p.channel(), l.origin(),
                            l.total(), String.format(java.util.Locale.ROOT, "%.1f", took / 1000.0));
                }
            }
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
            Gauge.builder("mqdb.load.applied.rows", p, q -> LoadProgress.of(q.snapshot()).stream()
                    .mapToLong(LoadProgress::applied).sum()).description("rows applied of the origins' last snapshots"
                    + " (initial loads, re-syncs) of the channel").tags(tags).register(registry);
            Gauge.builder("mqdb.load.total.rows", p, q -> LoadProgress.of(q.snapshot()).stream()
                    .mapToLong(LoadProgress::total).sum()).description("rows the origins counted when their last "
                    + "snapshots of the channel started").tags(tags).register(registry);
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
            Gauge.builder("mqdb.outbox.bytes", metrics, m -> {
                var bytes = m.outboxBytes.get(store);
                return bytes == null ? 0 : bytes.getAsLong();
            }).baseUnit("bytes").description("bytes of the store's outbox not yet acknowledged by the broker")
                    .tags("store", store).register(registry);
            Gauge.builder("mqdb.capture.disk.paused", metrics.diskPaused, m -> {
                java.util.function.BooleanSupplier paused = m.get(store);
                return paused != null && paused.getAsBoolean() ? 1 : 0;
            }).description("1 while the store's capture waits for disk space (node.min-free-disk-mb)")
                    .tags("store", store).register(registry);
        }
        counter("mqdb.snapshot.rows", metrics.snapshotRows, "rows published by initial loads");
        counter("mqdb.published.messages", metrics.publishedMessages, "MQTT messages (batches of changes) the"
                + " outbox delivered");
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
        counter("mqdb.reads", metrics.readsServed, "reads over MQTT answered with rows");
        counter("mqdb.republished", metrics.republished, "keys published again on a repair's request");
        counter("mqdb.reads.refused", metrics.readsRefused, "reads over MQTT refused or answered with an error");
        counter("mqdb.write.receipts", metrics.receiptsSent, "receipts of acknowledged writes sent after commit");
        counter("mqdb.write.receipts.refused", metrics.receiptsRefused,
                "writes whose response topic or correlation data a node does not answer on");
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
        if (watch != null) {
            watch.close();
        }
        if (scheduler != null) {
            scheduler.shutdownNow();
        }
        registry.close();
    }
}
