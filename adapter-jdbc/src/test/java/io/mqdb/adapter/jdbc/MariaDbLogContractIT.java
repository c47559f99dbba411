package io.mqdb.adapter.jdbc;

import io.mqdb.spi.Store;
import io.mqdb.spi.StoreContract;
import io.mqdb.spi.StoreLimit;
import java.util.EnumSet;
import java.util.Map;
import java.util.Set;

/**
 * The shared store contract against MariaDB with {@code capture: log} (the binary log of the fixture's binlog
 * server): a replica server id of its own per case, so a position of its own. No
 * {@link StoreLimit#CAPTURE_READS_ROWS_WHEN_POLLED}: the binlog carries every change with its row as committed.
 */
class MariaDbLogContractIT extends StoreContract {
    private Long serverId;

    @Override
    protected Store openStore() {
        if (serverId == null) { // one per case: a case that reopens the store finds its position again
            serverId = MariaDbLogCaptureIT.serverId();
        }
        return MariaDbLogCaptureIT.open(MariaDbLogCaptureIT.url("mqdb_log_contract"),
                Map.of("binlog-server-id", serverId));
    }

    @Override
    protected boolean supportsCapture() {
        return true;
    }

    @Override
    protected Set<StoreLimit> limits() {
        return EnumSet.of(StoreLimit.DOUBLE_NAN_AND_INFINITY, StoreLimit.DOUBLE_NEGATIVE_ZERO);
    }
}
