package io.mqdb.node;

import io.mqdb.broker.EmbeddedBroker;
import io.mqdb.broker.HiveMqEmbeddedBroker;
import io.mqdb.clock.HybridClock;
import io.mqdb.codec.EventCodec;
import io.mqdb.codec.Topics;
import io.mqdb.config.BrokerConfig;
import io.mqdb.config.ChannelConfig;
import io.mqdb.config.ConfigLoader;
import io.mqdb.config.NodeConfig;
import io.mqdb.node.apply.ChannelApplier;
import io.mqdb.node.catchup.Control;
import io.mqdb.node.catchup.NodeState;
import io.mqdb.node.deadletter.DeadLetters;
import io.mqdb.node.outbox.FlowWindow;
import io.mqdb.node.publish.ChannelPublisher;
import io.mqdb.node.publish.ForeignWrites;
import io.mqdb.node.read.RemoteReader;
import io.mqdb.node.read.RemoteTable;
import io.mqdb.node.read.RemoteWriter;
import io.mqdb.node.read.Replicas;
import io.mqdb.node.runtime.NodeContext;
import io.mqdb.node.runtime.RefusalLog;
import io.mqdb.node.runtime.TokenBucket;
import io.mqdb.observe.NodeObserver;
import io.mqdb.plugin.PluginRegistry;
import io.mqdb.signing.Freshness;
import io.mqdb.signing.Keys;
import io.mqdb.signing.SignatureRefused;
import io.mqdb.signing.Signing;
import io.mqdb.spi.ChangeCapture;
import io.mqdb.spi.MqdbException;
import io.mqdb.spi.TableId;
import io.mqdb.transport.Transport;
import io.mqdb.transport.TransportOptions;
import io.mqdb.transport.Transports;
import io.mqdb.version.VersionIndex;
import java.util.concurrent.ConcurrentHashMap;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Function;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A running mqdb node: its stores, its embedded broker (when configured), its MQTT transport, a publisher per store
 * with published channels and an applier per subscribed channel. Also the embedding API: an application starts a
 * node with {@link #start(Path)} and reads and writes the node's tables through {@link #table(String)}; its writes
 * are captured and published like any other local change.
 *
 * <h2>Lifecycle</h2>
 * {@link #start} opens everything in order (stores, broker, transport, appliers, subscriptions, publishers, then the
 * {@link NodeObserver}: applied positions, metrics and the {@code node.http} listener) on the caller's thread and
 * returns a running node, or throws after closing what it had opened. {@link #close()} stops everything in reverse
 * order (the observer first); idempotent, any thread. {@link #awaitTermination()} blocks until the node closed,
 * either by {@code close} or because a worker failed for good ({@link #failure()} then says why).
 */
public final class MqdbNode implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(MqdbNode.class);

    private final NodeConfig config;
    private final StoreSet stores;
    private final NodeMetrics metrics = new NodeMetrics();
    private final List<AutoCloseable> toClose = new ArrayList<>();
    private final Map<String, ChannelPublisher> publishers = new ConcurrentHashMap<>();
    private final CountDownLatch closed = new CountDownLatch(1);
    private final AtomicReference<Exception> failure = new AtomicReference<>();
    private final HybridClock clock;
    private volatile boolean closing;
    private NodeContext ctx;
    private volatile NodeObserver observer;

    private MqdbNode(NodeConfig config, StoreSet stores) {
        this.config = config;
        this.stores = stores;
        this.clock = HybridClock.system(config.node().maxClockSkew());
        this.resendFreshness = new Freshness(config.node().maxClockSkew().toMillis());
    }

    /**
     * Starts a node from a config file, with adapters from the class path and from the plugins folder named by the
     * system property {@code mqdb.plugins} (default {@code ${mqdb.home}/plugins} when {@code mqdb.home} is set).
     *
     * @param configFile the YAML config
     * @return the running node
     * @throws io.mqdb.config.ConfigException listing every problem of the config
     * @throws InterruptedException when interrupted while starting
     */
    public static MqdbNode start(Path configFile) throws InterruptedException {
        PluginRegistry plugins = PluginRegistry.load(defaultPluginsDir(), MqdbNode.class.getClassLoader());
        return start(ConfigLoader.load(configFile, StoreSet.checker(plugins)), plugins);
    }

    /** @return the plugins folder from the system properties, if any */
    public static Optional<Path> defaultPluginsDir() {
        String dir = System.getProperty("mqdb.plugins");
        if (dir != null && !dir.isBlank()) {
            return Optional.of(Path.of(dir));
        }
        String home = System.getProperty("mqdb.home");
        return home == null || home.isBlank() ? Optional.empty() : Optional.of(Path.of(home, "plugins"));
    }

    /**
     * Starts a node.
     *
     * @param config the parsed config
     * @param plugins the adapters available
     * @return the running node
     * @throws io.mqdb.config.ConfigException when a store's type or settings are wrong
     * @throws InterruptedException when interrupted while starting
     */
    public static MqdbNode start(NodeConfig config, PluginRegistry plugins) throws InterruptedException {
        return start(config, plugins, Transports::open);
    }

    /**
     * Starts a node whose MQTT connections come from {@code transports} instead of {@link Transports#open}: for
     * tests (an in-memory broker) and for embedders that bring their own transport. The factory is called on the
     * caller's thread, once for the node's control session and once per subscribed channel (each with its own client
     * id). Configure {@code broker.uris} (which the factory may ignore), not an embedded broker: an embedded broker
     * would still be started.
     *
     * @param config the parsed config
     * @param plugins the adapters available
     * @param transports makes a new, not yet started transport from the options the node derived from its config
     * @return the running node
     * @throws io.mqdb.config.ConfigException when a store's type or settings are wrong
     * @throws InterruptedException when interrupted while starting
     */
    public static MqdbNode start(NodeConfig config, PluginRegistry plugins,
            Function<TransportOptions, Transport> transports) throws InterruptedException {
        StoreSet stores = StoreSet.open(config, plugins);
        MqdbNode node = new MqdbNode(config, stores);
        try {
            stores.checkTransforms(config);
            node.startRest(transports);
            return node;
        } catch (InterruptedException | RuntimeException e) {
            node.close();
            throw e;
        }
    }

    private void startRest(Function<TransportOptions, Transport> transports) throws InterruptedException {
        String name = config.node().name();
        Topics topics = new Topics(config.node().cluster());
        BrokerConfig b = config.broker();
        List<String> uris = new ArrayList<>(b.uris());
        io.mqdb.broker.BrokerAccess.Credential localCredential = null;
        if (b.embedded().isPresent()) {
            var e = b.embedded().get();
            EmbeddedBroker broker = new HiveMqEmbeddedBroker(e);
            toClose.add(0, broker);
            broker.start();
            LOG.info("embedded MQTT broker listening on {}{}", broker.uri(), e.authenticates()
                    ? " (" + e.users().size() + " user(s) with their topic permissions; no anonymous clients)"
                    : "");
            localCredential = broker.localCredential().orElse(null);
            if (uris.isEmpty()) {
                uris.add(broker.uri());
            }
        }
        Optional<String> username = b.username();
        Optional<String> password = b.password().map(s -> s.value());
        if (username.isEmpty() && localCredential != null) {
            username = Optional.of(localCredential.username()); // the node's own broker, which authenticates
            password = Optional.of(localCredential.password());
        }
        TransportOptions options = new TransportOptions(uris, b.clientId(), username,
                password, b.tls().map(MqdbNode::tls), b.sessionExpiry(),
                b.keepAlive(), b.connectTimeout(), b.receiveMaximum(), b.maxInflight(), topics.presence(name),
                presence("online"), presence("offline"), b.client(),
                config.node().limits().maxPayloadBytes() + TransportOptions.PACKET_OVERHEAD_BYTES).withMode(b.mode());
        if (b.shuffle() && uris.size() > 1) {
            options = options.shuffled(new java.util.Random()); // once, so every session of the node shares the order
            LOG.info("node {}: broker order (broker.shuffle): {}", name, String.join(", ", options.brokerUris()));
        }
        Transport transport = transports.apply(options);
        toClose.add(0, transport);
        NodeState state = NodeState.load(config.node().dataDir().resolve("state.json"));
        DeadLetters dead = new DeadLetters(config.node().dataDir().resolve("dead-letters"), name, topics, transport,
                metrics, (long) config.node().deadLetterMaxMb() << 20);
        VersionIndex versions = VersionIndex.open(config.node().dataDir().resolve("versions.db"));
        toClose.add(0, versions);
        EventCodec codec = new EventCodec(config.node().wireForm(), config.node().limits());
        ctx = new NodeContext(name, clock, codec, topics, transport, state, metrics, dead, this::fail, versions,
                config.node(), new ConcurrentHashMap<>(), new ForeignWrites(), signing(),
                new FlowWindow(config.broker().flowWindow()));

        // Further connections (brokers:, an edge node's upstream): a control session each, with the node's presence
        // and last will there too; the channels that publish or subscribe via one use a context on it.
        Map<String, NodeContext> contexts = new LinkedHashMap<>();
        Map<String, TransportOptions> connectionOptions = new LinkedHashMap<>();
        contexts.put(ChannelConfig.MAIN_BROKER, ctx);
        connectionOptions.put(ChannelConfig.MAIN_BROKER, options);
        for (Map.Entry<String, BrokerConfig> e : config.brokers().entrySet()) {
            BrokerConfig ub = e.getValue();
            TransportOptions uo = new TransportOptions(ub.uris(), ub.clientId(), ub.username(),
                    ub.password().map(s -> s.value()), ub.tls().map(MqdbNode::tls), ub.sessionExpiry(),
                    ub.keepAlive(), ub.connectTimeout(), ub.receiveMaximum(), ub.maxInflight(),
                    topics.presence(name), presence("online"), presence("offline"), ub.client(),
                    config.node().limits().maxPayloadBytes() + TransportOptions.PACKET_OVERHEAD_BYTES)
                    .withMode(ub.mode());
            if (ub.shuffle() && ub.uris().size() > 1) {
                uo = uo.shuffled(new java.util.Random());
            }
            Transport ut = transports.apply(uo);
            toClose.add(0, ut);
            contexts.put(e.getKey(), ctx.withTransport(ut));
            connectionOptions.put(e.getKey(), uo);
        }

        NodeObserver observer = new NodeObserver(config, metrics);
        Map<TableId, Transport> channelSessions = new LinkedHashMap<>();
        List<ChannelApplier> appliers = new ArrayList<>();
        // Appliers first, so that messages queued for this node while it was away find them.
        for (ChannelConfig ch : config.channels()) {
            if (ch.subscribe()) {
                StoreSet.Opened s = stores.get(ch.store());
                ChannelApplier applier = new ChannelApplier(ch, s.store(), s.loader(),
                        contexts.get(ch.subscribeVia()), observer.progress(ch.table()));
                toClose.add(0, applier);
                appliers.add(applier);
                applier.start();
                // A session of its own per subscribed channel: the broker's flow control (receive maximum, in-flight
                // window, queue) is per connection, and a channel whose apply queue is full blocks its connection's
                // receive thread. So a big initial load or a store being retried on one channel never holds up
                // another channel of this node.
                Transport own = transports.apply(channelSession(connectionOptions.get(ch.subscribeVia()), topics,
                        name, ch));
                toClose.add(0, own);
                own.subscribe(topics.channel(ch.table()), applier);
                // Resends and snapshots made for this node alone (targeted catch-up), on the same session.
                own.subscribe(topics.direct(name, ch.table()), applier);
                own.subscribe(topics.directSnapshot(name, ch.table()), applier);
                own.subscribe(topics.positionFilter(ch.table()), applier.positionHandler());
                if (ch.subscribeVia().equals(ChannelConfig.MAIN_BROKER)) {
                    channelTransports.add(own);
                } else {
                    upstreamChannelSessions.put(ch.subscribeVia() + " (" + ch.table() + ")", own);
                }
                channelSessions.put(ch.table(), own);
            }
        }
        // The cleanup first: a message goes to the first subscription it matches, and the node's own retained flow
        // reports match flow/+/+/+ below too.
        new RetainedCleanup(name, topics, transport,
                config.channels().stream().filter(ChannelConfig::publish).map(ChannelConfig::table)
                        .collect(java.util.stream.Collectors.toSet()),
                config.channels().stream().filter(ChannelConfig::subscribe).map(ChannelConfig::table)
                        .collect(java.util.stream.Collectors.toSet())).subscribe();
        for (Map.Entry<String, NodeContext> c : contexts.entrySet()) {
            // resend and repair requests, and flow reports, on each connection a channel publishes via
            if (config.channels().stream().anyMatch(ch -> ch.publish() && ch.publishVia().equals(c.getKey()))) {
                Transport t = c.getValue().transport();
                t.subscribe(topics.resend(name), this::onResend);
                t.subscribe(topics.republish(name), this::onRepublish);
                if (ctx.flow().enabled()) {
                    t.subscribe(topics.flowFilter(), this::onFlow);
                }
            }
        }
        // The publishers' positions for the lag, on the control session too: on a channel's own session they wait
        // behind its unacknowledged messages. After the cleanup's filters, so that this node's own positions (which
        // the lag ignores) still reach the cleanup.
        for (ChannelConfig ch : config.channels()) {
            ChannelApplier a = appliers.stream().filter(x -> x.progress().channel().equals(ch.table())).findFirst()
                    .orElse(null);
            if (a != null) {
                contexts.get(ch.subscribeVia()).transport().subscribe(topics.positionFilter(ch.table()),
                        a.lagPositionHandler());
            }
        }
        Map<TableId, io.mqdb.spi.TableAccess> readable = new LinkedHashMap<>();
        for (ChannelConfig ch : config.channels()) {
            if (ch.reads()) {
                readable.put(ch.table(), stores.get(ch.store()).store());
            }
        }
        if (!readable.isEmpty()) {
            io.mqdb.node.read.ReadServer reads = new io.mqdb.node.read.ReadServer(ctx, readable);
            toClose.add(0, reads);
            reads.subscribe();
        }
        transport.start();
        for (Transport t : channelTransports) {
            t.start();
        }
        LOG.info("node {} connected to {}", name, transport.currentBroker());
        for (Map.Entry<String, NodeContext> c : contexts.entrySet()) {
            if (!c.getKey().equals(ChannelConfig.MAIN_BROKER)) {
                // An upstream that is away does not hold up the node: its sessions connect when they can, what the
                // channels publish via it waits in their outbox meanwhile, what they receive waits in the broker.
                startInBackground(c.getKey(), c.getValue().transport());
            }
        }
        upstreamChannelSessions.forEach(this::startInBackground);

        Map<String, List<ChannelConfig>> published = new LinkedHashMap<>();
        for (ChannelConfig ch : config.channels()) {
            if (ch.publish()) {
                published.computeIfAbsent(ch.store(), k -> new ArrayList<>()).add(ch);
            }
        }
        for (Map.Entry<String, List<ChannelConfig>> e : published.entrySet()) {
            StoreSet.Opened s = stores.get(e.getKey());
            ChangeCapture capture = s.store().capture().orElse(null);
            if (capture == null) {
                LOG.warn("store {} ({}) cannot capture changes: channels {} publish their initial load and the writes "
                        + "made through mqdb's embedding API, not changes made by other clients of the store",
                        e.getKey(), s.type(), tables(e.getValue()));
            }
            ChannelPublisher p = new ChannelPublisher(e.getKey(), s.store(), s.loader(), capture, e.getValue(),
                    contexts.get(e.getValue().get(0).publishVia()));
            publishers.put(e.getKey(), p);
            toClose.add(0, p);
            p.start();
        }
        toClose.add(0, observer); // closed first: the listener goes before what it reports on
        Map<TableId, ChannelApplier> byChannel = new LinkedHashMap<>();
        appliers.forEach(a -> byChannel.put(a.progress().channel(), a));
        // The dashboard's cluster view reads every node's retained messages on a session of its own: on the control
        // session its filters would take the messages its other subscriptions wait for (the first match wins).
        Transport watch = config.node().http().isEmpty() ? null : transports.apply(options
                .withClientId(options.clientId() + "-watch").withSessionExpiry(java.time.Duration.ofSeconds(1))
                .withPresence(Topics.ROOT + "/" + topics.cluster() + "/tools/watch/" + name, new byte[0],
                        new byte[0]));
        observer.start(ctx, channelSessions, byChannel, watch, VERSION);
        this.observer = observer;
        ScheduledExecutorService status = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "status");
            t.setDaemon(true);
            return t;
        });
        long every = Long.getLong("mqdb.status.interval.ms", 30_000L);
        status.scheduleAtFixedRate(this::logStatus, every, every, TimeUnit.MILLISECONDS);
        toClose.add(0, status::shutdownNow);
        status.scheduleWithFixedDelay(this::pruneTombstones, 0, 1, TimeUnit.HOURS);
        LOG.info("node {} started: {} store(s), {} channel(s)", name, config.stores().size(),
                config.channels().size());
        if (config.node().signing().isEmpty()) {
            b.reachableBeyondLoopback().ifPresent(where -> LOG.warn("node {}: node.signing is off and the broker "
                    + "({}) is reachable from other machines: any client that may publish under mqdb/{}/ there can "
                    + "pose as a node (write, delete, make subscribers skip changes); sign node messages, see "
                    + "docs/security.md#signed-node-messages", name, where, config.node().cluster()));
        }
    }

    /**
     * The node's signing, from {@code node.signing} (already checked by the config: the key matches a trusted one);
     * warns when the private key's file may be read by others than its owner. Start-up thread.
     */
    private Optional<Signing> signing() {
        if (config.node().signing().isEmpty()) {
            return Optional.empty();
        }
        io.mqdb.config.SigningConfig c = config.node().signing().get();
        c.keyFile().ifPresent(f -> Keys.permissionProblem(f).ifPresent(p -> LOG.warn("node {}: the private key file "
                + "{} {}; restrict it to its owner (chmod 600)", config.node().name(), f, p)));
        Signing s = new Signing(config.node().name(), c.privateKey(), c.trust());
        LOG.info("node {}: signing its messages with key {}; trusting {} node(s)", config.node().name(),
                s.keyIdText(), c.trust().size());
        return Optional.of(s);
    }

    /** The sessions of the channels subscribed via a further connection, by "connection (channel)". */
    private final Map<String, Transport> upstreamChannelSessions = new LinkedHashMap<>();

    /**
     * Starts a session of a further broker connection on a thread of its own, {@code connect-<connection>}, which
     * ends once it connected (the transport reconnects by itself after that) or when the node closes (interrupted).
     */
    private void startInBackground(String connection, Transport t) {
        Thread thread = new Thread(() -> {
            try {
                t.start();
                LOG.info("node {}: connected via {} to {}", config.node().name(), connection, t.currentBroker());
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt(); // the node is closing
            } catch (RuntimeException e) {
                LOG.warn("node {}: the connection {} could not start: {}", config.node().name(), connection,
                        e.toString());
            }
        }, "connect-" + connection);
        thread.setDaemon(true);
        toClose.add(0, thread::interrupt);
        thread.start();
    }

    /** The MQTT connections of the subscribed channels, one each; see {@link #channelSession}. */
    private final List<Transport> channelTransports = new ArrayList<>();

    /**
     * The options of a subscribed channel's own session: the node's, with the client id
     * {@code <client-id>-ch-<schema>.<table>} and a presence of its own under the node's
     * ({@code .../nodes/<node>/presence/ch/<schema>/<table>}, which the node presence filter does not match).
     */
    private TransportOptions channelSession(TransportOptions node, Topics topics, String name, ChannelConfig ch) {
        return node.withClientId(node.clientId() + "-ch-" + ch.table().schema() + "." + ch.table().table())
                .withPresence(topics.channelPresence(name, ch.table()), presence("online"), presence("offline"));
    }

    private static io.mqdb.transport.TlsOptions tls(io.mqdb.config.TlsConfig t) {
        return new io.mqdb.transport.TlsOptions(t.caFile(), t.certFile(), t.keyFile(),
                t.keyPassword().map(s -> s.value()), t.verifyHostname());
    }

    private static List<String> tables(List<ChannelConfig> channels) {
        List<String> out = new ArrayList<>();
        for (ChannelConfig c : channels) {
            out.add(c.table().toString());
        }
        return out;
    }

    /** The release, from the jar's manifest; {@code dev} when run from classes (tests, an IDE). */
    static final String VERSION = java.util.Optional.ofNullable(MqdbNode.class.getPackage().getImplementationVersion())
            .filter(v -> v.matches("[A-Za-z0-9._+-]{1,64}")).orElse("dev");

    /**
     * The node's presence, retained on {@code mqdb/<cluster>/nodes/<node>/presence}: its state, the time, its release,
     * its stores (name, type) and its channels (name, store, publish, subscribe), which {@code mqdb status} and the
     * dashboards read.
     */
    private byte[] presence(String state) {
        com.google.gson.JsonObject o = new com.google.gson.JsonObject();
        o.addProperty("state", state);
        o.addProperty("node", config.node().name());
        o.addProperty("time", Instant.now().toString());
        o.addProperty("version", VERSION);
        com.google.gson.JsonArray storeList = new com.google.gson.JsonArray();
        for (io.mqdb.config.StoreSection st : config.stores().values()) {
            com.google.gson.JsonObject j = new com.google.gson.JsonObject();
            j.addProperty("name", st.name());
            j.addProperty("type", st.type());
            storeList.add(j);
        }
        o.add("stores", storeList);
        com.google.gson.JsonArray channels = new com.google.gson.JsonArray();
        for (ChannelConfig c : config.channels()) {
            com.google.gson.JsonObject j = new com.google.gson.JsonObject();
            j.addProperty("name", c.table().toString());
            j.addProperty("store", c.store());
            j.addProperty("publish", c.publish());
            j.addProperty("subscribe", c.subscribe());
            if (c.reads()) {
                j.addProperty("reads", true);
            }
            channels.add(j);
        }
        o.add("channels", channels);
        return o.toString().getBytes(StandardCharsets.UTF_8);
    }

    private String lastStatus = "";

    /** Routes a subscriber's resend request to the publisher of the channel's store. Callback thread. */
    private void onResend(io.mqdb.transport.InboundMessage m) {
        try {
            if (!resendRate.tryTake(System.nanoTime())) {
                metrics.requestsRefused.increment();
                resendRefusals.warn("node " + config.node().name() + ": ignoring resend requests beyond "
                        + RESEND_PER_SECOND + "/s (the requesters ask again)");
                m.ack();
                return;
            }
            Signing.Verified v;
            try {
                v = ctx.openControl(m.topic(), m.payload());
            } catch (SignatureRefused e) {
                refuseResend(e.getMessage());
                m.ack();
                return;
            }
            byte[] payload = v.payload();
            String signer = v.signer();
            Control.Resend r = Control.Resend.parse(payload);
            if (signer != null && !signer.equals(r.requester())) {
                refuseResend("signed by " + signer + " but asks for " + r.requester());
                m.ack();
                return;
            }
            if (signer != null) {
                Freshness.Verdict fresh = resendFreshness.accept(signer, r.at(), System.currentTimeMillis());
                if (fresh == Freshness.Verdict.REPLAYED
                        && config.broker().mode() == io.mqdb.transport.BrokerMode.MIRROR) {
                    // the same request through another broker: expected in mirror mode, served once already
                    metrics.requestsRefused.increment();
                    m.ack();
                    return;
                }
                if (fresh != Freshness.Verdict.FRESH) {
                    metrics.requestsRefused.increment();
                    resendRefusals.warn("node " + config.node().name() + ": ignoring a resend request of " + signer
                            + " for " + r.channel() + ": " + switch (fresh) {
                                case STALE -> r.at() == 0 ? "it carries no clock reading (a node older than replay "
                                        + "protection)" : "its clock reading is more than node.max-clock-skew away";
                                case REPLAYED -> "a replay (its clock reading was seen before)";
                                default -> "too many requests within node.max-clock-skew";
                            });
                    m.ack();
                    return;
                }
            }
            if (signer != null && ctx.flow().enabled() && !ctx.flow().knows(r.requester(), r.channel().toString())) {
                // With signing, the requester's name is proven; a node that never reported as a subscriber of the
                // channel gets nothing (a subscriber's first flow report goes out when its channel starts, and a
                // refused request is asked again a second later).
                metrics.requestsRefused.increment();
                resendRefusals.warn("node " + config.node().name() + ": ignoring a resend request of " + r.requester()
                        + " for " + r.channel() + ": it has not reported as a subscriber of the channel");
                m.ack();
                return;
            }
            ChannelPublisher p = config.channels().stream()
                    .filter(c -> c.publish() && c.table().equals(r.channel()))
                    .findFirst().map(c -> publishers.get(c.store())).orElse(null);
            if (p == null) {
                LOG.warn("node {}: {} asked for {} from {}, which this node does not publish", config.node().name(),
                        r.requester(), r.channel(), r.fromSeq());
            } else {
                p.requestResend(r);
            }
        } catch (io.mqdb.spi.InvalidDataException e) {
            LOG.warn("node {}: ignoring a bad resend request: {}", config.node().name(), e.getMessage());
        }
        m.ack();
    }

    private final RefusalLog resendRefusals = new RefusalLog(LOG);
    /** Republish requests (repairs) looked at: at most 10 a second, 20 at once; each may carry 10,000 keys. */
    private final TokenBucket republishRate = new TokenBucket(10, 20, System.nanoTime());

    /**
     * Routes a repair's republish request ({@code mqdb verify --repair}) to the publisher of the channel's store.
     * With signing, only a trusted node may ask, for itself. A replay costs the same work again and changes nothing
     * (the keys are published as they are), so there is no freshness check beyond the rate. Callback thread.
     */
    private void onRepublish(io.mqdb.transport.InboundMessage m) {
        try {
            if (m.payload().length == 0 || m.retained()) {
                return;
            }
            if (!republishRate.tryTake(System.nanoTime())) {
                metrics.requestsRefused.increment();
                resendRefusals.warn("node " + config.node().name() + ": ignoring republish requests beyond 10/s");
                return;
            }
            Signing.Verified v;
            try {
                v = ctx.openControl(m.topic(), m.payload());
            } catch (SignatureRefused e) {
                refuseRequest("a republish request", e.getMessage());
                return;
            }
            Control.Republish r = Control.Republish.parse(v.payload());
            if (v.signer() != null && !v.signer().equals(r.requester())) {
                refuseRequest("a republish request", "signed by " + v.signer() + " but made for " + r.requester());
                return;
            }
            ChannelPublisher p = config.channels().stream()
                    .filter(c -> c.publish() && c.table().equals(r.channel()))
                    .findFirst().map(c -> publishers.get(c.store())).orElse(null);
            if (p == null) {
                LOG.warn("node {}: {} asked to publish keys of {} again, which this node does not publish",
                        config.node().name(), r.requester(), r.channel());
            } else if (!p.requestRepublish(r)) {
                metrics.requestsRefused.increment();
                resendRefusals.warn("node " + config.node().name() + ": ignoring a republish request of "
                        + r.requester() + ": 16 wait already (it asks again)");
            } else {
                LOG.info("node {}: {} asks to publish {} key(s) of {} again (a repair)", config.node().name(),
                        r.requester(), r.keys().size(), r.channel());
            }
        } catch (io.mqdb.spi.InvalidDataException e) {
            LOG.warn("node {}: ignoring a bad republish request: {}", config.node().name(), e.getMessage());
        } finally {
            m.ack();
        }
    }

    /**
     * The most resend requests a second this node looks at (on average; {@link #RESEND_BURST} at once), before their
     * signature is checked: a flood on its resend topic costs it no more. Requesters ask again (backing off), so a
     * request refused here is served later.
     */
    static final int RESEND_PER_SECOND = 500;
    static final int RESEND_BURST = 2_000;
    private final TokenBucket resendRate = new TokenBucket(RESEND_PER_SECOND, RESEND_BURST, System.nanoTime());
    /** With signing on: refuses recorded resend requests published again (replays). */
    private final Freshness resendFreshness;

    /** The most bytes of a subscriber's flow report read; a larger one is ignored undecoded. */
    private static final int MAX_FLOW_REPORT_BYTES = 16 * 1024;

    /**
     * Takes a subscriber's report of how far it received this node's channels into the flow window. Callback
     * thread. A report that is too big, malformed, unsigned with signing on, or signed by another node than the one
     * it names is ignored (counted as refused when it is the signature): it can only make a publisher wait less.
     */
    private void onFlow(io.mqdb.transport.InboundMessage m) {
        try {
            if (m.payload().length == 0) {
                return; // a cleared retained report
            }
            if (m.payload().length > MAX_FLOW_REPORT_BYTES) {
                LOG.debug("node {}: ignoring a flow report of {} bytes on {}", config.node().name(),
                        m.payload().length, m.topic());
                return;
            }
            Signing.Verified v;
            try {
                v = ctx.openControl(m.topic(), m.payload());
            } catch (SignatureRefused e) {
                ctx.metrics().signatureRefused.increment();
                flowRefusals.warn("node " + config.node().name() + ": ignoring the flow report on " + m.topic()
                        + ": " + e.getMessage());
                return;
            }
            Control.Flow f = Control.Flow.parse(v.payload());
            String topicNode = m.topic().substring(m.topic().lastIndexOf('/') + 1);
            if (!f.node().equals(topicNode) || (v.signer() != null && !v.signer().equals(f.node()))) {
                ctx.metrics().signatureRefused.increment();
                flowRefusals.warn("node " + config.node().name() + ": ignoring the flow report on " + m.topic()
                        + ": it names " + f.node() + (v.signer() == null ? "" : ", signed by " + v.signer()));
                return;
            }
            // A report that does not name this node comes from a subscriber that has nothing of it yet: received 0.
            long now = System.nanoTime();
            ctx.flow().report(f.node(), f.channel().toString(), f.received().getOrDefault(config.node().name(), 0L),
                    f.applied().getOrDefault(config.node().name(), -1L), now);
            Long stream = f.stream().get(config.node().name());
            if (stream != null) {
                ctx.flow().reportStream(f.node(), f.channel().toString(), stream, now);
            }
        } catch (io.mqdb.spi.InvalidDataException e) {
            LOG.debug("node {}: ignoring a bad flow report: {}", config.node().name(), e.getMessage());
        } finally {
            m.ack();
        }
    }

    private final RefusalLog flowRefusals = new RefusalLog(LOG);

    /** A resend request that does not come, signed, from the node it names: nothing is published for it. */
    private void refuseResend(String reason) {
        refuseRequest("a resend request", reason);
    }

    private void refuseRequest(String what, String reason) {
        metrics.signatureRefused.increment();
        resendRefusals.warn("node " + config.node().name() + ": ignoring " + what + ": " + reason);
    }

    /** Forgets the versions of rows deleted longer ago than the tombstone retention. Status thread, hourly. */
    private void pruneTombstones() {
        try {
            long before = System.currentTimeMillis() - config.node().tombstoneRetention().toMillis();
            int n = ctx.versions().pruneTombstones(before);
            if (n > 0) {
                LOG.info("node {}: forgot {} tombstones older than {}", config.node().name(), n,
                        config.node().tombstoneRetention());
            }
        } catch (RuntimeException e) {
            LOG.warn("node {}: could not prune tombstones: {}", config.node().name(), e.getMessage());
        }
    }

    private void logStatus() {
        String s = metrics.toString();
        if (!s.equals(lastStatus)) {
            lastStatus = s;
            LOG.info("node {}: {}", config.node().name(), s);
        }
    }

    private void fail(Exception e) {
        if (failure.compareAndSet(null, e)) {
            LOG.error("node {} stops: {}", config.node().name(), e.getMessage());
            Thread t = new Thread(this::close, "node-stop");
            t.start();
        }
    }

    /**
     * The embedding API's access to one of the node's tables.
     *
     * @param channel {@code schema:table} of a configured channel
     * @return the table
     * @throws IllegalArgumentException when no channel has that name
     */
    public LocalTable table(String channel) {
        TableId id = TableId.parse(channel);
        for (ChannelConfig c : config.channels()) {
            if (c.table().equals(id)) {
                StoreSet.Opened s = stores.get(c.store());
                return new LocalTable(id, s.store(), s.loader(), c.publish() ? publishers.get(c.store()) : null);
            }
        }
        throw new IllegalArgumentException("no channel " + channel + " on node " + config.node().name());
    }

    /**
     * The embedding API's persistent FIFO queue {@code name} in the node's only store ({@code docs/store-queue.md}):
     * opened, and its tables created, on first use; the same instance on every later call. Any thread.
     *
     * @param name the queue's name: a letter or underscore, then letters, digits or underscores, at most 46
     * @return the queue
     * @throws IllegalArgumentException when the name is not valid, or the node has more than one store (name it with
     *     {@link #queue(String, String)})
     * @throws io.mqdb.spi.RetriableException when the store cannot be reached
     */
    public StoreQueue queue(String name) {
        if (config.stores().size() != 1) {
            throw new IllegalArgumentException("node " + config.node().name() + " has " + config.stores().size()
                    + " stores " + config.stores().keySet() + ": say which one holds queue " + name
                    + " with queue(name, store)");
        }
        return queue(name, config.stores().keySet().iterator().next());
    }

    /**
     * The embedding API's persistent FIFO queue {@code name} in one of the node's stores; see {@link #queue(String)}.
     *
     * @param name the queue's name
     * @param store the name of a configured store ({@code stores:} in the config)
     * @return the queue
     * @throws IllegalArgumentException when the name is not valid or no store has that name
     * @throws IllegalStateException when the node is closing
     */
    public StoreQueue queue(String name, String store) {
        if (!config.stores().containsKey(store)) {
            throw new IllegalArgumentException("no store " + store + " on node " + config.node().name()
                    + "; configured: " + config.stores().keySet());
        }
        synchronized (queues) {
            if (closing) {
                throw new IllegalStateException("node " + config.node().name() + " is closing");
            }
            StoreQueue q = queues.get(store + "/" + name);
            if (q == null) {
                StoreSet.Opened s = stores.get(store);
                q = StoreQueue.open(s.store(), s.loader(), name);
                queues.put(store + "/" + name, q);
            }
            return q;
        }
    }

    /** The queues opened through {@link #queue}, by {@code store/name}; guarded by itself. */
    private final Map<String, StoreQueue> queues = new LinkedHashMap<>();

    /**
     * The embedding API's reads and acknowledged writes over MQTT of a channel of the cluster ({@code docs/reads.md},
     * {@code docs/writes.md}): reads answered by the other nodes that serve reads of it ({@code reads: true}), writes
     * confirmed by the other nodes that subscribe it, through this node's control session, on response topics under
     * {@code mqdb/<cluster>/reply/<client-id>/}. The first call subscribes the presences and the response topics.
     * Any thread.
     *
     * @param channel {@code schema:table}, on this node or not
     * @return its remote reads
     * @throws IllegalArgumentException when the name is not a channel name
     * @throws IllegalStateException before the node started
     */
    public RemoteTable remote(String channel) {
        TableId id = TableId.parse(channel);
        synchronized (this) {
            if (ctx == null) {
                throw new IllegalStateException("node " + config.node().name() + " has not started");
            }
            if (remoteReader == null) {
                String asker = config.broker().clientId().replaceAll("[^A-Za-z0-9_.@-]", "_");
                asker = asker.length() > 64 ? asker.substring(0, 64) : asker;
                Replicas replicas = new Replicas(ctx.transport(), ctx.topics());
                remoteReader = new RemoteReader(ctx.transport(), ctx.topics(), asker, replicas);
                remoteWriter = new RemoteWriter(ctx.transport(), ctx.topics(), asker, ctx.nodeName(), ctx.clock(),
                        ctx.signing(), replicas);
                remoteReader.subscribe();
                remoteWriter.subscribe();
            }
            boolean publishes = config.channels().stream().anyMatch(c -> c.table().equals(id) && c.publish());
            return RemoteTable.of(id, remoteReader, publishes ? null : remoteWriter);
        }
    }

    private RemoteReader remoteReader; // guarded by this
    private RemoteWriter remoteWriter; // guarded by this

    /** @return the node's counters */
    public NodeMetrics metrics() {
        return metrics;
    }

    /**
     * @return the node's observability (lag per channel, Micrometer registry, HTTP listener); empty until the node
     *     has started
     */
    public Optional<NodeObserver> observer() {
        return Optional.ofNullable(observer);
    }

    /** @return the node's config */
    public NodeConfig config() {
        return config;
    }

    /** @return the failure that stopped the node, if one did */
    public Optional<Exception> failure() {
        return Optional.ofNullable(failure.get());
    }

    /**
     * Blocks until the node has closed.
     *
     * @throws InterruptedException when interrupted while waiting
     */
    public void awaitTermination() throws InterruptedException {
        closed.await();
    }

    /** Stops the node: publishers, appliers, transport, broker, stores, in that order. Idempotent. */
    @Override
    public synchronized void close() {
        if (closing) {
            return;
        }
        synchronized (queues) {
            closing = true;
            queues.values().forEach(StoreQueue::close); // wakes their waiting takes before the stores go
        }
        for (AutoCloseable c : toClose) {
            try {
                c.close();
            } catch (Exception e) {
                LOG.warn("while stopping: {}", e.getMessage(), e);
            }
        }
        stores.close();
        if (ctx != null) {
            LOG.info("node {} stopped: {}", config.node().name(), metrics);
        }
        closed.countDown();
    }
}
