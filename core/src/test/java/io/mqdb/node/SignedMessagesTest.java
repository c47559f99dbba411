package io.mqdb.node;

import static io.mqdb.testkit.Items.item;
import static io.mqdb.testkit.Items.names;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.mqdb.node.catchup.Control;
import io.mqdb.signing.Keys;
import io.mqdb.signing.Signing;
import io.mqdb.signing.TrustList;
import io.mqdb.spi.Version;
import io.mqdb.testkit.InMemoryData;
import io.mqdb.testkit.Items;
import io.mqdb.testkit.ScriptedOrigin;
import io.mqdb.testkit.TestCluster;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.KeyPair;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * With {@code node.signing} on, a subscriber applies a batch only when it is signed by the origin it claims, and lets
 * only an origin's own signed position drive its gap detection and merges. Node b subscribes {@code shop:items};
 * scripted origins send what the test names over the in-memory broker; c is a trusted node posing as a.
 */
class SignedMessagesTest {
    private static final Duration WAIT = Duration.ofSeconds(10);
    private static final String POSITION_TOPIC = "mqdb/mqdb/pos/shop/items/a";
    private static final KeyPair A = Keys.generate();
    private static final KeyPair B = Keys.generate();
    private static final KeyPair C = Keys.generate();
    private static final TrustList TRUST = new TrustList(Map.of("a", List.of(A.getPublic()),
            "b", List.of(B.getPublic()), "c", List.of(C.getPublic())));

    @TempDir
    Path dir;
    private TestCluster cluster;
    private MqdbNode b;
    private InMemoryData bData;
    private ScriptedOrigin a;
    private String signing;
    private final Signing signedByA = new Signing("a", A.getPrivate(), TRUST);
    private final Signing signedByC = new Signing("c", C.getPrivate(), TRUST);

    @BeforeEach
    void start() throws Exception {
        Path key = dir.resolve("b.key");
        Files.writeString(key, Keys.pem(B.getPrivate()));
        Files.setPosixFilePermissions(key, PosixFilePermissions.fromString("rw-------"));
        Path trust = dir.resolve("trust.txt");
        Files.writeString(trust, "a: " + Keys.text(A.getPublic()) + "\nb: " + Keys.text(B.getPublic()) + "\nc: "
                + Keys.text(C.getPublic()) + "\n");
        cluster = new TestCluster(dir);
        signing = "signing: { key-file: \"%s\", trust-file: \"%s\" }".formatted(key, trust);
        b = cluster.start("b", signing, "[ { name: shop:items, store: local, subscribe: true } ]");
        bData = cluster.store("b");
        a = new ScriptedOrigin(cluster.broker(), "a", Items.SCHEMA);
    }

    @AfterEach
    void stop() {
        a.close();
        cluster.close();
    }

    private static long hlc(long millisAgo) {
        return Version.pack(System.currentTimeMillis() - millisAgo, 0);
    }

    @Test
    void onlyABatchSignedByItsOriginApplies() {
        byte[] batch = a.batch(a.upsert(item(1, "one"), hlc(1000), 1));
        a.sendRaw(batch);
        a.sendRaw(signedByC.seal(Items.TOPIC, batch));
        a.sendRaw(signedByA.seal("mqdb/mqdb/ch/shop/other", batch));
        a.sendRaw(signedByA.seal(Items.TOPIC, a.batch(a.upsert(item(2, "two"), hlc(900), 2))));

        await().atMost(WAIT).until(() -> names(bData).containsKey(2L));
        assertThat(names(bData)).isEqualTo(Map.of(2L, "two"));
        assertThat(b.metrics().signatureRefused.sum()).isEqualTo(3);
        assertThat(b.metrics().deadLetters.sum()).isEqualTo(3);
    }

    @Test
    void aPositionNotSignedByItsNodeNeitherMergesNorSkips() {
        a.sendRaw(signedByA.seal(Items.TOPIC, a.batch(a.upsert(item(1, "one"), hlc(2000), 1),
                a.upsert(item(2, "two"), hlc(1900), 2))));
        await().atMost(WAIT).until(() -> names(bData).size() == 2);
        // A complete snapshot of a that started after both rows: merged, it removes them.
        byte[] position = new Control.Position("a", Items.TABLE, 2,
                Optional.of(new Control.Snapshot(hlc(0), 1, 2, true)), 0).toJson();
        a.publish(POSITION_TOPIC, position, true);
        a.publish(POSITION_TOPIC, signedByC.seal(POSITION_TOPIC, position), true);
        a.publish("mqdb/mqdb/pos/shop/items/c", signedByC.seal("mqdb/mqdb/pos/shop/items/c", position), true);
        await().atMost(WAIT).until(() -> b.metrics().signatureRefused.sum() == 3);
        a.sendRaw(signedByA.seal(Items.TOPIC, a.batch(a.upsert(item(3, "three"), hlc(1800), 3))));
        await().atMost(WAIT).until(() -> names(bData).size() == 3);
        assertThat(b.metrics().mergeDeletes.sum()).isZero();

        // The same position, signed by a: now it is a's word, and b merges it.
        byte[] later = new Control.Position("a", Items.TABLE, 3,
                Optional.of(new Control.Snapshot(hlc(0), 1, 3, true)), 0).toJson();
        a.publish(POSITION_TOPIC, signedByA.seal(POSITION_TOPIC, later), true);
        await().atMost(WAIT).until(() -> names(bData).isEmpty());
        assertThat(b.metrics().mergeDeletes.sum()).isEqualTo(3);
        assertThat(b.metrics().signatureRefused.sum()).isEqualTo(3);
    }

    @Test
    void aForgedBatchDoesNotStopAStrictChannel() throws Exception {
        cluster.stop("b");
        b = cluster.start("b", signing, "[ { name: shop:items, store: local, subscribe: true, on-error: stop } ]");
        a.sendRaw(a.batch(a.upsert(item(1, "forged"), hlc(1000), 1)));
        a.sendRaw(signedByC.seal(Items.TOPIC, a.batch(a.upsert(item(1, "forged"), hlc(1000), 1))));
        a.sendRaw(signedByA.seal(Items.TOPIC, a.batch(a.upsert(item(1, "one"), hlc(900), 1))));
        await().atMost(WAIT).until(() -> names(bData).containsKey(1L));
        assertThat(names(bData)).isEqualTo(Map.of(1L, "one"));
        assertThat(b.failure()).isEmpty();
        assertThat(b.metrics().signatureRefused.sum()).isEqualTo(2);
    }

    @Test
    void anUnsignedBatchIsRefusedWhereThePlainWritesAreNotAccepted() {
        a.sendRaw("{\"v\":1,\"op\":\"upsert\",\"row\":{\"id\":5,\"name\":\"plain\"}}"
                .getBytes(StandardCharsets.UTF_8));
        a.sendRaw(signedByA.seal(Items.TOPIC, a.batch(a.upsert(item(1, "one"), hlc(1000), 1))));
        await().atMost(WAIT).until(() -> names(bData).containsKey(1L));
        assertThat(names(bData)).doesNotContainKey(5L);
        assertThat(b.metrics().plainWrites.sum()).isZero();
        assertThat(b.metrics().signatureRefused.sum()).isEqualTo(1);
    }

    @Test
    void theAppliedPositionIsSignedByTheSubscriberAndALaggingOnesLagIsNotForgedByAnUnsignedPosition() {
        a.sendRaw(signedByA.seal(Items.TOPIC, a.batch(a.upsert(item(1, "one"), hlc(1000), 1))));
        a.publish(POSITION_TOPIC, signedByA.seal(POSITION_TOPIC, new Control.Position("a", Items.TABLE, 1,
                Optional.empty(), 0).toJson()), true);
        String topic = "mqdb/mqdb/applied/shop/items/b";
        await().atMost(WAIT).until(() -> cluster.broker().retained(topic).isPresent());
        byte[] sealed = cluster.broker().retained(topic).orElseThrow();
        Signing.Verified v = signedByA.open(topic, sealed);
        assertThat(v.signer()).isEqualTo("b");
        await().atMost(WAIT).until(() -> Control.Applied.parse(signedByA.open(topic,
                cluster.broker().retained(topic).orElseThrow()).payload()).origins().getOrDefault("a", 0L) == 1);
        // An unsigned position claiming a is far ahead: refused, so b's lag stays 0.
        a.publish(POSITION_TOPIC, new Control.Position("a", Items.TABLE, 1_000, Optional.empty(), 0).toJson(), true);
        await().atMost(WAIT).until(() -> b.metrics().signatureRefused.sum() >= 1);
        assertThat(b.observer().orElseThrow().lags().get(Items.TABLE).events()).isZero();
    }
}
