package io.mqdb.transport;

import io.mqdb.spi.MqdbException;
import io.mqdb.spi.RetriableException;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.LongAdder;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.Function;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The {@link Transport} of {@code broker.mode: mirror}: one connection to every broker of the list at once, for
 * unclustered brokers (plain Mosquitto servers, say) of which any one may be stopped without stopping the service.
 *
 * <h2>How it works</h2>
 * <ul>
 *   <li><b>One leg per broker.</b> Each URI gets a transport of its own (built by the factory, in failover mode with
 *   that one URI), with the same client id (they are different brokers, so these are different sessions), the same
 *   persistent session settings and the same presence and last will. Each leg reconnects by itself, forever, as a
 *   failover transport does; when its broker comes back, its persistent session delivers what was queued for this
 *   node meanwhile. Nothing is resynchronised.</li>
 *   <li><b>Publish to all, done when one acknowledged.</b> {@link #publish} sends the message on every connected leg
 *   and completes once any broker sent its PUBACK; it fails only when none is connected or none acknowledged. That
 *   loses nothing: every subscriber has a persistent session on every broker, so the message reaches it through the
 *   broker that took it; and a subscriber that still misses a number (a broker killed before it saved what it took)
 *   sees the gap in the origin's sequence numbers and asks for a resend, as after any loss. Waiting for all connected
 *   brokers instead would make every publish as slow as the slowest broker and fail whenever one of them drops
 *   mid-publish, for no gain in safety. Retained messages (presence, positions, flow reports) go to every broker the
 *   same way. A leg whose publish window is full blocks the caller, as in a failover transport: mirror mode runs at
 *   the pace of the slowest connected broker.</li>
 *   <li><b>Subscribe on all, deliver everything.</b> {@link #subscribe} subscribes on every leg; every message of
 *   every broker goes to the handler, and its {@link InboundMessage#ack()} acknowledges it on the broker it came from.
 *   The same batch therefore usually arrives twice; the channel applier applies an origin's sequence number once
 *   and counts the other copy ({@code duplicates skipped}).</li>
 *   <li><b>With one URI</b> {@link Transports#open} builds a plain failover transport instead: the same behaviour.</li>
 * </ul>
 *
 * <h2>Lifecycle and threads</h2>
 * Built by {@link Transports#open} on the caller's thread. {@link #start} starts every leg, each on a thread of its
 * own ({@code mqdb-mirror-start-<clientId>-<n>}, ended when the leg connected or was closed), and returns as soon as
 * one leg connected; the others join when their broker answers. Each leg has its own callback thread; still no two
 * handlers of this transport run at once (a lock, taken interruptibly, serialises the legs' deliveries), so the
 * handlers see the single-threaded delivery the {@link Transport} contract promises, in the order the messages came
 * from any broker. A handler that blocks holds up every leg's delivery, which is the back-pressure. {@link #publish} and {@link InboundMessage#ack()} may be called from any
 * thread. {@link #close} closes every leg (each publishes the offline presence on its broker); idempotent.
 */
public final class MirrorTransport implements Transport {
    private static final Logger log = LoggerFactory.getLogger(MirrorTransport.class);

    private final TransportOptions options;
    private final List<Leg> legs;
    /** Serialises the legs' deliveries to the handlers. */
    private final ReentrantLock delivery = new ReentrantLock();
    private final Object lock = new Object();
    private final List<Thread> starters = new ArrayList<>(); // guarded by lock
    private final ConcurrentLinkedQueue<String> startFailures = new ConcurrentLinkedQueue<>();
    private int started; // guarded by lock
    private int failed; // guarded by lock
    private volatile boolean closed; // guarded by lock for writes

    /**
     * @param options the validated options, in {@link BrokerMode#MIRROR} mode
     * @param perBroker builds the transport of one broker from options naming only it, in failover mode
     */
    public MirrorTransport(TransportOptions options, Function<TransportOptions, Transport> perBroker) {
        this.options = options;
        List<Leg> built = new ArrayList<>();
        for (String uri : options.brokerUris()) {
            TransportOptions one = options.withBrokerUris(List.of(uri)).withMode(BrokerMode.FAILOVER);
            built.add(new Leg(uri, perBroker.apply(one)));
        }
        this.legs = List.copyOf(built);
    }

    @Override
    public void start() throws InterruptedException {
        synchronized (lock) {
            if (closed) {
                throw new IllegalStateException("mqtt mirror " + options.clientId() + ": transport is closed");
            }
            if (starters.isEmpty()) {
                for (int i = 0; i < legs.size(); i++) {
                    Leg leg = legs.get(i);
                    String name = "mqdb-mirror-start-" + options.clientId() + "-" + (i + 1);
                    Thread t = new Thread(() -> startLeg(leg), name);
                    t.setDaemon(true);
                    starters.add(t);
                    t.start();
                }
            }
            while (started == 0 && failed < legs.size() && !closed) {
                lock.wait();
            }
            if (started == 0 && !closed) {
                throw new MqdbException("mqtt mirror " + options.clientId() + ": cannot connect to any of "
                        + String.join(", ", options.brokerUris()) + ": " + String.join("; ", startFailures));
            }
            if (started == 0) {
                throw new IllegalStateException("mqtt mirror " + options.clientId() + ": closed while starting");
            }
            log.info("mqtt mirror {}: started over {} broker(s), connected now to {}; any other joins when it answers",
                    legs.size(), options.clientId(), currentBroker());
        }
    }

    /** Starts one leg, on its start thread; a leg that gave up its start still reconnects by itself. */
    private void startLeg(Leg leg) {
        boolean ok = false;
        try {
            leg.transport.start();
            ok = true;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt(); // close() interrupts; the thread ends here
        } catch (RuntimeException e) {
            if (!closed) {
                startFailures.add(leg.uri + ": " + e.getMessage());
                log.warn("mqtt mirror {}: {} did not connect at start ({}); it keeps trying", options.clientId(),
                        leg.uri, e.getMessage());
            }
        }
        synchronized (lock) {
            if (ok) {
                started++;
            } else {
                failed++;
            }
            lock.notifyAll();
        }
    }

    @Override
    public void subscribe(String topicFilter, MessageHandler handler) {
        for (Leg leg : legs) {
            leg.transport.subscribe(topicFilter, message -> {
                leg.received.increment();
                delivery.lockInterruptibly();
                try {
                    handler.onMessage(message);
                } finally {
                    delivery.unlock();
                }
            });
        }
    }

    @Override
    public CompletableFuture<Void> publish(String topic, byte[] payload, boolean retained) {
        return publishOnAll(topic, leg -> leg.transport.publish(topic, payload, retained));
    }

    /** Through every connected broker, as {@link #publish(String, byte[], boolean)}: answers may come twice. */
    @Override
    public CompletableFuture<Void> publish(String topic, byte[] payload, String responseTopic,
            byte[] correlationData) {
        return publishOnAll(topic, leg -> leg.transport.publish(topic, payload, responseTopic, correlationData));
    }

    private CompletableFuture<Void> publishOnAll(String topic,
            java.util.function.Function<Leg, CompletableFuture<Void>> send) {
        if (closed) {
            return CompletableFuture.failedFuture(
                    new RetriableException("mqtt mirror " + options.clientId() + ": transport is closed"));
        }
        List<Leg> connected = new ArrayList<>();
        for (Leg leg : legs) {
            if (leg.transport.isConnected()) {
                connected.add(leg);
            }
        }
        if (connected.isEmpty()) {
            return CompletableFuture.failedFuture(new RetriableException("mqtt mirror " + options.clientId()
                    + ": none of " + String.join(", ", options.brokerUris()) + " connected; publish to " + topic
                    + " not sent"));
        }
        CompletableFuture<Void> result = new CompletableFuture<>();
        AtomicInteger left = new AtomicInteger(connected.size());
        ConcurrentLinkedQueue<String> errors = new ConcurrentLinkedQueue<>();
        for (Leg leg : connected) {
            send.apply(leg).whenComplete((v, e) -> {
                if (e == null) {
                    leg.acknowledged.increment();
                    result.complete(null);
                } else {
                    leg.failed.increment();
                    errors.add(e.getMessage());
                }
                if (left.decrementAndGet() == 0 && !result.isDone()) {
                    result.completeExceptionally(new RetriableException("mqtt mirror " + options.clientId()
                            + ": no broker acknowledged the publish to " + topic + ": " + String.join("; ", errors)));
                }
            });
        }
        return result;
    }

    @Override
    public boolean isConnected() {
        for (Leg leg : legs) {
            if (leg.transport.isConnected()) {
                return true;
            }
        }
        return false;
    }

    /** @return the URIs of the brokers connected now, comma-separated; all of them when none is */
    @Override
    public String currentBroker() {
        List<String> up = new ArrayList<>();
        for (Leg leg : legs) {
            if (leg.transport.isConnected()) {
                up.add(leg.uri);
            }
        }
        return String.join(", ", up.isEmpty() ? options.brokerUris() : up);
    }

    /** @return each broker's counters, in list order; for the status of tests and operators */
    public List<BrokerCounters> counters() {
        List<BrokerCounters> out = new ArrayList<>();
        for (Leg leg : legs) {
            out.add(new BrokerCounters(leg.uri, leg.transport.isConnected(), leg.received.sum(),
                    leg.acknowledged.sum(), leg.failed.sum()));
        }
        return out;
    }

    /** @return the legs' transports, in list order (for tests that cut one) */
    List<Transport> legsForTest() {
        return legs.stream().map(l -> l.transport).toList();
    }

    @Override
    public void close() {
        List<Thread> threads;
        synchronized (lock) {
            if (closed) {
                return;
            }
            closed = true;
            lock.notifyAll();
            threads = List.copyOf(starters);
        }
        for (Leg leg : legs) {
            try {
                leg.transport.close();
            } catch (RuntimeException e) {
                log.warn("mqtt mirror {}: closing {} failed: {}", options.clientId(), leg.uri, e.toString());
            }
        }
        for (Thread t : threads) {
            t.interrupt();
            try {
                t.join(TimeUnit.SECONDS.toMillis(5));
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return;
            }
        }
    }

    /**
     * What one broker of a mirror carried.
     *
     * @param uri the broker
     * @param connected whether its leg is connected now
     * @param received messages it delivered to this node (duplicates of the other brokers' included)
     * @param acknowledged publishes it acknowledged
     * @param failed publishes it did not acknowledge (its connection was lost or it refused them)
     */
    public record BrokerCounters(String uri, boolean connected, long received, long acknowledged, long failed) {
    }

    /** One broker's transport and its counters. */
    private static final class Leg {
        final String uri;
        final Transport transport;
        final LongAdder received = new LongAdder();
        final LongAdder acknowledged = new LongAdder();
        final LongAdder failed = new LongAdder();

        Leg(String uri, Transport transport) {
            this.uri = uri;
            this.transport = transport;
        }
    }
}
