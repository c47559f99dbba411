/**
 * The node runtime: what runs between the stores and the broker.
 *
 * <p><b>Stable</b> (the embedding API, used by applications and tools): {@link io.mqdb.node.MqdbNode} (start, close,
 * {@code table(...)}, {@code metrics()}, {@code failure()}), {@link io.mqdb.node.LocalTable} and
 * {@link io.mqdb.node.NodeMetrics}'s counters. Everything else here is package-private and <b>internal</b>: free to
 * change between versions.
 *
 * <p>The jobs, one class each:
 * <ul>
 *   <li>assembly and embedding: {@code MqdbNode}, {@code StoreSet} (opens the stores), {@code TableCheck}
 *       ({@code check-config --connect});</li>
 *   <li>publish: {@code ChannelPublisher} (capture of one store into its outbox, snapshots a page at a time);</li>
 *   <li>outbox and sender: {@code OutboxSender} (outbox to broker, positions, resend and targeted snapshot answers),
 *       {@code OutboxEntry}, {@code ResendQueue};</li>
 *   <li>apply: {@code ChannelApplier} (one channel's messages into its store, last writer wins, gap detection, merges,
 *       target-loss marker);</li>
 *   <li>catch-up protocol: {@code Control} (positions, resend requests, snapshot records), {@code NodeState};</li>
 *   <li>dead letters: {@code DeadLetters};</li>
 *   <li>shared: {@code Worker} (a worker thread's life: start, run loop, stop flag, grace period, failure),
 *       {@code Workers}, {@code Backoff} (retries with a low cap and two log lines per outage), {@code NodeContext},
 *       {@code RetainedCleanup}, {@code ForeignWrites}, {@code Progress}.</li>
 * </ul>
 * Each worker's thread, lifecycle and which methods other threads may call are in its class javadoc; the rules the
 * apply and catch-up jobs follow have fast tests on the in-memory test kit ({@code io.mqdb.testkit}, docs/testing.md).
 */
package io.mqdb.node;
