package io.mqdb.node;

import static io.mqdb.testkit.Items.item;
import static io.mqdb.testkit.Items.names;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.mqdb.spi.Key;
import io.mqdb.spi.WriteOrigin;
import io.mqdb.testkit.InMemoryData;
import io.mqdb.testkit.Items;
import io.mqdb.testkit.ScriptedOrigin;
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
 * Snapshot merge: once a subscriber applied the whole of a complete snapshot of an origin (announced in the origin's
 * retained position), it removes the rows whose newest version is that origin's and older than the snapshot's start:
 * the rows the origin no longer has. A merge, not a wipe: rows another origin wrote stay, and an incomplete snapshot
 * removes nothing. Two real nodes a and b, or hand-scripted origins publishing to b.
 */
class SnapshotMergeTest {
    /** Catch-up waits for a gap to stand still for a second before it asks; a snapshot follows. */
    private static final Duration CATCH_UP = Duration.ofSeconds(10);
    private static final String PUBLISH = "[ { name: shop:items, store: local, publish: true } ]";
    private static final String SUBSCRIBE = "[ { name: shop:items, store: local, subscribe: true } ]";

    @TempDir
    Path dir;
    private TestCluster cluster;
    private InMemoryData bData;

    @BeforeEach
    void start() throws Exception {
        cluster = new TestCluster(dir);
        cluster.store("a").open().ensureTable(Items.SCHEMA);
    }

    @AfterEach
    void stop() {
        cluster.close();
    }

    private MqdbNode startB() throws InterruptedException {
        MqdbNode b = cluster.start("b", SUBSCRIBE);
        bData = cluster.store("b");
        return b;
    }

    @Test
    void aCompleteSnapshotRemovesRowsTheOriginNoLongerHas() throws Exception {
        // No resend window: a resend request is answered with a snapshot.
        MqdbNode a = cluster.start("a", "resend-window-mb: 0", PUBLISH);
        MqdbNode b = startB();
        a.table(Items.CHANNEL).upsert(List.of(item(1, "one"), item(2, "two"), item(3, "three")));
        await().atMost(CATCH_UP).until(() -> names(bData).size() == 3);

        cluster.broker().dropNext(Items.TOPIC, 1);
        a.table(Items.CHANNEL).delete(Key.of(2L)); // lost: b only learns of it from a's snapshot

        await().atMost(CATCH_UP).until(() -> names(bData).equals(Map.of(1L, "one", 3L, "three")));
        assertThat(b.metrics().mergeDeletes.sum()).as("removed by the merge").isEqualTo(1);
    }

    @Test
    void aSnapshotKeepsRowsAnotherOriginWroteSince() throws Exception {
        MqdbNode b = startB();
        try (ScriptedOrigin x = new ScriptedOrigin(cluster.broker(), "x", Items.SCHEMA);
             ScriptedOrigin y = new ScriptedOrigin(cluster.broker(), "y", Items.SCHEMA)) {
            x.send(x.upsert(item(1, "one"), 100, 1), x.upsert(item(2, "two"), 101, 2),
                    x.upsert(item(3, "three"), 102, 3));
            y.send(y.upsert(item(2, "two from y"), 150, 1));
            await().atMost(CATCH_UP).until(() -> names(bData).equals(
                    Map.of(1L, "one", 2L, "two from y", 3L, "three")));

            x.position(4, 200, 4, 4, true);
            x.send(x.upsert(item(1, "one again"), 201, 4)); // the whole snapshot: x has row 1 alone

            await().atMost(CATCH_UP).until(() -> names(bData).equals(Map.of(1L, "one again", 2L, "two from y")));
            assertThat(b.metrics().mergeDeletes.sum()).as("row 3 alone removed by the merge").isEqualTo(1);
        }
    }

    @Test
    void anIncompleteSnapshotRemovesNothingUntilItIsDone() throws Exception {
        startB();
        try (ScriptedOrigin x = new ScriptedOrigin(cluster.broker(), "x", Items.SCHEMA);
             ScriptedOrigin z = new ScriptedOrigin(cluster.broker(), "z", Items.SCHEMA)) {
            x.send(x.upsert(item(1, "one"), 100, 1), x.upsert(item(2, "two"), 101, 2));
            await().atMost(CATCH_UP).until(() -> names(bData).size() == 2);
            x.position(3, 200, 3, 3, false);
            x.send(x.upsert(item(1, "one again"), 201, 3));
            // A witness: z's complete snapshot, announced and applied after x's, removes z's row 7. The apply
            // thread merges every origin's pending snapshot in one pass, so once row 7 is gone x's snapshot would
            // have been merged too, had it counted.
            z.send(z.upsert(item(7, "seven"), 100, 1));
            await().atMost(CATCH_UP).until(() -> names(bData).containsKey(7L));
            z.position(2, 200, 2, 2, true);
            z.send(z.upsert(item(8, "eight"), 201, 2));
            await().atMost(CATCH_UP).until(() -> !names(bData).containsKey(7L) && names(bData).containsKey(8L));
            assertThat(names(bData)).containsKey(2L);

            x.position(3, 200, 3, 3, true);

            await().atMost(CATCH_UP).until(() -> !names(bData).containsKey(2L));
            assertThat(names(bData)).isEqualTo(Map.of(1L, "one again", 8L, "eight"));
        }
    }

    @Test
    void aNewPublisherEpochIsSkippedToWithoutResurrectingDeletedRows() throws Exception {
        MqdbNode a = cluster.start("a", PUBLISH);
        MqdbNode b = startB();
        a.table(Items.CHANNEL).upsert(List.of(item(1, "one"), item(2, "two"), item(3, "three")));
        a.table(Items.CHANNEL).delete(Key.of(2L));
        await().atMost(CATCH_UP).until(() -> names(bData).equals(Map.of(1L, "one", 3L, "three")));

        cluster.stop("a");
        cluster.wipeDataDir("a"); // a forgets its numbering; its store keeps its rows
        // Row 3 goes while a is away, without a change a could capture (an older backup restored, say): only a's
        // new initial load can tell b.
        cluster.store("a").open().delete(Items.TABLE, List.of(Key.of(3L)), WriteOrigin.REPLICATED);
        a = cluster.start("a", PUBLISH);
        a.table(Items.CHANNEL).upsert(item(4, "four")); // numbered after a's new initial load

        await().atMost(CATCH_UP).until(() -> names(bData).equals(Map.of(1L, "one", 4L, "four")));
        assertThat(b.metrics().mergeDeletes.sum()).as("row 3 removed by the merge").isPositive();
    }
}
