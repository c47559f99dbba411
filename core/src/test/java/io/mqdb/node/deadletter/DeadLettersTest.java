package io.mqdb.node.deadletter;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import io.mqdb.codec.Topics;
import io.mqdb.node.NodeMetrics;
import io.mqdb.spi.TableId;
import io.mqdb.testkit.InMemoryBroker;
import io.mqdb.transport.Transport;
import io.mqdb.transport.TransportOptions;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class DeadLettersTest {
    private static final TableId ORDERS = TableId.parse("shop:orders");
    private final InMemoryBroker broker = new InMemoryBroker();
    private Transport transport;
    private final NodeMetrics metrics = new NodeMetrics();
    @TempDir
    Path dir;

    @BeforeEach
    void connect() throws Exception {
        transport = broker.transport(TransportOptions.of(List.of("tcp://in-memory.invalid:1883"), "node-a"));
        transport.start();
    }

    @AfterEach
    void close() {
        transport.close();
    }

    private List<JsonObject> lines() throws Exception {
        return Files.readAllLines(dir.resolve("shop.orders.jsonl")).stream()
                .map(l -> JsonParser.parseString(l).getAsJsonObject()).toList();
    }

    @Test
    void beyondTheFolderBoundALetterKeepsItsReasonSizeAndHashButNotItsPayload() throws Exception {
        DeadLetters dead = new DeadLetters(dir, "node-a", new Topics("mqdb"), transport, metrics, 100_000);
        byte[] big = new byte[60_000];
        Arrays.fill(big, (byte) 'x');
        dead.record(ORDERS, "mqdb/mqdb/ch/shop/orders", big, "first");
        dead.record(ORDERS, "mqdb/mqdb/ch/shop/orders", big, "second: the folder would pass 100,000 bytes");
        dead.record(ORDERS, "mqdb/mqdb/ch/shop/orders", "{\"small\":1}".getBytes(StandardCharsets.UTF_8), "third");
        List<JsonObject> l = lines();
        assertThat(l).hasSize(3);
        assertThat(l.get(0).get("payload").getAsString()).hasSize(60_000);
        assertThat(l.get(1).has("payload")).isFalse();
        assertThat(l.get(1).get("payloadBytes").getAsInt()).isEqualTo(60_000);
        assertThat(l.get(1).get("payloadSha256").getAsString()).hasSize(64);
        assertThat(l.get(1).get("payloadDropped").getAsString()).contains("node.dead-letter-max-mb");
        assertThat(l.get(1).get("reason").getAsString()).startsWith("second");
        assertThat(l.get(2).get("payload").getAsString()).as("a small one still fits").isEqualTo("{\"small\":1}");
        assertThat(metrics.deadLetterPayloadsDropped.sum()).isEqualTo(1);
        assertThat(metrics.deadLetters.sum()).isEqualTo(3);

        // A node restarted over the same folder counts what it holds.
        DeadLetters again = new DeadLetters(dir, "node-a", new Topics("mqdb"), transport, new NodeMetrics(), 100_000);
        again.record(ORDERS, "mqdb/mqdb/ch/shop/orders", "{\"small\":2}".getBytes(StandardCharsets.UTF_8), "fourth");
        again.record(ORDERS, "mqdb/mqdb/ch/shop/orders", big, "fifth");
        assertThat(lines().get(3).has("payload")).isTrue();
        assertThat(lines().get(4).has("payload")).isFalse();
    }

    @Test
    void theTopicCopyCarriesThePayloadOnlyUpTo64KiB() throws Exception {
        DeadLetters dead = new DeadLetters(dir, "node-a", new Topics("mqdb"), transport, metrics, 1 << 30);
        byte[] big = new byte[DeadLetters.MAX_TOPIC_PAYLOAD_BYTES + 1];
        Arrays.fill(big, (byte) 'y');
        dead.record(ORDERS, "t", big, "big");
        dead.record(ORDERS, "t", new byte[] {(byte) 0xff, 0}, "binary");
        String filter = new Topics("mqdb").deadLetter("node-a", ORDERS);
        await().atMost(Duration.ofSeconds(10)).until(() -> broker.published(filter).size() == 2);
        List<JsonObject> onTopic = broker.published(filter).stream()
                .map(p -> JsonParser.parseString(p.text()).getAsJsonObject()).toList();
        assertThat(onTopic.get(0).has("payload")).isFalse();
        assertThat(onTopic.get(0).get("payloadDropped").getAsString()).contains("dead-letter file only");
        assertThat(onTopic.get(1).get("payloadBase64").getAsString()).isEqualTo("/wA=");
        assertThat(lines().get(0).get("payload").getAsString()).as("the file keeps it").hasSize(big.length);
    }
}
