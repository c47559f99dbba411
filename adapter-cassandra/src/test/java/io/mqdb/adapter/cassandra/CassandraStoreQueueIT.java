package io.mqdb.adapter.cassandra;

import io.mqdb.node.StoreQueueContract;
import io.mqdb.spi.Store;

/**
 * The store-backed queue's contract on one Cassandra node: entries and counters in one logged batch. Fewer entries
 * in the concurrent case: each put and take is a logged batch (batch log write, then the mutations).
 */
class CassandraStoreQueueIT extends StoreQueueContract {
    @Override
    protected Store openStore() {
        return CassandraStores.open();
    }

    @Override
    protected int entriesPerProducer() {
        return 100;
    }
}
