/**
 * The node: its assembly and the embedding API.
 *
 * <p><b>Stable</b> (the embedding API, used by applications and tools): {@link io.mqdb.node.MqdbNode} (start, close,
 * {@code table(...)}, {@code queue(...)}, {@code metrics()}, {@code failure()}), {@link io.mqdb.node.LocalTable},
 * {@link io.mqdb.node.StoreQueue} (a persistent FIFO queue in a store; its layout is the package-private
 * {@code StoreQueueTables}) and {@link io.mqdb.node.NodeMetrics}'s counters.
 *
 * <p><b>Internal</b> (may change between versions): {@link io.mqdb.node.StoreSet} (opens the stores; public for
 * the CLI and tests, which check a config with {@code StoreSet.checker}), {@link io.mqdb.node.TableCheck}
 * ({@code check-config --connect}) and the package-private {@code RetainedCleanup}. They stay here, not in
 * {@code runtime}, because they are the node's start-up assembly and only {@code MqdbNode} (and the CLI) use them:
 * {@code RetainedCleanup} so stays package-private.
 *
 * <p>The jobs, a package each, all internal:
 * <ul>
 *   <li>{@link io.mqdb.node.publish}: capture of one store into its outbox, snapshots a page at a time;</li>
 *   <li>{@link io.mqdb.node.outbox}: outbox to broker, positions, resend and targeted snapshot answers;</li>
 *   <li>{@link io.mqdb.node.apply}: one channel's messages into its store, last writer wins, gap detection, merges,
 *       target-loss marker;</li>
 *   <li>{@link io.mqdb.node.catchup}: the catch-up messages (positions, resend requests, snapshot records) and the
 *       node's durable state;</li>
 *   <li>{@link io.mqdb.node.deadletter}: where events that cannot be applied go;</li>
 *   <li>{@link io.mqdb.node.runtime}: what the jobs share: the worker base class, backoff, the node context.</li>
 * </ul>
 * Each worker's thread, lifecycle and which methods other threads may call are in its class javadoc; the rules the
 * apply and catch-up jobs follow have fast tests on the in-memory test kit ({@code io.mqdb.testkit}, docs/testing.md).
 *
 * <h2>Threads</h2>
 * {@code MqdbNode.start} and {@code close} run on the caller's thread; {@code LocalTable} on any application thread.
 * The node's own threads belong to its workers (see {@link io.mqdb.node.runtime.Worker}).
 */
package io.mqdb.node;
