package io.mqdb.transport;

import com.hivemq.client.internal.mqtt.MqttClientConfig;
import com.hivemq.client.internal.mqtt.MqttClientConnectionConfig;
import com.hivemq.client.mqtt.MqttClient;
import com.hivemq.client.mqtt.MqttClientSslConfig;
import com.hivemq.client.mqtt.MqttClientSslConfigBuilder;
import com.hivemq.client.mqtt.MqttClientTransportConfig;
import com.hivemq.client.mqtt.MqttClientTransportConfigBuilder;
import com.hivemq.client.mqtt.MqttGlobalPublishFilter;
import com.hivemq.client.mqtt.MqttWebSocketConfig;
import com.hivemq.client.mqtt.datatypes.MqttQos;
import com.hivemq.client.mqtt.datatypes.MqttTopicFilter;
import com.hivemq.client.mqtt.mqtt5.Mqtt5AsyncClient;
import com.hivemq.client.mqtt.mqtt5.message.auth.Mqtt5SimpleAuth;
import com.hivemq.client.mqtt.mqtt5.message.auth.Mqtt5SimpleAuthBuilder;
import com.hivemq.client.mqtt.mqtt5.message.connect.Mqtt5Connect;
import com.hivemq.client.mqtt.mqtt5.message.connect.connack.Mqtt5ConnAck;
import com.hivemq.client.mqtt.mqtt5.message.publish.Mqtt5Publish;
import com.hivemq.client.mqtt.mqtt5.message.publish.Mqtt5PublishResult;
import com.hivemq.client.mqtt.mqtt5.message.subscribe.Mqtt5Subscribe;
import com.hivemq.client.mqtt.mqtt5.message.subscribe.Mqtt5Subscription;
import com.hivemq.client.mqtt.mqtt5.message.subscribe.suback.Mqtt5SubAck;
import com.hivemq.client.mqtt.mqtt5.message.subscribe.suback.Mqtt5SubAckReasonCode;
import io.mqdb.spi.RetriableException;
import io.netty.channel.Channel;
import io.netty.channel.ChannelOption;
import io.reactivex.Scheduler;
import io.reactivex.disposables.Disposable;
import io.reactivex.schedulers.Schedulers;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executor;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.Semaphore;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The {@link Transport} on the HiveMQ MQTT client ({@link Mqtt5AsyncClient}, Netty); the default
 * ({@code broker.client: hivemq}).
 *
 * <h2>How it works</h2>
 * <ul>
 *   <li><b>One HiveMQ client per connection, our own connector loop.</b> A connector thread
 *   ({@code mqdb-mqtt-<clientId>}) builds a fresh client for every connection attempt, cycling through the broker list
 *   in order and backing off 100 ms, doubling to 5 s, after every full cycle that failed; it reconnects forever until
 *   {@link #close}. The client's own automatic reconnect is not used because the client keeps its session state
 *   across reconnects: it would replay unacknowledged publishes to whatever broker the failover reaches next (one
 *   that never had the session), keep publish futures waiting for days (until the session expiry), and hold a
 *   message of the old connection at the head of its in-order acknowledgement queue until the application acks
 *   it. With a client per connection nothing outlives a connection, as in {@link PahoTransport}: publishes still
 *   waiting for their PUBACK fail when it is lost (the caller retries; QoS 1 is at least once anyway), and an
 *   {@link InboundMessage#ack()} of a message from a lost connection is dropped (each connection has a generation;
 *   the broker delivers the message again on the new one).</li>
 *   <li><b>No leak per lost connection.</b> A disconnected HiveMQ client schedules the end of its session state for
 *   the session expiry (7 days by default) on its Netty event loop. Each connection's client therefore gets its own
 *   one-thread event loop (a fresh executor), which the client shuts down when the connection and the publish flow
 *   are gone, dropping that scheduled state with it.</li>
 *   <li><b>Session.</b> MQTT 5, clean start off, session expiry from the options. After every connect the
 *   subscriptions are renewed when the CONNACK says no session present (new broker, expired session), and any
 *   subscription the session lacks is added.</li>
 *   <li><b>No topic aliases</b> in either direction (restrictions of the CONNECT).</li>
 *   <li><b>TCP_NODELAY</b>: the client sets it on every socket it opens (its {@code MqttChannelInitializer}), plain,
 *   TLS and WebSocket; {@link #tcpNoDelayForTest()} reads it back.</li>
 *   <li><b>Flow control.</b> At most {@code min(maxInflight, broker's receive maximum)} publishes await a PUBACK;
 *   {@link #publish} blocks the caller while that window is full and fails fast when disconnected. The client would
 *   otherwise queue everything beyond the broker's window in memory.</li>
 *   <li><b>Presence.</b> Last will: the offline payload, retained, QoS 1. After every connect the online payload is
 *   published retained; {@link #close} publishes the offline payload retained, then disconnects normally.</li>
 *   <li><b>Acknowledgements in order.</b> As MQTT 5 requires, the client sends PUBACKs in the order the messages
 *   arrived: an ack is held back until every earlier message of the connection is acked too. A message that
 *   matches no handler, or whose handler failed, is left unacknowledged and so holds back every later PUBACK of
 *   its connection until a reconnect.</li>
 * </ul>
 *
 * <h2>Threads and back-pressure</h2>
 * Handlers run on one callback thread ({@code mqdb-mqtt-callback-<clientId>}) for the transport's lifetime, in
 * arrival order, never two at once. Every connection's messages reach it through one global publish flow with
 * manual acknowledgement, observed on that thread (RxJava {@code observeOn}, 128 messages prefetched); a blocked
 * handler holds up delivery, and the client keeps what it cannot hand on in its own queue. Both are bounded by
 * the receive maximum the node announces: the broker sends no more unacknowledged messages than that, so at most
 * {@code receiveMaximum} messages wait in memory. Messages of a lost connection still queued for the callback thread
 * are dropped (the broker delivers them again). The Netty thread of a connection ({@code mqdb-mqtt-netty-...})
 * decodes, completes publish futures and runs the disconnect listener; it never runs a handler.
 *
 * <p>{@link InboundMessage#duplicate()} is always false: the HiveMQ client does not expose the DUP flag.
 */
public final class HiveMqTransport implements Transport {
    private static final Logger log = LoggerFactory.getLogger(HiveMqTransport.class);
    private static final MqttQos QOS = MqttQos.AT_LEAST_ONCE;

    private final TransportOptions options;
    private final long timeoutMs;
    private final Object lock = new Object();
    private final Object subscribeLock = new Object();
    private final Map<String, MessageHandler> handlers = new LinkedHashMap<>(); // guarded by subscribeLock
    private volatile List<Route> routes = List.of();
    private final Set<String> sessionSubscriptions = ConcurrentHashMap.newKeySet();
    private final AtomicLong generations = new AtomicLong();
    private final ExecutorService callbacks;
    private final Scheduler callbackScheduler;

    private volatile Connection current; // guarded by lock for writes
    private volatile String lastBroker;
    private volatile boolean closed; // guarded by lock for writes
    private boolean everConnected; // guarded by lock
    /** Refused connection attempts when {@link #start()} gave up (credentials, client id, TLS). Guarded by lock. */
    private int refusals;
    /** Set when {@link #start()} must give up: refused {@link ConnectFailure#START_ATTEMPTS} rounds. Guarded by lock. */
    private ConnectFailure startFailure;
    private Thread connector; // guarded by lock
    private int nextUri;

    /** @param options the validated options */
    public HiveMqTransport(TransportOptions options) {
        this.options = options;
        this.timeoutMs = options.connectTimeout().toMillis();
        this.lastBroker = options.brokerUris().get(0);
        String name = "mqdb-mqtt-callback-" + options.clientId();
        this.callbacks = new ThreadPoolExecutor(1, 1, 0, TimeUnit.MILLISECONDS, new LinkedBlockingQueue<>(), r -> {
            Thread t = new Thread(r, name);
            t.setDaemon(true);
            return t;
        });
        this.callbackScheduler = Schedulers.from(callbacks);
    }

    @Override
    public void start() throws InterruptedException {
        synchronized (lock) {
            if (closed) {
                throw new IllegalStateException("mqtt " + options.clientId() + ": transport is closed");
            }
            if (connector == null) {
                connector = new Thread(this::runConnector, "mqdb-mqtt-" + options.clientId());
                connector.setDaemon(true);
                connector.start();
            }
            while (!everConnected && !closed && startFailure == null) {
                lock.wait();
            }
            if (!everConnected && startFailure != null) {
                throw new io.mqdb.spi.MqdbException("mqtt " + options.clientId() + ": cannot connect to "
                        + String.join(", ", options.brokerUris()) + " after " + refusals + " attempts: "
                        + startFailure.description());
            }
            if (!everConnected) {
                throw new IllegalStateException("mqtt " + options.clientId() + ": closed while starting");
            }
        }
    }

    @Override
    public void subscribe(String topicFilter, MessageHandler handler) {
        Route route = new Route(topicFilter, handler); // validates the filter
        synchronized (subscribeLock) {
            handlers.put(topicFilter, handler);
            List<Route> next = new ArrayList<>();
            for (Route r : routes) {
                if (!r.filter.equals(topicFilter)) {
                    next.add(r);
                }
            }
            next.add(route);
            routes = List.copyOf(next);
            Connection c = current;
            if (c != null && c.alive.get()) {
                try {
                    subscribeOn(c, List.of(topicFilter));
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    log.warn("mqtt {}: interrupted while subscribing to {}; retried on the next connection", c.uri,
                            topicFilter);
                } catch (RuntimeException e) {
                    // the next connection renews it
                    log.warn("mqtt {}: subscribe to {} failed, retried on the next connection: {}", c.uri,
                            topicFilter, e.toString());
                }
            }
        }
    }

    @Override
    public CompletableFuture<Void> publish(String topic, byte[] payload, boolean retained) {
        return publishConnected(topic, payload, retained, null, null);
    }

    @Override
    public CompletableFuture<Void> publish(String topic, byte[] payload, String responseTopic,
            byte[] correlationData) {
        return publishConnected(topic, payload, false, responseTopic, correlationData);
    }

    private CompletableFuture<Void> publishConnected(String topic, byte[] payload, boolean retained,
            String responseTopic, byte[] correlationData) {
        if (closed) {
            return CompletableFuture.failedFuture(
                    new RetriableException("mqtt " + options.clientId() + ": transport is closed"));
        }
        Connection c = current;
        if (c == null || !c.alive.get()) {
            return CompletableFuture.failedFuture(new RetriableException(
                    "mqtt " + lastBroker + ": not connected; publish to " + topic + " not sent"));
        }
        return publishOn(c, topic, payload, retained, responseTopic, correlationData);
    }

    private CompletableFuture<Void> publishOn(Connection c, String topic, byte[] payload, boolean retained) {
        return publishOn(c, topic, payload, retained, null, null);
    }

    private CompletableFuture<Void> publishOn(Connection c, String topic, byte[] payload, boolean retained,
            String responseTopic, byte[] correlationData) {
        try {
            while (!c.inflight.tryAcquire(100, TimeUnit.MILLISECONDS)) {
                if (!c.alive.get()) {
                    return CompletableFuture.failedFuture(new RetriableException(
                            "mqtt " + c.uri + ": connection lost while waiting to publish to " + topic));
                }
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return CompletableFuture.failedFuture(
                    new RetriableException("mqtt " + c.uri + ": interrupted while waiting to publish to " + topic, e));
        }
        CompletableFuture<Void> result = new CompletableFuture<>();
        AtomicBoolean released = new AtomicBoolean();
        c.pending.add(result);
        result.whenComplete((v, e) -> {
            c.pending.remove(result);
            if (released.compareAndSet(false, true)) {
                c.inflight.release();
            }
        });
        try {
            var builder = c.client.publishWith().topic(topic).payload(payload).qos(QOS).retain(retained);
            if (responseTopic != null) {
                builder.responseTopic(responseTopic);
            }
            if (correlationData != null && correlationData.length > 0) {
                builder.correlationData(correlationData);
            }
            builder.send().whenComplete((r, e) -> completePublish(c, topic, result, r, e));
        } catch (RuntimeException e) {
            result.completeExceptionally(
                    new RetriableException("mqtt " + c.uri + ": publish to " + topic + " failed: " + e, e));
        }
        if (!c.alive.get()) {
            // lost between the check and the send: the loss handler may have missed this one
            result.completeExceptionally(connectionLost(c, topic));
        }
        return result;
    }

    private static void completePublish(Connection c, String topic, CompletableFuture<Void> result,
            Mqtt5PublishResult r, Throwable e) {
        Throwable error = e != null ? e : r.getError().orElse(null);
        if (error != null) {
            result.completeExceptionally(
                    new RetriableException("mqtt " + c.uri + ": publish to " + topic + " failed: " + error, error));
        } else if (r instanceof Mqtt5PublishResult.Mqtt5Qos1Result q && q.getPubAck().getReasonCode().isError()) {
            result.completeExceptionally(new RetriableException("mqtt " + c.uri + ": broker refused publish to "
                    + topic + " (" + q.getPubAck().getReasonCode() + ")"));
        } else {
            result.complete(null);
        }
    }

    @Override
    public boolean isConnected() {
        Connection c = current;
        return c != null && c.alive.get() && c.client.getState().isConnected();
    }

    @Override
    public String currentBroker() {
        return lastBroker;
    }

    @Override
    public void close() {
        Thread t;
        synchronized (lock) {
            if (closed) {
                return;
            }
            closed = true;
            lock.notifyAll();
            t = connector;
        }
        stopConnector(t);
        Connection c = current;
        if (c != null && c.alive.get() && c.client.getState().isConnected()) {
            try {
                publishOn(c, options.presenceTopic(), options.offlinePayload(), true)
                        .get(timeoutMs, TimeUnit.MILLISECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            } catch (ExecutionException | TimeoutException e) {
                log.warn("mqtt {}: offline presence not confirmed before disconnect: {}", c.uri, e.toString());
            }
            try {
                c.client.disconnect().get(timeoutMs, TimeUnit.MILLISECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            } catch (ExecutionException | TimeoutException e) {
                log.debug("mqtt {}: disconnect: {}", c.uri, e.toString());
            }
            log.info("mqtt {}: disconnected ({} closed)", c.uri, options.clientId());
        }
        if (c != null) {
            retire(c);
        }
        stopCallbacks();
    }

    private void stopCallbacks() {
        callbacks.shutdownNow(); // interrupts a handler blocked in hand-off; queued deliveries see closed and skip
        try {
            if (!callbacks.awaitTermination(timeoutMs, TimeUnit.MILLISECONDS)) {
                log.warn("mqtt {}: a message handler did not return within {} ms of close", options.clientId(),
                        timeoutMs);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    // ---- connector thread

    private void runConnector() {
        ConnectAttempts attempts = new ConnectAttempts(log, options.clientId(), options.brokerUris());
        List<String> uris = options.brokerUris();
        while (!closed) {
            Connection live = current;
            if (live != null) {
                synchronized (lock) {
                    while (!closed && live.alive.get()) {
                        try {
                            lock.wait();
                        } catch (InterruptedException e) {
                            return; // close() interrupts
                        }
                    }
                    if (closed) {
                        return; // close() publishes the offline presence on it and retires it
                    }
                    current = null;
                }
                if (attempts.lost(live.uri, live.lostCause)) {
                    nextUri = (nextUri + 1) % uris.size();
                }
                retire(live);
                if (closed) {
                    return;
                }
            }
            String uri = uris.get(nextUri);
            lastBroker = uri;
            try {
                connect(uri);
                attempts.connected(uri);
            } catch (InterruptedException e) {
                return; // close() interrupts
            } catch (ExecutionException | TimeoutException | RuntimeException e) {
                if (closed) {
                    return;
                }
                nextUri = (nextUri + 1) % uris.size();
                ConnectFailure failure = ConnectFailure.of(e, connAckReasonCode(e));
                long pause = attempts.failed(uri, uris.get(nextUri), failure);
                if (failure.fatal()) {
                    synchronized (lock) {
                        if (!everConnected && attempts.refusedEnough()) {
                            refusals = attempts.refusals();
                            startFailure = failure;
                            lock.notifyAll(); // start() gives up
                        }
                    }
                }
                if (pause > 0 && !pauseUnlessClosed(pause)) {
                    return;
                }
            }
        }
    }

    private void connect(String uri) throws InterruptedException, ExecutionException, TimeoutException {
        BrokerAddress address = BrokerAddress.parse(uri);
        long generation = generations.incrementAndGet();
        String nettyName = "mqdb-mqtt-netty-" + options.clientId() + "-" + generation;
        // A fresh executor per connection gives the client an event loop of its own, shut down with the connection.
        Executor netty = r -> {
            Thread t = new Thread(r, nettyName);
            t.setDaemon(true);
            t.start();
        };
        Connection c = new Connection(generation, uri);
        c.client = MqttClient.builder()
                .useMqttVersion5()
                .identifier(options.clientId())
                .transportConfig(transportConfig(address))
                .executorConfig().nettyExecutor(netty).nettyThreads(1).applyExecutorConfig()
                .addDisconnectedListener(context -> {
                    String cause = context.getCause().toString();
                    if (cause.contains("receive maximum")) {
                        log.warn("mqtt {}: the broker sent more than the receive maximum of {} unacknowledged"
                                + " messages; the client disconnected and the broker sends them again (Mosquitto"
                                + " before 2.0.13 does this: raise broker.receive-maximum well above its"
                                + " max_inflight_messages, or use broker.client: paho)", c.uri,
                                options.receiveMaximum());
                    } else if (c.alive.get() && !closed && current == c) {
                        log.info("mqtt {}: connection lost ({})", c.uri, cause);
                    }
                    c.lostCause = cause;
                    lost(c);
                })
                .buildAsync();
        // Before CONNECT: a resumed session delivers its queued messages right after the CONNACK.
        c.flow = c.client.toRx().publishes(MqttGlobalPublishFilter.ALL, true)
                .observeOn(callbackScheduler, true)
                .subscribe(p -> deliver(c, p), e -> log.debug("mqtt {}: publish flow ended: {}", c.uri, e.toString()));
        Mqtt5ConnAck connAck;
        try {
            connAck = c.client.connect(connectMessage()).get(2 * timeoutMs + 1_000, TimeUnit.MILLISECONDS);
        } catch (InterruptedException | ExecutionException | TimeoutException | RuntimeException e) {
            retire(c);
            throw e;
        }
        int brokerReceiveMaximum = connAck.getRestrictions().getReceiveMaximum();
        int window = Math.min(options.maxInflight(), brokerReceiveMaximum);
        c.inflight = new Semaphore(window);
        boolean sessionPresent = connAck.isSessionPresent();
        synchronized (lock) {
            if (closed) {
                retire(c);
                return;
            }
            current = c;
        }
        log.info("mqtt {}: connected as {} (session present: {}, publish window {})", uri, options.clientId(),
                sessionPresent, window);
        renewSubscriptions(c, sessionPresent);
        publishOn(c, options.presenceTopic(), options.onlinePayload(), true).whenComplete((v, e) -> {
            if (e != null && !closed && c.alive.get()) {
                log.warn("mqtt {}: online presence not published: {}", uri, e.toString());
            }
        });
        synchronized (lock) {
            everConnected = true;
            lock.notifyAll();
        }
    }

    private MqttClientTransportConfig transportConfig(BrokerAddress address) {
        MqttClientTransportConfigBuilder b = MqttClientTransportConfig.builder()
                .serverHost(address.host())
                .serverPort(address.port())
                .socketConnectTimeout(timeoutMs, TimeUnit.MILLISECONDS)
                .mqttConnectTimeout(timeoutMs, TimeUnit.MILLISECONDS);
        if (address.tls()) {
            b = b.sslConfig(sslConfig());
        }
        if (address.webSocket()) {
            b = b.webSocketConfig(MqttWebSocketConfig.builder().serverPath(address.path()).build());
        }
        return b.build();
    }

    private MqttClientSslConfig sslConfig() {
        TlsOptions tls = options.tls().orElse(TlsOptions.defaults());
        MqttClientSslConfigBuilder b = MqttClientSslConfig.builder();
        var keys = PemTls.keyManagers(tls);
        if (keys.isPresent()) {
            b = b.keyManagerFactory(keys.get());
        }
        var trust = PemTls.trustManagers(tls);
        if (trust.isPresent()) {
            b = b.trustManagerFactory(trust.get());
        }
        if (!tls.verifyHostname()) {
            b = b.hostnameVerifier((host, session) -> true);
        }
        return b.build();
    }

    private Mqtt5Connect connectMessage() {
        var b = Mqtt5Connect.builder()
                .cleanStart(false)
                .sessionExpiryInterval(options.sessionExpiry().toSeconds())
                .keepAlive((int) options.keepAlive().toSeconds())
                .restrictions()
                .receiveMaximum(options.receiveMaximum())
                .maximumPacketSize(options.maxPacketBytes())
                .sendMaximum(options.maxInflight())
                .topicAliasMaximum(0)
                .sendTopicAliasMaximum(0)
                .applyRestrictions()
                .willPublish()
                .topic(options.presenceTopic())
                .payload(options.offlinePayload())
                .qos(QOS)
                .retain(true)
                .applyWillPublish();
        if (options.username().isPresent() || options.password().isPresent()) {
            b = b.simpleAuth(simpleAuth());
        }
        return b.build();
    }

    private Mqtt5SimpleAuth simpleAuth() {
        Mqtt5SimpleAuthBuilder start = Mqtt5SimpleAuth.builder();
        byte[] password = options.password().map(p -> p.getBytes(StandardCharsets.UTF_8)).orElse(null);
        if (options.username().isPresent()) {
            Mqtt5SimpleAuthBuilder.Complete withUser = start.username(options.username().get());
            return password == null ? withUser.build() : withUser.password(password).build();
        }
        return start.password(password).build();
    }

    private void renewSubscriptions(Connection c, boolean sessionPresent) {
        synchronized (subscribeLock) {
            if (!sessionPresent) {
                sessionSubscriptions.clear();
            }
            List<String> missing = new ArrayList<>();
            for (String filter : handlers.keySet()) {
                if (!sessionSubscriptions.contains(filter)) {
                    missing.add(filter);
                }
            }
            if (missing.isEmpty()) {
                return;
            }
            try {
                subscribeOn(c, missing);
                log.info("mqtt {}: subscribed to {}", c.uri, missing);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                c.client.disconnect();
            } catch (RuntimeException e) {
                log.warn("mqtt {}: subscribing to {} failed ({}); reconnecting", c.uri, missing, e.toString());
                c.client.disconnect(); // the next connection renews them
            }
        }
    }

    /** Subscribes and waits for the SUBACK; called with {@link #subscribeLock} held. */
    private void subscribeOn(Connection c, List<String> filters) throws InterruptedException {
        List<Mqtt5Subscription> subs = new ArrayList<>();
        for (String f : filters) {
            subs.add(Mqtt5Subscription.builder().topicFilter(f).qos(QOS).noLocal(true).build());
        }
        Mqtt5SubAck subAck;
        try {
            subAck = c.client.subscribe(Mqtt5Subscribe.builder().addSubscriptions(subs).build())
                    .get(timeoutMs, TimeUnit.MILLISECONDS);
        } catch (ExecutionException e) {
            throw new IllegalStateException("broker refused or lost subscription to " + filters + ": "
                    + e.getCause(), e.getCause());
        } catch (TimeoutException e) {
            throw new IllegalStateException("no SUBACK for " + filters + " within " + timeoutMs + " ms", e);
        }
        List<Mqtt5SubAckReasonCode> codes = subAck.getReasonCodes();
        for (int i = 0; i < filters.size(); i++) {
            Mqtt5SubAckReasonCode code = i < codes.size() ? codes.get(i) : Mqtt5SubAckReasonCode.GRANTED_QOS_1;
            if (code.isError()) {
                throw new IllegalStateException("broker refused subscription to " + filters.get(i) + " (" + code
                        + ")");
            }
            if (code != Mqtt5SubAckReasonCode.GRANTED_QOS_1) {
                log.warn("mqtt {}: subscription to {} granted {} instead of QoS 1", c.uri, filters.get(i), code);
            }
            sessionSubscriptions.add(filters.get(i));
        }
    }

    private boolean pauseUnlessClosed(long millis) {
        long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(millis);
        synchronized (lock) {
            long left;
            while (!closed && (left = deadline - System.nanoTime()) > 0) {
                try {
                    TimeUnit.NANOSECONDS.timedWait(lock, left);
                } catch (InterruptedException e) {
                    return false;
                }
            }
            return !closed;
        }
    }

    private void stopConnector(Thread t) {
        if (t == null || t == Thread.currentThread()) {
            return;
        }
        t.interrupt();
        try {
            t.join(2 * timeoutMs + 3_000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /**
     * Marks a connection dead, fails what waits on it, ends its publish flow and its client (which then shuts its
     * event loop down). Idempotent.
     */
    private void retire(Connection c) {
        lost(c);
        if (c.retired.compareAndSet(false, true)) {
            // The flow goes only once the connection is closed: the HiveMQ client acknowledges by itself every QoS 1
            // message that arrives while no publish flow is registered ("No publish flow registered"), and such a
            // message would be lost to the session. Messages delivered meanwhile are dropped by deliver (retired).
            if (c.client != null && c.client.getState().isConnectedOrReconnect()) {
                c.client.disconnect().whenComplete((v, e) -> {
                    if (e != null) {
                        log.debug("mqtt {}: disconnect: {}", c.uri, e.toString());
                    }
                    disposeFlow(c);
                });
            } else {
                disposeFlow(c);
            }
        }
    }

    private static void disposeFlow(Connection c) {
        Disposable flow = c.flow;
        if (flow != null) {
            flow.dispose();
        }
    }

    private void lost(Connection c) {
        if (c.alive.compareAndSet(true, false)) {
            for (CompletableFuture<Void> f : List.copyOf(c.pending)) {
                f.completeExceptionally(connectionLost(c, null));
            }
            synchronized (lock) {
                lock.notifyAll();
            }
        }
    }

    private static RetriableException connectionLost(Connection c, String topic) {
        return new RetriableException("mqtt " + c.uri + ": connection lost before the PUBACK"
                + (topic == null ? "" : " of a publish to " + topic));
    }

    /** @return the CONNACK reason code of a refusal anywhere in the cause chain, else 0 */
    private static int connAckReasonCode(Throwable e) {
        for (Throwable t = e; t != null; t = t.getCause() == t ? null : t.getCause()) {
            if (t instanceof com.hivemq.client.mqtt.mqtt5.exceptions.Mqtt5ConnAckException c) {
                return c.getMqttMessage().getReasonCode().getCode();
            }
        }
        return 0;
    }

    // ---- delivery, on the callback thread

    private void deliver(Connection c, Mqtt5Publish p) {
        String topic = p.getTopic().toString();
        if (closed || !c.alive.get()) {
            log.debug("mqtt {}: message on {} from lost connection {} not delivered (the broker sends it again)",
                    c.uri, topic, c.generation);
            return;
        }
        MessageHandler handler = null;
        for (Route r : routes) {
            if (r.matcher.matches(p.getTopic())) {
                handler = r.handler;
                break;
            }
        }
        if (handler == null) {
            log.warn("mqtt {}: message on {} matches no handler; left unacknowledged (subscribe before start)",
                    c.uri, topic);
            return;
        }
        try {
            handler.onMessage(new Delivery(this, c, topic, p));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } catch (RuntimeException e) {
            log.error("mqtt {}: handler of {} failed; message left unacknowledged", c.uri, topic, e);
        }
    }

    private boolean ackable(Connection c) {
        // not c == current: a resumed session delivers before the connector publishes the new connection
        return c.alive.get() && c.generation == generations.get();
    }

    // ---- test hooks

    /** Closes the current connection's channel as a network failure would; the transport reconnects. For tests. */
    void cutConnectionForTest() {
        Connection c = current;
        if (c != null) {
            channel(c).ifPresent(Channel::close);
        }
    }

    /** Dies like a killed process: no offline presence, no DISCONNECT, no reconnect. For tests. */
    void crashForTest() {
        Thread t;
        synchronized (lock) {
            closed = true;
            lock.notifyAll();
            t = connector;
        }
        stopConnector(t);
        Connection c = current;
        if (c != null) {
            channel(c).ifPresent(ch -> ch.close().awaitUninterruptibly(timeoutMs));
            retire(c);
        }
        stopCallbacks();
    }

    /** @return whether the current connection's socket has TCP_NODELAY set, or null when unknown. For tests. */
    Boolean tcpNoDelayForTest() {
        Connection c = current;
        return c == null ? null : channel(c).map(ch -> ch.config().getOption(ChannelOption.TCP_NODELAY)).orElse(null);
    }

    private static Optional<Channel> channel(Connection c) {
        MqttClientConnectionConfig cc = ((MqttClientConfig) c.client.getConfig()).getRawConnectionConfig();
        return Optional.ofNullable(cc).map(MqttClientConnectionConfig::getChannel);
    }

    // ---- types

    /** A subscription's handler with its parsed filter ({@code $share/<group>/} stripped for matching). */
    private static final class Route {
        final String filter;
        final MqttTopicFilter matcher;
        final MessageHandler handler;

        Route(String filter, MessageHandler handler) {
            String f = filter;
            if (f.startsWith("$share/")) {
                int slash = f.indexOf('/', "$share/".length());
                if (slash < 0) {
                    throw new IllegalArgumentException("invalid shared subscription " + filter);
                }
                f = f.substring(slash + 1);
            }
            this.filter = filter;
            this.matcher = MqttTopicFilter.of(f);
            this.handler = handler;
        }
    }

    /** One MQTT connection: its own client, generation, publish flow, publish window and waiting publishes. */
    private static final class Connection {
        final long generation;
        final String uri;
        final AtomicBoolean alive = new AtomicBoolean(true);
        final AtomicBoolean retired = new AtomicBoolean();
        final Set<CompletableFuture<Void>> pending = ConcurrentHashMap.newKeySet();
        /** Why the connection was lost, as the client reported it; set by its disconnect callback. */
        volatile String lostCause;
        volatile Mqtt5AsyncClient client;
        volatile Disposable flow;
        volatile Semaphore inflight = new Semaphore(0);

        Connection(long generation, String uri) {
            this.generation = generation;
            this.uri = uri;
        }
    }

    /** A delivered message; acks only on the connection that delivered it. */
    private static final class Delivery implements InboundMessage {
        private final HiveMqTransport transport;
        private final Connection c;
        private final String topic;
        private final Mqtt5Publish publish;
        private final AtomicBoolean acked = new AtomicBoolean();
        private byte[] payload; // the client copies on every getPayloadAsBytes(); copied once here

        Delivery(HiveMqTransport transport, Connection c, String topic, Mqtt5Publish publish) {
            this.transport = transport;
            this.c = c;
            this.topic = topic;
            this.publish = publish;
        }

        @Override
        public String topic() {
            return topic;
        }

        @Override
        public synchronized byte[] payload() {
            if (payload == null) {
                payload = publish.getPayloadAsBytes();
            }
            return payload;
        }

        @Override
        public java.util.Optional<String> responseTopic() {
            return publish.getResponseTopic().map(Object::toString);
        }

        @Override
        public byte[] correlationData() {
            return publish.getCorrelationData().map(b -> {
                byte[] out = new byte[b.remaining()];
                b.duplicate().get(out);
                return out;
            }).orElse(new byte[0]);
        }

        @Override
        public boolean retained() {
            return publish.isRetain();
        }

        @Override
        public boolean duplicate() {
            return false;
        }

        @Override
        public void ack() {
            if (!acked.compareAndSet(false, true)) {
                return;
            }
            if (!transport.ackable(c)) {
                log.debug("mqtt {}: ack of a message on {} from connection {} dropped (connection gone)", c.uri,
                        topic, c.generation);
                return;
            }
            try {
                publish.acknowledge();
            } catch (RuntimeException e) {
                log.debug("mqtt {}: ack of a message on {} failed: {}", c.uri, topic, e.toString());
            }
        }

        @Override
        public String toString() {
            return "InboundMessage[" + topic + ", " + publish.getPayload().map(b -> b.remaining()).orElse(0)
                    + " bytes, generation " + c.generation + "]";
        }
    }
}
