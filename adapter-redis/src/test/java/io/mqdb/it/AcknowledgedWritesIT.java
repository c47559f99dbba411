package io.mqdb.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import io.mqdb.cli.Main;
import io.mqdb.config.ConfigLoader;
import io.mqdb.node.MqdbNode;
import io.mqdb.node.read.RemoteReader.Consistency;
import io.mqdb.node.read.RemoteTable;
import io.mqdb.node.read.RemoteWriter;
import io.mqdb.plugin.PluginRegistry;
import io.mqdb.spi.Key;
import io.mqdb.testing.MosquittoRr;
import io.mqdb.testing.RedisServer;
import io.mqdb.testing.ServerFixture;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Acknowledged writes over MQTT on real parts: {@code redis} (Redis, the embedded HiveMQ broker) and {@code lite}
 * (MapDB, on the Paho client) subscribe {@code shop:carts}, which has no publisher: an application node,
 * {@code app}, writes it over MQTT with {@code node.remote(...).upsert/delete} and waits for receipts. A write
 * confirmed at ALL is in both stores the moment the call returns (each store committed it before its receipt); a bad
 * value comes back as a refusal naming the reason; {@code mqdb put} and a plain MQTT 5 client ({@code mosquitto_rr})
 * get receipts too, and a response topic outside {@code mqdb/<cluster>/reply/} gets none. With {@code lite} stopped,
 * ONE is confirmed by {@code redis} while ALL times out after retries naming {@code lite (offline)}; once {@code lite}
 * is back, its persistent session hands it the write it missed.
 */
class AcknowledgedWritesIT {
    private static final Duration WAIT = Duration.ofSeconds(60);
    private static final String CHANNEL = "shop:carts";

    @TempDir
    Path dir;
    private final PluginRegistry plugins = PluginRegistry.load(Optional.empty(),
            AcknowledgedWritesIT.class.getClassLoader());
    private final int brokerPort = ServerFixture.freePort();
    private final List<MqdbNode> nodes = new ArrayList<>();
    private RedisServer redis;

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
    void writesAreConfirmedAfterEachSubscriberCommittedThem() throws Exception {
        redis = RedisServer.startPrivate();
        MqdbNode r = start("redis", """
                node: { name: redis, data-dir: redis-data }
                broker: { embedded: { port: %d } }
                stores: { r: { type: redis, uri: "%s" } }
                channels: [ { name: shop:carts, store: r, subscribe: true } ]
                """.formatted(brokerPort, redis.uri()));
        String liteYaml = """
                node: { name: lite, data-dir: lite-data }
                broker: { uris: [ "tcp://127.0.0.1:%d" ], client: paho }
                stores: { m: { type: mapdb, file: lite.db } }
                channels: [ { name: shop:carts, store: m, subscribe: true } ]
                """.formatted(brokerPort);
        MqdbNode lite = start("lite", liteYaml);
        MqdbNode app = start("app", """
                node: { name: app, data-dir: app-data }
                broker: { uris: [ "tcp://127.0.0.1:%d" ] }
                stores: { own: { type: mapdb, file: app.db } }
                channels: [ { name: shop:notes, store: own, subscribe: true } ]
                """.formatted(brokerPort));
        RemoteTable carts = app.remote(CHANNEL);

        RemoteWriter.Result first = carts.upsert(row(1, "pen", 3), Consistency.ALL, Duration.ofSeconds(20));
        assertThat(first.reached()).as(first.toString()).isTrue();
        assertThat(first.confirmed()).containsExactly("lite", "redis");
        assertThat(first.replicas()).containsOnlyKeys("lite", "redis");
        // no await: a receipt is sent only once the store committed
        assertThat(r.table(CHANNEL).get(Key.of(1L))).isPresent();
        assertThat(lite.table(CHANNEL).get(Key.of(1L)).orElseThrow().get("name")).isEqualTo("pen");
        System.out.printf("AcknowledgedWritesIT: first write at ALL: %s%n", first);

        long[] micros = new long[200];
        for (int i = 0; i < micros.length; i++) {
            long t0 = System.nanoTime();
            RemoteWriter.Result w = carts.upsert(row(100 + i, "item " + i, i), Consistency.QUORUM,
                    Duration.ofSeconds(20));
            micros[i] = (System.nanoTime() - t0) / 1000;
            assertThat(w.reached()).as(w.toString()).isTrue();
        }
        assertThat(r.table(CHANNEL).count()).isEqualTo(201);
        Arrays.sort(micros);
        System.out.printf("AcknowledgedWritesIT: 200 writes at QUORUM one after another: p50 %.1f ms, max %.1f ms"
                + " (a functional check, not a benchmark); lite holds %d rows%n", micros[100] / 1000.0,
                micros[199] / 1000.0, lite.table(CHANNEL).count());

        RemoteWriter.Result deleted = carts.delete(Map.of("id", 1), Consistency.ALL, Duration.ofSeconds(20));
        assertThat(deleted.reached()).as(deleted.toString()).isTrue();
        assertThat(r.table(CHANNEL).get(Key.of(1L))).isEmpty();
        assertThat(lite.table(CHANNEL).get(Key.of(1L))).isEmpty();

        Map<String, Object> bad = new LinkedHashMap<>();
        bad.put("id", "not a number");
        bad.put("name", "x");
        RemoteWriter.Result refused = carts.upsert(bad, Consistency.ALL, Duration.ofSeconds(10));
        assertThat(refused.reached()).isFalse();
        assertThat(refused.confirmed()).isEmpty();
        assertThat(refused.errors()).hasSize(2).allMatch(e -> e.contains("id"));
        System.out.printf("AcknowledgedWritesIT: a bad value: %s (%d attempt(s))%n", refused.errors(),
                refused.attempts());

        Put put = put("--acks", "ALL", "id=500", "name=from the cli", "qty=null");
        assertThat(put.code()).as(put.err()).isZero();
        assertThat(put.json().getAsJsonArray("confirmed").toString()).isEqualTo("[\"lite\",\"redis\"]");
        assertThat(r.table(CHANNEL).get(Key.of(500L)).orElseThrow().get("name")).isEqualTo("from the cli");
        Put putDelete = put("--acks", "QUORUM", "--delete", "id=500");
        assertThat(putDelete.code()).as(putDelete.err()).isZero();
        assertThat(r.table(CHANNEL).get(Key.of(500L))).isEmpty();

        String receipt = mosquittoRr("mqdb/mqdb/reply/rr/1", "{\"v\":1,\"op\":\"upsert\",\"row\":{\"id\":600,"
                + "\"name\":\"plain\"}}");
        JsonObject rr = JsonParser.parseString(receipt).getAsJsonObject();
        assertThat(rr.get("events").getAsInt()).isEqualTo(1);
        assertThat(rr.get("deadLettered").getAsInt()).isZero();
        assertThat(rr.get("node").getAsString()).isIn("lite", "redis");
        long refusedBefore = r.metrics().receiptsRefused.sum();
        assertThat(mosquittoRrTimesOut("mqdb/mqdb/ctl/redis/resend", "{\"v\":1,\"op\":\"upsert\",\"row\":{\"id\":601,"
                + "\"name\":\"no receipt\"}}")).as("no receipt on a control topic").isTrue();
        await().atMost(WAIT).until(() -> r.metrics().receiptsRefused.sum() > refusedBefore);
        assertThat(r.table(CHANNEL).get(Key.of(601L))).as("the write itself is applied").isPresent();
        System.out.printf("AcknowledgedWritesIT: mqdb put %s; mosquitto_rr %s; receipts sent by redis %d, refused"
                + " %d%n", put.json(), receipt, r.metrics().receiptsSent.sum(), r.metrics().receiptsRefused.sum());

        lite.close();
        nodes.remove(lite);
        await().atMost(WAIT).until(() -> Boolean.FALSE.equals(carts.subscribers().get("lite")));
        RemoteWriter.Result one = carts.upsert(row(900, "while lite is away", 1), Consistency.ONE,
                Duration.ofSeconds(10));
        assertThat(one.reached()).as(one.toString()).isTrue();
        assertThat(one.confirmed()).containsExactly("redis");
        RemoteWriter.Result all = carts.upsert(row(901, "needs lite", 1), Consistency.ALL, Duration.ofSeconds(3));
        assertThat(all.reached()).isFalse();
        assertThat(all.confirmed()).containsExactly("redis");
        assertThat(all.missing()).containsExactly("lite (offline)");
        assertThat(all.attempts()).as("retried within the wait").isGreaterThan(1);
        System.out.printf("AcknowledgedWritesIT: lite stopped: ONE %s; ALL not reached: missing %s after %d"
                + " attempts%n", one.confirmed(), all.missing(), all.attempts());

        MqdbNode back = start("lite", liteYaml);
        await().atMost(WAIT).until(() -> back.table(CHANNEL).get(Key.of(900L)).isPresent()
                && back.table(CHANNEL).get(Key.of(901L)).isPresent());
        await().atMost(WAIT).until(() -> Boolean.TRUE.equals(carts.subscribers().get("lite")));
        RemoteWriter.Result again = carts.upsert(row(902, "both again", 1), Consistency.ALL, Duration.ofSeconds(20));
        assertThat(again.reached()).as(again.toString()).isTrue();
        assertThat(back.table(CHANNEL).count()).isEqualTo(r.table(CHANNEL).count());
        System.out.printf("AcknowledgedWritesIT: lite back: it received the writes it missed from its session;"
                + " ALL confirmed by %s; rows lite %d, redis %d%n", again.confirmed(), back.table(CHANNEL).count(),
                r.table(CHANNEL).count());
    }

    private static Map<String, Object> row(long id, String name, int qty) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("id", id);
        m.put("name", name);
        m.put("qty", qty);
        return m;
    }

    private record Put(int code, JsonObject json, String err) {
    }

    private Put put(String... args) {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        List<String> all = new ArrayList<>(List.of("put", "--broker", "tcp://127.0.0.1:" + brokerPort, "--channel",
                CHANNEL, "--wait", "10"));
        all.addAll(List.of(args));
        int code = Main.execute(new PrintWriter(out, true), new PrintWriter(err, true), all.toArray(new String[0]));
        String text = out.toString().strip();
        return new Put(code, text.startsWith("{") ? JsonParser.parseString(text).getAsJsonObject() : new JsonObject(),
                err.toString());
    }

    private String mosquittoRr(String responseTopic, String payload) throws Exception {
        return new MosquittoRr(brokerPort).answer("mqdb/mqdb/ch/shop/carts", responseTopic, payload);
    }

    private boolean mosquittoRrTimesOut(String responseTopic, String payload) throws Exception {
        return new MosquittoRr(brokerPort).timesOut("mqdb/mqdb/ch/shop/carts", responseTopic, payload);
    }

    private MqdbNode start(String name, String yaml) throws Exception {
        Path file = dir.resolve(name + ".yaml");
        Files.writeString(file, yaml);
        MqdbNode n = MqdbNode.start(ConfigLoader.load(file), plugins);
        nodes.add(n);
        return n;
    }
}
