/**
 * Apply: {@link io.mqdb.node.apply.ChannelApplier} applies one subscribed channel's messages to its store: last
 * writer wins, gap detection and resend requests, snapshot merges, the target-loss marker, dead letters.
 * {@link io.mqdb.node.apply.ApplyProgress} keeps how far a channel is applied, the figures of its lag.
 *
 * <p><b>Internal</b>: may change between versions. {@code ChannelApplier} is public for the node's assembly
 * (constructor, {@code start}, {@code positionHandler}, and {@code onMessage} as the channel's
 * {@link io.mqdb.transport.MessageHandler}, {@code progress}); {@code ApplyProgress} is public for
 * {@link io.mqdb.observe}, which reads it; everything else is package-private. {@code RefusalLog}, which logs the
 * positions refused here, is in {@link io.mqdb.node.runtime}: the node's handling of resend requests uses it too.
 *
 * <h2>Threads</h2>
 * One thread per subscribed channel, {@code apply-<schema>:<table>}; {@code onMessage} and the position handler run
 * on the transport's callback thread and only queue.
 */
package io.mqdb.node.apply;
