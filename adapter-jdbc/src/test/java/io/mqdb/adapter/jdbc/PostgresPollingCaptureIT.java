package io.mqdb.adapter.jdbc;

import io.mqdb.spi.Store;
import io.mqdb.spi.TableId;
import io.mqdb.testing.PostgresServer;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.util.Map;

class PostgresPollingCaptureIT extends PollingCaptureITBase {
    @Override
    protected Store openStore(Map<String, Object> extra) {
        return PostgresStoreIT.open(PostgresStoreIT.url(), extra);
    }

    @Override
    protected Connection plainConnection() throws SQLException {
        PostgresServer pg = PostgresServer.shared();
        return DriverManager.getConnection(PostgresStoreIT.url(), pg.user(), pg.password());
    }

    @Override
    protected String sqlName(TableId id) {
        return "\"" + id.schema() + "\".\"" + id.table() + "\"";
    }
}
