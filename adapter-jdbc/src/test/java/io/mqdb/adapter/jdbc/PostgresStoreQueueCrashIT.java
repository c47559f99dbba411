package io.mqdb.adapter.jdbc;

import io.mqdb.node.StoreQueueCrashTestBase;
import io.mqdb.spi.Store;
import io.mqdb.testing.PostgresServer;
import java.util.List;
import java.util.Map;

/**
 * kill -9 of a process putting and taking on a queue in PostgreSQL; see {@link StoreQueueCrashTestBase}. A database
 * of its own per run, so the queue starts empty.
 */
class PostgresStoreQueueCrashIT extends StoreQueueCrashTestBase {
    private final String url = PostgresStoreIT.url("mqdb_queue_crash_" + Long.toHexString(System.nanoTime()));

    @Override
    protected Store openStore() {
        return PostgresStoreIT.open(url, Map.of());
    }

    @Override
    protected List<String> childCommand() {
        PostgresServer pg = PostgresServer.shared();
        return List.of(PostgresQueueCrashChild.class.getName(), url, pg.user(), pg.password());
    }
}
