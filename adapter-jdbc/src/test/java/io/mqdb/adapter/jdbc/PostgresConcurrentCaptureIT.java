package io.mqdb.adapter.jdbc;

import io.mqdb.spi.Store;
import io.mqdb.spi.TableId;
import io.mqdb.testing.PostgresServer;
import java.sql.Connection;
import java.sql.SQLException;
import java.util.Map;

class PostgresConcurrentCaptureIT extends ConcurrentCaptureITBase {
    static String url() {
        return PostgresServer.shared().createDatabase("mqdb_conc");
    }

    @Override
    protected Store openStore(Map<String, Object> extra) {
        return PostgresStoreIT.open(url(), extra);
    }

    @Override
    protected Connection plainConnection() throws SQLException {
        return JdbcStoreITBase.connect(url(), PostgresServer.shared().user(), PostgresServer.shared().password());
    }

    @Override
    protected String sqlName(TableId id) {
        return "\"" + id.schema() + "\".\"" + id.table() + "\"";
    }

    @Override
    protected String upsertSql(String table) {
        return "INSERT INTO " + table + " (id, name, v) VALUES (?, ?, ?) ON CONFLICT (id) DO UPDATE SET"
                + " name = EXCLUDED.name, v = EXCLUDED.v";
    }

    @Override
    protected String sleepSql() {
        return "SELECT pg_sleep(?)";
    }
}
