package io.mqdb.adapter.jdbc;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.mqdb.spi.InvalidDataException;
import io.mqdb.spi.Store;
import io.mqdb.spi.TableId;
import io.mqdb.testing.ServerFixture;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

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

    /** SQLite's partial and expression indexes do not make a replica key; a UNIQUE constraint does. */
    @Test
    void aReplicaKeyNeedsAUniqueIndexOnPlainColumnsForEveryRow() throws Exception {
        List<String> key = List.of("a", "b");
        TableId partial = newTable("rk_partial");
        TableId expression = newTable("rk_expr");
        TableId constraint = newTable("rk_unique");
        Store store = track(openStore(Map.of(TestStoreConfig.REPLICA_KEYS, Map.of(partial, key, expression, key,
                constraint, key))));
        String cols = " (a TEXT NOT NULL, b INTEGER NOT NULL, c TEXT)";
        sql("CREATE TABLE " + sqlName(partial) + cols,
                "CREATE UNIQUE INDEX " + partial.table() + "_k ON " + sqlName(partial) + " (a, b) WHERE c IS NOT NULL",
                "CREATE TABLE " + sqlName(expression) + cols,
                "CREATE UNIQUE INDEX " + expression.table() + "_k ON " + sqlName(expression) + " (lower(a), b)",
                "CREATE TABLE " + sqlName(constraint) + " (a TEXT NOT NULL, b INTEGER NOT NULL, c TEXT, UNIQUE (b, a))");
        for (TableId refused : List.of(partial, expression)) {
            assertThatThrownBy(() -> store.describe(refused)).as(refused.toString())
                    .isInstanceOf(InvalidDataException.class)
                    .hasMessageContaining("no unique constraint or unique index has exactly the columns [a, b]");
        }
        assertThat(store.describe(constraint).orElseThrow().primaryKey()).containsExactly("a", "b");
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
