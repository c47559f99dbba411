package io.mqdb.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.mqdb.config.ConfigLoader;
import io.mqdb.node.LocalTable;
import io.mqdb.node.MqdbNode;
import io.mqdb.plugin.PluginRegistry;
import io.mqdb.signing.Keys;
import io.mqdb.signing.Signing;
import io.mqdb.signing.TrustList;
import io.mqdb.spi.Column;
import io.mqdb.spi.ColumnType;
import io.mqdb.spi.Key;
import io.mqdb.spi.Row;
import io.mqdb.spi.TableId;
import io.mqdb.spi.TableSchema;
import io.mqdb.spi.Version;
import io.mqdb.testing.ServerFixture;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.KeyPair;
import java.time.Duration;
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
 * Two nodes with {@code node.signing} on, over node a's embedded broker (which lets every client in, so the broker's
 * permissions protect nothing here: only the signatures do). They sync and catch up; a hostile raw MQTT client's
 * unsigned, untrusted, mis-signed batches, forged positions and forged resend requests change nothing; plain writes
 * are applied, stamped by the receiver, only where a channel accepts them.
 */
class SignedSyncIT {
    private static final TableId ITEMS = TableId.parse("shop:items");
    private static final TableSchema SCHEMA = new TableSchema(ITEMS, List.of(
            new Column("id", ColumnType.INT64, false), Column.of("name", ColumnType.STRING)), List.of("id"));
    private static final String CHANNEL = "mqdb/mqdb/ch/shop/items";
    private static final KeyPair A = Keys.generate();
    private static final KeyPair B = Keys.generate();
    /** Trusted, but not running: a compromised node of the cluster. */
    private static final KeyPair C = Keys.generate();
    private static final KeyPair STRANGER = Keys.generate();

    @TempDir
    Path dir;
    private int port;
    private MqdbNode a;
    private MqdbNode b;
    private final PluginRegistry plugins = PluginRegistry.load(Optional.empty(), SignedSyncIT.class.getClassLoader());

    private String trust() {
        return "{ a: \"%s\", b: \"%s\", c: \"%s\" }".formatted(Keys.text(A.getPublic()), Keys.text(B.getPublic()),
                Keys.text(C.getPublic()));
    }

    @BeforeEach
    void startNodes() throws Exception {
        for (Map.Entry<String, KeyPair> k : Map.of("a", A, "b", B).entrySet()) {
            Path f = dir.resolve(k.getKey() + ".key");
            Files.writeString(f, Keys.pem(k.getValue().getPrivate()));
            Files.setPosixFilePermissions(f, PosixFilePermissions.fromString("rw-------"));
        }
        port = ServerFixture.freePort();
        a = startA(256);
        b = startB();
    }

    private MqdbNode startA(int resendWindowMb) throws Exception {
        return start("a", """
                node: { name: a, data-dir: a-data, resend-window-mb: %d, signing: { key: "${file:a.key}", trust: %s } }
                broker: { embedded: { port: %d } }
                stores: { local: { type: mapdb } }
                channels: [ { name: shop:items, store: local, publish: true, batch-size: 100 } ]
                """.formatted(resendWindowMb, trust(), port));
    }

    private MqdbNode startB() throws Exception {
        return start("b", """
                node: { name: b, data-dir: b-data, signing: { key-file: b.key, trust: %s } }
                broker: { uris: [ "tcp://127.0.0.1:%d" ] }
                stores: { local: { type: mapdb } }
                channels:
                  - { name: shop:items, store: local, subscribe: true }
                  - { name: shop:notes, store: local, subscribe: true, accept-plain-writes: true, plain-writes: upserts }
                """.formatted(trust(), port));
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

    /** Writes {@code n} rows on a and waits until b holds them. */
    private LocalTable seeded(int n) throws InterruptedException {
        LocalTable items = a.table("shop:items");
        items.ensure(SCHEMA);
        List<Row> rows = new ArrayList<>();
        for (long i = 1; i <= n; i++) {
            rows.add(Row.of(Map.of("id", i, "name", "item " + i)));
        }
        items.upsert(rows);
        awaitSame();
        return items;
    }

    private void publish(String topic, byte[] payload, boolean retained) throws Exception {
        MqttClient client = new MqttClient("tcp://127.0.0.1:" + port, "mallory-" + System.nanoTime(),
                new MemoryPersistence());
        try {
            client.connect(new MqttConnectionOptions());
            MqttMessage m = new MqttMessage(payload);
            m.setQos(1);
            m.setRetained(retained);
            client.publish(topic, m);
            client.disconnect();
        } finally {
            client.close();
        }
    }

    private static byte[] utf8(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    private List<String> deadLetters(MqdbNode node, String file) throws Exception {
        Path f = node.config().node().dataDir().resolve("dead-letters").resolve(file);
        return Files.exists(f) ? Files.readAllLines(f) : List.of();
    }

    @Test
    void signedNodesSyncAndCatchUp() throws Exception {
        LocalTable items = a.table("shop:items");
        items.ensure(SCHEMA);
        List<Row> rows = new ArrayList<>();
        for (long i = 1; i <= 500; i++) {
            rows.add(Row.of(Map.of("id", i, "name", "item " + i)));
        }
        items.upsert(rows);
        items.upsert(Row.of(Map.of("id", 7L, "name", "renamed")));
        items.delete(List.of(Key.of(9L), Key.of(10L)));
        awaitSame();
        assertThat(b.table("shop:items").get(Key.of(7L)).map(r -> r.get("name"))).contains("renamed");

        b.close();
        b = null;
        a.close();
        a = startA(256); // its broker starts empty: b's session, and what it would have queued for b, are gone
        items = a.table("shop:items");
        List<Row> more = new ArrayList<>();
        for (long i = 501; i <= 3000; i++) {
            more.add(Row.of(Map.of("id", i, "name", "while away " + i)));
        }
        items.upsert(more);
        items.delete(Key.of(1L));
        MqdbNode origin = a;
        // Published before b returns, so b can only get them by asking a.
        await().atMost(Duration.ofSeconds(60)).until(() -> origin.metrics().published.sum() >= 2501
                && origin.metrics().outboxDepth() == 0);
        System.out.println("b was stopped, a restarted with its broker in memory, then a wrote 2,500 rows in batches "
                + "of 100 and 1 delete");
        b = startB();
        awaitSame();
        System.out.printf("b caught up through signed resend requests and signed resends: a resent %d messages, "
                + "made %d targeted snapshots; signature refusals a=%d b=%d%n", a.metrics().resent.sum(),
                a.metrics().targetedSnapshots.sum(), a.metrics().signatureRefused.sum(),
                b.metrics().signatureRefused.sum());
        assertThat(a.metrics().resent.sum()).isPositive();
        assertThat(a.metrics().signatureRefused.sum()).isZero();
        assertThat(b.metrics().signatureRefused.sum()).isZero();
        assertThat(b.metrics().deadLetters.sum()).isZero();
    }

    @Test
    void aSignedTargetedSnapshotCatchesUpASubscriberTheResendWindowCannotServe() throws Exception {
        a.table("shop:items").ensure(SCHEMA);
        a.table("shop:items").upsert(Row.of(Map.of("id", 1L, "name", "one")));
        awaitSame();
        b.close();
        b = null;
        a.close();
        // Its broker starts empty, and it has no resend window: every resend request gets a snapshot for the
        // requester alone, signed page by page.
        a = startA(0);
        List<Row> more = new ArrayList<>();
        for (long i = 2; i <= 2000; i++) {
            more.add(Row.of(Map.of("id", i, "name", "while away " + i)));
        }
        a.table("shop:items").upsert(more);
        a.table("shop:items").delete(Key.of(1L));
        MqdbNode origin = a;
        await().atMost(Duration.ofSeconds(60)).until(() -> origin.metrics().published.sum() >= 2000
                && origin.metrics().outboxDepth() == 0);
        b = startB();
        awaitSame();
        System.out.printf("b caught up from a (restarted with resend-window-mb 0 and its broker in memory): %d "
                + "targeted snapshots (%d rows), signature refusals a=%d b=%d%n", a.metrics().targetedSnapshots.sum(),
                a.metrics().targetedSnapshotRows.sum(), a.metrics().signatureRefused.sum(),
                b.metrics().signatureRefused.sum());
        assertThat(a.metrics().targetedSnapshots.sum()).isPositive();
        assertThat(b.table("shop:items").get(Key.of(1L))).isEmpty();
        assertThat(b.metrics().signatureRefused.sum()).isZero();
    }

    @Test
    void forgedBatchesPositionsAndResendRequestsChangeNothing() throws Exception {
        LocalTable items = seeded(300);
        long resentBefore = a.metrics().resent.sum();
        long snapshotsBefore = a.metrics().targetedSnapshots.sum();

        long now = Version.pack(System.currentTimeMillis(), 0);
        String forged = "{\"v\":1,\"origin\":\"a\",\"events\":[{\"op\":\"upsert\","
                + "\"row\":{\"id\":1,\"name\":\"forged\"},"
                + "\"hlc\":" + now + ",\"seq\":9000000000000000000},{\"op\":\"delete\",\"key\":{\"id\":2},\"hlc\":"
                + now + "}]}";
        // (1) unsigned, claiming origin a
        publish(CHANNEL, utf8(forged), false);
        // (2) signed as a, but with a key the cluster does not trust
        Signing strangerAsA = new Signing("a", STRANGER.getPrivate(),
                new TrustList(Map.of("a", List.of(STRANGER.getPublic()))));
        publish(CHANNEL, strangerAsA.seal(CHANNEL, utf8(forged)), false);
        // (3) validly signed by c, a trusted node, but claiming origin a
        Signing c = new Signing("c", C.getPrivate(), new TrustList(Map.of("c", List.of(C.getPublic()))));
        publish(CHANNEL, c.seal(CHANNEL, utf8(forged)), false);
        // (4) a retained position of a announcing a complete snapshot newer than every row: merged, it would
        // remove all of a's rows on b. Unsigned, then signed by c on a's position topic.
        String posTopic = "mqdb/mqdb/pos/shop/items/a";
        String position = "{\"node\":\"a\",\"channel\":\"shop:items\",\"seq\":1,\"snapshot\":{\"startHlc\":"
                + (now + (60_000L << 16)) + ",\"firstSeq\":1,\"endSeq\":1,\"done\":true}}";
        publish(posTopic, utf8(position), true);
        publish(posTopic, c.seal(posTopic, utf8(position)), true);
        // (5) resend requests to a in b's name: unsigned, and signed by c
        String resendTopic = "mqdb/mqdb/ctl/a/resend";
        String resend = "{\"channel\":\"shop:items\",\"from\":1,\"to\":0,\"requester\":\"b\",\"merged\":0,"
                + "\"streamSeq\":0}";
        publish(resendTopic, utf8(resend), false);
        publish(resendTopic, c.seal(resendTopic, utf8(resend)), false);
        System.out.println("injected: (1) an unsigned batch claiming origin a, (2) the same signed with an "
                + "untrusted key as a, (3) the same signed by trusted c, (4) two forged retained positions of a "
                + "(unsigned; signed by c) announcing a snapshot that would remove every row, (5) two forged resend "
                + "requests to a in b's name (unsigned; signed by c)");

        await().atMost(Duration.ofSeconds(30)).untilAsserted(() -> {
            assertThat(b.metrics().signatureRefused.sum()).isEqualTo(5); // 3 batches, 2 positions
            assertThat(a.metrics().signatureRefused.sum()).isEqualTo(2); // 2 resend requests
        });
        items.upsert(Row.of(Map.of("id", 301L, "name", "after the forgeries")));
        awaitSame();
        assertThat(b.table("shop:items").get(Key.of(1L)).map(r -> r.get("name"))).contains("item 1");
        assertThat(b.table("shop:items").get(Key.of(2L))).isPresent();
        assertThat(b.metrics().mergeDeletes.sum()).isZero();
        assertThat(a.metrics().resent.sum()).isEqualTo(resentBefore);
        assertThat(a.metrics().targetedSnapshots.sum()).isEqualTo(snapshotsBefore);
        List<String> dead = deadLetters(b, "shop.items.jsonl");
        assertThat(dead).hasSize(3);
        assertThat(dead.get(0)).contains("unsigned message refused (node.signing is on; accept-plain-writes is off "
                + "for this channel)");
        assertThat(dead.get(1)).contains("with key " + Keys.keyIdText(Keys.keyId(STRANGER.getPublic()))
                + ", which node.signing.trust does not hold for a");
        assertThat(dead.get(2)).contains("signed by c but claims origin a");
        for (String d : dead) {
            System.out.println("dead letter reason: " + com.google.gson.JsonParser.parseString(d).getAsJsonObject()
                    .get("reason").getAsString());
        }
        System.out.printf("rows on b unchanged (%d compared), merge deletes on b = %d, a resent %d and made %d "
                + "targeted snapshots after the forgeries%n", b.table("shop:items").count(),
                b.metrics().mergeDeletes.sum(), a.metrics().resent.sum() - resentBefore,
                a.metrics().targetedSnapshots.sum() - snapshotsBefore);
    }

    @Test
    void aRecordedResendRequestPublishedAgainIsRefused() throws Exception {
        LocalTable items = seeded(300);
        // A request as b would send it, signed with b's key (not targeted: a serves each one it accepts on the channel
        // topic; from 1, before its resend window, with a fresh snapshot); a recorded request is these exact bytes.
        Signing asB = new Signing("b", B.getPrivate(), new TrustList(Map.of("b", List.of(B.getPublic()))));
        String resendTopic = "mqdb/mqdb/ctl/a/resend";
        long at = Version.pack(System.currentTimeMillis(), 7);
        byte[] recorded = asB.seal(resendTopic, utf8("{\"channel\":\"shop:items\",\"from\":1,\"to\":0,"
                + "\"requester\":\"b\",\"at\":" + at + "}"));
        long publishedBefore = a.metrics().published.sum();
        publish(resendTopic, recorded, false);
        await().atMost(Duration.ofSeconds(30)).until(() -> a.metrics().published.sum() > publishedBefore);
        await().atMost(Duration.ofSeconds(30)).until(() -> a.metrics().outboxDepth() == 0);
        long publishedOnce = a.metrics().published.sum();
        for (int i = 0; i < 5; i++) {
            publish(resendTopic, recorded, false);
        }
        long tenMinutesAgo = Version.pack(System.currentTimeMillis() - 600_000, 0);
        publish(resendTopic, asB.seal(resendTopic, utf8("{\"channel\":\"shop:items\",\"from\":1,\"to\":0,"
                + "\"requester\":\"b\",\"at\":" + tenMinutesAgo + "}")), false);
        publish(resendTopic, asB.seal(resendTopic, utf8("{\"channel\":\"shop:items\",\"from\":1,\"to\":0,"
                + "\"requester\":\"b\"}")), false);
        // c is trusted and signs for itself, freshly, but never reported as a subscriber of shop:items
        Signing asC = new Signing("c", C.getPrivate(), new TrustList(Map.of("c", List.of(C.getPublic()))));
        publish(resendTopic, asC.seal(resendTopic, utf8("{\"channel\":\"shop:items\",\"from\":1,\"to\":0,"
                + "\"requester\":\"c\",\"at\":" + Version.pack(System.currentTimeMillis(), 9) + "}")), false);
        await().atMost(Duration.ofSeconds(30)).until(() -> a.metrics().requestsRefused.sum() == 8);
        System.out.printf("a signed resend request of b served once (a published %d rows again), then the same bytes 5 "
                + "times, one signed 10 min ago, one without a clock reading and one of c, which subscribes nothing: "
                + "refused %d, published %d more%n",
                publishedOnce - publishedBefore, a.metrics().requestsRefused.sum(), a.metrics().published.sum() - publishedOnce);
        assertThat(a.metrics().published.sum()).isEqualTo(publishedOnce);
        assertThat(a.metrics().signatureRefused.sum()).isZero();
        items.upsert(Row.of(Map.of("id", 301L, "name", "after the replays")));
        awaitSame();
    }

    @Test
    void plainWritesAreStampedByTheReceiverAndLimitedToUpsertsWhereTheChannelSaysSo() throws Exception {
        String notes = "mqdb/mqdb/ch/shop/notes";
        long far = Version.pack(System.currentTimeMillis() + 3_600_000L, 0); // an hour ahead: beyond the skew bound
        publish(notes, utf8("{\"v\":1,\"origin\":\"a\",\"op\":\"upsert\",\"row\":{\"id\":1,\"text\":\"first\"},"
                + "\"hlc\":" + far + ",\"seq\":9000000000000000000}"), false);
        LocalTable table = b.table("shop:notes");
        await().atMost(Duration.ofSeconds(30)).untilAsserted(() ->
                assertThat(table.get(Key.of(1L)).map(r -> r.get("text"))).contains("first"));
        // Had the far-future hlc been kept, this older-claiming write would lose; stamped by b's clock, it wins.
        publish(notes, utf8("{\"v\":1,\"op\":\"upsert\",\"row\":{\"id\":1,\"text\":\"second\"},\"hlc\":1}"), false);
        await().atMost(Duration.ofSeconds(30)).untilAsserted(() ->
                assertThat(table.get(Key.of(1L)).map(r -> r.get("text"))).contains("second"));
        publish(notes, utf8("{\"v\":1,\"op\":\"delete\",\"key\":{\"id\":1}}"), false);
        await().atMost(Duration.ofSeconds(30)).until(() -> deadLetters(b, "shop.notes.jsonl").size() == 1);
        assertThat(deadLetters(b, "shop.notes.jsonl").get(0))
                .contains("a plain delete refused (plain-writes: upserts on this channel)");
        assertThat(table.get(Key.of(1L)).map(r -> r.get("text"))).contains("second");
        assertThat(b.metrics().plainWrites.sum()).isEqualTo(2);
        assertThat(b.metrics().clockSkewRefused.sum()).isZero();
        assertThat(b.metrics().resendRequests.sum()).as("a plain write claiming a's seq moves no numbering")
                .isZero();
        System.out.println("plain writes on shop:notes: an upsert claiming origin a, seq 9e18 and an hlc an hour "
                + "ahead applied with b's clock, a later upsert with hlc 1 won over it, a plain delete was "
                + "dead-lettered (upserts only); plain writes applied = " + b.metrics().plainWrites.sum());
    }
}
