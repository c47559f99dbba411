package io.mqdb.adapter.jdbc;

import io.mqdb.spi.Store;
import io.mqdb.spi.TableId;
import io.mqdb.testing.ServerFixture;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.util.HashMap;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;

class SqlitePollingCaptureIT extends PollingCaptureITBase {
    static Path dir;

    @BeforeAll
    static void folder() throws Exception {
        dir = Files.createTempDirectory("mqdb-sqlite-poll");
    }

    @AfterAll
    static void remove() {
        ServerFixture.deleteTree(dir);
    }

    @Override
    protected Store openStore(Map<String, Object> extra) {
        Map<String, Object> m = new HashMap<>(Map.of("url", SqliteStoreIT.url(dir)));
        m.putAll(extra);
        return new JdbcStoreProvider().open(TestStoreConfig.of(m), TestStoreConfig.context(dir));
    }

    @Override
    protected Connection plainConnection() throws SQLException {
        return DriverManager.getConnection(SqliteStoreIT.url(dir));
    }

    @Override
    protected String sqlName(TableId id) {
        return "\"" + id.schema() + "__" + id.table() + "\"";
    }

    /** SQLite has one writer at a time: an open write transaction blocks every other insert. */
    @Override
    protected boolean concurrentWriters() {
        return false;
    }
}
