package io.mqdb.testkit;

import io.mqdb.transport.MessageHandler;
import io.mqdb.transport.Transport;
import io.mqdb.transport.TransportOptions;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.LinkedBlockingQueue;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A {@link Transport} of an {@link InMemoryBroker}, keeping every promise of the interface: subscriptions before or
 * after {@link #start} (renewed on every reconnect), QoS 1 with manual acknowledgements, no-local, a retained
 * presence with a last will, handlers run on one callback thread in arrival order (a blocked handler holds up
 * delivery: back-pressure), an acknowledgement of a message from a lost connection does nothing, {@link #publish}
 * completes when the broker took the message and fails at once when not connected, {@link #close} publishes the
 * offline presence and is idempotent.
 *
 * <p>Unlike a real transport it does not reconnect by itself after {@link InMemoryBroker#disconnect}: the test calls
 * {@link InMemoryBroker#reconnect}. Of the options only the client id and the presence are used.
 *
 * <h2>Threads</h2>
 * One callback thread per transport, {@code memory-mqtt-<client-id>}, started by {@link #start} and stopped (interrupted
 * and joined) by {@link #close}. Every other method may be called from any thread.
 */
final class InMemoryTransport implements Transport {
    private static final Logger LOG = LoggerFactory.getLogger(InMemoryTransport.class);
    private static final long CLOSE_WAIT_MS = 10_000;

    private final InMemoryBroker broker;
    private final TransportOptions options;
    private final Map<String, MessageHandler> handlers = new LinkedHashMap<>();
    private final LinkedBlockingQueue<InMemoryBroker.Delivery> inbox = new LinkedBlockingQueue<>();
    private final Object connectedSignal = new Object();
    /** The number of the current connection, or -1 while not connected. */
    private volatile long connection = -1;
    private volatile boolean closed;
    private Thread callback;

    InMemoryTransport(InMemoryBroker broker, TransportOptions options) {
        this.broker = Objects.requireNonNull(broker, "broker");
        this.options = Objects.requireNonNull(options, "options");
    }

    String clientId() {
        return options.clientId();
    }

    String presenceTopic() {
        return options.presenceTopic();
    }

    byte[] offlinePayload() {
        return options.offlinePayload();
    }

    /** Connects, waiting while a test holds the client offline; then publishes the online presence. */
    @Override
    public void start() throws InterruptedException {
        synchronized (this) {
            if (closed) {
                throw new IllegalStateException(clientId() + ": closed");
            }
            if (callback != null) {
                return;
            }
            callback = new Thread(this::deliverLoop, "memory-mqtt-" + clientId());
            callback.setDaemon(true);
            callback.start();
        }
        synchronized (connectedSignal) {
            while (!connect()) {
                connectedSignal.wait();
            }
        }
    }

    /** After {@link InMemoryBroker#reconnect}: connects again, as a real transport's automatic reconnect does. */
    void reconnect() {
        if (!closed && callback != null) {
            synchronized (connectedSignal) {
                connect();
                connectedSignal.notifyAll();
            }
        }
    }

    private boolean connect() {
        List<String> filters;
        synchronized (handlers) {
            filters = new ArrayList<>(handlers.keySet());
        }
        if (broker.connect(this, filters) < 0) {
            return false;
        }
        publish(options.presenceTopic(), options.onlinePayload(), true);
        return true;
    }

    /** Called by the broker, under its lock, when a connection is made. */
    void connected(long id) {
        connection = id;
    }

    /** Called by the broker, under its lock, when the connection is cut. */
    void connectionLost() {
        connection = -1;
    }

    /** Called by the broker, under its lock: appends to the inbox, never blocks. */
    void enqueue(InMemoryBroker.Delivery d) {
        inbox.add(d);
    }

    @Override
    public void subscribe(String topicFilter, MessageHandler handler) {
        Objects.requireNonNull(topicFilter, "topicFilter");
        Objects.requireNonNull(handler, "handler");
        synchronized (handlers) {
            handlers.put(topicFilter, handler);
        }
        broker.subscribe(this, topicFilter);
    }

    @Override
    public CompletableFuture<Void> publish(String topic, byte[] payload, boolean retained) {
        if (topic.contains("+") || topic.contains("#")) {
            return CompletableFuture.failedFuture(new IllegalArgumentException("wildcard in topic " + topic));
        }
        if (connection < 0 || !broker.publish(this, topic, payload, retained)) {
            return CompletableFuture.failedFuture(new IllegalStateException(clientId() + " is not connected to "
                    + broker.uri()));
        }
        return CompletableFuture.completedFuture(null);
    }

    /** Not modelled: request/response (reads over MQTT) is tested on real brokers. */
    @Override
    public CompletableFuture<Void> publish(String topic, byte[] payload, String responseTopic,
            byte[] correlationData) {
        return CompletableFuture.failedFuture(new UnsupportedOperationException(
                "the in-memory broker does not carry MQTT 5 request/response properties"));
    }

    @Override
    public boolean isConnected() {
        return connection >= 0;
    }

    @Override
    public String currentBroker() {
        return broker.uri();
    }

    @Override
    public void close() {
        Thread t;
        synchronized (this) {
            if (closed) {
                return;
            }
            closed = true;
            t = callback;
        }
        if (connection >= 0) {
            publish(options.presenceTopic(), options.offlinePayload(), true);
        }
        broker.disconnected(this);
        connection = -1;
        synchronized (connectedSignal) {
            connectedSignal.notifyAll();
        }
        if (t != null) {
            t.interrupt();
            try {
                t.join(CLOSE_WAIT_MS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
    }

    /** The callback thread: hands each message of the current connection to its handler, in arrival order. */
    private void deliverLoop() {
        try {
            while (!closed) {
                InMemoryBroker.Delivery d = inbox.take();
                if (d.connection != connection) {
                    continue; // its connection was lost: the broker delivers it again on the next one
                }
                MessageHandler h = handlerOf(d.topic());
                if (h == null) {
                    LOG.warn("{}: no handler for {}, acknowledging it", clientId(), d.topic());
                    d.ack();
                    continue;
                }
                try {
                    h.onMessage(d);
                } catch (RuntimeException e) {
                    LOG.warn("{}: handler of {} failed: {}", clientId(), d.topic(), e.toString(), e);
                }
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt(); // closing: the thread ends
        }
    }

    private MessageHandler handlerOf(String topic) {
        synchronized (handlers) {
            for (Map.Entry<String, MessageHandler> e : handlers.entrySet()) {
                if (InMemoryBroker.matches(e.getKey(), topic)) {
                    return e.getValue();
                }
            }
        }
        return null;
    }

    @Override
    public String toString() {
        return "InMemoryTransport[" + clientId() + (isConnected() ? ", connected" : "") + "]";
    }
}
