package io.mqdb.fault;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import io.mqdb.spi.Key;
import io.mqdb.spi.Row;
import io.mqdb.spi.Store;
import io.mqdb.spi.TableId;
import io.mqdb.testing.RedisServer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.eclipse.paho.mqttv5.client.MqttClient;
import org.eclipse.paho.mqttv5.client.MqttConnectionOptions;
import org.eclipse.paho.mqttv5.client.persist.MemoryPersistence;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Source: a plain Paho v5 client publishing on the channel topic → broker Mosquitto → target Redis (node
 * {@code sub}). Good events, then three poison messages (malformed JSON; a value of the wrong type for a column; an
 * upsert without its key), then good events again. The good ones must all be applied, the channel must not stall,
 * and each poison message must be in {@code <data-dir>/dead-letters/poison.items.jsonl} with its reason.
 */
class FaultPoisonMessageIT {
    private static final TableId TABLE = TableId.parse("poison:items");
    private static final String TOPIC = "mqdb/mqdb/ch/poison/items";
    private static final String SCHEMA = "{\"table\":\"poison:items\",\"columns\":["
            + "{\"name\":\"id\",\"type\":\"int64\",\"nullable\":false},{\"name\":\"name\",\"type\":\"string\"},"
            + "{\"name\":\"qty\",\"type\":\"int64\"}],\"primaryKey\":[\"id\"]}";

    @TempDir
    Path dir;
    private KillableMosquitto broker;
    private TarballNodes nodes;
    private MqttClient client;

    @AfterEach
    void stop() throws Exception {
        try {
            if (client != null && client.isConnected()) {
                client.disconnect();
            }
            if (client != null) {
                client.close();
            }
        } finally {
            if (nodes != null) {
                nodes.close();
            }
            if (broker != null) {
                broker.close();
            }
        }
    }

    @Test
    void poisonMessagesAreDeadLetteredWithTheirReasonAndTheGoodOnesApply() throws Exception {
        broker = KillableMosquitto.start();
        RedisServer redis = RedisServer.shared();
        nodes = TarballNodes.unpack(dir);
        nodes.config("sub", """
                node: { name: sub, data-dir: sub-data }
                broker: { uris: [ "%s" ] }
                stores: { cache: { type: redis, uri: "%s" } }
                channels: [ { name: %s, store: cache, subscribe: true } ]
                """.formatted(broker.uri(), redis.uri(), TABLE));
        nodes.start("sub");
        Store target = nodes.store("redis", Map.of("uri", redis.uri()));
        client = new MqttClient(broker.uri(), "fault-poison-writer", new MemoryPersistence());
        MqttConnectionOptions options = new MqttConnectionOptions();
        options.setCleanStart(true);
        client.connect(options);

        Map<Key, Row> expected = new TreeMap<>();
        StringBuilder events = new StringBuilder();
        for (long id = 1; id <= 5; id++) {
            events.append(id == 1 ? "" : ",").append("{\"op\":\"upsert\",\"row\":{\"id\":").append(id)
                    .append(",\"name\":\"good ").append(id).append("\",\"qty\":").append(id).append("}}");
            expected.put(Key.of(id), Row.of(Map.of("id", id, "name", "good " + id, "qty", id)));
        }
        publish("{\"v\":1,\"origin\":\"poison-writer\",\"schema\":" + SCHEMA + ",\"events\":[" + events + "]}");
        List<String> poison = List.of(
                "{\"v\":1,\"op\":\"upsert\",\"row\":{\"id\":6,\"name\":",
                "{\"v\":1,\"op\":\"upsert\",\"row\":{\"id\":7,\"name\":\"wrong type\",\"qty\":\"lots\"}}",
                "{\"v\":1,\"op\":\"upsert\",\"row\":{\"name\":\"no key\",\"qty\":8}}");
        for (String p : poison) {
            publish(p);
        }
        for (long id = 10; id <= 14; id++) {
            publish("{\"v\":1,\"op\":\"upsert\",\"row\":{\"id\":" + id + ",\"name\":\"after " + id + "\",\"qty\":"
                    + id + "}}");
            expected.put(Key.of(id), Row.of(Map.of("id", id, "name", "after " + id, "qty", id)));
        }
        publish("{\"v\":1,\"op\":\"upsert\",\"row\":{\"id\":2,\"qty\":20}}");
        expected.put(Key.of(2L), Row.of(Map.of("id", 2L, "name", "good 2", "qty", 20L)));
        publish("{\"v\":1,\"op\":\"delete\",\"key\":{\"id\":3}}");
        expected.remove(Key.of(3L));

        FaultCheck.awaitEqual("FaultPoisonMessageIT", "3 poison messages (malformed JSON, wrong type for qty, upsert"
                + " without its key) between 12 good ones; source Paho v5 client, target Redis, broker Mosquitto",
                Duration.ofSeconds(30), () -> FaultCheck.compare(expected, FaultCheck.rows(target, TABLE)));

        Path file = nodes.dataDir("sub").resolve("dead-letters/poison.items.jsonl");
        List<JsonObject> letters = new ArrayList<>();
        await().atMost(Duration.ofSeconds(10)).untilAsserted(() -> {
            letters.clear();
            for (String line : Files.exists(file) ? Files.readAllLines(file, StandardCharsets.UTF_8)
                    : List.<String>of()) {
                letters.add(JsonParser.parseString(line).getAsJsonObject());
            }
            assertThat(letters).as("dead letters in " + file).hasSize(poison.size());
        });
        for (int i = 0; i < poison.size(); i++) {
            JsonObject letter = letters.get(i);
            System.out.printf("FaultPoisonMessageIT: dead letter %d: reason=%s%n", i + 1, letter.get("reason"));
            assertThat(letter.get("topic").getAsString()).isEqualTo(TOPIC);
            assertThat(letter.get("reason").getAsString()).isNotBlank();
        }
        assertThat(letters.get(0).get("payload").getAsString()).isEqualTo(poison.get(0));
        assertThat(letters.get(0).get("reason").getAsString()).startsWith("malformed payload");
        assertThat(letters.get(1).get("payload").getAsString()).contains("\"lots\"");
        assertThat(letters.get(1).get("reason").getAsString()).contains("qty");
        assertThat(letters.get(2).get("payload").getAsString()).contains("no key");
        assertThat(letters.get(2).get("reason").getAsString()).contains("key column id is missing");
    }

    private void publish(String payload) throws Exception {
        client.publish(TOPIC, payload.getBytes(StandardCharsets.UTF_8), 1, false);
    }
}
