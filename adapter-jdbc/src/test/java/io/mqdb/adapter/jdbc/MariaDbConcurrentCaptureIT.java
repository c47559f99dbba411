package io.mqdb.adapter.jdbc;

import io.mqdb.spi.Store;
import io.mqdb.spi.TableId;
import io.mqdb.testing.MariaDbServer;
import java.sql.Connection;
import java.sql.SQLException;
import java.util.Map;

class MariaDbConcurrentCaptureIT extends ConcurrentCaptureITBase {
    static String url() {
        return MariaDbServer.shared().createDatabase("mqdb_conc");
    }

    @Override
    protected Store openStore(Map<String, Object> extra) {
        return MariaDbStoreIT.open(url(), extra);
    }

    @Override
    protected Connection plainConnection() throws SQLException {
        return JdbcStoreITBase.connect(url(), MariaDbServer.shared().user(), MariaDbServer.shared().password());
    }

    @Override
    protected String sqlName(TableId id) {
        return "`" + id.schema() + "`.`" + id.table() + "`";
    }

    @Override
    protected String upsertSql(String table) {
        return "INSERT INTO " + table + " (id, name, v) VALUES (?, ?, ?) ON DUPLICATE KEY UPDATE"
                + " name = VALUES(name), v = VALUES(v)";
    }

    @Override
    protected String sleepSql() {
        return "SELECT SLEEP(?)";
    }
}
