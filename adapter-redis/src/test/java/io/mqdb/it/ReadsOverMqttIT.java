package io.mqdb.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import io.mqdb.cli.Main;
import io.mqdb.config.ConfigLoader;
import io.mqdb.node.MqdbNode;
import io.mqdb.node.read.RemoteReader;
import io.mqdb.plugin.PluginRegistry;
import io.mqdb.testing.PostgresServer;
import io.mqdb.testing.MosquittoRr;
import io.mqdb.testing.RedisServer;
import io.mqdb.testing.ServerFixture;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
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
 * Reads over MQTT on real parts: {@code pg} publishes {@code shop:items} from PostgreSQL, {@code redis} (Redis, the
 * embedded HiveMQ broker) and {@code lite} (MapDB, on the Paho client, so both transports carry the MQTT 5 response
 * topic and correlation data) subscribe it with {@code reads: true}. {@code mqdb get} reads a
 * row at ONE, QUORUM and ALL (both replicas), sees an update with its newer version, a missing key, and, with the
 * Redis server stopped, still reads at ONE while QUORUM is refused. A plain MQTT 5 client ({@code mosquitto_rr} from
 * Debian's mosquitto-clients) reads the same; requests that are malformed or answer elsewhere than
 * {@code mqdb/<cluster>/reply/} are refused and counted.
 */
class ReadsOverMqttIT {
    private static final Duration WAIT = Duration.ofSeconds(60);
    private static final String CHANNEL = "shop:items";

    @TempDir
    Path dir;
    private final PluginRegistry plugins = PluginRegistry.load(Optional.empty(),
            ReadsOverMqttIT.class.getClassLoader());
    private final PostgresServer pg = PostgresServer.shared();
    private final int brokerPort = ServerFixture.freePort();
    private final List<MqdbNode> nodes = new ArrayList<>();
    private RedisServer redis;
    private String pgUrl;

    @AfterEach
    void stop() {
        for (int i = nodes.size() - 1; i >= 0; i--) {
            nodes.get(i).close();
        }
        if (redis != null) {
            redis.close();
        }
    }

    @Test
    void rowsAreReadOverMqttAtEachConsistencyAndByAPlainMqttClient() throws Exception {
        pgUrl = pg.createDatabase("mqdb_reads");
        sql("DROP SCHEMA IF EXISTS shop CASCADE", "DROP TABLE IF EXISTS public.mqdb_changelog", "CREATE SCHEMA shop",
                "CREATE TABLE shop.items (id bigint PRIMARY KEY, name text)",
                "INSERT INTO shop.items SELECT g, 'item ' || g FROM generate_series(1, 100) g");
        redis = RedisServer.startPrivate();
        MqdbNode r = start("redis", """
                node: { name: redis, data-dir: redis-data }
                broker: { embedded: { port: %d } }
                stores: { r: { type: redis, uri: "%s" } }
                channels: [ { name: shop:items, store: r, subscribe: true, reads: true } ]
                """.formatted(brokerPort, redis.uri()));
        MqdbNode lite = start("lite", """
                node: { name: lite, data-dir: lite-data }
                broker: { uris: [ "tcp://127.0.0.1:%d" ], client: paho }
                stores: { m: { type: mapdb, file: lite.db } }
                channels: [ { name: shop:items, store: m, subscribe: true, reads: true } ]
                """.formatted(brokerPort));
        MqdbNode pgNode = start("pg", """
                node: { name: pg, data-dir: pg-data }
                broker: { uris: [ "tcp://127.0.0.1:%d" ] }
                stores: { pg: { type: jdbc, url: "%s", username: "%s"%s, capture: trigger, poll-interval: 50ms } }
                channels: [ { name: shop:items, store: pg, publish: true } ]
                """.formatted(brokerPort, pgUrl, pg.user(),
                pg.password().isEmpty() ? "" : ", password: \"" + pg.password() + "\""));
        await().atMost(WAIT).until(() -> r.table(CHANNEL).count() == 100 && lite.table(CHANNEL).count() == 100);

        Get one = get("ONE", "id=7");
        assertThat(one.code()).as(one.err()).isZero();
        assertThat(one.json().getAsJsonObject("row").get("name").getAsString()).isEqualTo("item 7");
        assertThat(one.json().get("replicas").getAsInt()).isEqualTo(2);
        Get all = get("ALL", "id=7");
        assertThat(all.code()).as(all.err()).isZero();
        assertThat(all.json().getAsJsonArray("answered").toString()).isEqualTo("[\"lite\",\"redis\"]");
        assertThat(all.json().getAsJsonArray("stale")).isEmpty();
        long before = all.json().getAsJsonObject("version").get("hlc").getAsLong();
        System.out.printf("ReadsOverMqttIT: ONE %s; ALL %s%n", one.json(), all.json());

        sql("UPDATE shop.items SET name = 'renamed' WHERE id = 7");
        await().atMost(WAIT).until(() -> {
            Get q = get("QUORUM", "id=7");
            return q.code() == 0 && q.json().getAsJsonObject("row").get("name").getAsString().equals("renamed");
        });
        Get quorum = get("QUORUM", "id=7");
        assertThat(quorum.json().getAsJsonObject("version").get("hlc").getAsLong()).isGreaterThan(before);
        assertThat(quorum.json().getAsJsonObject("version").get("origin").getAsString()).isEqualTo("pg");
        RemoteReader.Result viaApi = pgNode.remote(CHANNEL).get(Map.of("id", 7), RemoteReader.Consistency.QUORUM,
                Duration.ofSeconds(3));
        assertThat(viaApi.reached()).as(viaApi.errors().toString()).isTrue();
        assertThat(viaApi.row().orElseThrow().get("name").getAsString()).isEqualTo("renamed");
        assertThat(viaApi.answered()).containsExactly("lite", "redis");
        List<Map<String, Object>> fifty = new ArrayList<>();
        for (long id = 1; id <= 50; id++) {
            fifty.add(Map.of("id", id));
        }
        List<RemoteReader.Result> many = pgNode.remote(CHANNEL).getAll(fifty, RemoteReader.Consistency.ALL,
                Duration.ofSeconds(3));
        assertThat(many).hasSize(50).allMatch(x -> x.reached() && x.found() && x.stale().isEmpty());
        assertThat(many.get(6).row().orElseThrow().get("name").getAsString()).isEqualTo("renamed");
        assertThat(many.get(49).row().orElseThrow().get("name").getAsString()).isEqualTo("item 50");
        System.out.printf("ReadsOverMqttIT: embedding API on pg: QUORUM %s; multi-get of 50 keys at ALL: all found%n",
                viaApi);
        Get missing = get("ONE", "id=100000");
        assertThat(missing.code()).as(missing.err()).isEqualTo(4);
        assertThat(missing.json().get("found").getAsBoolean()).isFalse();
        Get badKey = get("ONE", "name=x");
        assertThat(badKey.code()).isEqualTo(3);
        assertThat(badKey.err()).contains("error from redis: the key has no value for id");

        String rr = mosquittoRr("mqdb/mqdb/reply/rr/1", "{\"key\":{\"id\":7}}");
        assertThat(JsonParser.parseString(rr).getAsJsonObject().getAsJsonArray("rows").get(0).getAsJsonObject()
                .getAsJsonObject("row").get("name").getAsString()).isEqualTo("renamed");
        assertThat(mosquittoRr("mqdb/mqdb/reply/rr/2", "not json")).contains("\"error\":\"the request is not a JSON "
                + "object");
        long refusedBefore = r.metrics().readsRefused.sum();
        assertThat(mosquittoRrTimesOut("mqdb/mqdb/ch/shop/items", "{\"key\":{\"id\":7}}"))
                .as("no answer on a channel topic").isTrue();
        await().atMost(WAIT).until(() -> r.metrics().readsRefused.sum() > refusedBefore);
        assertThat(r.table(CHANNEL).count()).as("nothing was written by the refused request").isEqualTo(100);
        System.out.printf("ReadsOverMqttIT: mosquitto_rr: %s; reads answered by redis %d, refused %d%n", rr,
                r.metrics().readsServed.sum(), r.metrics().readsRefused.sum());

        redis.stop();
        Get oneWhileDown = get("ONE", "id=8");
        assertThat(oneWhileDown.code()).as(oneWhileDown.err()).isZero();
        assertThat(oneWhileDown.json().getAsJsonArray("answered").toString()).isEqualTo("[\"lite\"]");
        Get quorumWhileDown = get("QUORUM", "id=8");
        assertThat(quorumWhileDown.code()).isEqualTo(3);
        assertThat(quorumWhileDown.err()).contains("error from redis").contains("consistency QUORUM not reached");
        System.out.printf("ReadsOverMqttIT: Redis down: ONE answered by %s; QUORUM: %s%n",
                oneWhileDown.json().getAsJsonArray("answered"), quorumWhileDown.err().strip());
    }

    private record Get(int code, JsonObject json, String err) {
    }

    private Get get(String consistency, String key) {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        int code = Main.execute(new PrintWriter(out, true), new PrintWriter(err, true), "get", "--broker",
                "tcp://127.0.0.1:" + brokerPort, "--channel", CHANNEL, "--consistency", consistency, "--wait", "3",
                key);
        String text = out.toString().strip();
        return new Get(code, text.startsWith("{") ? JsonParser.parseString(text).getAsJsonObject() : new JsonObject(),
                err.toString());
    }

    private String mosquittoRr(String responseTopic, String payload) throws Exception {
        return new MosquittoRr(brokerPort).answer("mqdb/mqdb/read/shop/items", responseTopic, payload);
    }

    private boolean mosquittoRrTimesOut(String responseTopic, String payload) throws Exception {
        return new MosquittoRr(brokerPort).timesOut("mqdb/mqdb/read/shop/items", responseTopic, payload);
    }

    private MqdbNode start(String name, String yaml) throws Exception {
        Path file = dir.resolve(name + ".yaml");
        Files.writeString(file, yaml);
        MqdbNode n = MqdbNode.start(ConfigLoader.load(file), plugins);
        nodes.add(n);
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
