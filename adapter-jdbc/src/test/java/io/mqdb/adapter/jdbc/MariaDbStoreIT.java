package io.mqdb.adapter.jdbc;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.mqdb.spi.Column;
import io.mqdb.spi.ColumnType;
import io.mqdb.spi.MqdbException;
import io.mqdb.spi.Store;
import io.mqdb.spi.TableId;
import io.mqdb.spi.TableSchema;
import io.mqdb.testing.MariaDbServer;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class MariaDbStoreIT extends TriggerCaptureITBase {
    static String url(String db) {
        return MariaDbServer.shared().createDatabase(db);
    }

    static Store open(String url, Map<String, Object> extra) {
        MariaDbServer m = MariaDbServer.shared();
        Map<String, Object> s = new HashMap<>(Map.of("url", url, "username", m.user(), "password", m.password()));
        s.putAll(extra);
        return new JdbcStoreProvider().open(TestStoreConfig.of(s), TestStoreConfig.context(Path.of("target"), s));
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

    /**
     * MariaDB commits each CREATE TRIGGER by itself, so a table's three triggers are made one at a time: when the
     * third fails (here: the server refuses it, its table does not exist), the two made before are dropped again,
     * and a table whose triggers existed before keeps them.
     */
    @Test
    void installingATablesTriggersIsAllOrNothingThoughEachCreateTriggerCommits() throws Exception {
        JdbcStore store = (JdbcStore) track(openStore(Map.of("changelog-table", "mqdb_cl_atomic")));
        TableId id = newTable("atomic");
        store.ensureTable(new TableSchema(id, List.of(new Column("id", ColumnType.INT64, false),
                Column.of("name", ColumnType.STRING)), List.of("id")));
        TriggerSupport real = store.dialect().triggers().orElseThrow();
        TriggerCapture failing = new TriggerCapture(store, new ThirdTriggerFails(real), "mqdb_cl_atomic",
                Duration.ofMillis(50), Duration.ofSeconds(5));
        assertThatThrownBy(() -> failing.enable(id)).isInstanceOf(MqdbException.class)
                .hasMessageContaining("no_such_table");
        assertThat(triggersOn(id)).as("the two triggers made before the failure were dropped").isEmpty();

        store.capture().orElseThrow().enable(id);
        List<String> installed = triggersOn(id);
        assertThat(installed).hasSize(3);
        assertThatThrownBy(() -> failing.enable(id)).isInstanceOf(MqdbException.class);
        assertThat(triggersOn(id)).as("triggers of an earlier enable stay").containsExactlyElementsOf(installed);
    }

    private List<String> triggersOn(TableId id) throws SQLException {
        List<String> out = new ArrayList<>();
        try (Connection c = plainConnection(); PreparedStatement ps = c.prepareStatement("SELECT TRIGGER_NAME FROM"
                + " information_schema.TRIGGERS WHERE EVENT_OBJECT_SCHEMA = ? AND EVENT_OBJECT_TABLE = ?"
                + " ORDER BY 1")) {
            ps.setString(1, id.schema());
            ps.setString(2, id.table());
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    out.add(rs.getString(1));
                }
            }
        }
        return out;
    }
}
