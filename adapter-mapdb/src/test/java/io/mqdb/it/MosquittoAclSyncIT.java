package io.mqdb.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;
import static org.awaitility.Awaitility.await;

import io.mqdb.config.ConfigLoader;
import io.mqdb.node.LocalTable;
import io.mqdb.node.MqdbNode;
import io.mqdb.plugin.PluginRegistry;
import io.mqdb.spi.Column;
import io.mqdb.spi.ColumnType;
import io.mqdb.spi.Row;
import io.mqdb.spi.TableId;
import io.mqdb.spi.TableSchema;
import io.mqdb.testing.MosquittoServer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CopyOnWriteArrayList;
import org.eclipse.paho.mqttv5.client.MqttClient;
import org.eclipse.paho.mqttv5.client.MqttConnectionOptions;
import org.eclipse.paho.mqttv5.client.persist.MemoryPersistence;
import org.eclipse.paho.mqttv5.common.MqttException;
import org.eclipse.paho.mqttv5.common.MqttMessage;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Two nodes through a Mosquitto locked down with the example ACL of {@code examples/mosquitto/acl} and a password
 * per node: the sync works within the ACL; an anonymous client is refused; a position forged by a writer, and one
 * node's forgery of the other's position, reach nobody.
 */
class MosquittoAclSyncIT {
    private static final Path ACL = Path.of("..", "examples", "mosquitto", "acl");
    private static final TableSchema SCHEMA = new TableSchema(TableId.parse("shop:items"), List.of(
            new Column("id", ColumnType.INT64, false), Column.of("name", ColumnType.STRING)), List.of("id"));

    @TempDir
    Path dir;
    private final PluginRegistry plugins = PluginRegistry.load(Optional.empty(),
            MosquittoAclSyncIT.class.getClassLoader());

    private MqdbNode start(String name, String yaml) throws Exception {
        Path file = dir.resolve(name + ".yaml");
        Files.writeString(file, yaml);
        return MqdbNode.start(ConfigLoader.load(file), plugins);
    }

    private MqttClient client(MosquittoServer m, String id, String user, String password) throws MqttException {
        MqttClient c = new MqttClient(m.uri(), id, new MemoryPersistence());
        MqttConnectionOptions o = new MqttConnectionOptions();
        o.setUserName(user);
        o.setPassword(password.getBytes(StandardCharsets.UTF_8));
        c.connect(o);
        return c;
    }

    @Test
    void nodesSyncWithinTheExampleAclAndForgeriesReachNobody() throws Exception {
        try (MosquittoServer mosquitto = MosquittoServer.startWithAccessControl(ACL, Map.of("node-a", "pa",
                "node-b", "pb", "sensor", "ps", "dash", "pd"))) {
            String yaml = """
                    node: { name: %s, data-dir: %s-data }
                    broker: { uris: [ "%s" ], username: %s, password: %s }
                    stores: { local: { type: mapdb } }
                    channels: [ { name: shop:items, store: local, %s: true } ]
                    """;
            MqttClient anonymous = new MqttClient(mosquitto.uri(), "anon", new MemoryPersistence());
            MqttException refused = catchThrowableOfType(() -> anonymous.connect(new MqttConnectionOptions()),
                    MqttException.class);
            assertThat(refused).as("an anonymous client").isNotNull();
            anonymous.close();

            List<String> positions = new CopyOnWriteArrayList<>();
            MqttClient dash = client(mosquitto, "dash-1", "dash", "pd");
            dash.subscribe(new org.eclipse.paho.mqttv5.common.MqttSubscription[] {
                    new org.eclipse.paho.mqttv5.common.MqttSubscription("mqdb/mqdb/pos/#", 1)},
                    new org.eclipse.paho.mqttv5.client.IMqttMessageListener[] {(t, m) -> positions.add(t + "="
                            + new String(m.getPayload(), StandardCharsets.UTF_8))});
            try (MqdbNode a = start("node-a", yaml.formatted("node-a", "a", mosquitto.uri(), "node-a", "pa",
                    "publish"));
                    MqdbNode b = start("node-b", yaml.formatted("node-b", "b", mosquitto.uri(), "node-b", "pb",
                            "subscribe"))) {
                LocalTable src = a.table("shop:items");
                src.ensure(SCHEMA);
                for (long i = 1; i <= 200; i++) {
                    src.upsert(Row.of(Map.of("id", i, "name", "item " + i)));
                }
                LocalTable dst = b.table("shop:items");
                await().atMost(Duration.ofSeconds(60)).until(() -> dst.count() == 200);
                assertThat(b.metrics().deadLetters.sum()).isZero();

                String bySensor = forge(client(mosquitto, "sensor-1", "sensor", "ps"),
                        "mqdb/mqdb/pos/shop/items/node-a");
                String byNodeB = forge(client(mosquitto, "mqdb-mqdb-node-b-tool", "node-b", "pb"),
                        "mqdb/mqdb/pos/shop/items/node-a");
                MqttClient nodeB = client(mosquitto, "mqdb-mqdb-node-b-tool2", "node-b", "pb");
                nodeB.publish("mqdb/mqdb/pos/shop/other/node-b", "{\"mark\":true}".getBytes(StandardCharsets.UTF_8),
                        1, false);
                nodeB.disconnect();
                nodeB.close();
                System.out.println("forged position by the writer: " + bySensor + "; by node-b: " + byNodeB);
                // the marker went after both forgeries; once it arrived, they would have too
                await().atMost(Duration.ofSeconds(10)).until(() -> positions.stream().anyMatch(p -> p.contains("mark")));
                assertThat(positions).as("positions the reader saw").noneMatch(p -> p.contains("forged"));
                assertThat(positions).anyMatch(p -> p.startsWith("mqdb/mqdb/pos/shop/items/node-a={"));
                System.out.println("Mosquitto with the example ACL: 200 rows synced a -> b; anonymous client "
                        + "refused; 2 forged positions of node-a (by a writer, by node-b) reached nobody; "
                        + positions.size() + " positions seen by the reader");
            } finally {
                dash.disconnect();
                dash.close();
            }
        }
    }

    /** Publishes a forged position of node-a, retained, and closes the client whatever the broker did. */
    private static String forge(MqttClient c, String topic) {
        String outcome;
        try {
            c.publish(topic, forged(), 1, true);
            outcome = "acknowledged";
        } catch (MqttException e) {
            outcome = "refused (" + e.getReasonCode() + ": " + e.getMessage() + ")";
        }
        try {
            if (c.isConnected()) {
                c.disconnect();
            }
        } catch (MqttException e) {
            outcome += ", then disconnected by the broker";
        }
        try {
            c.close(true);
        } catch (MqttException e) {
            // closing a client the broker dropped
        }
        return outcome;
    }

    private static byte[] forged() {
        return "{\"node\":\"node-a\",\"channel\":\"shop:items\",\"seq\":1,\"forged\":true}"
                .getBytes(StandardCharsets.UTF_8);
    }
}
