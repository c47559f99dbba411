package io.mqdb.adapter.jdbc;

import io.mqdb.spi.Store;
import io.mqdb.spi.TableId;
import io.mqdb.testing.MariaDbServer;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.HashMap;
import java.util.Map;

class MariaDbStoreIT extends TriggerCaptureITBase {
    static String url(String db) {
        return MariaDbServer.shared().createDatabase(db);
    }

    static Store open(String url, Map<String, Object> extra) {
        MariaDbServer m = MariaDbServer.shared();
        Map<String, Object> s = new HashMap<>(Map.of("url", url, "username", m.user(), "password", m.password()));
        s.putAll(extra);
        return new JdbcStoreProvider().open(TestStoreConfig.of(s), TestStoreConfig.context(Path.of("target")));
    }

    @Override
    protected Store openStore(Map<String, Object> extra) {
        return open(url("mqdb_it"), extra);
    }

    @Override
    protected Connection plainConnection() throws SQLException {
        MariaDbServer m = MariaDbServer.shared();
        return connect(url("mqdb_it"), m.user(), m.password());
    }

    @Override
    protected String schema() {
        return "shop";
    }

    @Override
    protected String sqlName(TableId id) {
        return "`" + id.schema() + "`.`" + id.table() + "`";
    }

    @Override
    protected int remainingTriggers() throws SQLException {
        try (Connection c = plainConnection(); ResultSet rs = c.createStatement().executeQuery(
                "SELECT count(*) FROM information_schema.TRIGGERS WHERE ACTION_STATEMENT LIKE '%mqdb_cl_uninstall%'")) {
            rs.next();
            return rs.getInt(1);
        }
    }
}
