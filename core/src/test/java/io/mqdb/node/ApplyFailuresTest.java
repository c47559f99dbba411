package io.mqdb.node;

import static io.mqdb.testkit.Items.item;
import static io.mqdb.testkit.Items.names;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import io.mqdb.spi.Column;
import io.mqdb.spi.ColumnType;
import io.mqdb.spi.Row;
import io.mqdb.spi.TableSchema;
import io.mqdb.testkit.InMemoryBroker;
import io.mqdb.testkit.InMemoryData;
import io.mqdb.testkit.Items;
import io.mqdb.testkit.ScriptedOrigin;
import io.mqdb.testkit.TestCluster;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * What a subscriber does with what it cannot apply now or ever: a malformed message, or an event the store rejects,
 * goes to the dead letters (file and {@code mqdb/<cluster>/dead/<node>/<schema>/<table>}) and the channel goes on; a
 * store that is down is retried while the messages stay unacknowledged, and used again within about a second of its
 * return. A scripted origin x publishes to node b.
 */
class ApplyFailuresTest {
    private static final Duration WAIT = Duration.ofSeconds(5);
    private static final String DEAD_TOPIC = "mqdb/mqdb/dead/b/shop/items";

    @TempDir
    Path dir;
    private TestCluster cluster;
    private InMemoryBroker broker;
    private MqdbNode b;
    private InMemoryData bData;
    private ScriptedOrigin x;

    @BeforeEach
    void start() throws Exception {
        cluster = new TestCluster(dir);
        broker = cluster.broker();
        b = cluster.start("b", "[ { name: shop:items, store: local, subscribe: true } ]");
        bData = cluster.store("b");
        x = new ScriptedOrigin(broker, "x", Items.SCHEMA);
    }

    @AfterEach
    void stop() {
        x.close();
        cluster.close();
    }

    @Test
    void aMalformedMessageIsDeadLetteredAndTheChannelGoesOn() throws Exception {
        x.sendRaw("{\"v\":1,\"events\":[{\"op\":\"upsert\",".getBytes(StandardCharsets.UTF_8));
        x.send(x.upsert(item(1, "after the bad one"), 100, 1));

        await().atMost(WAIT).until(() -> names(bData).containsKey(1L));
        List<InMemoryBroker.Published> dead = broker.published(DEAD_TOPIC);
        assertThat(dead).hasSize(1);
        JsonObject letter = JsonParser.parseString(dead.get(0).text()).getAsJsonObject();
        assertThat(letter.get("topic").getAsString()).isEqualTo(Items.TOPIC);
        assertThat(letter.get("reason").getAsString()).isNotBlank();
        assertThat(Files.readAllLines(cluster.dataDir("b").resolve("dead-letters").resolve("shop.items.jsonl")))
                .hasSize(1);
        assertThat(broker.unacknowledged(TestCluster.channelClientId("b", Items.CHANNEL))).isZero();
    }

    @Test
    void anEventTheStoreRejectsIsDeadLetteredAndTheRestOfItsBatchIsApplied() throws Exception {
        // b's table wants a name; x's schema allows none, so the store refuses x's row without one.
        b.table(Items.CHANNEL).ensure(new TableSchema(Items.TABLE, List.of(new Column("id", ColumnType.INT64,
                false), new Column("name", ColumnType.STRING, false)), List.of("id")));

        x.send(x.upsert(item(1, "one"), 100, 1), x.upsert(Row.of(Map.of("id", 2L)), 101, 2),
                x.upsert(item(3, "three"), 102, 3));

        await().atMost(WAIT).until(() -> names(bData).size() == 2);
        assertThat(names(bData)).isEqualTo(Map.of(1L, "one", 3L, "three"));
        assertThat(broker.published(DEAD_TOPIC)).hasSize(1);
        assertThat(broker.published(DEAD_TOPIC).get(0).text()).contains("\"id\\\":2");
    }

    @Test
    void aStoreOutageHoldsEventsAndResumesWhenItReturns() {
        String session = TestCluster.channelClientId("b", Items.CHANNEL);
        x.send(x.upsert(item(1, "before"), 100, 1));
        await().atMost(WAIT).until(() -> names(bData).containsKey(1L));

        bData.outage(true);
        x.send(x.upsert(item(2, "during"), 101, 2));
        x.send(x.upsert(item(3, "during"), 102, 3));
        await().atMost(WAIT).until(() -> b.metrics().retries.sum() > 0);

        assertThat(names(bData)).doesNotContainKeys(2L, 3L);
        assertThat(broker.unacknowledged(session)).as("held on the broker, unacknowledged").isEqualTo(2);

        bData.outage(false);

        await().atMost(WAIT).until(() -> names(bData).size() == 3);
        await().atMost(WAIT).until(() -> broker.unacknowledged(session) == 0);
        assertThat(broker.published(DEAD_TOPIC)).isEmpty();
    }
}
