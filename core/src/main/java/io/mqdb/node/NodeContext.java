package io.mqdb.node;

import io.mqdb.clock.HybridClock;
import io.mqdb.codec.EventCodec;
import io.mqdb.codec.Topics;
import io.mqdb.transport.Transport;
import java.util.function.Consumer;

/**
 * What a node's publishers and appliers share: its name, clock, codec, topics, transport, state and counters.
 * Immutable holder; the parts are thread-safe.
 *
 * @param nodeName the node's name, the origin of its changes
 * @param clock the node's hybrid logical clock
 * @param codec the wire codec
 * @param topics the cluster's topic names
 * @param transport the MQTT transport
 * @param state the node's durable state
 * @param metrics the node's counters
 * @param deadLetters where unapplicable events go
 * @param failure called when a worker fails for good; the node then stops
 */
record NodeContext(String nodeName, HybridClock clock, EventCodec codec, Topics topics, Transport transport,
                   NodeState state, NodeMetrics metrics, DeadLetters deadLetters, Consumer<Exception> failure) {
    void fail(Exception e) {
        failure.accept(e);
    }
}
