package io.mqdb.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.mqdb.config.ConfigLoader;
import io.mqdb.node.MqdbNode;
import io.mqdb.plugin.PluginRegistry;
import io.mqdb.spi.Key;
import io.mqdb.spi.Row;
import io.mqdb.testing.MosquittoServer;
import io.mqdb.testing.PostgresServer;
import io.mqdb.testing.ServerFixture;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * An edge node between two brokers (issue 17, the factory-edge story of issue 20, with the configs of
 * {@code examples/factory-edge/}): {@code edge} runs the embedded broker where
 * sensors write {@code default:sensor_data} with {@code mosquitto_pub}, keeps it in MapDB and forwards it in batches
 * to headquarters through its outbox on a second connection, {@code brokers.hq}, an upstream Mosquitto; {@code hq}
 * (PostgreSQL) subscribes it there and publishes {@code default:configs}, which the edge subscribes via {@code hq}.
 * 10,000 sensor writes, the upstream Mosquitto killed ({@code kill -9}) for the middle third: the edge keeps taking and
 * storing writes meanwhile; every write reaches PostgreSQL, in far fewer messages than writes (printed); a sensor's
 * delete reaches it too; a config row written at headquarters reaches the edge.
 */
class EdgeNodeIT {
    private static final Duration WAIT = Duration.ofSeconds(120);
    private static final int WRITES = 10_000;
    private static final Path EXAMPLE = Path.of("..", "examples", "factory-edge");

    @TempDir
    Path dir;
    private final PluginRegistry plugins = PluginRegistry.load(Optional.empty(), EdgeNodeIT.class.getClassLoader());
    private final PostgresServer pg = PostgresServer.shared();
    private final List<AutoCloseable> open = new ArrayList<>();
    private String pgUrl;

    @AfterEach
    void stop() throws Exception {
        for (int i = open.size() - 1; i >= 0; i--) {
            open.get(i).close();
        }
    }

    @Test
    void sensorWritesReachHeadquartersThroughAnUpstreamOutageAndConfigsComeDown() throws Exception {
        pgUrl = pg.createDatabase("mqdb_edge");
        sql("DROP SCHEMA IF EXISTS \"default\" CASCADE", "DROP TABLE IF EXISTS public.mqdb_changelog",
                Files.readString(EXAMPLE.resolve("configs.sql")));
        MosquittoServer upstream = MosquittoServer.startKillable();
        open.add(upstream);
        int localPort = ServerFixture.freePort();
        Map<String, String> env = Map.of("HQ_BROKER", upstream.uri(), "PG_URL", pgUrl, "PGUSER", pg.user(),
                "PGPASSWORD", pg.password().isEmpty() ? "unused" : pg.password(),
                "EDGE_PORT", Integer.toString(localPort), "EDGE_HTTP", Integer.toString(ServerFixture.freePort()),
                "EDGE_DATA", dir.resolve("edge-data").toString(), "HQ_DATA", dir.resolve("hq-data").toString());
        MqdbNode hq = start("hq.yaml", env);
        MqdbNode edge = start("edge.yaml", env);
        // the config row configs.sql wrote comes down with hq's initial load; the edge creates the table with it
        await().atMost(WAIT).ignoreExceptions().until(() -> edge.table("default:configs").get(Key.of(1L)).isPresent());

        // a config row that exists only at the edge (written there by hand): no catch-up may wipe it
        Row edgeOnly = Row.of(Map.of("id", 99L, "name", "local-override", "value", "edge"));
        edge.table("default:configs").upsert(edgeOnly);

        sensors(localPort, 1, 3_334);
        await().atMost(WAIT).until(() -> pgCount("sensor_data") >= 1);
        upstream.kill();
        long killedAt = System.nanoTime();
        sql("UPDATE \"default\".configs SET value = '20ms' WHERE id = 1"); // held by hq until its broker is back
        sensors(localPort, 3_335, 6_667);
        await().atMost(WAIT).until(() -> edge.table("default:sensor_data").count() == 6_667);
        long pgWhileDown = pgCount("sensor_data");
        assertThat(pgWhileDown).as("nothing reached headquarters while its broker was down").isLessThan(6_667);
        upstream.startAgain();
        double downSeconds = (System.nanoTime() - killedAt) / 1e9;
        sensors(localPort, 6_668, WRITES);
        await().atMost(WAIT).until(() -> pgCount("sensor_data") == WRITES);
        try (Connection c = DriverManager.getConnection(pgUrl, pg.user(), pg.password());
             Statement s = c.createStatement();
             ResultSet rs = s.executeQuery("SELECT count(*), count(DISTINCT id), min(id), max(id), "
                     + "sum(CASE WHEN value = id * 0.5 AND sensor = 's' || (id % 7) THEN 1 ELSE 0 END) "
                     + "FROM \"default\".sensor_data")) {
            rs.next();
            assertThat(rs.getLong(1)).isEqualTo(WRITES);
            assertThat(rs.getLong(2)).isEqualTo(WRITES);
            assertThat(rs.getLong(3)).isEqualTo(1);
            assertThat(rs.getLong(4)).isEqualTo(WRITES);
            assertThat(rs.getLong(5)).as("every row as the sensor wrote it").isEqualTo(WRITES);
        }
        long messages = edge.metrics().publishedMessages.sum();
        System.out.printf("EdgeNodeIT: %,d sensor writes into the edge's broker; headquarters' broker down %.1f s"
                        + " (it held %,d rows then, the edge %,d); all %,d in PostgreSQL, sent in %,d messages"
                        + " (%.0f writes per message), edge published %,d changes%n", WRITES, downSeconds,
                pgWhileDown, 6_667, pgCount("sensor_data"), messages, (double) WRITES / Math.max(1, messages),
                edge.metrics().published.sum());
        assertThat(messages).as("forwarded in batches").isLessThan(WRITES / 10);

        Process delete = new ProcessBuilder("mosquitto_pub", "-h", "127.0.0.1", "-p", Integer.toString(localPort),
                "-q", "1", "-t", "mqdb/mqdb/ch/default/sensor_data", "-m",
                "{\"v\":1,\"op\":\"delete\",\"key\":{\"id\":42}}").redirectErrorStream(true).start();
        assertThat(delete.waitFor(20, TimeUnit.SECONDS)).isTrue();
        await().atMost(WAIT).until(() -> pgCount("sensor_data") == WRITES - 1);
        assertThat(edge.table("default:sensor_data").get(Key.of(42L))).isEmpty();

        sql("INSERT INTO \"default\".configs VALUES (2, 'threshold', '42')");
        await().atMost(WAIT).until(() -> edge.table("default:configs").get(Key.of(2L)).isPresent());
        assertThat(edge.table("default:configs").get(Key.of(2L)).orElseThrow().get("value")).isEqualTo("42");
        await().atMost(WAIT).until(() -> "20ms".equals(
                edge.table("default:configs").get(Key.of(1L)).orElseThrow().get("value")));
        assertThat(edge.table("default:configs").get(Key.of(99L)).map(r -> r.get("value")))
                .as("the edge-only row survives").contains("edge");
        assertThat(edge.table("default:sensor_data").count()).as("nothing wiped at the edge")
                .isEqualTo(WRITES - 1);
        assertThat(hq.failure()).isEmpty();
        assertThat(edge.failure()).isEmpty();
        System.out.printf("EdgeNodeIT: a sensor's delete reached PostgreSQL; a config change made at headquarters"
                + " while its broker was down and a new config row reached the edge; the edge-only config row and"
                + " the edge's %,d sensor rows survived: %s%n", edge.table("default:sensor_data").count(), edge.table("default:configs").get(Key.of(2L)).orElseThrow());
    }

    /** Writes sensor rows {@code from..to} with one {@code mosquitto_pub -l}: a message per line, QoS 1. */
    private void sensors(int port, int from, int to) throws Exception {
        StringBuilder lines = new StringBuilder();
        for (int id = from; id <= to; id++) {
            lines.append("{\"v\":1,\"op\":\"upsert\",\"row\":{\"id\":").append(id).append(",\"sensor\":\"s")
                    .append(id % 7).append("\",\"value\":").append(id * 0.5).append("}}\n");
        }
        Path file = dir.resolve("sensors-" + from + ".txt");
        Files.writeString(file, lines, StandardCharsets.UTF_8);
        Process p = new ProcessBuilder("mosquitto_pub", "-h", "127.0.0.1", "-p", Integer.toString(port), "-q", "1",
                "-t", "mqdb/mqdb/ch/default/sensor_data", "-l").redirectInput(file.toFile())
                .redirectErrorStream(true).start();
        assertThat(p.waitFor(120, TimeUnit.SECONDS)).isTrue();
        assertThat(p.exitValue()).as(new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8))
                .isZero();
    }

    private long pgCount(String table) throws SQLException {
        try (Connection c = DriverManager.getConnection(pgUrl, pg.user(), pg.password());
             Statement s = c.createStatement();
             ResultSet rs = s.executeQuery("SELECT count(*) FROM \"default\"." + table)) {
            rs.next();
            return rs.getLong(1);
        } catch (SQLException e) {
            if ("42P01".equals(e.getSQLState())) {
                return 0; // the table is made by the first batch that reaches headquarters
            }
            throw e;
        }
    }

    /** Starts a node from the example's config, its data under the test's folder. */
    private MqdbNode start(String file, Map<String, String> env) throws Exception {
        MqdbNode n = MqdbNode.start(ConfigLoader.parse(Files.readString(EXAMPLE.resolve(file)), dir.resolve(file),
                env), plugins);
        open.add(n);
        return n;
    }

    private void sql(String... statements) throws SQLException {
        try (Connection c = DriverManager.getConnection(pgUrl, pg.user(), pg.password());
             Statement s = c.createStatement()) {
            for (String q : statements) {
                s.execute(q);
            }
        }
    }
}
