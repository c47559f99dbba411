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
import io.mqdb.testing.ServerFixture;
import java.math.BigDecimal;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.eclipse.paho.mqttv5.client.MqttClient;
import org.eclipse.paho.mqttv5.client.MqttConnectionOptions;
import org.eclipse.paho.mqttv5.client.persist.MemoryPersistence;
import org.eclipse.paho.mqttv5.common.MqttMessage;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Two nodes in one JVM through the embedding API, over node A's embedded broker, with the MapDB adapter: local writes
 * on A reach B (inserts, partial updates, deletes), B catches up after being away, and a malformed message neither
 * stops B nor blocks later events.
 */
class NodeSyncIT {
    private static final TableId ITEMS = TableId.parse("shop:items");
    private static final TableSchema SCHEMA = new TableSchema(ITEMS, List.of(
            new Column("id", ColumnType.INT64, false), Column.of("name", ColumnType.STRING),
            Column.of("price", ColumnType.DECIMAL), Column.of("at", ColumnType.TIMESTAMP)), List.of("id"));

    @TempDir
    Path dir;
    private int port;
    private MqdbNode a;
    private MqdbNode b;
    private final PluginRegistry plugins = PluginRegistry.load(Optional.empty(), NodeSyncIT.class.getClassLoader());

    @BeforeEach
    void startNodes() throws Exception {
        port = ServerFixture.freePort();
        a = start("a", """
                node: { name: a, data-dir: a-data }
                broker: { embedded: { port: %d } }
                stores: { local: { type: mapdb } }
                channels: [ { name: shop:items, store: local, publish: true } ]
                """.formatted(port));
        b = startB();
    }

    private MqdbNode startB() throws Exception {
        return start("b", """
                node: { name: b, data-dir: b-data }
                broker: { uris: [ "tcp://127.0.0.1:%d" ] }
                stores: { local: { type: mapdb } }
                channels: [ { name: shop:items, store: local, subscribe: true } ]
                """.formatted(port));
    }

    private MqdbNode start(String name, String yaml) throws Exception {
        Path file = dir.resolve(name + ".yaml");
        Files.writeString(file, yaml);
        return MqdbNode.start(ConfigLoader.load(file), plugins);
    }

    @AfterEach
    void stop() {
        if (b != null) {
            b.close();
        }
        if (a != null) {
            a.close();
        }
    }

    private static Row item(long id, String name, String price) {
        return Row.of(Map.of("id", id, "name", name, "price", new BigDecimal(price),
                "at", Instant.parse("2024-05-01T10:00:00.123456Z")));
    }

    private static List<Row> all(LocalTable t) {
        List<Row> out = new ArrayList<>();
        Key after = null;
        do {
            var page = t.scan(after, 1000);
            out.addAll(page.rows());
            after = page.next().orElse(null);
        } while (after != null);
        return out;
    }

    private void awaitSame() {
        LocalTable src = a.table("shop:items");
        LocalTable dst = b.table("shop:items");
        await().atMost(Duration.ofSeconds(60)).untilAsserted(() -> {
            assertThat(dst.schema()).isPresent();
            assertThat(all(dst)).containsExactlyElementsOf(all(src));
        });
        System.out.printf("compared %d rows between a and b: mismatches = 0%n", src.count());
    }

    @Test
    void aNodeOnWireFormJsonPublishesVersionOneBatchesThatApply() throws Exception {
        MqttClient raw = new MqttClient("tcp://127.0.0.1:" + port, "it-raw-" + System.nanoTime(), new MemoryPersistence());
        java.util.concurrent.BlockingQueue<byte[]> seen = new java.util.concurrent.LinkedBlockingQueue<>();
        raw.connect(new MqttConnectionOptions());
        raw.subscribe(new org.eclipse.paho.mqttv5.common.MqttSubscription[] {
                new org.eclipse.paho.mqttv5.common.MqttSubscription("mqdb/mqdb/ch/shop/items", 1)},
                new org.eclipse.paho.mqttv5.client.IMqttMessageListener[] {(t, m) -> seen.add(m.getPayload())});
        MqdbNode c = start("c", """
                node: { name: c, data-dir: c-data, wire-form: json }
                broker: { uris: [ "tcp://127.0.0.1:%d" ] }
                stores: { local: { type: mapdb } }
                channels: [ { name: shop:items, store: local, publish: true } ]
                """.formatted(port));
        try {
            LocalTable items = c.table("shop:items");
            items.ensure(SCHEMA);
            List<Row> rows = new ArrayList<>();
            for (long i = 5001; i <= 5100; i++) {
                rows.add(item(i, "json " + i, "1.25"));
            }
            items.upsert(rows);
            LocalTable mirror = b.table("shop:items");
            await().atMost(Duration.ofSeconds(30)).until(() -> mirror.count() == 100);
            assertThat(mirror.get(Key.of(5050L)).orElseThrow().get("name")).isEqualTo("json 5050");
            byte[] first = seen.poll(5, java.util.concurrent.TimeUnit.SECONDS);
            assertThat(first).isNotNull();
            String text = new String(first, StandardCharsets.UTF_8);
            assertThat(text).as("version 1: a JSON object").startsWith("{").contains("\"v\":1", "json 50");
            System.out.printf("wire-form json: %d rows applied from JSON batches (first message %d bytes)%n",
                    mirror.count(), first.length);
        } finally {
            c.close();
            raw.disconnect();
            raw.close();
        }
    }

    @Test
    void insertsUpdatesAndDeletesReachTheSubscriber() throws Exception {
        LocalTable items = a.table("shop:items");
        items.ensure(SCHEMA);
        List<Row> rows = new ArrayList<>();
        for (long i = 1; i <= 2000; i++) {
            rows.add(item(i, "item " + i, i + ".50"));
        }
        items.upsert(rows);
        items.upsert(Row.of(Map.of("id", 7L, "name", "renamed")));
        Map<String, Object> nulled = new java.util.HashMap<>();
        nulled.put("id", 8L);
        nulled.put("price", null);
        items.upsert(Row.of(nulled));
        items.delete(List.of(Key.of(9L), Key.of(10L)));
        awaitSame();
        LocalTable mirror = b.table("shop:items");
        assertThat(mirror.get(Key.of(7L))).get().extracting(r -> r.get("name"), r -> r.get("price"))
                .containsExactly("renamed", new BigDecimal("7.50"));
        assertThat(mirror.get(Key.of(8L)).orElseThrow().get("price")).isNull();
        assertThat(mirror.get(Key.of(9L))).isEmpty();
        assertThat(mirror.count()).isEqualTo(1998);
    }

    @Test
    void subscriberCatchesUpAfterBeingAway() throws Exception {
        LocalTable items = a.table("shop:items");
        items.ensure(SCHEMA);
        items.upsert(List.of(item(1, "one", "1.00"), item(2, "two", "2.00")));
        awaitSame();
        b.close();
        b = null;
        List<Row> more = new ArrayList<>();
        for (long i = 3; i <= 3000; i++) {
            more.add(item(i, "while away " + i, "3.00"));
        }
        items.upsert(more);
        items.delete(Key.of(1L));
        items.upsert(Row.of(Map.of("id", 2L, "name", "two, changed while away")));
        System.out.println("b was stopped while a wrote 2,998 rows, 1 update and 1 delete");
        b = startB();
        awaitSame();
        assertThat(b.table("shop:items").get(Key.of(1L))).isEmpty();
    }

    @Test
    void malformedMessagesAreDeadLetteredAndLaterEventsStillApply() throws Exception {
        LocalTable items = a.table("shop:items");
        items.ensure(SCHEMA);
        items.upsert(item(1, "before", "1.00"));
        awaitSame();
        String topic = "mqdb/mqdb/ch/shop/items";
        MqttClient client = new MqttClient("tcp://127.0.0.1:" + port, "it-poison", new MemoryPersistence());
        try {
            MqttConnectionOptions o = new MqttConnectionOptions();
            client.connect(o);
            for (String bad : List.of("not json at all", "{\"v\":99,\"op\":\"upsert\"}",
                    "{\"v\":1,\"op\":\"upsert\",\"row\":{\"id\":\"seven\"}}")) {
                MqttMessage m = new MqttMessage(bad.getBytes(StandardCharsets.UTF_8));
                m.setQos(1);
                client.publish(topic, m);
            }
            client.disconnect();
        } finally {
            client.close();
        }
        items.upsert(item(2, "after", "2.00"));
        awaitSame();
        assertThat(b.metrics().deadLetters.sum()).isEqualTo(3);
        Path deadFile = b.config().node().dataDir().resolve("dead-letters").resolve("shop.items.jsonl");
        assertThat(Files.readAllLines(deadFile)).hasSize(3).allMatch(l -> l.contains("\"reason\""));
        System.out.println("injected 3 malformed messages: 3 dead letters, later events applied");
    }

    @Test
    void aVersionFarInTheFutureIsDeadLetteredAndNeitherFreezesTheRowNorMovesTheClock() throws Exception {
        LocalTable items = a.table("shop:items");
        items.ensure(SCHEMA);
        items.upsert(item(1, "before", "1.00"));
        awaitSame();
        MqttClient client = new MqttClient("tcp://127.0.0.1:" + port, "it-future", new MemoryPersistence());
        try {
            client.connect(new MqttConnectionOptions());
            String frozen = "{\"v\":1,\"origin\":\"mallory\",\"events\":[{\"op\":\"upsert\",\"row\":{\"id\":1,"
                    + "\"name\":\"frozen\",\"price\":\"9.99\",\"at\":\"2024-05-01T10:00:00Z\"},"
                    + "\"hlc\":9223372036854775807}]}";
            MqttMessage m = new MqttMessage(frozen.getBytes(StandardCharsets.UTF_8));
            m.setQos(1);
            client.publish("mqdb/mqdb/ch/shop/items", m);
            client.disconnect();
        } finally {
            client.close();
        }
        await().atMost(Duration.ofSeconds(30)).until(() -> b.metrics().clockSkewRefused.sum() == 1);
        items.upsert(item(1, "after", "2.00"));
        awaitSame();
        assertThat(b.table("shop:items").get(Key.of(1L)).map(r -> r.get("name"))).contains("after");
        assertThat(b.metrics().deadLetters.sum()).isEqualTo(1);
        Path deadFile = b.config().node().dataDir().resolve("dead-letters").resolve("shop.items.jsonl");
        assertThat(Files.readString(deadFile)).contains("further ahead of this node's clock");
        System.out.println("injected an upsert with hlc 2^63-1: dead-lettered (clock skew), the row's next real "
                + "update applied");
    }

    /** {"v":1,"events":[...]} of {@code n} deletes of key {@code id}. */
    private static byte[] deletes(int n, long id) {
        StringBuilder events = new StringBuilder(n * 32 + 32).append("{\"v\":1,\"events\":[");
        for (int i = 0; i < n; i++) {
            events.append(i == 0 ? "" : ",").append("{\"op\":\"delete\",\"key\":{\"id\":").append(id)
                    .append("}}");
        }
        return events.append("]}").toString().getBytes(StandardCharsets.UTF_8);
    }

    /** A one-event upsert of row 1 with {@code n} extra columns. */
    private static byte[] wideRow(int n) {
        StringBuilder wide = new StringBuilder("{\"v\":1,\"op\":\"upsert\",\"row\":{\"id\":1");
        for (int i = 0; i < n; i++) {
            wide.append(",\"c").append(i).append("\":").append(i);
        }
        return wide.append("}}").toString().getBytes(StandardCharsets.UTF_8);
    }

    /** Publishes payloads on shop:items as a plain MQTT client (QoS 1), in order. */
    private void publishRaw(String clientId, List<byte[]> payloads) throws Exception {
        MqttClient client = new MqttClient("tcp://127.0.0.1:" + port, clientId, new MemoryPersistence());
        try {
            client.connect(new MqttConnectionOptions());
            for (byte[] payload : payloads) {
                MqttMessage m = new MqttMessage(payload);
                m.setQos(1);
                client.publish("mqdb/mqdb/ch/shop/items", m);
            }
            client.disconnect();
        } finally {
            client.close();
        }
    }

    @Test
    void oversizedMessagesNeitherStopTheSubscriberNorReachItsMemoryAndLaterEventsApply() throws Exception {
        LocalTable items = a.table("shop:items");
        items.ensure(SCHEMA);
        items.upsert(item(1, "before", "1.00"));
        awaitSame();
        byte[] millionEvents = deletes(1_000_000, 1);
        byte[] wideRow = wideRow(100_000);
        byte[] huge = new byte[48 << 20];
        java.util.Arrays.fill(huge, (byte) '{');
        publishRaw("it-oversized", List.of(huge, millionEvents, wideRow));
        items.upsert(item(2, "after", "2.00"));
        awaitSame();
        await().atMost(Duration.ofSeconds(30)).until(() -> b.metrics().deadLetters.sum() == 2);
        assertThat(b.failure()).isEmpty();
        Path deadFile = b.config().node().dataDir().resolve("dead-letters").resolve("shop.items.jsonl");
        String reasons = Files.readString(deadFile);
        assertThat(reasons).contains("100000").contains("1600");
        Runtime rt = Runtime.getRuntime();
        System.out.printf("injected a 48 MiB message (discarded by the broker: above the 32 MiB + 64 KiB maximum packet "
                + "size b announced), a %d-byte batch of 1,000,000 events and a %d-byte row of 100,000 columns "
                + "(each dead-lettered once, before decoding past its limit); b stayed up and applied the next "
                + "change; test JVM heap in use %d MiB of %d MiB%n", millionEvents.length, wideRow.length,
                (rt.totalMemory() - rt.freeMemory()) >> 20, rt.maxMemory() >> 20);
    }

    @Test
    void aNodesOwnLimitsBoundWhatItTakesAndWhatItsBrokerSendsIt() throws Exception {
        MqdbNode c = start("c", """
                node: { name: c, data-dir: c-data, limits: { max-message-mb: 1, max-events: 1000, max-columns: 10 } }
                broker: { uris: [ "tcp://127.0.0.1:%d" ] }
                stores: { local: { type: mapdb } }
                channels: [ { name: shop:items, store: local, subscribe: true } ]
                """.formatted(port));
        try {
            LocalTable items = a.table("shop:items");
            items.ensure(SCHEMA);
            items.upsert(item(1, "before", "1.00"));
            awaitSame();
            LocalTable onC = c.table("shop:items");
            await().atMost(Duration.ofSeconds(60)).untilAsserted(() -> assertThat(all(onC)).isEqualTo(all(items)));
            byte[] twoMib = new byte[2 << 20];
            java.util.Arrays.fill(twoMib, (byte) '{');
            publishRaw("it-limits", List.of(twoMib, deletes(1_001, 999), wideRow(1_600)));
            items.upsert(item(2, "after", "2.00"));
            awaitSame();
            await().atMost(Duration.ofSeconds(60)).untilAsserted(() -> assertThat(all(onC)).isEqualTo(all(items)));
            await().atMost(Duration.ofSeconds(30)).until(() -> c.metrics().deadLetters.sum() == 2
                    && b.metrics().deadLetters.sum() == 2);
            String onCReasons = Files.readString(c.config().node().dataDir().resolve("dead-letters")
                    .resolve("shop.items.jsonl"));
            assertThat(onCReasons).contains("maxEvents (1000)").contains("maxColumns (10)");
            String onBReasons = Files.readString(b.config().node().dataDir().resolve("dead-letters")
                    .resolve("shop.items.jsonl"));
            assertThat(onBReasons).as("b, with the default limits, took the 1,001 deletes and refused the 2 MiB "
                    + "message as malformed").doesNotContain("maxEvents").contains("maxColumns (1600)");
            assertThat(c.failure()).isEmpty();
            System.out.println("c (node.limits: max-message-mb 1, max-events 1000, max-columns 10) never received the "
                    + "2 MiB message (its broker discarded it: above the 1 MiB + 64 KiB c announced), dead-lettered "
                    + "the 1,001-event batch and the 1,601-column row with its own limits, and applied the next "
                    + "change; b, with the defaults, applied the deletes and dead-lettered the other two");
        } finally {
            c.close();
        }
    }

    @Test
    void aDiskBelowItsFloorPausesCaptureAndCaptureGoesOnWhenSpaceReturns() throws Exception {
        long freeMb = Files.getFileStore(dir).getUsableSpace() >> 20;
        assertThat(freeMb).as("this test needs 2 GB free on " + dir).isGreaterThan(2_048);
        // The floor 300 MiB under what is free now; a 600 MiB ballast file then takes the disk below it.
        MqdbNode p = start("p", """
                node: { name: p, data-dir: p-data, min-free-disk-mb: %d }
                broker: { uris: [ "tcp://127.0.0.1:%d" ] }
                stores: { local: { type: mapdb } }
                channels: [ { name: shop:disk, store: local, publish: true } ]
                """.formatted(freeMb - 300, port));
        MqdbNode c = start("c", """
                node: { name: c, data-dir: c-data }
                broker: { uris: [ "tcp://127.0.0.1:%d" ] }
                stores: { local: { type: mapdb } }
                channels: [ { name: shop:disk, store: local, subscribe: true } ]
                """.formatted(port));
        java.util.concurrent.ExecutorService writer = java.util.concurrent.Executors.newSingleThreadExecutor();
        Path ballast = dir.resolve("ballast");
        try {
            TableSchema disk = new TableSchema(TableId.parse("shop:disk"), SCHEMA.columns(), List.of("id"));
            LocalTable src = p.table("shop:disk");
            src.ensure(disk);
            src.upsert(item(1, "before", "1.00"));
            LocalTable dst = c.table("shop:disk");
            await().atMost(Duration.ofSeconds(30)).until(() -> dst.schema().isPresent() && dst.count() == 1);

            try (var out = Files.newOutputStream(ballast)) {
                byte[] mib = new byte[1 << 20];
                for (int i = 0; i < 600; i++) {
                    out.write(mib);
                }
                out.flush();
            }
            try (var ch = java.nio.channels.FileChannel.open(ballast, java.nio.file.StandardOpenOption.WRITE)) {
                ch.force(true); // the blocks are taken, not only promised
            }
            long paused = System.nanoTime();
            var writes = writer.submit(() -> {
                for (long i = 2; i <= 11; i++) {
                    src.upsert(item(i, "while full", "2.00"));
                }
                return null;
            });
            await().atMost(Duration.ofSeconds(10)).until(() -> p.metrics().diskPaused.values().stream()
                    .anyMatch(java.util.function.BooleanSupplier::getAsBoolean));
            await().during(Duration.ofSeconds(2)).atMost(Duration.ofSeconds(5)).until(() -> dst.count() == 1);
            assertThat(p.failure()).as("the node runs on").isEmpty();

            Files.delete(ballast);
            await().atMost(Duration.ofSeconds(30)).until(() -> dst.count() == 11);
            writes.get(30, java.util.concurrent.TimeUnit.SECONDS);
            assertThat(all(dst)).containsExactlyElementsOf(all(src));
            System.out.printf("disk taken below node.min-free-disk-mb by a 600 MiB file: capture paused (nothing "
                    + "published for 2 s, the node up), the file deleted: the 10 rows written meanwhile arrived, "
                    + "%d ms after the pause began%n", (System.nanoTime() - paused) / 1_000_000);
        } finally {
            writer.shutdownNow();
            Files.deleteIfExists(ballast);
            c.close();
            p.close();
        }
    }

    @Test
    void retainedMessagesOfChannelsRemovedFromTheConfigAreClearedByTheirOwner() throws Exception {
        String cYaml = """
                node: { name: c, data-dir: c-data }
                broker: { uris: [ "tcp://127.0.0.1:%d" ] }
                stores: { local: { type: mapdb } }
                channels: [ { name: %s, store: local, publish: true }, { name: shop:items, store: local, subscribe: true } ]
                """;
        String position = "mqdb/mqdb/pos/shop/extra/c";
        String presence = "mqdb/mqdb/nodes/c/presence/ch/shop/items";
        String flow = "mqdb/mqdb/flow/shop/items/c";
        MqdbNode c = start("c", cYaml.formatted(port, "shop:extra"));
        try {
            LocalTable extra = c.table("shop:extra");
            extra.ensure(new TableSchema(TableId.parse("shop:extra"), SCHEMA.columns(), List.of("id")));
            extra.upsert(item(1, "extra", "1.00"));
            await().atMost(Duration.ofSeconds(30)).until(() -> retained(position).isPresent()
                    && retained(presence).isPresent() && retained(flow).isPresent());
        } finally {
            c.close();
        }
        // c no longer publishes shop:extra and no longer subscribes shop:items
        c = start("c", cYaml.replace(", { name: shop:items, store: local, subscribe: true }", "")
                .formatted(port, "shop:other"));
        try {
            await().atMost(Duration.ofSeconds(30)).until(() -> retained(position).isEmpty()
                    && retained(presence).isEmpty() && retained(flow).isEmpty());
            assertThat(retained("mqdb/mqdb/nodes/b/presence/ch/shop/items")).as("another node's are kept")
                    .isPresent();
            System.out.println("node c restarted without shop:extra (published) and shop:items (subscribed): its "
                    + "retained position, channel presence and flow report of them are gone, node b's presence is kept");
        } finally {
            c.close();
        }
    }

    /** @return the retained message of a topic, as a fresh MQTT client sees it within 500 ms of subscribing */
    private Optional<String> retained(String topic) throws Exception {
        MqttClient client = new MqttClient("tcp://127.0.0.1:" + port, "it-retained-" + System.nanoTime(),
                new MemoryPersistence());
        try {
            java.util.concurrent.BlockingQueue<String> got = new java.util.concurrent.LinkedBlockingQueue<>();
            client.connect(new MqttConnectionOptions());
            client.subscribe(new org.eclipse.paho.mqttv5.common.MqttSubscription[] {
                    new org.eclipse.paho.mqttv5.common.MqttSubscription(topic, 1)},
                    new org.eclipse.paho.mqttv5.client.IMqttMessageListener[] {(t, m) -> {
                        if (m.isRetained() && m.getPayload().length > 0) {
                            got.add(new String(m.getPayload(), StandardCharsets.UTF_8));
                        }
                    }});
            String first = got.poll(500, java.util.concurrent.TimeUnit.MILLISECONDS);
            client.disconnect();
            return Optional.ofNullable(first);
        } finally {
            client.close();
        }
    }
}
