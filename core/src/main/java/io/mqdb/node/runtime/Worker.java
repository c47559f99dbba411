package io.mqdb.node.runtime;

import io.mqdb.spi.MqdbException;
import java.util.function.Consumer;
import org.slf4j.Logger;

/**
 * One thread of the node's runtime and everything about its life, so that each worker (an applier, a capture, a
 * sender) holds only its own job: the thread, the run loop's frame, its running flag, how a stop and a failure end it
 * (Kafka Connect's {@code WorkerTask} is the model).
 *
 * <h2>Lifecycle</h2>
 * <ol>
 *   <li>Constructed by its owner on the node's start-up thread.</li>
 *   <li>{@link #startThread()}, once, by the subclass's own start method (after whatever it opens first): starts the
 *       thread {@code threadName} with the store's class loader as its context class loader, which runs
 *       {@link #work()}.</li>
 *   <li>{@link #work()} loops while {@link #running()}; blocking calls inside it wait at most a few hundred
 *       milliseconds at a time, so it sees the flag drop soon.</li>
 *   <li>It ends in one of three ways: {@link #work()} returns (the flag dropped); it throws
 *       {@link InterruptedException} or {@link Workers.StopSignal} (a stop during a wait or a retry), after which
 *       {@link #stopped()} runs on the worker's thread; or it throws another {@link RuntimeException}: a failure,
 *       logged once as an ERROR and reported to the node, which then stops as a whole.</li>
 *   <li>{@link #close()}, from any thread, idempotent: drops the flag, gives the thread {@link Workers#stop its grace
 *       period} to end by itself (a normal stop never interrupts file or socket I/O), and then runs
 *       {@link #closed()} on the closing thread to release what the worker owns.</li>
 * </ol>
 */
public abstract class Worker implements AutoCloseable {
    private final String threadName;
    private final String job;
    private final ClassLoader loader;
    private final Logger log;
    private final Consumer<Exception> failure;
    private volatile boolean running = true;
    private volatile boolean closed;
    private Thread thread;

    /**
     * @param threadName the thread's name, e.g. {@code apply-shop:orders}
     * @param job what it does, for the log and the failure, e.g. {@code channel shop:orders: apply}
     * @param loader the context class loader of the thread (the store's adapter's), or null for the default
     * @param log the subclass's logger
     * @param failure where a failure goes: the node, which stops
     */
    protected Worker(String threadName, String job, ClassLoader loader, Logger log, Consumer<Exception> failure) {
        this.threadName = threadName;
        this.job = job;
        this.loader = loader;
        this.log = log;
        this.failure = failure;
    }

    /** Starts the thread; once. */
    protected final synchronized void startThread() {
        if (thread != null) {
            throw new IllegalStateException(threadName + " is started already");
        }
        thread = new Thread(this::runFrame, threadName);
        if (loader != null) {
            thread.setContextClassLoader(loader);
        }
        thread.start();
    }

    /** @return false once the worker is to stop; what retried actions and loops check */
    protected final boolean running() {
        return running;
    }

    /**
     * The worker's job, on its thread: loops while {@link #running()}.
     *
     * @throws InterruptedException when stopped during a wait
     */
    protected abstract void work() throws InterruptedException;

    /** After a stop during a wait or a retry, on the worker's thread: e.g. a last checkpoint. Nothing by default. */
    protected void stopped() {
    }

    /** After the thread ended, on the closing thread: releases what the worker owns. Nothing by default. */
    protected void closed() {
    }

    private void runFrame() {
        try {
            work();
        } catch (InterruptedException | Workers.StopSignal e) {
            stopped();
            Thread.currentThread().interrupt();
            log.debug("{} stopped", job);
        } catch (RuntimeException e) {
            log.error("{} failed and stopped: {}", job, e.getMessage(), e);
            failure.accept(new MqdbException(job + " failed: " + e.getMessage(), e));
        }
    }

    /** Stops the thread, waits for it, then releases what the worker owns. Idempotent; any thread. */
    @Override
    public final void close() {
        running = false;
        Thread t;
        synchronized (this) {
            if (closed) {
                return;
            }
            closed = true;
            t = thread;
        }
        Workers.stop(t);
        closed();
    }
}
