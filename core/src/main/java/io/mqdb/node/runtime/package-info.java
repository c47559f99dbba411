/**
 * What the node's jobs share: {@link io.mqdb.node.runtime.Worker}, the base class of every worker thread (start,
 * run loop, running flag, stop with a grace period, failure; Kafka Connect's {@code WorkerTask} is the model), with
 * {@link io.mqdb.node.runtime.Workers} (the stop, and the signal a retried action throws to stop);
 * {@link io.mqdb.node.runtime.Backoff} (retries with a low cap and two log lines per outage);
 * {@link io.mqdb.node.runtime.NodeContext} (the node's name, clock, codec, topics, transport, state, counters and
 * locks, handed to every worker); {@link io.mqdb.node.runtime.RefusalLog} (a rate-limited WARN for refused control
 * messages, used by the appliers and the node).
 *
 * <p><b>Internal</b>: may change between versions. Public because every job package uses them; {@code Worker}'s
 * frame is {@code protected}, {@code Workers.stop} package-private.
 *
 * <h2>Threads</h2>
 * {@code Worker} owns its thread; {@code Backoff} runs on the caller's thread and keeps no state between calls;
 * {@code NodeContext} is immutable and its parts thread-safe; {@code RefusalLog} is thread-safe.
 */
package io.mqdb.node.runtime;
