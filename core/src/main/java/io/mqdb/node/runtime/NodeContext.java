package io.mqdb.node.runtime;

import io.mqdb.clock.HybridClock;
import io.mqdb.codec.EventCodec;
import io.mqdb.codec.Topics;
import io.mqdb.node.NodeMetrics;
import io.mqdb.node.catchup.NodeState;
import io.mqdb.node.deadletter.DeadLetters;
import io.mqdb.node.outbox.FlowWindow;
import io.mqdb.node.publish.ForeignWrites;
import io.mqdb.transport.Transport;
import io.mqdb.config.NodeSection;
import io.mqdb.version.VersionIndex;
import io.mqdb.signing.SignatureRefused;
import io.mqdb.signing.Signing;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.locks.ReentrantLock;
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
 * @param versions the newest version held per key, for last-writer-wins apply
 * @param config the node's own settings
 * @param locks per store, the lock that orders a two-way table's replicated applies against the versioning of its
 *     captured changes (see {@link #storeLock})
 * @param foreignWrites the keys of two-way tables replicated changes wrote that the capture may not have seen yet
 * @param signing with {@code node.signing}: seals what the node publishes and opens what it receives; empty when
 *     messages are not signed
 * @param flow the flow window of the channels this node publishes, fed by its subscribers' reports
 */
public record NodeContext(String nodeName, HybridClock clock, EventCodec codec, Topics topics, Transport transport,
                          NodeState state, NodeMetrics metrics, DeadLetters deadLetters, Consumer<Exception> failure,
                          VersionIndex versions, NodeSection config, ConcurrentHashMap<String, ReentrantLock> locks,
                          ForeignWrites foreignWrites, Optional<Signing> signing, FlowWindow flow) {
    /**
     * @param other another broker connection of the node ({@code brokers:})
     * @return the same context for the jobs of the channels that publish or subscribe via that connection: all else
     *     (state, counters, version index, locks, flow window, dead letters) shared
     */
    public NodeContext withTransport(Transport other) {
        return new NodeContext(nodeName, clock, codec, topics, other, state, metrics, deadLetters, failure, versions,
                config, locks, foreignWrites, signing, flow);
    }

    /**
     * @param topic the topic a message is published on (for a change batch, any topic of its channel)
     * @param payload the message
     * @return the message signed for the topic when signing is on, else {@code payload} itself
     */
    public byte[] seal(String topic, byte[] payload) {
        return signing.isPresent() ? signing.get().seal(topic, payload) : payload;
    }

    /**
     * Opens a control message (a position or a resend request): every one must be signed when signing is on.
     *
     * @param topic the topic the message came on
     * @param payload the message as received
     * @return with signing on, the verified payload and its signer; without, the payload itself and no signer
     * @throws SignatureRefused with signing on, when the message is unsigned or its signature does not verify
     */
    public Signing.Verified openControl(String topic, byte[] payload) throws SignatureRefused {
        return signing.isPresent() ? signing.get().open(topic, payload) : new Signing.Verified(null, payload);
    }

    /**
     * @param store a store's name
     * @return the lock held while a replicated batch is applied to it and while its captured changes are versioned
     */
    public ReentrantLock storeLock(String store) {
        return locks.computeIfAbsent(store, k -> new ReentrantLock());
    }

    public void fail(Exception e) {
        failure.accept(e);
    }
}
