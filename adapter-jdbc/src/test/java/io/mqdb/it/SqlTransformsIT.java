package io.mqdb.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.mqdb.config.ConfigLoader;
import io.mqdb.node.MqdbNode;
import io.mqdb.plugin.PluginRegistry;
import io.mqdb.testing.MariaDbServer;
import io.mqdb.testing.PostgresServer;
import io.mqdb.testing.ServerFixture;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A channel transform on a SQL target: {@code pg} publishes {@code shop:orders} from PostgreSQL, {@code maria}
 * applies it to MariaDB through a transform (two columns kept, one renamed, one computed, a filter). The MariaDB table
 * is created with the target columns only, and rows enter and leave it as SQL updates move them in and out of the
 * filter.
 */
class SqlTransformsIT {
    private static final Duration WAIT = Duration.ofSeconds(60);

    @TempDir
    Path dir;
    private final PluginRegistry plugins = PluginRegistry.load(Optional.empty(),
            SqlTransformsIT.class.getClassLoader());
    private final PostgresServer pg = PostgresServer.shared();
    private final MariaDbServer maria = MariaDbServer.shared();
    private final int brokerPort = ServerFixture.freePort();
    private final List<MqdbNode> nodes = new ArrayList<>();
    private String pgUrl;
    private String mariaUrl;

    @AfterEach
    void stop() {
        for (int i = nodes.size() - 1; i >= 0; i--) {
            nodes.get(i).close();
        }
    }

    @Test
    void postgresRowsReachMariaDbFilteredRenamedAndComputed() throws Exception {
        pgUrl = pg.createDatabase("mqdb_sql_transforms");
        mariaUrl = maria.createDatabase("mqdb_sql_transforms");
        sql(pgUrl, pg.user(), pg.password(), "DROP SCHEMA IF EXISTS shop CASCADE",
                "DROP TABLE IF EXISTS public.mqdb_changelog", "CREATE SCHEMA shop",
                "CREATE TABLE shop.orders (id bigint PRIMARY KEY, status text, amount double precision, "
                        + "customer_id bigint, note text)");
        sql(mariaUrl, maria.user(), maria.password(), "DROP DATABASE IF EXISTS tx_shop", "CREATE DATABASE tx_shop");
        start("maria", """
                node: { name: maria, data-dir: maria-data }
                broker: { embedded: { port: %d } }
                stores: { m: { type: jdbc, url: "%s", username: "%s"%s, schema-map: { shop: tx_shop } } }
                channels:
                  - name: shop:orders
                    store: m
                    subscribe: true
                    transform:
                      source: { id: int64, status: string, amount: double, customer_id: int64 }
                      columns:
                        include: [id, status, customer_id]
                        rename: { customer_id: customer }
                        computed: { big: "amount >= 100.0" }
                      filter: "status == 'paid' || status == 'shipped'"
                """.formatted(brokerPort, mariaUrl, maria.user(), password(maria.password())));
        start("pg", """
                node: { name: pg, data-dir: pg-data }
                broker: { uris: [ "tcp://127.0.0.1:%d" ] }
                stores: { pg: { type: jdbc, url: "%s", username: "%s"%s, capture: trigger, poll-interval: 50ms } }
                channels: [ { name: shop:orders, store: pg, publish: true } ]
                """.formatted(brokerPort, pgUrl, pg.user(), password(pg.password())));

        sql(pgUrl, pg.user(), pg.password(), "INSERT INTO shop.orders VALUES (2, 'draft', 10.0, 8, 'x')",
                "INSERT INTO shop.orders VALUES (1, 'paid', 150.0, 7, 'y')");
        await().atMost(WAIT).until(() -> rows().containsKey(1L));
        assertThat(rows()).containsOnlyKeys(1L);
        assertThat(rows().get(1L)).isEqualTo(Map.of("status", "paid", "customer", "7", "big", "1"));
        assertThat(columns()).containsExactly("id", "status", "customer", "big");

        sql(pgUrl, pg.user(), pg.password(), "UPDATE shop.orders SET status = 'paid' WHERE id = 2",
                "UPDATE shop.orders SET status = 'cancelled' WHERE id = 1");
        await().atMost(WAIT).until(() -> rows().keySet().equals(java.util.Set.of(2L)));
        assertThat(rows().get(2L)).isEqualTo(Map.of("status", "paid", "customer", "8", "big", "0"));

        sql(pgUrl, pg.user(), pg.password(), "UPDATE shop.orders SET status = 'shipped', customer_id = 9 WHERE id = 1");
        await().atMost(WAIT).until(() -> rows().containsKey(1L));
        assertThat(rows().get(1L)).isEqualTo(Map.of("status", "shipped", "customer", "9", "big", "1"));
    }

    /** The MariaDB target's rows: id to the other columns as text. */
    private Map<Long, Map<String, String>> rows() throws SQLException {
        Map<Long, Map<String, String>> out = new LinkedHashMap<>();
        try (Connection c = DriverManager.getConnection(mariaUrl, maria.user(), maria.password());
             Statement s = c.createStatement();
             ResultSet r = s.executeQuery("SELECT id, status, customer, big FROM tx_shop.orders ORDER BY id")) {
            while (r.next()) {
                out.put(r.getLong(1), Map.of("status", r.getString(2), "customer", r.getString(3),
                        "big", r.getString(4)));
            }
        } catch (SQLException e) {
            if (e.getErrorCode() == 1146) { // the table is not created yet
                return out;
            }
            throw e;
        }
        return out;
    }

    private List<String> columns() throws SQLException {
        List<String> out = new ArrayList<>();
        try (Connection c = DriverManager.getConnection(mariaUrl, maria.user(), maria.password());
             ResultSet r = c.getMetaData().getColumns("tx_shop", null, "orders", null)) {
            while (r.next()) {
                out.add(r.getString("COLUMN_NAME"));
            }
        }
        return out;
    }

    private static String password(String password) {
        return password.isEmpty() ? "" : ", password: \"" + password + "\"";
    }

    private void start(String name, String yaml) throws Exception {
        Path file = dir.resolve(name + ".yaml");
        Files.writeString(file, yaml);
        nodes.add(MqdbNode.start(ConfigLoader.load(file), plugins));
    }

    private static void sql(String url, String user, String password, String... statements) throws SQLException {
        try (Connection c = DriverManager.getConnection(url, user, password); Statement s = c.createStatement()) {
            for (String q : statements) {
                s.execute(q);
            }
        }
    }
}
