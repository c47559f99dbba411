package io.mqdb.adapter.jdbc;

import io.mqdb.spi.Store;
import io.mqdb.spi.TableId;
import io.mqdb.testing.PostgresServer;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.HashMap;
import java.util.Map;

class PostgresStoreIT extends TriggerCaptureITBase {
    static String url() {
        return url("mqdb_it");
    }

    static String url(String database) {
        return PostgresServer.shared().createDatabase(database);
    }

    static Store open(String url, Map<String, Object> extra) {
        PostgresServer pg = PostgresServer.shared();
        Map<String, Object> m = new HashMap<>(Map.of("url", url, "username", pg.user(), "password", pg.password()));
        m.putAll(extra);
        return new JdbcStoreProvider().open(TestStoreConfig.of(m), TestStoreConfig.context(Path.of("target")));
    }

    @Override
    protected Store openStore(Map<String, Object> extra) {
        return open(url(), extra);
    }

    @Override
    protected Connection plainConnection() throws SQLException {
        PostgresServer pg = PostgresServer.shared();
        return connect(url(), pg.user(), pg.password());
    }

    @Override
    protected String schema() {
        return "shop";
    }

    @Override
    protected String sqlName(TableId id) {
        return "\"" + id.schema() + "\".\"" + id.table() + "\"";
    }

    @Override
    protected int remainingTriggers() throws SQLException {
        try (Connection c = plainConnection(); ResultSet rs = c.createStatement().executeQuery(
                "SELECT count(*) FROM pg_trigger WHERE tgname LIKE 'mqdb%'")) {
            rs.next();
            return rs.getInt(1);
        }
    }
}
