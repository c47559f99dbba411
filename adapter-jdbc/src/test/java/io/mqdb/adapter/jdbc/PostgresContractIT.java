package io.mqdb.adapter.jdbc;

import io.mqdb.spi.Store;
import io.mqdb.spi.StoreContract;
import io.mqdb.spi.StoreLimit;
import java.util.EnumSet;
import java.util.Map;
import java.util.Set;

/** The shared store contract against PostgreSQL, trigger capture, in its own database shared by the cases. */
class PostgresContractIT extends StoreContract {
    @Override
    protected Store openStore() {
        return PostgresStoreIT.open(PostgresStoreIT.url("mqdb_contract"), Map.of());
    }

    @Override
    protected boolean supportsCapture() {
        return true;
    }

    @Override
    protected Set<StoreLimit> limits() {
        return EnumSet.of(StoreLimit.STRING_NUL_CHARACTER, StoreLimit.CAPTURE_READS_ROWS_WHEN_POLLED);
    }
}
