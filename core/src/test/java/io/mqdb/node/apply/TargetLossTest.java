package io.mqdb.node.apply;

import static io.mqdb.testkit.Items.item;
import static io.mqdb.testkit.Items.names;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.mqdb.node.MqdbNode;
import io.mqdb.spi.Column;
import io.mqdb.spi.ColumnType;
import io.mqdb.spi.Key;
import io.mqdb.spi.Row;
import io.mqdb.spi.TableId;
import io.mqdb.spi.TableSchema;
import io.mqdb.spi.WriteOrigin;
import io.mqdb.testkit.InMemoryData;
import io.mqdb.testkit.InMemoryStore;
import io.mqdb.testkit.Items;
import io.mqdb.testkit.TestCluster;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Target loss: each subscribed channel keeps a marker row in its store ({@code <schema>:mqdb_incarnation}), checked
 * every 2 s; a store that lost it (restarted empty, dropped, restored from an old backup) makes the node ask every
 * origin to publish the channel again from number 1, and the origin's answer (a snapshot, its numbers being far
 * above 1) fills the store again. Node a publishes, node b subscribes.
 */
class TargetLossTest {
    /** The marker check (every 2 s), then the gap check (a second of standing still), then the snapshot. */
    private static final Duration REFILL = Duration.ofSeconds(15);
    private static final TableId MARKERS = new TableId("shop", ChannelApplier.MARKER_TABLE);

    @TempDir
    Path dir;
    private TestCluster cluster;
    private MqdbNode a;
    private MqdbNode b;
    private InMemoryData bData;

    @BeforeEach
    void start() throws Exception {
        cluster = new TestCluster(dir);
        cluster.store("a").open().ensureTable(Items.SCHEMA);
        a = cluster.start("a", "[ { name: shop:items, store: local, publish: true } ]");
        b = cluster.start("b", "[ { name: shop:items, store: local, subscribe: true } ]");
        bData = cluster.store("b");
        a.table(Items.CHANNEL).upsert(List.of(item(1, "one"), item(2, "two"), item(3, "three")));
        a.table(Items.CHANNEL).delete(Key.of(2L));
        await().atMost(REFILL).until(() -> names(bData).equals(Map.of(1L, "one", 3L, "three")));
        await().atMost(REFILL).until(() -> bData.rows(MARKERS).size() == 1);
    }

    @AfterEach
    void stop() {
        cluster.close();
    }

    @Test
    void aStoreThatLostItsMarkerIsRefilled() {
        bData.loseEverything();

        await().atMost(REFILL).until(() -> names(bData).equals(Map.of(1L, "one", 3L, "three")));
        assertThat(b.metrics().targetLosses.sum()).isEqualTo(1);
        assertThat(bData.rows(MARKERS)).hasSize(1);
        assertThat(b.metrics().deadLetters.sum()).isZero();
    }

    @Test
    void aTableEmptiedWhileItsMarkerStayedIsRefilled() {
        bData.truncate(Items.TABLE);
        a.table(Items.CHANNEL).upsert(List.of(item(4, "four"))); // writes go on meanwhile

        await().atMost(REFILL).until(() -> names(bData).equals(Map.of(1L, "one", 3L, "three", 4L, "four")));
        assertThat(b.metrics().targetLosses.sum()).isEqualTo(1);
        assertThat(bData.rows(MARKERS)).as("the marker was never lost").hasSize(1);
        assertThat(b.metrics().deadLetters.sum()).isZero();
    }

    @Test
    void aStoreRestoredFromABackupOfAnEarlierIncarnationIsBroughtUpToDate() {
        // The backup: b's rows as they are now, with the marker of an earlier incarnation of the channel. (A backup
        // holding the current marker is not noticed: the marker does not change while the store keeps it.)
        List<Row> backup = bData.rows(Items.TABLE);
        a.table(Items.CHANNEL).upsert(List.of(item(4, "four"), item(1, "one, renamed")));
        await().atMost(REFILL).until(() -> names(bData).equals(Map.of(1L, "one, renamed", 3L, "three", 4L, "four")));

        bData.loseEverything();
        InMemoryStore restore = bData.open();
        restore.ensureTable(Items.SCHEMA);
        restore.upsert(Items.TABLE, backup, WriteOrigin.REPLICATED);
        restore.ensureTable(new TableSchema(MARKERS, List.of(new Column("channel", ColumnType.STRING, false),
                new Column("node", ColumnType.STRING, false), Column.of("incarnation", ColumnType.STRING)),
                List.of("channel", "node")));
        restore.upsert(MARKERS, List.of(Row.of(Map.of("channel", Items.CHANNEL, "node", "b", "incarnation", "42"))),
                WriteOrigin.REPLICATED);

        // a's snapshot brings what changed since the backup. (A row a deleted since the backup would stay: the merge
        // removes only rows the version index holds as live, and it holds that one as deleted. See docs/testing.md.)
        await().atMost(REFILL).until(() -> names(bData).equals(Map.of(1L, "one, renamed", 3L, "three", 4L, "four")));
        assertThat(b.metrics().targetLosses.sum()).isEqualTo(1);
    }
}
