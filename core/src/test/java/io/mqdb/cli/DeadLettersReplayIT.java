package io.mqdb.cli;

import static io.mqdb.cli.DeadLettersCommandTest.BATCH;
import static io.mqdb.cli.DeadLettersCommandTest.append;
import static io.mqdb.cli.DeadLettersCommandTest.letter;
import static io.mqdb.cli.DeadLettersCommandTest.mqdb;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import io.mqdb.broker.HiveMqEmbeddedBroker;
import io.mqdb.cli.DeadLettersCommandTest.Run;
import io.mqdb.testing.MessageCallback;
import io.mqdb.testing.ServerFixture;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;


import org.eclipse.paho.mqttv5.client.MqttClient;
import org.eclipse.paho.mqttv5.client.MqttConnectionOptions;

import org.eclipse.paho.mqttv5.client.persist.MemoryPersistence;
import org.eclipse.paho.mqttv5.common.MqttException;
import org.eclipse.paho.mqttv5.common.MqttMessage;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code mqdb dead-letters replay} against the embedded HiveMQ, watched by a plain Paho subscriber. */
class DeadLettersReplayIT {
    @TempDir
    static Path brokerDir;
    static HiveMqEmbeddedBroker broker;

    @TempDir
    Path dir;
    Path config;
    Path dead;
    MqttClient subscriber;
    final List<Received> received = new CopyOnWriteArrayList<>();

    record Received(String topic, byte[] payload) {
    }

    @BeforeAll
    static void startBroker() throws InterruptedException {
        broker = new HiveMqEmbeddedBroker("127.0.0.1", ServerFixture.freePort(), brokerDir, 100_000);
        broker.start();
    }

    @AfterAll
    static void stopBroker() {
        broker.close();
    }

    @BeforeEach
    void setUp() throws Exception {
        config = dir.resolve("mqdb.yaml");
        Files.writeString(config, "node: { name: node-a, cluster: it, data-dir: data }\n"
                + "broker: { uris: [ \"" + broker.uri() + "\" ] }\n"
                + "stores: { local: { type: mapdb } }\n"
                + "channels: [ { name: shop:orders, subscribe: true }, { name: shop:items, subscribe: true } ]\n");
        dead = dir.resolve("data/dead-letters");
        subscriber = new MqttClient(broker.uri(), "dlq-it-watcher", new MemoryPersistence());
        // a callback, not subscribe(topic, qos, listener): in Paho 1.2.5 that overload recurses into a stack overflow
        subscriber.setCallback(MessageCallback.of((topic, message) ->
                received.add(new Received(topic, message.getPayload()))));
        MqttConnectionOptions o = new MqttConnectionOptions();
        o.setCleanStart(true);
        subscriber.connect(o);
        subscriber.subscribe("mqdb/it/ch/#", 1);
    }

    @AfterEach
    void closeSubscriber() throws MqttException {
        subscriber.disconnect();
        subscriber.close();
    }

    private List<String> payloadsOn(String topic) {
        return received.stream().filter(r -> r.topic().equals(topic))
                .map(r -> new String(r.payload(), StandardCharsets.UTF_8)).toList();
    }

    @Test
    void replayRepublishesTheExactPayloadsAndMovesTheLettersToReplayed() throws Exception {
        String other = "{\"v\":1,\"events\":[{\"op\":\"delete\",\"key\":{\"id\":7}}]}";
        JsonObject binary = JsonParser.parseString(letter("shop:orders", "not UTF-8", "x")).getAsJsonObject();
        binary.remove("payload");
        binary.addProperty("payloadBase64", "/wB7"); // 0xff 0x00 '{'
        append(dead.resolve("shop.orders.jsonl"), letter("shop:orders", "event 0: bad qty", BATCH),
                binary.toString(), letter("shop:orders", "event 0: bad id", other));
        String items = letter("shop:items", "kept", "{\"v\":1,\"events\":[]}");
        append(dead.resolve("shop.items.jsonl"), items);

        Run r = mqdb("dead-letters", "replay", "-c", config.toString(), "--channel", "shop:orders");

        assertThat(r.code()).as(r.err()).isZero();
        assertThat(r.out()).contains("replayed shop.orders:1 to mqdb/it/ch/shop/orders (" + BATCH.length() + " B)",
                "replayed 3 dead letter(s)");
        await().atMost(Duration.ofSeconds(10)).until(() -> received.size() >= 3);
        assertThat(payloadsOn("mqdb/it/ch/shop/orders")).startsWith(BATCH).endsWith(other);
        assertThat(received.get(1).payload()).containsExactly(0xff, 0x00, '{');
        assertThat(payloadsOn("mqdb/it/ch/shop/items")).isEmpty();

        // the live file keeps its line count and the other channel's letters; the archive holds the three
        assertThat(Files.readAllLines(dead.resolve("shop.orders.jsonl"))).containsExactly("", "", "");
        assertThat(Files.readAllLines(dead.resolve("shop.items.jsonl"))).containsExactly(items);
        List<String> archived = Files.readAllLines(dead.resolve("replayed/shop.orders.jsonl"));
        assertThat(archived).hasSize(3);
        assertThat(JsonParser.parseString(archived.get(2)).getAsJsonObject().get("payload").getAsString())
                .isEqualTo(other);
        assertThat(archived).allMatch(l -> l.contains("\"replayedAt\":"));
        assertThat(mqdb("dead-letters", "list", "-c", config.toString()).out())
                .contains("shop.items:1").doesNotContain("shop.orders:").contains("1 dead letter(s)");
    }

    @Test
    void aLetterIsReplayedOnceAndSkipInvalidLeavesNonJsonPayloadsInPlace() throws Exception {
        append(dead.resolve("shop.items.jsonl"), letter("shop:items", "malformed", "not json"),
                letter("shop:items", "event 0: bad", BATCH));

        Run first = mqdb("dead-letters", "replay", "-c", config.toString(), "--all", "--skip-invalid");
        Run again = mqdb("dead-letters", "replay", "-c", config.toString(), "--id", "shop.items:2");

        assertThat(first.code()).as(first.err()).isZero();
        assertThat(first.out()).contains("skipped shop.items:1", "replayed 1 dead letter(s)");
        assertThat(again.code()).isEqualTo(Main.CONFIG_ERROR);
        assertThat(again.err()).contains("--id shop.items:2: no such dead letter");
        await().atMost(Duration.ofSeconds(10)).until(() -> !received.isEmpty());
        // a late duplicate would arrive right behind the first; the next replay's message shows the queue is drained
        Run rest = mqdb("dead-letters", "replay", "-c", config.toString(), "--id", "shop.items:1");
        assertThat(rest.code()).as(rest.err()).isZero();
        await().atMost(Duration.ofSeconds(10)).until(() -> received.size() >= 2);
        assertThat(payloadsOn("mqdb/it/ch/shop/items")).containsExactly(BATCH, "not json");
        assertThat(mqdb("dead-letters", "list", "-c", config.toString()).out()).startsWith("no dead letters");
    }
}
