package io.mqdb.adapter.jdbc;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.mqdb.spi.Column;
import io.mqdb.spi.ColumnType;
import io.mqdb.spi.InvalidDataException;
import io.mqdb.spi.MqdbException;
import io.mqdb.spi.TableSchema;

import io.mqdb.spi.CapturePosition;
import io.mqdb.spi.CapturedChange;
import io.mqdb.spi.ChangeCapture;
import io.mqdb.spi.Store;
import io.mqdb.spi.TableId;
import io.mqdb.testing.PostgresServer;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

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
        return new JdbcStoreProvider().open(TestStoreConfig.of(m), TestStoreConfig.context(Path.of("target"), m));
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

    /**
     * Transaction ids are compared as numbers: a change made in transaction 999 is read before one made in 1000, also
     * when both wait in the change log. (Sorting them as text once lost every change of the shorter ids.)
     */
    @Test
    void captureOrdersChangesByTransactionIdAsNumbersAcrossADigitBoundary() throws Exception {
        Store store = track(openStore(Map.of("changelog-table", "mqdb_cl_xid_digits")));
        TableId id = capturedTable(store, "xid_digits");
        ChangeCapture cap = store.capture().orElseThrow();
        CapturePosition start = cap.current();
        long xid;
        try (Connection c = plainConnection(); Statement st = c.createStatement()) {
            st.execute("INSERT INTO " + sqlName(id) + " (id, name) VALUES (1, 'before the boundary')");
            try (ResultSet rs = st.executeQuery("SELECT pg_current_xact_id()::text::bigint")) {
                rs.next();
                xid = rs.getLong(1);
            }
            long boundary = 10;
            while (boundary <= xid + 1) {
                boundary *= 10;
            }
            // each subtransaction that writes takes a transaction id: jump to the next power of ten in one statement
            st.execute("CREATE TEMP TABLE burn (x int)");
            st.execute("DO $$ BEGIN FOR i IN 1.." + (boundary - xid) + " LOOP BEGIN INSERT INTO burn VALUES (i);"
                    + " EXCEPTION WHEN others THEN NULL; END; END LOOP; END $$");
            st.execute("INSERT INTO " + sqlName(id) + " (id, name) VALUES (2, 'after the boundary')");
            try (ResultSet rs = st.executeQuery("SELECT max(xid)::text FROM mqdb_cl_xid_digits")) {
                rs.next();
                assertThat(rs.getString(1)).hasSize(Long.toString(boundary).length());
            }
        }
        List<CapturedChange> got = new ArrayList<>();
        drain(cap, start, id, got, l -> l.size() >= 2);
        assertThat(got).extracting(c -> c.key().get(0)).containsExactly(1L, 2L);
    }

    /** PostgreSQL's DDL is transactional: a table's function and trigger are installed in one transaction. */
    @Test
    void installingATablesTriggersIsAllOrNothing() throws Exception {
        JdbcStore store = (JdbcStore) track(openStore(Map.of("changelog-table", "mqdb_cl_atomic")));
        TableId id = newTable("atomic");
        store.ensureTable(new TableSchema(id, List.of(new Column("id", ColumnType.INT64, false),
                Column.of("name", ColumnType.STRING)), List.of("id")));
        TriggerCapture failing = new TriggerCapture(store, new ThirdTriggerFails(store.dialect().triggers()
                .orElseThrow()), "mqdb_cl_atomic", Duration.ofMillis(50), Duration.ofSeconds(5));
        assertThatThrownBy(() -> failing.enable(id)).isInstanceOf(MqdbException.class)
                .hasMessageContaining("no_such_table");
        assertThat(captureObjects(id)).as("neither function nor trigger").isEmpty();
        store.capture().orElseThrow().enable(id);
        List<String> installed = captureObjects(id);
        assertThat(installed).hasSize(2);
        assertThatThrownBy(() -> failing.enable(id)).isInstanceOf(MqdbException.class);
        assertThat(captureObjects(id)).as("what an earlier enable made stays").isEqualTo(installed);
    }

    /** The capture trigger on the table and the capture function of the table. */
    private List<String> captureObjects(TableId id) throws SQLException {
        List<String> out = new ArrayList<>();
        try (Connection c = plainConnection(); java.sql.PreparedStatement ps = c.prepareStatement(
                "SELECT 'trigger ' || tgname FROM pg_trigger WHERE NOT tgisinternal AND tgrelid = CAST(? AS regclass)"
                        + " UNION ALL SELECT 'function ' || proname FROM pg_proc WHERE proname = ? ORDER BY 1")) {
            ps.setString(1, sqlName(id));
            ps.setString(2, Dialect.shortName("mqdb_f_", id.schema(), id.table()));
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    out.add(rs.getString(1));
                }
            }
        }
        return out;
    }

    /**
     * Only a unique index that holds for every row and can arbitrate {@code ON CONFLICT} makes a replica key: not a
     * partial one, not one on an expression, not a deferrable constraint; an index's INCLUDE columns do not count.
     */
    @Test
    void aReplicaKeyNeedsAPlainImmediateUniqueIndexOnExactlyItsColumns() throws Exception {
        List<String> key = List.of("a", "b");
        TableId partial = newTable("rk_partial");
        TableId expression = newTable("rk_expr");
        TableId deferrable = newTable("rk_defer");
        TableId included = newTable("rk_incl");
        TableId good = newTable("rk_incl_ok");
        Store store = track(openStore(Map.of(TestStoreConfig.REPLICA_KEYS, Map.of(partial, key, expression, key,
                deferrable, key, included, key, good, List.of("a")))));
        store.ensureTable(new TableSchema(newTable("rkx"), List.of(new Column("id", ColumnType.INT64, false)),
                List.of("id")));
        String cols = " (a text NOT NULL, b bigint NOT NULL, c text)";
        sql("CREATE TABLE " + sqlName(partial) + cols,
                "CREATE UNIQUE INDEX ON " + sqlName(partial) + " (a, b) WHERE c IS NOT NULL",
                "CREATE TABLE " + sqlName(expression) + cols,
                "CREATE UNIQUE INDEX ON " + sqlName(expression) + " (lower(a), b)",
                "CREATE TABLE " + sqlName(deferrable) + " (a text NOT NULL, b bigint NOT NULL, c text,"
                        + " UNIQUE (a, b) DEFERRABLE INITIALLY IMMEDIATE)",
                "CREATE TABLE " + sqlName(included) + cols,
                "CREATE UNIQUE INDEX ON " + sqlName(included) + " (a) INCLUDE (b)",
                "CREATE TABLE " + sqlName(good) + cols,
                "CREATE UNIQUE INDEX ON " + sqlName(good) + " (a) INCLUDE (b)");
        for (TableId refused : List.of(partial, expression, deferrable, included)) {
            assertThatThrownBy(() -> store.describe(refused)).as(refused.toString())
                    .isInstanceOf(InvalidDataException.class)
                    .hasMessageContaining("no unique constraint or unique index has exactly the columns [a, b]");
        }
        assertThat(store.describe(good).orElseThrow().primaryKey()).containsExactly("a");
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
