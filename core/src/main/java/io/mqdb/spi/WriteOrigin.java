package io.mqdb.spi;

/**
 * Who a write comes from, so that a store with change capture knows whether to capture it.
 */
public enum WriteOrigin {
    /**
     * A write made on this node (through the embedding API or a local client): captured, then published on the
     * table's channel if the node publishes it.
     */
    LOCAL,
    /**
     * A write that applies a change received from another node: never captured, so it is never published again
     * (no echo loops in two-way sync).
     */
    REPLICATED
}
