package io.mqdb.distribution;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.mqdb.config.ConfigLoader;
import io.mqdb.node.LocalTable;
import io.mqdb.node.MqdbNode;
import io.mqdb.node.StoreSet;
import io.mqdb.plugin.LoadedProvider;
import io.mqdb.plugin.PluginRegistry;
import io.mqdb.spi.Column;
import io.mqdb.spi.ColumnType;
import io.mqdb.spi.Key;
import io.mqdb.spi.MqdbException;
import io.mqdb.spi.Row;
import io.mqdb.spi.Store;
import io.mqdb.spi.TableId;
import io.mqdb.spi.TableSchema;
import io.mqdb.spi.WriteOrigin;
import io.mqdb.testing.CassandraServer;
import io.mqdb.testing.MapStoreConfig;
import io.mqdb.testing.PostgresServer;
import io.mqdb.testing.RedisServer;
import io.mqdb.testing.ServerFixture;
import io.mqdb.testing.TestStoreContext;
import java.math.BigDecimal;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.Statement;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Cassandra in whole flows, with every adapter loaded from the built tarball's {@code plugins/} as a node does: a
 * PostgreSQL table (existing rows, then inserts, updates and deletes by plain SQL) mirrored into Cassandra and
 * compared row by row; and a Cassandra table, which has no change capture, published by its initial load and by
 * writes made through the embedding API, into Redis.
 */
class CassandraFlowsIT {
    @TempDir
    static Path shared;
    private static PluginRegistry plugins;
    private static CassandraServer cassandra;

    @TempDir
    Path dir;
    private final List<AutoCloseable> open = new ArrayList<>();

    @BeforeAll
    static void setUp() throws Exception {
        Path home = Tarball.unpacked(shared.resolve("dist"));
        plugins = PluginRegistry.load(Optional.of(home.resolve("plugins")), CassandraFlowsIT.class.getClassLoader());
        cassandra = CassandraServer.shared();
    }

    @AfterEach
    void closeAll() throws Exception {
        for (int i = open.size() - 1; i >= 0; i--) {
            open.get(i).close();
        }
    }

    private MqdbNode node(String name, String yaml) throws Exception {
        Path file = dir.resolve(name + ".yaml");
        Files.writeString(file, yaml);
        MqdbNode n = MqdbNode.start(ConfigLoader.load(file, StoreSet.checker(plugins)), plugins);
        open.add(n);
        return n;
    }

    private Store store(String type, Map<String, ?> settings) {
        LoadedProvider p = plugins.find(type).orElseThrow();
        Store s = p.call(() -> p.provider().open(new MapStoreConfig("check-" + type, type, p.provider().settings(),
                settings), new TestStoreContext("checker", dir)));
        open.add(s);
        return s;
    }

    private static Map<Key, Row> all(Store store, TableSchema schema) {
        Map<Key, Row> out = new TreeMap<>();
        Key after = null;
        do {
            var page = store.scan(schema.table(), after, 1000);
            for (Row r : page.rows()) {
                out.put(schema.keyOf(r), r);
            }
            after = page.next().orElse(null);
        } while (after != null);
        return out;
    }

    private Map<String, Object> cassandraSettings() {
        return Map.of("contact-points", List.of(cassandra.contactPoint()), "local-datacenter",
                cassandra.localDatacenter());
    }

    private String cassandraYaml() {
        return "{ type: cassandra, contact-points: [ \"" + cassandra.contactPoint() + "\" ], local-datacenter: "
                + cassandra.localDatacenter() + " }";
    }

    @Test
    void aPostgresTableIsMirroredIntoCassandraRowByRow() throws Exception {
        PostgresServer pg = PostgresServer.shared();
        String url = pg.createDatabase("mqdb_pg_to_cassandra");
        TableSchema schema = new TableSchema(TableId.parse("shop:items"), List.of(
                new Column("id", ColumnType.INT64, false), Column.of("name", ColumnType.STRING),
                Column.of("price", ColumnType.DECIMAL), Column.of("at", ColumnType.TIMESTAMP),
                Column.of("ok", ColumnType.BOOLEAN)), List.of("id"));
        try (Connection c = DriverManager.getConnection(url, pg.user(), pg.password());
             Statement st = c.createStatement()) {
            st.execute("CREATE SCHEMA shop");
            st.execute("CREATE TABLE shop.items (id bigint PRIMARY KEY, name text, price numeric, at timestamp(6), "
                    + "ok boolean)");
            st.execute("INSERT INTO shop.items SELECT g, 'item ' || g, g / 100.0, "
                    + "timestamp '2024-05-01 10:00:00.123456' + g * interval '1 second', g % 2 = 0 "
                    + "FROM generate_series(1, 500) g");
        }
        pgToCassandra(pg, url, "shop:items");
        try (Connection c = DriverManager.getConnection(url, pg.user(), pg.password());
             Statement st = c.createStatement()) {
            st.execute("INSERT INTO shop.items SELECT g, 'new ' || g, 1.50, now(), true FROM generate_series(501, 700) g");
            st.execute("UPDATE shop.items SET name = 'renamed', price = NULL WHERE id % 7 = 0");
            st.execute("DELETE FROM shop.items WHERE id % 11 = 0");
        }
        Store source = store("jdbc", Map.of("url", url, "username", pg.user(), "password", pg.password(),
                "capture", "none"));
        Store target = store("cassandra", cassandraSettings());
        awaitEqual(target, source, schema);
        System.out.printf("PostgreSQL -> Cassandra: %d rows checked, every column, mismatches = 0%n",
                all(source, schema).size());
    }

    @Test
    void aDroppedKeyspaceIsNoticedAndRefilledWithTheChangesMadeMeanwhile() throws Exception {
        PostgresServer pg = PostgresServer.shared();
        String url = pg.createDatabase("mqdb_pg_to_cassandra_loss");
        TableSchema schema = new TableSchema(TableId.parse("loss:items"), List.of(
                new Column("id", ColumnType.INT64, false), Column.of("name", ColumnType.STRING),
                Column.of("price", ColumnType.DECIMAL)), List.of("id"));
        sql(pg, url, "CREATE SCHEMA loss",
                "CREATE TABLE loss.items (id bigint PRIMARY KEY, name text, price numeric)",
                "INSERT INTO loss.items SELECT g, 'item ' || g, g / 100.0 FROM generate_series(1, 300) g");
        MqdbNode targetNode = pgToCassandra(pg, url, "loss:items");
        Store source = store("jdbc", Map.of("url", url, "username", pg.user(), "password", pg.password(),
                "capture", "none"));
        Store target = store("cassandra", cassandraSettings());
        awaitEqual(target, source, schema);

        try (com.datastax.oss.driver.api.core.CqlSession cql = com.datastax.oss.driver.api.core.CqlSession.builder()
                .addContactPoint(new java.net.InetSocketAddress(cassandra.host(), cassandra.port()))
                .withLocalDatacenter(cassandra.localDatacenter()).build()) {
            cql.execute(com.datastax.oss.driver.api.core.cql.SimpleStatement.newInstance("DROP KEYSPACE loss")
                    .setTimeout(Duration.ofSeconds(60))); // schema changes take seconds on a test server
        }
        long dropped = System.nanoTime();
        sql(pg, url, "INSERT INTO loss.items SELECT g, 'while gone ' || g, 2.50 FROM generate_series(301, 400) g",
                "UPDATE loss.items SET name = 'renamed' WHERE id % 10 = 0",
                "DELETE FROM loss.items WHERE id % 25 = 0");
        awaitEqual(target, source, schema);
        long ms = (System.nanoTime() - dropped) / 1_000_000;
        System.out.printf("keyspace loss dropped under a running Cassandra subscriber, then 100 inserts, 40 updates "
                + "and 16 deletes at the source: noticed (target losses %d) and refilled in %d ms; %d rows checked, "
                + "mismatches = 0, dead letters %d%n", targetNode.metrics().targetLosses.sum(), ms,
                all(source, schema).size(), targetNode.metrics().deadLetters.sum());
        assertThat(targetNode.metrics().targetLosses.sum()).isPositive();
        assertThat(targetNode.metrics().deadLetters.sum()).as("no change was given up while the keyspace was gone")
                .isZero();
    }

    /**
     * Waits until the target holds the table with exactly the source's rows. The subscriber creates the Cassandra
     * table when the first batch arrives; until then a scan is refused, and just after, Cassandra may still answer
     * "Unknown CF" while the new table spreads (a retriable error).
     */
    private static void awaitEqual(Store target, Store source, TableSchema schema) {
        await().atMost(Duration.ofSeconds(120)).pollInterval(Duration.ofMillis(500))
                .ignoreExceptionsInstanceOf(MqdbException.class).untilAsserted(() -> {
                    assertThat(target.describe(schema.table())).isPresent();
                    assertThat(all(target, schema)).isEqualTo(all(source, schema));
                });
    }

    /**
     * Starts a Cassandra subscriber of a channel (with the embedded broker) and a PostgreSQL publisher of it.
     *
     * @return the subscriber
     */
    private MqdbNode pgToCassandra(PostgresServer pg, String url, String channel) throws Exception {
        int port = ServerFixture.freePort();
        MqdbNode target = node("target", """
                node: { name: target, data-dir: target-data }
                broker: { embedded: { port: %d } }
                stores: { wide: %s }
                channels: [ { name: %s, store: wide, subscribe: true } ]
                """.formatted(port, cassandraYaml(), channel));
        node("legacy", """
                node: { name: legacy, data-dir: legacy-data }
                broker: { uris: [ "tcp://127.0.0.1:%d" ] }
                stores: { pg: { type: jdbc, url: "%s", username: %s, password: "%s" } }
                channels: [ { name: %s, store: pg, publish: true } ]
                """.formatted(port, url, pg.user(), pg.password(), channel));
        return target;
    }

    private static void sql(PostgresServer pg, String url, String... statements) throws Exception {
        try (Connection c = DriverManager.getConnection(url, pg.user(), pg.password());
             Statement st = c.createStatement()) {
            for (String s : statements) {
                st.execute(s);
            }
        }
    }

    @Test
    void aCassandraTableIsLoadedIntoRedisAndItsEmbeddedWritesFollow() throws Exception {
        TableSchema schema = new TableSchema(TableId.parse("inv:stock"), List.of(
                new Column("sku", ColumnType.STRING, false), new Column("site", ColumnType.INT64, false),
                Column.of("qty", ColumnType.INT64), Column.of("price", ColumnType.DECIMAL),
                Column.of("seen", ColumnType.TIMESTAMP)), List.of("sku", "site"));
        Store seed = store("cassandra", cassandraSettings());
        seed.ensureTable(schema);
        List<Row> rows = new ArrayList<>();
        for (int i = 1; i <= 1000; i++) {
            rows.add(Row.of(Map.of("sku", "sku-" + i, "site", (long) (i % 3), "qty", (long) i,
                    "price", new BigDecimal(i).movePointLeft(2), "seen", Instant.parse("2024-01-01T00:00:00.000001Z")
                            .plusSeconds(i))));
        }
        seed.upsert(schema.table(), rows, WriteOrigin.LOCAL);
        RedisServer redis = RedisServer.shared();
        int port = ServerFixture.freePort();
        node("cache", """
                node: { name: cache, data-dir: cache-data }
                broker: { embedded: { port: %d } }
                stores: { redis: { type: redis, uri: "redis://%s" } }
                channels: [ { name: inv:stock, store: redis, subscribe: true } ]
                """.formatted(port, redis.address()));
        MqdbNode wide = node("wide", """
                node: { name: wide, data-dir: wide-data }
                broker: { uris: [ "tcp://127.0.0.1:%d" ] }
                stores: { wide: %s }
                channels: [ { name: inv:stock, store: wide, publish: true } ]
                """.formatted(port, cassandraYaml()));
        Store target = store("redis", Map.of("uri", "redis://" + redis.address()));
        await().atMost(Duration.ofSeconds(120)).pollInterval(Duration.ofMillis(500))
                .ignoreExceptionsInstanceOf(MqdbException.class).untilAsserted(() -> {
                    assertThat(target.describe(schema.table())).isPresent();
                    assertThat(all(target, schema)).isEqualTo(all(seed, schema));
                });
        System.out.println("Cassandra -> Redis initial load: 1000 rows checked, mismatches = 0");

        LocalTable stock = wide.table("inv:stock");
        stock.ensure(schema);
        stock.upsert(Row.of(Map.of("sku", "sku-1", "site", 1L, "qty", 999L)));
        stock.delete(Key.of("sku-2", 2L));
        stock.upsert(Row.of(Map.of("sku", "sku-new", "site", 0L, "qty", 1L)));
        await().atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofMillis(300)).untilAsserted(() ->
                assertThat(all(target, schema)).isEqualTo(all(seed, schema)));
        assertThat(target.get(schema.table(), Key.of("sku-1", 1L)).orElseThrow().get("qty")).isEqualTo(999L);
        assertThat(target.get(schema.table(), Key.of("sku-2", 2L))).isEmpty();
        System.out.println("writes through the embedding API on the Cassandra node followed into Redis: "
                + "1001 rows checked, mismatches = 0");
    }
}
