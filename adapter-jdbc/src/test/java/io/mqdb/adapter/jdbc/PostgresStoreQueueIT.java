package io.mqdb.adapter.jdbc;

import io.mqdb.node.StoreQueueContract;
import io.mqdb.spi.Store;
import java.util.Map;

/** The store-backed queue's contract on PostgreSQL: entries and counters in one transaction. */
class PostgresStoreQueueIT extends StoreQueueContract {
    @Override
    protected Store openStore() {
        return PostgresStoreIT.open(PostgresStoreIT.url("mqdb_queue_it"), Map.of());
    }
}
