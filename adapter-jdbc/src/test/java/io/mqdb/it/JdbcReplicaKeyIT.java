package io.mqdb.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.mqdb.config.ConfigLoader;
import io.mqdb.node.LocalTable;
import io.mqdb.node.MqdbNode;
import io.mqdb.node.TableCheck;
import io.mqdb.plugin.PluginRegistry;
import io.mqdb.spi.Key;
import io.mqdb.spi.Row;
import io.mqdb.testing.MariaDbServer;
import io.mqdb.testing.PostgresServer;
import io.mqdb.testing.ServerFixture;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Tables without a primary key, replicated by a channel's {@code key: [sku, wh]} naming NOT NULL columns of one of
 * their unique indexes: node A publishes {@code shop:stock} from PostgreSQL or MariaDB with trigger capture, node B
 * (running the embedded broker) applies it to SQLite, creating the table with that key. Two more channels of the same
 * store name keys the store refuses (a nullable column; no unique index on exactly those columns): check-config
 * --connect reports both, and at run time only those two channels fail.
 */
class JdbcReplicaKeyIT {
    @TempDir
    Path dir;
    private final PluginRegistry plugins = PluginRegistry.load(Optional.empty(),
            JdbcReplicaKeyIT.class.getClassLoader());
    private final int port = ServerFixture.freePort();
    private MqdbNode a;
    private MqdbNode b;

    /** Where the source tables live and how to reach them. */
    private record Source(String url, String user, String password, String prefix, String storeExtra) {
    }

    @AfterEach
    void stop() {
        if (a != null) {
            a.close();
        }
        if (b != null) {
            b.close();
        }
    }

    @Test
    void aTableWithoutPrimaryKeyReplicatesFromPostgresByItsKeyRowByRow() throws Exception {
        PostgresServer pg = PostgresServer.shared();
        Source src = new Source(pg.createDatabase("mqdb_replica_key"), pg.user(), pg.password(), "shop", "");
        sql(src, "DROP SCHEMA IF EXISTS shop CASCADE", "DROP TABLE IF EXISTS public.mqdb_changelog",
                "CREATE SCHEMA shop");
        replicatesByTheKeyAndRefusesTheOthers(src);
    }

    @Test
    void aTableWithoutPrimaryKeyReplicatesFromMariaDbByItsKeyRowByRow() throws Exception {
        MariaDbServer maria = MariaDbServer.shared();
        Source src = new Source(maria.createDatabase("mqdb_replica_key"), maria.user(), maria.password(), "rk_shop",
                ", schema-map: { shop: rk_shop }");
        sql(src, "DROP DATABASE IF EXISTS rk_shop", "DROP TABLE IF EXISTS mqdb_changelog",
                "CREATE DATABASE rk_shop");
        replicatesByTheKeyAndRefusesTheOthers(src);
    }

    private void replicatesByTheKeyAndRefusesTheOthers(Source src) throws Exception {
        String t = src.prefix() + ".stock";
        sql(src, "CREATE TABLE " + t + " (sku varchar(100) NOT NULL, wh bigint NOT NULL, qty bigint,"
                        + " note varchar(200), CONSTRAINT stock_key UNIQUE (wh, sku))",
                "CREATE TABLE " + src.prefix() + ".loose (a varchar(100), b bigint NOT NULL, n varchar(20),"
                        + " CONSTRAINT loose_key UNIQUE (a, b))",
                "CREATE TABLE " + src.prefix() + ".nouniq (a varchar(100) NOT NULL, b bigint NOT NULL, n varchar(20),"
                        + " CONSTRAINT nouniq_a UNIQUE (a))");
        insert(src, 1, 100); // before node A ever ran: reaches B by the initial load

        Path file = dir.resolve("a.yaml");
        Files.writeString(file, """
                node: { name: a, data-dir: a-data }
                broker: { uris: [ "tcp://127.0.0.1:%d" ] }
                stores: { src: { type: jdbc, url: "%s", username: "%s"%s, capture: trigger, poll-interval: 50ms%s } }
                channels:
                  - { name: shop:stock, store: src, publish: true, key: [sku, wh] }
                  - { name: shop:loose, store: src, publish: true, key: [a, b] }
                  - { name: shop:nouniq, store: src, publish: true, key: [a, b] }
                """.formatted(port, src.url(), src.user(),
                src.password().isEmpty() ? "" : ", password: \"" + src.password() + "\"", src.storeExtra()));
        TableCheck.Report report = TableCheck.run(ConfigLoader.load(file), plugins);
        System.out.println("check-config --connect: " + report);
        assertThat(report.problems()).hasSize(2);
        assertThat(report.problems().get(0)).contains("channel shop:loose", "key [a, b]", "loose", "column a",
                "NULL");
        assertThat(report.problems().get(1)).contains("channel shop:nouniq", "key [a, b]", "nouniq",
                "no unique constraint or unique index has exactly the columns [a, b]");

        b = start("b", """
                node: { name: b, data-dir: b-data }
                broker: { embedded: { port: %d } }
                stores: { lite: { type: jdbc, url: "jdbc:sqlite:%s" } }
                channels: [ { name: shop:stock, store: lite, subscribe: true } ]
                """.formatted(port, dir.resolve("b.sqlite")));
        a = MqdbNode.start(ConfigLoader.load(file), plugins);
        LocalTable source = a.table("shop:stock");
        LocalTable dst = b.table("shop:stock");
        assertThat(source.schema().orElseThrow().primaryKey()).containsExactly("sku", "wh");
        await().atMost(Duration.ofSeconds(30)).until(() -> dst.schema().isPresent() && dst.count() == 100);
        assertThat(dst.schema().orElseThrow().primaryKey()).as("the target's key, from the wire schema")
                .containsExactly("sku", "wh");

        insert(src, 101, 150);
        sql(src, "UPDATE " + t + " SET qty = qty + 1000, note = 'bumped' WHERE wh = 2",
                "UPDATE " + t + " SET note = NULL WHERE qty % 5 = 0",
                "DELETE FROM " + t + " WHERE wh = 3 AND qty % 2 = 0",
                "UPDATE " + t + " SET sku = concat(sku, '-moved') WHERE sku = 'sku-0007'", // a key change
                "UPDATE " + t + " SET wh = 9 WHERE sku = 'sku-0011'"); // another, in the other key column
        long rows = count(src, t);
        await().atMost(Duration.ofSeconds(45)).pollInterval(Duration.ofMillis(250)).untilAsserted(() -> {
            assertThat(dst.count()).isEqualTo(rows);
            assertThat(all(dst)).containsExactlyInAnyOrderElementsOf(all(source));
        });
        assertThat(dst.get(Key.of("sku-0007", 7L % 4))).isEmpty();
        assertThat(dst.get(Key.of("sku-0007-moved", 7L % 4))).isPresent();
        assertThat(dst.get(Key.of("sku-0011", 11L % 4))).isEmpty();
        assertThat(dst.get(Key.of("sku-0011", 9L)).orElseThrow().get("qty")).isEqualTo(11L * 3);
        assertThat(a.failure()).as("the node runs on").isEmpty();
        assertThat(a.metrics().channelErrors.sum()).as("shop:loose and shop:nouniq failed alone").isEqualTo(2);
        assertThat(b.metrics().deadLetters.sum()).isZero();
        System.out.printf("%s -> SQLite by key [sku, wh]: %d rows equal; the two refused keys failed only their "
                + "channels%n", src.url().startsWith("jdbc:postgresql") ? "PostgreSQL" : "MariaDB", rows);
    }

    private MqdbNode start(String name, String yaml) throws Exception {
        Path file = dir.resolve(name + ".yaml");
        Files.writeString(file, yaml);
        return MqdbNode.start(ConfigLoader.load(file), plugins);
    }

    /** Rows as maps, to compare across stores in any order (collations of the two databases differ). */
    private static List<Map<String, Object>> all(LocalTable t) {
        List<Map<String, Object>> out = new ArrayList<>();
        Key after = null;
        do {
            var page = t.scan(after, 1000);
            for (Row r : page.rows()) {
                out.add(r.values());
            }
            after = page.next().orElse(null);
        } while (after != null);
        return out;
    }

    private static Connection connect(Source src) throws SQLException {
        return DriverManager.getConnection(src.url(), src.user(), src.password());
    }

    private static void sql(Source src, String... statements) throws SQLException {
        try (Connection c = connect(src); Statement st = c.createStatement()) {
            for (String s : statements) {
                st.execute(s);
            }
        }
    }

    private static long count(Source src, String table) throws SQLException {
        try (Connection c = connect(src); var rs = c.createStatement().executeQuery("SELECT count(*) FROM " + table)) {
            rs.next();
            return rs.getLong(1);
        }
    }

    /** Rows i = from..to: sku {@code sku-000i}, warehouse i % 4, in transactions of 25 rows; some notes null. */
    private static void insert(Source src, int from, int to) throws SQLException {
        try (Connection c = connect(src); PreparedStatement ps = c.prepareStatement("INSERT INTO " + src.prefix()
                + ".stock (sku, wh, qty, note) VALUES (?, ?, ?, ?)")) {
            c.setAutoCommit(false);
            for (int i = from; i <= to; i++) {
                ps.setString(1, String.format("sku-%04d", i));
                ps.setLong(2, i % 4);
                ps.setLong(3, i * 3L);
                ps.setString(4, i % 6 == 0 ? null : "note " + i);
                ps.addBatch();
                if (i % 25 == 0 || i == to) {
                    ps.executeBatch();
                    c.commit();
                }
            }
        }
    }
}
