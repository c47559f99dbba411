package io.mqdb.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.mqdb.codec.EventCodec;
import io.mqdb.codec.WireBatch;
import io.mqdb.codec.WireEvent;
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
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Random;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicLong;


import org.eclipse.paho.mqttv5.client.MqttClient;
import org.eclipse.paho.mqttv5.client.MqttConnectionOptions;

import org.eclipse.paho.mqttv5.client.persist.MemoryPersistence;

import org.eclipse.paho.mqttv5.common.MqttMessage;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Convergence under hostile delivery, with MapDB stores through the embedding API: every event delivered twice and
 * out of order ends in the state in-order delivery gives; concurrent writes to the same keys on two nodes in two-way
 * sync end with both nodes holding the same row for every key; a subscriber away longer than its broker session
 * catches up by itself (resend, or snapshot merge), with nothing missing and nothing resurrected.
 */
class ConvergenceIT {
    private static final TableId ITEMS = TableId.parse("shop:items");
    private static final TableSchema SCHEMA = new TableSchema(ITEMS, List.of(
            new Column("id", ColumnType.INT64, false), Column.of("name", ColumnType.STRING),
            Column.of("n", ColumnType.INT64)), List.of("id"));

    @TempDir
    Path dir;
    private final List<AutoCloseable> open = new ArrayList<>();
    private final PluginRegistry plugins = PluginRegistry.load(Optional.empty(),
            ConvergenceIT.class.getClassLoader());

    private MqdbNode start(String name, String yaml) throws Exception {
        Path file = dir.resolve(name + ".yaml");
        Files.writeString(file, yaml);
        MqdbNode node = MqdbNode.start(ConfigLoader.load(file), plugins);
        open.add(0, node);
        return node;
    }

    @AfterEach
    void stop() {
        ItResources.closeAll(open);
    }

    private static Row item(long id, String name, long n) {
        return Row.of(Map.of("id", id, "name", name, "n", n));
    }

    private static Map<Key, Row> all(LocalTable t) {
        return ItResources.rowsById(t);
    }

    /** Compares two tables row by row and prints what was compared. */
    private static void awaitSame(String test, String injected, LocalTable x, LocalTable y, Duration atMost) {
        await().atMost(atMost).pollInterval(Duration.ofMillis(250)).untilAsserted(() ->
                assertThat(all(y)).isEqualTo(all(x)));
        Map<Key, Row> a = all(x);
        Map<Key, Row> b = all(y);
        long mismatches = a.entrySet().stream().filter(e -> !e.getValue().equals(b.get(e.getKey()))).count()
                + b.keySet().stream().filter(k -> !a.containsKey(k)).count();
        System.out.printf("%s: injected=%s; rows checked=%d mismatches=%d%n", test, injected, a.size(), mismatches);
        assertThat(mismatches).isZero();
    }

    /**
     * Random upserts and deletes over a small key space, so keys are deleted, re-inserted and updated often; in
     * commits of up to 10 rows (one MapDB commit is an fsync).
     *
     * @return the number of row changes made
     */
    private static int write(LocalTable t, Random random, int ops, int keys, String tag) {
        int done = 0;
        for (int i = 0; done < ops; i++) {
            java.util.Set<Long> ids = new java.util.TreeSet<>();
            while (ids.size() < Math.min(10, ops - done)) {
                ids.add((long) random.nextInt(keys));
            }
            if (random.nextInt(5) == 0) {
                t.delete(ids.stream().map(Key::of).toList());
            } else {
                int n = i;
                t.upsert(ids.stream().map(id -> item(id, tag + "-" + n, n)).toList());
            }
            done += ids.size();
        }
        return done;
    }

    @Test
    void duplicatedAndShuffledDeliveryConvergesToTheInOrderState() throws Exception {
        int port = ServerFixture.freePort();
        // the replayer below is no mqdb node: nothing resends what a full queue would drop, so the broker keeps all
        MqdbNode a = start("a", """
                node: { name: a, cluster: live, data-dir: a-data }
                broker: { embedded: { port: %d, max-queued-messages: 100000 } }
                stores: { local: { type: mapdb } }
                channels: [ { name: shop:items, store: local, publish: true, batch-size: 50 } ]
                """.formatted(port));
        // The "transport" that duplicates and shuffles: a plain MQTT client records what A publishes, splits each
        // batch into one message per event, and publishes every event twice, in random order, to B's cluster.
        List<WireBatch> recorded = new CopyOnWriteArrayList<>();
        AtomicLong events = new AtomicLong();
        EventCodec codec = new EventCodec();
        MqttClient recorder = client(port, "recorder");
        recorder.setCallback(MessageCallback.of((topic, m) -> {
            WireBatch batch = codec.decode(m.getPayload(), ITEMS);
            recorded.add(batch);
            events.addAndGet(batch.events().size());
        }));
        recorder.subscribe("mqdb/live/ch/shop/items", 1);
        LocalTable src = a.table("shop:items");
        src.ensure(SCHEMA);
        Random random = new Random(42);
        write(src, random, 3000, 300, "a");
        await().atMost(Duration.ofSeconds(60)).until(() -> a.metrics().outboxDepth() == 0
                && events.get() == a.metrics().published.sum());

        List<byte[]> shuffled = new ArrayList<>();
        for (WireBatch batch : recorded) {
            TableSchema sent = batch.schema().orElseThrow();
            for (WireEvent e : batch.events()) {
                byte[] bytes = codec.encodeBatch(batch.origin(), sent, List.of(codec.toEvent(e, sent, 0)));
                shuffled.add(bytes);
                shuffled.add(bytes);
            }
        }
        Collections.shuffle(shuffled, new Random(7));
        MqdbNode b = start("b", """
                node: { name: b, cluster: replay, data-dir: b-data }
                broker: { uris: [ "tcp://127.0.0.1:%d" ] }
                stores: { local: { type: mapdb } }
                channels: [ { name: shop:items, store: local, subscribe: true } ]
                """.formatted(port));
        MqttClient replayer = client(port, "replayer");
        for (byte[] p : shuffled) {
            MqttMessage m = new MqttMessage(p);
            m.setQos(1);
            replayer.publish("mqdb/replay/ch/shop/items", m);
        }
        awaitSame("duplicatedAndShuffledDelivery", events.get() + " events, each delivered twice, "
                + shuffled.size() + " messages shuffled (seed 7)", src, b.table("shop:items"), Duration.ofSeconds(90));
        assertThat(b.metrics().skippedOlder.sum()).as("older events were skipped, not applied").isPositive();
        assertThat(b.metrics().deadLetters.sum()).isZero();
    }

    @Test
    void concurrentUpdatesOfTheSameKeysOnTwoNodesConverge() throws Exception {
        int port = ServerFixture.freePort();
        MqdbNode a = start("a", """
                node: { name: a, data-dir: a-data }
                broker: { embedded: { port: %d } }
                stores: { local: { type: mapdb } }
                channels: [ { name: shop:items, store: local, publish: true, subscribe: true } ]
                """.formatted(port));
        MqdbNode b = start("b", """
                node: { name: b, data-dir: b-data }
                broker: { uris: [ "tcp://127.0.0.1:%d" ] }
                stores: { local: { type: mapdb } }
                channels: [ { name: shop:items, store: local, publish: true, subscribe: true } ]
                """.formatted(port));
        LocalTable ta = a.table("shop:items");
        LocalTable tb = b.table("shop:items");
        ta.ensure(SCHEMA);
        tb.ensure(SCHEMA);
        Thread wa = new Thread(() -> write(ta, new Random(1), 4000, 100, "a"));
        Thread wb = new Thread(() -> write(tb, new Random(2), 4000, 100, "b"));
        wa.start();
        wb.start();
        wa.join();
        wb.join();
        awaitSame("concurrentTwoWay", "2 writers x 4000 upserts/deletes on the same 100 keys", ta, tb,
                Duration.ofSeconds(90));
    }

    @Test
    void subscriberAwayLongerThanItsSessionCatchesUpWithNothingMissingOrResurrected() throws Exception {
        int port = ServerFixture.freePort();
        MqdbNode a = start("a", """
                node: { name: a, data-dir: a-data, resend-window-mb: 0 }
                broker: { embedded: { port: %d } }
                stores: { local: { type: mapdb } }
                channels: [ { name: shop:items, store: local, publish: true } ]
                """.formatted(port));
        String bYaml = """
                node: { name: b, data-dir: b-data }
                broker: { uris: [ "tcp://127.0.0.1:%d" ], session-expiry: 1s }
                stores: { local: { type: mapdb } }
                channels: [ { name: shop:items, store: local, subscribe: true } ]
                """.formatted(port);
        MqdbNode b = start("b", bYaml);
        LocalTable src = a.table("shop:items");
        src.ensure(SCHEMA);
        Random random = new Random(3);
        write(src, random, 1000, 200, "before");
        awaitSame("subscriberAway(before)", "1000 changes", src, b.table("shop:items"), Duration.ofSeconds(60));
        b.close();
        open.remove(b);
        // Away for longer than the session expiry (1 s): the broker forgets the session and what was queued for it.
        write(src, random, 2000, 200, "away");
        await().pollDelay(Duration.ofSeconds(3)).until(() -> true);
        b = start("b", bYaml);
        write(src, random, 200, 200, "after");
        awaitSame("subscriberAway", "b away > session expiry while 2000 changes (upserts, deletes) were made, "
                + "resend window 0 (forces a snapshot merge)", src, b.table("shop:items"), Duration.ofSeconds(90));
    }

    private MqttClient client(int port, String id) throws Exception {
        MqttClient c = new MqttClient("tcp://127.0.0.1:" + port, id, new MemoryPersistence());
        MqttConnectionOptions o = new MqttConnectionOptions();
        o.setCleanStart(true);
        o.setReceiveMaximum(1000);
        c.connect(o);
        open.add(() -> {
            c.disconnect();
            c.close();
        });
        return c;
    }
}
