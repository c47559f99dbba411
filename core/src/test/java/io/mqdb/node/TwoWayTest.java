package io.mqdb.node;

import static io.mqdb.testkit.Items.item;
import static io.mqdb.testkit.Items.names;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.mqdb.testkit.InMemoryBroker;
import io.mqdb.testkit.Items;
import io.mqdb.testkit.TestCluster;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Two-way tables: nodes a and b both publish and subscribe {@code shop:items}. Concurrent writes of one key converge
 * on both to the newest version, and a replicated write is never published back (no echo).
 */
class TwoWayTest {
    private static final Duration WAIT = Duration.ofSeconds(5);
    private static final String BOTH_WAYS = "[ { name: shop:items, store: local, publish: true, subscribe: true } ]";

    @TempDir
    Path dir;
    private TestCluster cluster;
    private MqdbNode a;
    private MqdbNode b;

    @BeforeEach
    void start() throws Exception {
        cluster = new TestCluster(dir);
        cluster.store("a").open().ensureTable(Items.SCHEMA);
        cluster.store("b").open().ensureTable(Items.SCHEMA);
        a = cluster.start("a", BOTH_WAYS);
        b = cluster.start("b", BOTH_WAYS);
        // Both initial loads done first: a load publishes whatever the table holds then, replicated rows included.
        for (String node : new String[] {"a", "b"}) {
            await().atMost(WAIT).until(() -> cluster.broker().retained("mqdb/mqdb/pos/shop/items/" + node)
                    .map(p -> new String(p, java.nio.charset.StandardCharsets.UTF_8).contains("\"done\":true"))
                    .orElse(false));
        }
    }

    @AfterEach
    void stop() {
        cluster.close();
    }

    @Test
    void concurrentWritesOfOneKeyConvergeOnBothNodesToTheNewest() throws Exception {
        InMemoryBroker.Hold hold = cluster.broker().hold(Items.TOPIC); // neither sees the other's write yet
        a.table(Items.CHANNEL).upsert(item(1, "from a"));
        await().atMost(WAIT).until(() -> hold.size() == 1);
        b.table(Items.CHANNEL).upsert(item(1, "from b")); // later, or at the same clock reading: b > a
        await().atMost(WAIT).until(() -> hold.size() == 2);

        hold.release();

        await().atMost(WAIT).until(() -> names(cluster.store("a")).equals(Map.of(1L, "from b"))
                && names(cluster.store("b")).equals(Map.of(1L, "from b")));
    }

    @Test
    void aReplicatedWriteIsNotPublishedBack() {
        a.table(Items.CHANNEL).upsert(item(1, "one"));
        await().atMost(WAIT).until(() -> names(cluster.store("b")).containsKey(1L));
        a.table(Items.CHANNEL).upsert(item(2, "two")); // a later change of a's: b has handled the first one by now
        await().atMost(WAIT).until(() -> names(cluster.store("b")).containsKey(2L));

        assertThat(cluster.broker().published(Items.TOPIC))
                .allMatch(p -> p.clientId().equals(TestCluster.clientId("a")), "published by a alone");
    }
}
