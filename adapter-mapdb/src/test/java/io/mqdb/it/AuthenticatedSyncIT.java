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
import io.mqdb.testing.TestPki;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Two nodes over node A's embedded broker with {@code users} on, bound beyond loopback: A connects to its own broker
 * with the credential it makes at start, B with its user's password read from a file; inserts, updates and deletes
 * flow from A to B, and B's catch-up after a restart works within its permissions. Then the same over A's TLS
 * listener only ({@code plain: false}, {@code client-auth: required}): A still reaches its own broker on loopback with
 * its per-start credential; B connects over {@code ssl://} trusting the CA, with a client certificate and its password.
 */
class AuthenticatedSyncIT {
    private static final TableId ITEMS = TableId.parse("shop:items");
    private static final TableSchema SCHEMA = new TableSchema(ITEMS, List.of(
            new Column("id", ColumnType.INT64, false), Column.of("name", ColumnType.STRING)), List.of("id"));

    @TempDir
    Path dir;
    private final PluginRegistry plugins = PluginRegistry.load(Optional.empty(),
            AuthenticatedSyncIT.class.getClassLoader());

    private MqdbNode start(String name, String yaml) throws Exception {
        Path file = dir.resolve(name + ".yaml");
        Files.writeString(file, yaml);
        return MqdbNode.start(ConfigLoader.load(file), plugins);
    }

    /** @return node {@code a}'s table shop:items with rows 1..n */
    private static LocalTable items(MqdbNode a, int n) throws InterruptedException {
        LocalTable src = a.table("shop:items");
        src.ensure(SCHEMA);
        for (long i = 1; i <= n; i++) {
            src.upsert(Row.of(Map.of("id", i, "name", "item " + i)));
        }
        return src;
    }

    @Test
    void nodesSyncThroughAnAuthenticatingEmbeddedBroker() throws Exception {
        int port = ServerFixture.freePort();
        Path secret = dir.resolve("b.password");
        Files.writeString(secret, "correct horse battery staple\n");
        String bYaml = """
                node: { name: b, data-dir: b-data }
                broker: { uris: [ "tcp://127.0.0.1:%d" ], username: b, password: "${file:%s}" }
                stores: { local: { type: mapdb } }
                channels: [ { name: shop:items, store: local, subscribe: true } ]
                """.formatted(port, secret);
        try (MqdbNode a = start("a", """
                node: { name: a, data-dir: a-data }
                broker:
                  embedded:
                    bind: 0.0.0.0
                    port: %d
                    users:
                      b: { password: "${file:%s}", role: node }
                stores: { local: { type: mapdb } }
                channels: [ { name: shop:items, store: local, publish: true } ]
                """.formatted(port, secret))) {
            LocalTable src = items(a, 100);
            MqdbNode b = start("b", bYaml);
            try {
                LocalTable dst = b.table("shop:items");
                syncsAnUpdateAndADelete(src, dst, 100);
            } finally {
                b.close();
            }
            for (long i = 101; i <= 150; i++) {
                src.upsert(Row.of(Map.of("id", i, "name", "while b was away")));
            }
            b = start("b", bYaml);
            try {
                LocalTable dst = b.table("shop:items");
                await().atMost(Duration.ofSeconds(60)).until(() -> dst.count() == 149);
                assertThat(dst.get(Key.of(8L))).isEmpty();
                assertThat(dst.get(Key.of(150L)).map(r -> r.get("name"))).contains("while b was away");
                assertThat(b.metrics().deadLetters.sum()).isZero();
            } finally {
                b.close();
            }
            System.out.println("embedded broker with users on 0.0.0.0: a (local credential) and b (password from a "
                    + "file) synced 150 inserts, 1 update and 1 delete, b caught up after a restart; 149 rows equal");
        }
    }

    @Test
    void aSubscriberSyncsOverTheEmbeddedBrokersTlsListenerWithAClientCertificate() throws Exception {
        Path pkiDir = Files.createDirectories(dir.resolve("pki"));
        TestPki pki = TestPki.create(pkiDir);
        TestPki.Pair server = pki.server();
        TestPki.Pair client = pki.issue("b-client", "client-ca", null);
        int plainPort = ServerFixture.freePort();
        int tlsPort = ServerFixture.freePort();
        Path secret = dir.resolve("b.password");
        Files.writeString(secret, "correct horse battery staple\n");
        try (MqdbNode a = start("a", """
                node: { name: a, data-dir: a-data }
                broker:
                  embedded:
                    port: %d
                    plain: false
                    users:
                      b: { password: "${file:%s}", role: node }
                    tls:
                      port: %d
                      cert-file: %s
                      key-file: %s
                      client-ca-file: %s
                      client-auth: required
                stores: { local: { type: mapdb } }
                channels: [ { name: shop:items, store: local, publish: true } ]
                """.formatted(plainPort, secret, tlsPort, server.cert(), server.key(), pki.clientCa()))) {
            LocalTable src = items(a, 20);
            try (MqdbNode b = start("b", """
                    node: { name: b, data-dir: b-data }
                    broker:
                      uris: [ "ssl://localhost:%d" ]
                      username: b
                      password: "${file:%s}"
                      tls: { ca-file: %s, cert-file: %s, key-file: %s }
                    stores: { local: { type: mapdb } }
                    channels: [ { name: shop:items, store: local, subscribe: true } ]
                    """.formatted(tlsPort, secret, pki.ca(), client.cert(), client.key()))) {
                LocalTable dst = b.table("shop:items");
                syncsAnUpdateAndADelete(src, dst, 20);
                assertThat(b.metrics().deadLetters.sum()).isZero();
            }
        }
    }

    /** Waits for the first {@code rows} rows on {@code dst}, then updates row 7 and deletes row 8 and waits for both. */
    private static void syncsAnUpdateAndADelete(LocalTable src, LocalTable dst, long rows) {
        await().atMost(Duration.ofSeconds(60)).until(() -> dst.count() == rows);
        src.upsert(Row.of(Map.of("id", 7L, "name", "changed")));
        src.delete(Key.of(8L));
        await().atMost(Duration.ofSeconds(30)).until(() -> dst.count() == rows - 1
                && dst.get(Key.of(7L)).map(r -> r.get("name")).orElse("").equals("changed"));
    }
}
