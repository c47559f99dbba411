package io.mqdb.distribution.bench;

import io.mqdb.testing.MessageCallback;
import java.io.IOException;
import java.net.InetAddress;
import java.net.Socket;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.LockSupport;
import javax.net.SocketFactory;
import org.eclipse.paho.mqttv5.client.IMqttToken;
import org.eclipse.paho.mqttv5.client.MqttActionListener;
import org.eclipse.paho.mqttv5.client.MqttAsyncClient;

import org.eclipse.paho.mqttv5.client.MqttConnectionOptions;

import org.eclipse.paho.mqttv5.client.persist.MemoryPersistence;
import org.eclipse.paho.mqttv5.common.MqttException;
import org.eclipse.paho.mqttv5.common.MqttMessage;


/**
 * Plain Paho v5 clients for the benchmark: the raw QoS 1 rate of a broker (the ceiling of mqdb's MQTT stage), and a
 * passive QoS 0 listener that records the size of mqdb's batch messages on a channel topic. Sockets get TCP_NODELAY,
 * as mqdb's transport does (without it Paho crawls against HiveMQ, see FIELD-NOTES).
 */
final class MqttProbe implements AutoCloseable {
    private final MqttAsyncClient client;
    final AtomicLong messages = new AtomicLong();
    final AtomicLong bytes = new AtomicLong();
    final ConcurrentLinkedQueue<Integer> sizes = new ConcurrentLinkedQueue<>();
    /** The broker's receive maximum from its CONNACK (65,535 when it sends none). */
    private final int serverReceiveMaximum;

    private MqttProbe(String uri, String clientId) throws MqttException {
        client = new MqttAsyncClient(uri, clientId, new MemoryPersistence());
        client.setCallback(MessageCallback.of((topic, m) -> {
            messages.incrementAndGet();
            bytes.addAndGet(m.getPayload().length);
            if (sizes.size() < 100_000) {
                sizes.add(m.getPayload().length);
            }
        }));
        MqttConnectionOptions o = new MqttConnectionOptions();
        o.setCleanStart(true);
        o.setReceiveMaximum(1000);
        o.setSocketFactory(new NoDelay());
        IMqttToken connected = client.connect(o);
        connected.waitForCompletion(10_000);
        Integer max = connected.getResponseProperties() == null ? null
                : connected.getResponseProperties().getReceiveMaximum();
        serverReceiveMaximum = max == null ? 65_535 : max;
    }

    /** A client that receives everything on {@code topic} at {@code qos}. */
    static MqttProbe listen(String uri, String clientId, String topic, int qos) throws MqttException {
        MqttProbe p = new MqttProbe(uri, clientId);
        p.client.subscribe(topic, qos).waitForCompletion(10_000);
        return p;
    }

    /** The MQTT clients {@link #rawQos1(String, String, int, int)} can measure with. */
    static final java.util.List<String> CLIENTS = java.util.List.of("paho", "hivemq");

    /**
     * The raw QoS 1 rate with the named client library: {@code paho} (Paho v5 directly, {@link #rawQos1(String, int,
     * int)}) or {@code hivemq} (mqdb's own {@code HiveMqTransport}, the default transport, with its flow control and
     * manual acknowledgements, but no codec and no store).
     */
    static double rawQos1(String client, String uri, int count, int payloadBytes) throws Exception {
        switch (client) {
            case "paho":
                return rawQos1(uri, count, payloadBytes);
            case "hivemq":
                return rawQos1Transport(uri, count, payloadBytes, io.mqdb.transport.ClientLibrary.HIVEMQ);
            default:
                throw new IllegalArgumentException("--mqtt-client: expected one of " + CLIENTS + ", got " + client);
        }
    }

    /**
     * Publishes {@code count} QoS 1 messages of {@code payloadBytes} bytes with up to 1,000 awaiting their PUBACK
     * (mqdb's {@code max-inflight} default; fewer when the broker's receive maximum is lower), to a subscriber on a
     * second connection that acknowledges each one.
     *
     * @return messages per second, from the first publish until the subscriber received the last message
     */
    static double rawQos1(String uri, int count, int payloadBytes) throws Exception {
        String topic = "bench/raw/" + System.nanoTime();
        try (MqttProbe sub = listen(uri, "bench-raw-sub-" + System.nanoTime(), topic, 1);
             MqttProbe pub = new MqttProbe(uri, "bench-raw-pub-" + System.nanoTime())) {
            byte[] payload = new byte[payloadBytes];
            java.util.Arrays.fill(payload, (byte) 'x');
            // as mqdb's transport: at most min(max-inflight, the broker's receive maximum) await their PUBACK
            Semaphore window = new Semaphore(Math.min(1000, pub.serverReceiveMaximum));
            MqttActionListener release = new MqttActionListener() {
                @Override
                public void onSuccess(IMqttToken t) {
                    window.release();
                }

                @Override
                public void onFailure(IMqttToken t, Throwable e) {
                    window.release();
                }
            };
            long t0 = System.nanoTime();
            for (int i = 0; i < count; i++) {
                window.acquire();
                MqttMessage m = new MqttMessage(payload);
                m.setQos(1);
                pub.client.publish(topic, m, null, release);
            }
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(120);
            while (sub.messages.get() < count && System.nanoTime() < deadline) {
                LockSupport.parkNanos(1_000_000);
            }
            double seconds = (System.nanoTime() - t0) / 1e9;
            if (sub.messages.get() < count) {
                throw new IllegalStateException("raw MQTT: " + sub.messages.get() + " of " + count + " arrived");
            }
            return count / seconds;
        }
    }

    /**
     * Publishes {@code count} QoS 1 messages of {@code payloadBytes} bytes through mqdb's transport of the given
     * library (its publish window: min(1,000, the broker's receive maximum)) to a subscriber on a second transport
     * that acknowledges each one on its callback thread.
     *
     * @return messages per second, from the first publish until the subscriber received the last message
     */
    static double rawQos1Transport(String uri, int count, int payloadBytes, io.mqdb.transport.ClientLibrary library)
            throws Exception {
        String topic = "bench/raw/" + System.nanoTime();
        java.util.concurrent.atomic.AtomicInteger got = new java.util.concurrent.atomic.AtomicInteger();
        io.mqdb.transport.TransportOptions subOptions = io.mqdb.transport.TransportOptions.of(java.util.List.of(uri),
                "bench-raw-sub-" + System.nanoTime()).withClient(library);
        io.mqdb.transport.TransportOptions pubOptions = io.mqdb.transport.TransportOptions.of(java.util.List.of(uri),
                "bench-raw-pub-" + System.nanoTime()).withClient(library);
        try (io.mqdb.transport.Transport sub = io.mqdb.transport.Transports.open(subOptions);
             io.mqdb.transport.Transport pub = io.mqdb.transport.Transports.open(pubOptions)) {
            sub.subscribe(topic, m -> {
                m.ack();
                got.incrementAndGet();
            });
            sub.start();
            pub.start();
            byte[] payload = new byte[payloadBytes];
            java.util.Arrays.fill(payload, (byte) 'x');
            long t0 = System.nanoTime();
            for (int i = 0; i < count; i++) {
                pub.publish(topic, payload, false); // blocks while the publish window is full
            }
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(120);
            while (got.get() < count && System.nanoTime() < deadline) {
                LockSupport.parkNanos(1_000_000);
            }
            double seconds = (System.nanoTime() - t0) / 1e9;
            if (got.get() < count) {
                throw new IllegalStateException("raw MQTT (" + library + "): " + got.get() + " of " + count
                        + " arrived");
            }
            return count / seconds;
        }
    }

    @Override
    public void close() throws MqttException {
        try {
            client.disconnect().waitForCompletion(5_000);
        } finally {
            client.close();
        }
    }

    private static final class NoDelay extends SocketFactory {
        private static Socket on(Socket s) throws IOException {
            s.setTcpNoDelay(true);
            return s;
        }

        @Override
        public Socket createSocket() throws IOException {
            return on(new Socket());
        }

        @Override
        public Socket createSocket(String host, int port) throws IOException {
            return on(new Socket(host, port));
        }

        @Override
        public Socket createSocket(String host, int port, InetAddress local, int localPort) throws IOException {
            return on(new Socket(host, port, local, localPort));
        }

        @Override
        public Socket createSocket(InetAddress host, int port) throws IOException {
            return on(new Socket(host, port));
        }

        @Override
        public Socket createSocket(InetAddress host, int port, InetAddress local, int localPort) throws IOException {
            return on(new Socket(host, port, local, localPort));
        }
    }
}
