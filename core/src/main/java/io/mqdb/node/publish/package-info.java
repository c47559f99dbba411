/**
 * Publish: {@link io.mqdb.node.publish.ChannelPublisher} captures one store's published tables into the store's
 * durable outbox (initial loads a page at a time, then the changes its capture reports, or the embedding API's
 * writes for a store without capture), and owns that store's {@link io.mqdb.node.outbox.OutboxSender}.
 * {@code ForeignWrites} is the two-way tables' hint from the appliers to the capture; {@code Progress} logs a long
 * load's progress.
 *
 * <p><b>Internal</b>: may change between versions. {@code ChannelPublisher} is public for the node's assembly and
 * {@code LocalTable} (constructor, {@code start}, {@code requestEnable}, {@code requestResend},
 * {@code capturesItself}, {@code writeLocal}); {@code ForeignWrites} for the node, which creates it, and the
 * appliers, which {@code mark} it. Everything else is package-private.
 *
 * <h2>Threads</h2>
 * One thread per store with published channels, {@code capture-<store>}; the methods named above may be called from
 * the start-up thread or application threads, as each one's javadoc says.
 */
package io.mqdb.node.publish;
