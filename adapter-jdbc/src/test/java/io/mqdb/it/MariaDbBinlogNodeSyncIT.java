package io.mqdb.it;

import static io.mqdb.it.JdbcNodeSyncIT.all;
import static io.mqdb.it.JdbcNodeSyncIT.comparable;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.mqdb.config.ConfigLoader;
import io.mqdb.node.LocalTable;
import io.mqdb.node.MqdbNode;
import io.mqdb.plugin.PluginRegistry;
import io.mqdb.spi.Column;
import io.mqdb.spi.Key;
import io.mqdb.spi.Row;
import io.mqdb.testing.MariaDbServer;
import io.mqdb.testing.ServerFixture;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Two nodes in one JVM: node A publishes {@code shop:items} from MariaDB with {@code capture: log} (the binary log of
 * the fixture's binlog server), node B (running the embedded broker) applies it to an SQLite file. The table has rows
 * before A first starts, and a writer inserts while A's initial load runs (no gap between the load and the stream);
 * every later change is made by plain JDBC, and A is stopped once in the middle while changes go on.
 */
class MariaDbBinlogNodeSyncIT {
    /** Every portable type in the columns mqdb's MariaDB dialect describes as it (comments mark the text types). */
    private static final String CREATE = """
            CREATE TABLE bl_shop.items (id bigint PRIMARY KEY, name longtext, qty bigint,
              price varchar(100) COMMENT 'mqdb:decimal', ratio double, active boolean, data longblob, at datetime(6),
              day date, uid char(36) COMMENT 'mqdb:uuid', doc longtext COMMENT 'mqdb:json')
              ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin""";
    private static final String INSERT = "INSERT INTO bl_shop.items VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)";

    @TempDir
    Path dir;
    private final PluginRegistry plugins = PluginRegistry.load(Optional.empty(),
            MariaDbBinlogNodeSyncIT.class.getClassLoader());
    private final MariaDbServer maria = MariaDbServer.sharedWithBinlog();
    private final int port = ServerFixture.freePort();
    private final long serverId = 6000 + ProcessHandle.current().pid() % 100_000;
    private String url;
    private MqdbNode a;
    private MqdbNode b;

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
    void mariaDbChangesMadeByPlainJdbcReachSqliteExactlyAcrossALoadAndARestart() throws Exception {
        url = maria.createDatabase("mqdb_bl_sync");
        sql("DROP DATABASE IF EXISTS bl_shop", "CREATE DATABASE bl_shop", CREATE,
                "DROP TABLE IF EXISTS mqdb_binlog_state");
        insert(1, 3000); // before node A ever ran: reaches B by the initial load

        b = start("b", """
                node: { name: b, data-dir: b-data }
                broker: { embedded: { port: %d } }
                stores: { lite: { type: jdbc, url: "jdbc:sqlite:%s" } }
                channels: [ { name: shop:items, store: lite, subscribe: true } ]
                """.formatted(port, dir.resolve("b.sqlite")));
        AtomicBoolean loading = new AtomicBoolean(true);
        AtomicLong during = new AtomicLong();
        Thread writer = new Thread(() -> { // inserts and updates while A starts and loads
            try (Connection c = connect(); PreparedStatement up = c.prepareStatement(
                    "UPDATE bl_shop.items SET qty = qty + 1, name = CONCAT('during load ', id) WHERE id = ?")) {
                long k = 0;
                while (loading.get()) {
                    k++;
                    up.setLong(1, 1 + (k * 7919) % 3000);
                    up.executeUpdate();
                    insertOne(c, 20_000 + k);
                    during.set(k);
                }
            } catch (SQLException e) {
                throw new IllegalStateException(e);
            }
        }, "writer-during-load");
        writer.start();
        a = startA();
        await().atMost(Duration.ofSeconds(60)).until(() -> a.metrics().snapshotRows.sum() >= 3000);
        loading.set(false);
        writer.join();
        System.out.printf("%d inserts and updates made while node a started and loaded%n", during.get());
        assertThat(during.get()).as("writes overlapped the load").isPositive();

        insert(3001, 3300);
        await().atMost(Duration.ofSeconds(30)).until(() -> a.metrics().published.sum() > 3000);
        sql("UPDATE bl_shop.items SET name = CONCAT(name, ' (renamed)'), qty = qty + 1 WHERE id % 7 = 0",
                "UPDATE bl_shop.items SET price = NULL, doc = NULL, data = NULL WHERE id % 11 = 0",
                "DELETE FROM bl_shop.items WHERE id % 13 = 0",
                "UPDATE bl_shop.items SET id = id + 100000 WHERE id = 5"); // a key change: delete 5, insert 100005
        a.close(); // mid-stream: the changes above are captured, some published, some not yet
        a = null;
        insert(3301, 3500);
        sql("UPDATE bl_shop.items SET active = NOT active, at = at + INTERVAL 1 MICROSECOND WHERE id % 5 = 0",
                "DELETE FROM bl_shop.items WHERE id BETWEEN 3400 AND 3409");
        System.out.println("node a stopped while plain JDBC inserted 200 rows, updated and deleted some");
        a = startA();
        insert(3501, 3700);
        sql("UPDATE bl_shop.items SET ratio = ratio * 2, uid = NULL WHERE id > 3600",
                "DELETE FROM bl_shop.items WHERE id % 17 = 0");

        long source = count();
        LocalTable src = a.table("shop:items");
        LocalTable dst = b.table("shop:items");
        await().atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofMillis(250)).untilAsserted(() -> {
            assertThat(dst.schema()).isPresent();
            assertThat(dst.count()).isEqualTo(source);
            assertThat(comparable(all(dst))).containsExactlyElementsOf(comparable(all(src)));
        });
        int checked = 0;
        List<Row> left = all(src);
        List<Row> right = all(dst);
        for (int i = 0; i < left.size(); i++) {
            for (Column c : src.schema().orElseThrow().columns()) {
                Object x = left.get(i).get(c.name());
                Object y = right.get(i).get(c.name());
                assertThat(comparable(y)).as("row %d column %s", i, c.name()).isEqualTo(comparable(x));
                assertThat(y == null ? null : y.getClass()).as("type of column %s", c.name())
                        .isEqualTo(x == null ? null : x.getClass());
            }
            checked++;
        }
        assertThat(dst.get(Key.of(5L))).isEmpty();
        assertThat(dst.get(Key.of(100_005L))).isPresent();
        assertThat(a.metrics().snapshotRows.sum()).isZero(); // the restarted node did not load again
        assertThat(b.metrics().deadLetters.sum()).isZero();
        System.out.printf("MariaDB (binlog) -> SQLite: %d rows checked (11 columns each), mismatches = 0%n", checked);
    }

    private MqdbNode startA() throws Exception {
        return start("a", """
                node: { name: a, data-dir: a-data }
                broker: { uris: [ "tcp://127.0.0.1:%d" ] }
                stores: { maria: { type: jdbc, url: "%s", username: "%s"%s, capture: log, binlog-server-id: %d,
                                   heartbeat-interval: 1s, schema-map: { shop: bl_shop } } }
                channels: [ { name: shop:items, store: maria, publish: true } ]
                """.formatted(port, url, maria.user(),
                maria.password().isEmpty() ? "" : ", password: \"" + maria.password() + "\"", serverId));
    }

    private MqdbNode start(String name, String yaml) throws Exception {
        Path file = dir.resolve(name + ".yaml");
        Files.writeString(file, yaml);
        return MqdbNode.start(ConfigLoader.load(file), plugins);
    }

    private Connection connect() throws SQLException {
        return DriverManager.getConnection(url, maria.user(), maria.password());
    }

    private void sql(String... statements) throws SQLException {
        try (Connection c = connect(); Statement st = c.createStatement()) {
            for (String s : statements) {
                st.execute(s);
            }
        }
    }

    private long count() throws SQLException {
        try (Connection c = connect(); var rs = c.createStatement().executeQuery("SELECT count(*) FROM bl_shop.items")) {
            rs.next();
            return rs.getLong(1);
        }
    }

    /** Inserts ids from..to in transactions of 50 rows, every value varied, some null. */
    private void insert(int from, int to) throws SQLException {
        try (Connection c = connect(); PreparedStatement ps = c.prepareStatement(INSERT)) {
            c.setAutoCommit(false);
            for (int i = from; i <= to; i++) {
                bind(ps, i);
                ps.addBatch();
                if (i % 50 == 0 || i == to) {
                    ps.executeBatch();
                    c.commit();
                }
            }
        }
    }

    private static void insertOne(Connection c, long i) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement(INSERT)) {
            bind(ps, i);
            ps.executeUpdate();
        }
    }

    private static void bind(PreparedStatement ps, long i) throws SQLException {
        ps.setLong(1, i);
        ps.setString(2, i % 9 == 0 ? null : "item " + i + " \u00e9\u4e2d\ud83d\ude00 'quoted'");
        ps.setLong(3, i * 3L - 1000);
        ps.setString(4, i % 4 == 0 ? i + ".50" : i % 4 == 1 ? "-" + i + ".000100" : "1" + i);
        ps.setDouble(5, i / 3.0);
        ps.setBoolean(6, i % 2 == 0);
        ps.setBytes(7, new byte[] {(byte) i, 0, (byte) 0xff, (byte) (i >> 8)});
        ps.setString(8, "2024-0" + (1 + i % 9) + "-1" + (i % 10) + " 1" + (i % 10) + ":0" + (i % 10) + ":00."
                + String.format("%06d", i * 37 % 1_000_000));
        ps.setString(9, (1990 + i % 40) + "-12-3" + (i % 2));
        ps.setString(10, String.format("00000000-0000-4000-8000-%012d", i));
        ps.setString(11, "{\"n\": " + i + ", \"tags\": [\"a\", \"b\"], \"s\": \"x\\\"y\"}");
    }
}
