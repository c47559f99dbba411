package io.mqdb.adapter.jdbc;

import io.mqdb.spi.Store;
import io.mqdb.spi.StoreContract;
import io.mqdb.spi.StoreLimit;
import java.util.EnumSet;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;

/**
 * The shared store contract against PostgreSQL with {@code capture: log}: a slot of its own per case (dropped after
 * it), in a database of its own. No {@link StoreLimit#CAPTURE_READS_ROWS_WHEN_POLLED}: the log carries every change
 * with its row as committed.
 */
class PostgresLogContractIT extends StoreContract {
    private static final AtomicInteger CASES = new AtomicInteger();
    private String slot;

    @Override
    protected Store openStore() {
        if (slot == null) { // one slot per case: a case that reopens the store finds its slot again
            slot = "mqdb_contract_" + ProcessHandle.current().pid() + "_" + CASES.incrementAndGet();
        }
        return PostgresStoreIT.open(PostgresStoreIT.url("mqdb_log_contract"), Map.of("capture", "log", "slot", slot,
                "publication", "mqdb_contract"));
    }

    @Override
    protected boolean supportsCapture() {
        return true;
    }

    @Override
    protected Set<StoreLimit> limits() {
        return EnumSet.of(StoreLimit.STRING_NUL_CHARACTER);
    }

    /** Runs before the contract's own close: closes the store (idempotent), so its slot is free to drop. */
    @AfterEach
    void dropSlot() {
        if (store != null) {
            store.close();
        }
        PostgresLogCaptureIT.dropSlot(slot);
        slot = null;
    }
}
