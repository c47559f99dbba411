package io.mqdb.adapter.cassandra;

import io.mqdb.spi.Store;
import io.mqdb.spi.StoreContract;
import io.mqdb.spi.StoreLimit;
import java.util.EnumSet;
import java.util.Set;

/**
 * The shared store contract against one Cassandra node. Cassandra offers the adapter no capture, so the capture cases
 * check that {@code capture()} is empty; scans come in token order ({@link StoreLimit#SCAN_IN_STORE_ORDER}).
 */
class CassandraContractIT extends StoreContract {
    @Override
    protected Store openStore() {
        return CassandraStores.open();
    }

    @Override
    protected boolean supportsCapture() {
        return false;
    }

    @Override
    protected Set<StoreLimit> limits() {
        return EnumSet.of(StoreLimit.SCAN_IN_STORE_ORDER);
    }
}
