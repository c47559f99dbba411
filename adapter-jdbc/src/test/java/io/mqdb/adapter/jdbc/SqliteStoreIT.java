package io.mqdb.adapter.jdbc;

import io.mqdb.spi.Store;
import io.mqdb.spi.TableId;
import io.mqdb.testing.ServerFixture;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.HashMap;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;

class SqliteStoreIT extends TriggerCaptureITBase {
    static Path dir;

    @BeforeAll
    static void folder() throws Exception {
        dir = Files.createTempDirectory("mqdb-sqlite");
    }

    @AfterAll
    static void remove() {
        ServerFixture.deleteTree(dir);
    }

    String url() {
        return url(dir);
    }

    static String url(Path folder) {
        return "jdbc:sqlite:" + folder.resolve("db.sqlite");
    }

    @Override
    protected Store openStore(Map<String, Object> extra) {
        Map<String, Object> m = new HashMap<>(Map.of("url", url()));
        m.putAll(extra);
        return new JdbcStoreProvider().open(TestStoreConfig.of(m), TestStoreConfig.context(dir, m));
    }

    @Override
    protected Connection plainConnection() throws SQLException {
        return connect(url(), null, null);
    }

    @Override
    protected String schema() {
        return "shop";
    }

    @Override
    protected String sqlName(TableId id) {
        return "\"" + id.schema() + "__" + id.table() + "\"";
    }

    @Override
    protected int remainingTriggers() throws SQLException {
        try (Connection c = plainConnection(); ResultSet rs = c.createStatement().executeQuery(
                "SELECT count(*) FROM sqlite_master WHERE type = 'trigger'")) {
            rs.next();
            return rs.getInt(1);
        }
    }
}
