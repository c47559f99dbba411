package io.mqdb.adapter.jdbc;

import io.mqdb.spi.Store;
import java.util.HashMap;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;

/** The 8-writer concurrency test (out-of-order commits, sleeps in open transactions, rollbacks) with capture: log. */
class PostgresLogConcurrentCaptureIT extends PostgresConcurrentCaptureIT {
    private static final String SLOT = "mqdb_conc_" + ProcessHandle.current().pid();

    @Override
    protected Store openStore(Map<String, Object> extra) {
        Map<String, Object> m = new HashMap<>(extra);
        m.putAll(Map.of("capture", "log", "slot", SLOT, "publication", "mqdb_conc"));
        return PostgresStoreIT.open(url(), m);
    }

    @AfterAll
    static void dropSlot() {
        PostgresLogCaptureIT.dropSlot(SLOT);
    }
}
