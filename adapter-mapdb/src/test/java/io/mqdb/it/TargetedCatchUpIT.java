package io.mqdb.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.mqdb.config.ConfigLoader;
import io.mqdb.node.LocalTable;
import io.mqdb.node.MqdbNode;
import io.mqdb.plugin.PluginRegistry;
import io.mqdb.spi.Column;
import io.mqdb.spi.ColumnType;
import io.mqdb.spi.Key;
import io.mqdb.spi.Row;
import io.mqdb.spi.TableId;
import io.mqdb.spi.TableSchema;
import io.mqdb.testing.MessageCallback;
import io.mqdb.testing.ServerFixture;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import org.eclipse.paho.mqttv5.client.MqttClient;
import org.eclipse.paho.mqttv5.client.MqttConnectionOptions;
import org.eclipse.paho.mqttv5.client.persist.MemoryPersistence;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Targeted catch-up (issue 12): one publisher, two subscribers; one subscriber is stopped while rows are updated,
 * deleted and inserted, and its broker queue overflows, and the publisher's resend window holds nothing, so the
 * subscriber needs a snapshot when it returns. It gets one snapshot, made for it alone on its direct topic, converges
 * row by row (deleted rows gone), and the other subscriber receives none of it.
 */
class TargetedCatchUpIT {
    private static final TableId ITEMS = TableId.parse("shop:items");
    private static final TableSchema SCHEMA = new TableSchema(ITEMS, List.of(
            new Column("id", ColumnType.INT64, false), Column.of("name", ColumnType.STRING)), List.of("id"));
    private static final int ROWS = 2_000;
    private static final int BURSTS = 20;

    @TempDir
    Path dir;
    private final List<MqdbNode> nodes = new ArrayList<>();
    private final PluginRegistry plugins = PluginRegistry.load(Optional.empty(),
            TargetedCatchUpIT.class.getClassLoader());

    private MqdbNode start(String name, String yaml) throws Exception {
        Path file = dir.resolve(name + ".yaml");
        Files.writeString(file, yaml);
        MqdbNode node = MqdbNode.start(ConfigLoader.load(file), plugins);
        nodes.add(0, node);
        return node;
    }

    @AfterEach
    void stop() {
        nodes.forEach(MqdbNode::close);
    }

    private static String subscriber(String name, int port) {
        return """
                node: { name: %s, data-dir: %s-data }
                broker: { uris: [ "tcp://127.0.0.1:%d" ] }
                stores: { local: { type: mapdb } }
                channels: [ { name: shop:items, store: local, subscribe: true, batch-size: 10 } ]
                """.formatted(name, name, port);
    }

    @Test
    void onlyTheSubscriberThatNeedsASnapshotGetsItAndOnlyOne() throws Exception {
        int port = ServerFixture.freePort();
        // A broker queue of 20 messages per session and no resend window: a subscriber away for 40 messages (two per
        // burst below) loses some in the broker, and the publisher can only answer with a snapshot. Messages of up to
        // 500 events, so the initial rows and the snapshot (5 messages each) fit in the queue of an online node.
        MqdbNode a = start("a", """
                node: { name: a, data-dir: a-data, resend-window-mb: 0 }
                broker: { embedded: { port: %d, max-queued-messages: 20 } }
                stores: { local: { type: mapdb } }
                channels: [ { name: shop:items, store: local, publish: true, batch-size: 500 } ]
                """.formatted(port));
        LocalTable src = a.table("shop:items");
        src.ensure(SCHEMA);
        MqdbNode b = start("b", subscriber("b", port));
        MqdbNode c = start("c", subscriber("c", port));

        Map<String, AtomicLong> direct = new ConcurrentHashMap<>();
        MqttClient listener = new MqttClient("tcp://127.0.0.1:" + port, "direct-listener", new MemoryPersistence());
        listener.setCallback(MessageCallback.of((topic, m) ->
                direct.computeIfAbsent(topic, k -> new AtomicLong()).incrementAndGet()));
        listener.connect(new MqttConnectionOptions());
        listener.subscribe("mqdb/mqdb/to/#", 1);
        try {
            List<Row> rows = new ArrayList<>();
            for (long i = 0; i < ROWS; i++) {
                rows.add(Row.of(Map.of("id", i, "name", "item-" + i)));
            }
            src.upsert(rows);
            LocalTable bt = b.table("shop:items");
            LocalTable ct = c.table("shop:items");
            await().atMost(Duration.ofSeconds(60)).until(() -> bt.schema().isPresent() && bt.count() == ROWS
                    && ct.schema().isPresent() && ct.count() == ROWS);

            b.close();
            nodes.remove(b);
            // While b is away: per burst 30 updates, 10 deletes, 10 inserts (two messages), each burst applied by c
            // before the next, so c (online) never has more than a few messages queued.
            long updated = 0;
            long deleted = 0;
            long inserted = 0;
            for (int burst = 0; burst < BURSTS; burst++) {
                List<Row> writes = new ArrayList<>();
                for (int k = 0; k < 30; k++) {
                    long id = burst * 30L + k;
                    writes.add(Row.of(Map.of("id", id, "name", "updated-" + burst + "-" + id)));
                    updated++;
                }
                for (int k = 0; k < 10; k++) {
                    long id = ROWS + burst * 10L + k;
                    writes.add(Row.of(Map.of("id", id, "name", "new-" + id)));
                    inserted++;
                }
                src.upsert(writes);
                List<Key> gone = new ArrayList<>();
                for (int k = 0; k < 10; k++) {
                    gone.add(Key.of(1_000L + burst * 10L + k));
                    deleted++;
                }
                src.delete(gone);
                long expectedEvents = ROWS + (burst + 1) * 50L;
                await().atMost(Duration.ofSeconds(30)).until(() ->
                        c.metrics().applied.sum() + c.metrics().skippedOlder.sum() >= expectedEvents);
            }
            long publishedWhileAway = a.metrics().published.sum();

            MqdbNode b2 = start("b", subscriber("b", port));
            LocalTable bt2 = b2.table("shop:items");
            await().atMost(Duration.ofSeconds(90)).pollInterval(Duration.ofMillis(200))
                    .until(() -> bt2.schema().isPresent() && mismatches(src, bt2) == 0);
            // Exactly one snapshot for b, and it stays one (b's later requests, if any, are covered or served).
            await().during(Duration.ofSeconds(5)).atMost(Duration.ofSeconds(15))
                    .until(() -> a.metrics().targetedSnapshots.sum() == 1 && mismatches(src, bt2) == 0);

            long toC = 0;
            long toBSnapshot = 0;
            long toBResend = 0;
            for (Map.Entry<String, AtomicLong> e : direct.entrySet()) {
                if (e.getKey().startsWith("mqdb/mqdb/to/c/")) {
                    toC += e.getValue().get();
                } else if (e.getKey().startsWith("mqdb/mqdb/to/b/snap/")) {
                    toBSnapshot += e.getValue().get();
                } else if (e.getKey().startsWith("mqdb/mqdb/to/b/ch/")) {
                    toBResend += e.getValue().get();
                }
            }
            long cEvents = c.metrics().applied.sum() + c.metrics().skippedOlder.sum();
            System.out.printf("targetedCatchUp: injected=b stopped; %d updates, %d deletes, %d inserts while away "
                    + "(%d bursts, broker queue 20 messages, resend window 0); publisher: channel events %d, "
                    + "targeted snapshots %d (%d rows), broadcast snapshot rows %d, resent %d, requests coalesced %d, "
                    + "covered %d; b: resend requests %d, merge deletes %d, rows %d = a's %d, mismatches %d; "
                    + "direct messages to b: snapshot %d, resend %d; to c: %d; c: events received %d (applied %d)%n",
                    updated, deleted, inserted, BURSTS, publishedWhileAway, a.metrics().targetedSnapshots.sum(),
                    a.metrics().targetedSnapshotRows.sum(), a.metrics().snapshotRows.sum(), a.metrics().resent.sum(),
                    a.metrics().requestsCoalesced.sum(), a.metrics().requestsCovered.sum(),
                    b2.metrics().resendRequests.sum(), b2.metrics().mergeDeletes.sum(), bt2.count(), src.count(),
                    mismatches(src, bt2), toBSnapshot, toBResend, toC, cEvents, c.metrics().applied.sum());

            assertThat(mismatches(src, bt2)).isZero();
            assertThat(bt2.count()).isEqualTo(src.count()).isEqualTo(ROWS + inserted - deleted);
            for (long id = 1_000; id < 1_000 + deleted; id++) {
                assertThat(bt2.get(Key.of(id))).as("deleted row %d", id).isEmpty();
            }
            assertThat(a.metrics().targetedSnapshots.sum()).as("snapshots made for b").isEqualTo(1);
            assertThat(a.metrics().targetedSnapshotRows.sum()).isEqualTo(src.count());
            assertThat(a.metrics().snapshotRows.sum()).as("no snapshot broadcast").isZero();
            assertThat(toBSnapshot).as("the snapshot went to b's direct topic").isPositive();
            assertThat(toC).as("nothing was sent to c alone").isZero();
            assertThat(cEvents).as("c received the channel's events once each, none of b's snapshot")
                    .isEqualTo(a.metrics().published.sum());
            assertThat(mismatches(src, ct)).isZero();
        } finally {
            listener.disconnect();
            listener.close();
        }
    }

    /** Rows that differ between the two tables, plus rows only one of them holds. */
    private static long mismatches(LocalTable x, LocalTable y) {
        long n = 0;
        Key after = null;
        do {
            var page = x.scan(after, 5000);
            for (Row r : page.rows()) {
                Optional<Row> other = y.get(Key.of(r.values().get("id")));
                if (other.isEmpty() || !other.get().equals(r)) {
                    n++;
                }
            }
            after = page.next().orElse(null);
        } while (after != null);
        return n + Math.abs(y.count() - x.count());
    }
}
