/**
 * Outbox and sender: {@link io.mqdb.node.outbox.OutboxSender} drains one store's outbox to the broker in order,
 * keeps each channel's position retained, and serves resend requests from the resend window or by asking its
 * publisher for a snapshot ({@code OutboxSender.SnapshotRequest}); {@link io.mqdb.node.outbox.OutboxEntry} is one
 * message as the outbox stores it; {@code ResendQueue} coalesces the waiting resend requests;
 * {@link io.mqdb.node.outbox.FlowWindow} keeps each channel within a window of its slowest active subscriber (public
 * for the node, which feeds it the subscribers' flow reports, and the context that holds it).
 *
 * <p><b>Internal</b>: may change between versions. {@code OutboxSender} (constructor, {@code start},
 * {@code requestResend}, {@code sequenceCounter}, {@code SnapshotRequest}) and {@code OutboxEntry} (constructor,
 * {@code encode}) are public for the publisher, which owns the sender and writes the outbox; the request and the
 * counter name live here so the publisher depends on this package and not the other way round.
 *
 * <h2>Threads</h2>
 * One thread per store with published channels, {@code send-<store>}, started and stopped by its publisher;
 * {@code requestResend} is called on the transport's callback thread.
 */
package io.mqdb.node.outbox;
