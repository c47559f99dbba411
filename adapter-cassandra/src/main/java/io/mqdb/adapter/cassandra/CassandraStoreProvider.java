package io.mqdb.adapter.cassandra;

import io.mqdb.spi.Setting;
import io.mqdb.spi.Store;
import io.mqdb.spi.StoreConfig;
import io.mqdb.spi.StoreContext;
import io.mqdb.spi.StoreProvider;
import java.util.List;

/**
 * The {@code cassandra} adapter: each mqdb schema is a keyspace, each table a CQL table, written with prepared
 * statements stamped with the change's version ({@code USING TIMESTAMP}). See {@code docs/adapters/cassandra.md}.
 */
public final class CassandraStoreProvider implements StoreProvider {

    @Override
    public String type() {
        return "cassandra";
    }

    @Override
    public List<Setting> settings() {
        return CassandraSettings.ALL;
    }

    /** Connects the driver and checks the settings; called on the runtime's start-up thread. */
    @Override
    public Store open(StoreConfig config, StoreContext context) {
        return CassandraStore.open(config);
    }
}
