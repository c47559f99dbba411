package io.mqdb.adapter.jdbc;

import io.mqdb.spi.Store;
import io.mqdb.spi.TableId;
import io.mqdb.testing.MariaDbServer;
import java.sql.Connection;
import java.sql.SQLException;
import java.util.HashMap;
import java.util.Map;

/** The 8-writer concurrency test (out-of-order commits, sleeps in open transactions, rollbacks) with capture: log. */
class MariaDbLogConcurrentCaptureIT extends ConcurrentCaptureITBase {
    private static final long SERVER_ID = MariaDbLogCaptureIT.serverId();

    static String url() {
        return MariaDbServer.sharedWithBinlog().createDatabase("mqdb_conc");
    }

    @Override
    protected Store openStore(Map<String, Object> extra) {
        Map<String, Object> m = new HashMap<>(extra);
        m.put("binlog-server-id", SERVER_ID);
        return MariaDbLogCaptureIT.open(url(), m);
    }

    @Override
    protected Connection plainConnection() throws SQLException {
        MariaDbServer m = MariaDbServer.sharedWithBinlog();
        return JdbcStoreITBase.connect(url(), m.user(), m.password());
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
