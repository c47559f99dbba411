package io.mqdb.adapter.jdbc;

import io.mqdb.spi.Store;
import io.mqdb.spi.StoreContract;
import io.mqdb.spi.StoreLimit;
import java.util.EnumSet;
import java.util.Map;
import java.util.Set;

/** The shared store contract against MariaDB, trigger capture; the contract's schema is a database of its own. */
class MariaDbContractIT extends StoreContract {
    @Override
    protected Store openStore() {
        return MariaDbStoreIT.open(MariaDbStoreIT.url("mqdb_contract"), Map.of());
    }

    @Override
    protected boolean supportsCapture() {
        return true;
    }

    @Override
    protected Set<StoreLimit> limits() {
        return EnumSet.of(StoreLimit.DOUBLE_NAN_AND_INFINITY, StoreLimit.DOUBLE_NEGATIVE_ZERO,
                StoreLimit.CAPTURE_READS_ROWS_WHEN_POLLED);
    }
}
