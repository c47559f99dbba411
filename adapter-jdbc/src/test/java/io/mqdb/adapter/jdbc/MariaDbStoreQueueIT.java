package io.mqdb.adapter.jdbc;

import io.mqdb.node.StoreQueueContract;
import io.mqdb.spi.Store;
import java.util.Map;

/** The store-backed queue's contract on MariaDB (InnoDB): entries and counters in one transaction. */
class MariaDbStoreQueueIT extends StoreQueueContract {
    @Override
    protected Store openStore() {
        return MariaDbStoreIT.open(MariaDbStoreIT.url("mqdb_queue_it"), Map.of());
    }
}
