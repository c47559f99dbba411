package io.mqdb.transport;

import io.mqdb.spi.RetriableException;
import java.lang.reflect.Field;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.ReentrantLock;
import javax.net.SocketFactory;
import javax.net.ssl.SSLSocketFactory;
import org.eclipse.paho.mqttv5.client.IMqttToken;
import org.eclipse.paho.mqttv5.client.MqttActionListener;
import org.eclipse.paho.mqttv5.client.MqttAsyncClient;
import org.eclipse.paho.mqttv5.client.MqttCallback;
import org.eclipse.paho.mqttv5.client.MqttConnectionOptions;
import org.eclipse.paho.mqttv5.client.MqttDisconnectResponse;
import org.eclipse.paho.mqttv5.client.internal.MqttConnectionState;
import org.eclipse.paho.mqttv5.client.persist.MemoryPersistence;
import org.eclipse.paho.mqttv5.common.MqttException;
import org.eclipse.paho.mqttv5.common.MqttMessage;
import org.eclipse.paho.mqttv5.common.MqttSubscription;
import org.eclipse.paho.mqttv5.common.packet.MqttProperties;
import org.eclipse.paho.mqttv5.common.util.MqttTopicValidator;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The {@link Transport} on Eclipse Paho v5 ({@link MqttAsyncClient}), chosen with {@code broker.client: paho}. Its
 * subscriber costs about ten times the CPU of {@link HiveMqTransport}'s on large messages (docs/mqtt.md).
 *
 * <h2>How it works</h2>
 * <ul>
 *   <li><b>One Paho client per connection.</b> A connector thread ({@code mqdb-mqtt-<clientId>}) makes a fresh
 *   {@code MqttAsyncClient} (memory persistence) for every connection attempt, cycling through the broker list and
 *   backing off 100 ms, doubling to 5 s, after every full cycle that failed. It reconnects forever until
 *   {@link #close}. Nothing outlives a connection: publishes still waiting for their PUBACK fail when it is lost
 *   (the caller retries; QoS 1 is at least once anyway), and an {@link InboundMessage#ack()} of a message from a
 *   lost connection is dropped (each connection has a generation; only the live, newest one acks). So an old packet
 *   id can never ack another message on the new connection, and no in-flight PUBLISH is replayed with a stale topic
 *   alias.</li>
 *   <li><b>Session.</b> MQTT 5, clean start off, session expiry from the options (Paho would send 0 for null).
 *   After every connect the subscriptions are renewed when the broker reports no session
 *   ({@code sessionPresent == false}: new broker, expired session), and any subscription the session lacks is
 *   added.</li>
 *   <li><b>No topic aliases.</b> Paho assigns outgoing aliases by itself whenever the broker allows them; the
 *   transport sets Paho's outgoing alias maximum to 0 after every CONNACK.</li>
 *   <li><b>TCP_NODELAY</b> on every socket, plain and TLS ({@link NoDelaySocketFactory}).</li>
 *   <li><b>Flow control.</b> At most {@code min(maxInflight, broker's receive maximum)} publishes await a PUBACK;
 *   {@link #publish} blocks the caller while that window is full and fails fast when disconnected.</li>
 *   <li><b>Presence.</b> Last will: the offline payload, retained, QoS 1. After every connect the online payload is
 *   published retained; {@link #close} publishes the offline payload retained, then disconnects normally.</li>
 * </ul>
 *
 * <h2>Threads</h2>
 * Handlers run on Paho's callback thread of the current connection, in arrival order, never two at once (a lock
 * serialises them across connections). A handler blocked when its connection is lost may be interrupted by Paho;
 * its message is then delivered again on the next connection.
 */
public final class PahoTransport implements Transport {
    private static final Logger log = LoggerFactory.getLogger(PahoTransport.class);
    private static final int QOS = 1;

    private final TransportOptions options;
    private final long timeoutMs;
    private final Object lock = new Object();
    private final Object subscribeLock = new Object();
    private final ReentrantLock deliveryLock = new ReentrantLock();
    private final Map<String, MessageHandler> handlers = new LinkedHashMap<>(); // guarded by subscribeLock
    private volatile List<Map.Entry<String, MessageHandler>> handlerSnapshot = List.of();
    private final Set<String> sessionSubscriptions = ConcurrentHashMap.newKeySet();
    private final AtomicLong generations = new AtomicLong();

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
    private static final AtomicBoolean aliasWarningLogged = new AtomicBoolean();

    /** @param options the validated options */
    public PahoTransport(TransportOptions options) {
        this.options = options;
        this.timeoutMs = options.connectTimeout().toMillis();
        this.lastBroker = options.brokerUris().get(0);
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
        MqttTopicValidator.validate(topicFilter, true, true);
        synchronized (subscribeLock) {
            handlers.put(topicFilter, handler);
            handlerSnapshot = List.copyOf(new ArrayList<>(handlers.entrySet()));
            Connection c = current;
            if (c != null && c.alive.get()) {
                try {
                    subscribeOn(c, List.of(topicFilter));
                } catch (MqttException | RuntimeException e) {
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
        Runnable release = () -> {
            if (released.compareAndSet(false, true)) {
                c.inflight.release();
            }
        };
        c.pending.add(result);
        result.whenComplete((v, e) -> {
            c.pending.remove(result);
            release.run();
        });
        org.eclipse.paho.mqttv5.common.packet.MqttProperties props = null;
        if (responseTopic != null || correlationData != null && correlationData.length > 0) {
            props = new org.eclipse.paho.mqttv5.common.packet.MqttProperties();
            if (responseTopic != null) {
                props.setResponseTopic(responseTopic);
            }
            if (correlationData != null && correlationData.length > 0) {
                props.setCorrelationData(correlationData);
            }
        }
        MqttMessage message = new MqttMessage(payload, QOS, retained, props);
        try {
            c.client.publish(topic, message, null, new MqttActionListener() {
                @Override
                public void onSuccess(IMqttToken token) {
                    int[] codes = token.getReasonCodes();
                    if (codes != null && codes.length > 0 && codes[0] >= 0x80) {
                        result.completeExceptionally(new RetriableException(
                                "mqtt " + c.uri + ": broker refused publish to " + topic + " (reason code 0x"
                                        + Integer.toHexString(codes[0]) + ")"));
                    } else {
                        result.complete(null);
                    }
                }

                @Override
                public void onFailure(IMqttToken token, Throwable e) {
                    result.completeExceptionally(
                            new RetriableException("mqtt " + c.uri + ": publish to " + topic + " failed: " + e, e));
                }
            });
        } catch (MqttException | RuntimeException e) {
            result.completeExceptionally(
                    new RetriableException("mqtt " + c.uri + ": publish to " + topic + " failed: " + e, e));
        }
        if (!c.alive.get()) {
            // lost between the check and the send: the loss handler may have missed this one
            result.completeExceptionally(connectionLost(c, topic));
        }
        return result;
    }

    @Override
    public boolean isConnected() {
        Connection c = current;
        return c != null && c.alive.get() && c.client.isConnected();
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
        if (c != null && c.alive.get() && c.client.isConnected()) {
            try {
                publishOn(c, options.presenceTopic(), options.offlinePayload(), true)
                        .get(timeoutMs, TimeUnit.MILLISECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            } catch (ExecutionException | TimeoutException e) {
                log.warn("mqtt {}: offline presence not confirmed before disconnect: {}", c.uri, e.toString());
            }
            try {
                c.client.disconnect(timeoutMs).waitForCompletion(timeoutMs);
            } catch (MqttException e) {
                log.debug("mqtt {}: disconnect: {}", c.uri, e.toString());
            }
            log.info("mqtt {}: disconnected ({} closed)", c.uri, options.clientId());
        }
        if (c != null) {
            retire(c);
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
            } catch (MqttException | RuntimeException e) {
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

    private void connect(String uri) throws MqttException {
        BrokerAddress address = BrokerAddress.parse(uri);
        NoDelaySocketFactory.Tracking factory;
        SocketFactory socketFactory;
        if (address.tls()) {
            SSLSocketFactory tls = options.tls().map(PemTls::socketFactory)
                    .orElseGet(() -> (SSLSocketFactory) SSLSocketFactory.getDefault());
            NoDelaySocketFactory.Tls f = NoDelaySocketFactory.tls(tls);
            factory = f;
            socketFactory = f;
        } else {
            NoDelaySocketFactory.Plain f = NoDelaySocketFactory.plain();
            factory = f;
            socketFactory = f;
        }
        MqttAsyncClient client = new MqttAsyncClient(address.pahoUri(), options.clientId(), new MemoryPersistence());
        Connection c = new Connection(generations.incrementAndGet(), uri, client, factory);
        client.setManualAcks(true);
        client.setCallback(new Callback(c));
        IMqttToken token;
        try {
            token = client.connect(connectOptions(address, socketFactory));
            token.waitForCompletion(timeoutMs + 1_000);
        } catch (MqttException | RuntimeException e) {
            retire(c);
            throw e;
        }
        MqttProperties props = token.getResponseProperties();
        Integer brokerReceiveMaximum = props == null ? null : props.getReceiveMaximum();
        int window = Math.min(options.maxInflight(), brokerReceiveMaximum == null ? 65_535 : brokerReceiveMaximum);
        c.inflight = new Semaphore(window);
        disableOutgoingTopicAliases(client);
        boolean sessionPresent = token.getSessionPresent();
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

    private MqttConnectionOptions connectOptions(BrokerAddress address, SocketFactory socketFactory) {
        MqttConnectionOptions o = new MqttConnectionOptions();
        o.setCleanStart(false);
        o.setSessionExpiryInterval(options.sessionExpiry().toSeconds());
        o.setKeepAliveInterval((int) options.keepAlive().toSeconds());
        o.setConnectionTimeout((int) Math.max(1, options.connectTimeout().toSeconds()));
        o.setReceiveMaximum(options.receiveMaximum());
        o.setMaximumPacketSize((long) options.maxPacketBytes());
        o.setAutomaticReconnect(false);
        o.setSocketFactory(socketFactory);
        o.setTopicAliasMaximum(0);
        options.username().ifPresent(o::setUserName);
        options.password().ifPresent(p -> o.setPassword(p.getBytes(StandardCharsets.UTF_8)));
        if (address.tls()) {
            o.setHttpsHostnameVerificationEnabled(options.tls().map(TlsOptions::verifyHostname).orElse(true));
        }
        MqttMessage will = new MqttMessage(options.offlinePayload(), QOS, true, null);
        o.setWill(options.presenceTopic(), will);
        return o;
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
            } catch (MqttException | RuntimeException e) {
                log.warn("mqtt {}: subscribing to {} failed ({}); reconnecting", c.uri, missing, e.toString());
                c.factory.cutAll();
            }
        }
    }

    /** Subscribes and waits for the SUBACK; called with {@link #subscribeLock} held. */
    private void subscribeOn(Connection c, List<String> filters) throws MqttException {
        MqttSubscription[] subs = new MqttSubscription[filters.size()];
        for (int i = 0; i < subs.length; i++) {
            subs[i] = new MqttSubscription(filters.get(i), QOS);
            subs[i].setNoLocal(true);
        }
        IMqttToken token = c.client.subscribe(subs);
        token.waitForCompletion(timeoutMs);
        int[] codes = token.getReasonCodes();
        for (int i = 0; i < subs.length; i++) {
            int code = codes != null && i < codes.length ? codes[i] : QOS;
            if (code >= 0x80) {
                throw new IllegalStateException("broker refused subscription to " + filters.get(i)
                        + " (reason code 0x" + Integer.toHexString(code) + ")");
            }
            if (code != QOS) {
                log.warn("mqtt {}: subscription to {} granted QoS {} instead of 1", c.uri, filters.get(i), code);
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
            t.join(timeoutMs + 2_000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /** Marks a connection dead, fails what waits on it and releases its Paho client. Idempotent. */
    private void retire(Connection c) {
        lost(c);
        if (c.retired.compareAndSet(false, true)) {
            try {
                if (c.client.isConnected()) {
                    c.client.disconnectForcibly(0, 1_000, false);
                }
            } catch (MqttException | RuntimeException e) {
                log.debug("mqtt {}: forcible disconnect: {}", c.uri, e.toString());
            }
            try {
                c.client.close(true);
            } catch (MqttException | RuntimeException e) {
                log.debug("mqtt {}: close: {}", c.uri, e.toString());
            }
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

    private static void disableOutgoingTopicAliases(MqttAsyncClient client) {
        try {
            Field f = MqttAsyncClient.class.getDeclaredField("mqttConnection");
            f.setAccessible(true);
            ((MqttConnectionState) f.get(client)).setOutgoingTopicAliasMaximum(0);
        } catch (ReflectiveOperationException | RuntimeException e) {
            if (aliasWarningLogged.compareAndSet(false, true)) {
                log.warn("mqtt: cannot turn off Paho's outgoing topic aliases ({}); disable topic aliases on the"
                        + " broker", e.toString());
            }
        }
    }

    /** @return the CONNACK reason code of a refusal (Paho reports it as the exception's reason code), else 0 */
    private static int connAckReasonCode(Throwable e) {
        for (Throwable t = e; t != null; t = t.getCause() == t ? null : t.getCause()) {
            if (t instanceof MqttException m && m.getReasonCode() >= 0x80 && m.getReasonCode() <= 0xFF) {
                return m.getReasonCode();
            }
        }
        return 0;
    }

    // ---- delivery

    private void deliver(Connection c, String topic, MqttMessage m) {
        MessageHandler handler = null;
        for (Map.Entry<String, MessageHandler> e : handlerSnapshot) {
            if (matches(e.getKey(), topic)) {
                handler = e.getValue();
                break;
            }
        }
        if (handler == null) {
            log.warn("mqtt {}: message on {} matches no handler; left unacknowledged (subscribe before start)",
                    c.uri, topic);
            return;
        }
        Delivery d = new Delivery(this, c, topic, m);
        try {
            deliveryLock.lockInterruptibly();
            try {
                handler.onMessage(d);
            } finally {
                deliveryLock.unlock();
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } catch (RuntimeException e) {
            log.error("mqtt {}: handler of {} failed; message left unacknowledged", c.uri, topic, e);
        }
    }

    private static boolean matches(String filter, String topic) {
        String f = filter;
        if (f.startsWith("$share/")) {
            int slash = f.indexOf('/', "$share/".length());
            f = slash < 0 ? f : f.substring(slash + 1);
        }
        try {
            return MqttTopicValidator.isMatched(f, topic);
        } catch (IllegalArgumentException e) {
            return false;
        }
    }

    private boolean ackable(Connection c) {
        // not c == current: a resumed session delivers before the connector publishes the new connection
        return c.alive.get() && c.generation == generations.get();
    }

    // ---- test hooks

    /** Cuts the current connection's sockets as a network failure would; the transport reconnects. For tests. */
    void cutConnectionForTest() {
        Connection c = current;
        if (c != null) {
            c.factory.cutAll();
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
            c.factory.cutAll();
            retire(c);
        }
    }

    /** @return Paho's outgoing topic alias maximum on the current connection, or -1. For tests. */
    int outgoingTopicAliasMaximumForTest() throws ReflectiveOperationException {
        Connection c = current;
        if (c == null) {
            return -1;
        }
        Field f = MqttAsyncClient.class.getDeclaredField("mqttConnection");
        f.setAccessible(true);
        Integer max = ((MqttConnectionState) f.get(c.client)).getOutgoingTopicAliasMaximum();
        return max == null ? 0 : max;
    }

    // ---- types

    /** One MQTT connection: its own Paho client, generation, publish window and waiting publishes. */
    private static final class Connection {
        final long generation;
        final String uri;
        final MqttAsyncClient client;
        final NoDelaySocketFactory.Tracking factory;
        final AtomicBoolean alive = new AtomicBoolean(true);
        final AtomicBoolean retired = new AtomicBoolean();
        final Set<CompletableFuture<Void>> pending = ConcurrentHashMap.newKeySet();
        /** Why the connection was lost, as the client reported it; set by its disconnect callback. */
        volatile String lostCause;
        volatile Semaphore inflight = new Semaphore(0);

        Connection(long generation, String uri, MqttAsyncClient client, NoDelaySocketFactory.Tracking factory) {
            this.generation = generation;
            this.uri = uri;
            this.client = client;
            this.factory = factory;
        }
    }

    /** Paho's callbacks for one connection. */
    private final class Callback implements MqttCallback {
        private final Connection c;

        Callback(Connection c) {
            this.c = c;
        }

        @Override
        public void disconnected(MqttDisconnectResponse response) {
            if (!closed) {
                log.info("mqtt {}: connection lost ({})", c.uri, response);
            }
            c.lostCause = String.valueOf(response);
            lost(c);
        }

        @Override
        public void mqttErrorOccurred(MqttException exception) {
            log.warn("mqtt {}: {}", c.uri, exception.toString());
        }

        @Override
        public void messageArrived(String topic, MqttMessage message) {
            deliver(c, topic, message);
        }

        @Override
        public void deliveryComplete(IMqttToken token) {
            // publish futures complete through their action listeners
        }

        @Override
        public void connectComplete(boolean reconnect, String serverUri) {
            // logged by the connector
        }

        @Override
        public void authPacketArrived(int reasonCode, MqttProperties properties) {
            // no enhanced authentication
        }
    }

    /** A delivered message; acks only on the connection that delivered it. */
    private static final class Delivery implements InboundMessage {
        private final PahoTransport transport;
        private final Connection c;
        private final String topic;
        private final MqttMessage message;
        private final AtomicBoolean acked = new AtomicBoolean();

        Delivery(PahoTransport transport, Connection c, String topic, MqttMessage message) {
            this.transport = transport;
            this.c = c;
            this.topic = topic;
            this.message = message;
        }

        @Override
        public String topic() {
            return topic;
        }

        @Override
        public byte[] payload() {
            return message.getPayload();
        }

        @Override
        public java.util.Optional<String> responseTopic() {
            return message.getProperties() == null ? java.util.Optional.empty()
                    : java.util.Optional.ofNullable(message.getProperties().getResponseTopic());
        }

        @Override
        public byte[] correlationData() {
            byte[] c = message.getProperties() == null ? null : message.getProperties().getCorrelationData();
            return c == null ? new byte[0] : c;
        }

        @Override
        public boolean retained() {
            return message.isRetained();
        }

        @Override
        public boolean duplicate() {
            return message.isDuplicate();
        }

        @Override
        public void ack() {
            if (!acked.compareAndSet(false, true)) {
                return;
            }
            if (!transport.ackable(c)) {
                log.debug("mqtt {}: ack of message {} from connection {} dropped (connection gone)", c.uri,
                        message.getId(), c.generation);
                return;
            }
            try {
                c.client.messageArrivedComplete(message.getId(), message.getQos());
            } catch (MqttException | RuntimeException e) {
                log.debug("mqtt {}: ack of message {} failed: {}", c.uri, message.getId(), e.toString());
            }
        }

        @Override
        public String toString() {
            return "InboundMessage[" + topic + ", " + message.getPayload().length + " bytes, generation "
                    + c.generation + "]";
        }
    }
}
