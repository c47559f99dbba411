/**
 * The catch-up protocol's records and the node's durable state: {@link io.mqdb.node.catchup.Control} holds the small
 * JSON messages (a publisher's position with its snapshots, a subscriber's resend request; docs/topics.md), and
 * {@link io.mqdb.node.catchup.NodeState} the node's {@code state.json} (capture positions, sequence counters,
 * epochs, the progress of initial loads and targeted snapshots).
 *
 * <p><b>Internal</b>: may change between versions (the wire format of the messages is what docs/topics.md
 * documents, not these types). Public for the publish, outbox and apply jobs and the node, which all read or write
 * them.
 *
 * <h2>Threads</h2>
 * {@code Control}'s records are immutable; {@code NodeState} is thread-safe (its methods synchronize).
 */
package io.mqdb.node.catchup;
