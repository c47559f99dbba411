package io.mqdb.node;

import static io.mqdb.testkit.Items.item;
import static io.mqdb.testkit.Items.names;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.mqdb.spi.Key;
import io.mqdb.testkit.InMemoryData;
import io.mqdb.testkit.Items;
import io.mqdb.testkit.ScriptedOrigin;
import io.mqdb.testkit.TestCluster;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Last writer wins: a subscriber applies a change only when its version is at least the newest it holds for the key,
 * whatever order changes arrive in. Two scripted origins publish hand-made batches with chosen versions to node b;
 * each test ends with a barrier row (a later change of another key) so that everything before it was handled.
 */
class LastWriterWinsTest {
    private static final Duration WAIT = Duration.ofSeconds(5);

    @TempDir
    Path dir;
    private TestCluster cluster;
    private ScriptedOrigin x;
    private ScriptedOrigin y;
    private InMemoryData b;

    @BeforeEach
    void start() throws Exception {
        cluster = new TestCluster(dir);
        cluster.start("b", "[ { name: shop:items, store: local, subscribe: true } ]");
        b = cluster.store("b");
        x = new ScriptedOrigin(cluster.broker(), "x", Items.SCHEMA);
        y = new ScriptedOrigin(cluster.broker(), "y", Items.SCHEMA);
    }

    @AfterEach
    void stop() {
        x.close();
        y.close();
        cluster.close();
    }

    /** Publishes a change of key 99 after everything else and waits until b applied it. */
    private void barrier(ScriptedOrigin origin, long seq) {
        origin.send(origin.upsert(item(99, "barrier"), 1_000, seq));
        await().atMost(WAIT).until(() -> names(b).containsKey(99L));
    }

    @Test
    void anOlderVersionNeverOverwritesANewerOne() {
        x.send(x.upsert(item(1, "newer"), 200, 1));
        y.send(y.upsert(item(1, "older"), 100, 1));
        barrier(x, 2);

        assertThat(names(b)).containsEntry(1L, "newer");
    }

    @Test
    void aNewerVersionOverwritesAnOlderOne() {
        y.send(y.upsert(item(1, "older"), 100, 1));
        x.send(x.upsert(item(1, "newer"), 200, 1));
        barrier(x, 2);

        assertThat(names(b)).containsEntry(1L, "newer");
    }

    @Test
    void aDeleteLeavesATombstoneSoALateOlderUpdateCannotBringTheRowBack() {
        x.send(x.upsert(item(1, "one"), 100, 1));
        x.send(x.delete(Key.of(1L), 300, 2));
        y.send(y.upsert(item(1, "late"), 200, 1));
        barrier(x, 3);

        assertThat(names(b)).doesNotContainKey(1L);
    }

    @Test
    void ofTwoChangesWithTheSameClockReadingTheGreaterOriginWinsInEitherOrder() {
        y.send(y.upsert(item(1, "from y"), 100, 1));
        x.send(x.upsert(item(1, "from x"), 100, 1));
        x.send(x.upsert(item(2, "from x"), 100, 2));
        y.send(y.upsert(item(2, "from y"), 100, 2));
        barrier(x, 3);

        assertThat(names(b)).containsEntry(1L, "from y").containsEntry(2L, "from y");
    }

    @Test
    void aDuplicatedBatchChangesNothingEvenWhenItArrivesAfterANewerChange() {
        byte[] first = x.send(x.upsert(item(1, "first"), 100, 1), x.upsert(item(2, "two"), 101, 2));
        x.send(x.upsert(item(1, "second"), 200, 3), x.delete(Key.of(2L), 201, 4));
        x.sendRaw(first); // the broker delivering the first batch again, late
        barrier(x, 5);

        assertThat(names(b)).isEqualTo(Map.of(1L, "second", 99L, "barrier"));
    }

    @Test
    void aBatchTheBrokerDeliversTwiceInARowLeavesTheRowsOfOneDelivery() {
        cluster.broker().duplicateNext(Items.TOPIC, 1);
        x.send(x.upsert(item(1, "one"), 100, 1), x.delete(Key.of(1L), 101, 2), x.upsert(item(2, "two"), 102, 3));
        barrier(x, 4);

        assertThat(names(b)).isEqualTo(Map.of(2L, "two", 99L, "barrier"));
    }
}
