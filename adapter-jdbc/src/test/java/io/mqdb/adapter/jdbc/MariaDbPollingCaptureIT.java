package io.mqdb.adapter.jdbc;

import io.mqdb.spi.Store;
import io.mqdb.spi.TableId;
import io.mqdb.testing.MariaDbServer;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.util.Map;

class MariaDbPollingCaptureIT extends PollingCaptureITBase {
    @Override
    protected Store openStore(Map<String, Object> extra) {
        return MariaDbStoreIT.open(MariaDbStoreIT.url("mqdb_it"), extra);
    }

    @Override
    protected Connection plainConnection() throws SQLException {
        MariaDbServer m = MariaDbServer.shared();
        return DriverManager.getConnection(MariaDbStoreIT.url("mqdb_it"), m.user(), m.password());
    }

    @Override
    protected String sqlName(TableId id) {
        return "`" + id.schema() + "`.`" + id.table() + "`";
    }

    @Override
    protected String q(String column) {
        return "`" + column + "`";
    }
}
