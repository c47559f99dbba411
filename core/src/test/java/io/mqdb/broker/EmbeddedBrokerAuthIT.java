package io.mqdb.broker;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;
import static org.awaitility.Awaitility.await;

import io.mqdb.config.BrokerUser;
import io.mqdb.config.EmbeddedBrokerConfig;
import io.mqdb.config.Secret;
import io.mqdb.spi.TableId;
import io.mqdb.testing.ServerFixture;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CopyOnWriteArrayList;
import org.eclipse.paho.mqttv5.client.IMqttToken;
import org.eclipse.paho.mqttv5.client.MqttAsyncClient;
import org.eclipse.paho.mqttv5.client.MqttConnectionOptions;
import org.eclipse.paho.mqttv5.client.persist.MemoryPersistence;
import org.eclipse.paho.mqttv5.common.MqttException;
import org.eclipse.paho.mqttv5.common.MqttMessage;
import org.eclipse.paho.mqttv5.common.MqttSubscription;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The embedded HiveMQ with {@code users}: a client without credentials, with a wrong password or with another node's
 * client id is refused at CONNECT; a connected client is held to its role's topics (a publish outside them makes
 * HiveMQ disconnect the client with reason 135, not authorized, and reaches nobody; a subscription outside them gets
 * SUBACK {@code NOT_AUTHORIZED}). Raw Paho clients, so every reason code is the broker's own.
 */
class EmbeddedBrokerAuthIT {
    private static final int NOT_AUTHORIZED = 0x87;
    private static final int BAD_USER_NAME_OR_PASSWORD = 0x86;

    @TempDir
    Path dir;
    private HiveMqEmbeddedBroker broker;
    private String uri;

    @BeforeEach
    void start() throws Exception {
        int port = ServerFixture.freePort();
        uri = "tcp://127.0.0.1:" + port;
        broker = new HiveMqEmbeddedBroker(EmbeddedBrokerConfig.of("127.0.0.1", port, dir).withUsers("prod", List.of(
                new BrokerUser("b", new Secret("b-pw"), BrokerUser.Role.NODE, Optional.empty(), List.of()),
                new BrokerUser("sensor", new Secret("s-pw"), BrokerUser.Role.WRITER, Optional.empty(),
                        List.of(TableId.parse("shop:readings"))),
                new BrokerUser("dash", new Secret("d-pw"), BrokerUser.Role.READER, Optional.empty(),
                        List.of(TableId.parse("shop:readings"))))));
        broker.start();
    }

    @AfterEach
    void stop() {
        broker.close();
    }

    private MqttAsyncClient connect(String clientId, String user, String password) throws MqttException {
        MqttAsyncClient c = new MqttAsyncClient(uri, clientId, new MemoryPersistence());
        MqttConnectionOptions o = new MqttConnectionOptions();
        o.setAutomaticReconnect(false);
        if (user != null) {
            o.setUserName(user);
        }
        if (password != null) {
            o.setPassword(password.getBytes(StandardCharsets.UTF_8));
        }
        c.connect(o).waitForCompletion(10_000);
        return c;
    }

    private int refusal(String clientId, String user, String password) {
        MqttException e = catchThrowableOfType(() -> {
            MqttAsyncClient c = connect(clientId, user, password);
            c.disconnect().waitForCompletion(5_000);
            c.close();
        }, MqttException.class);
        return e == null ? 0 : e.getReasonCode();
    }

    /**
     * Publishes with QoS 1 on a connection of its own.
     *
     * @return {@code "ok"}, or {@code "refused"} when the broker disconnected the client with reason 135 (HiveMQ's
     *     answer to a publish its permissions deny: the message reaches nobody)
     */
    private String publish(String clientId, String user, String password, String topic, String payload,
            boolean retained) throws MqttException {
        MqttAsyncClient c = connect(clientId, user, password);
        try {
            MqttMessage m = new MqttMessage(payload.getBytes(StandardCharsets.UTF_8));
            m.setQos(1);
            m.setRetained(retained);
            IMqttToken t = c.publish(topic, m);
            t.waitForCompletion(10_000);
            int[] codes = t.getReasonCodes();
            boolean acked = t.getException() == null && codes != null && codes.length > 0 && codes[0] < 0x80;
            if (acked) {
                return "ok";
            }
            await().atMost(Duration.ofSeconds(5)).until(() -> !c.isConnected());
            return "refused";
        } catch (MqttException e) {
            if (String.valueOf(e.getMessage()).contains("Disconnect RC: 135")) {
                return "refused";
            }
            throw e;
        } finally {
            if (c.isConnected()) {
                c.disconnect().waitForCompletion(5_000);
            }
            c.close();
        }
    }

    @Test
    void clientsWithoutValidCredentialsOrWithAnotherNodesClientIdAreRefused() {
        assertThat(refusal("anon", null, null)).as("no credentials").isEqualTo(BAD_USER_NAME_OR_PASSWORD);
        assertThat(refusal("mqdb-prod-b", "b", "wrong")).as("wrong password").isEqualTo(BAD_USER_NAME_OR_PASSWORD);
        assertThat(refusal("mqdb-prod-b", "nobody", "b-pw")).as("unknown user").isEqualTo(BAD_USER_NAME_OR_PASSWORD);
        assertThat(refusal("mqdb-prod-a", "b", "b-pw")).as("node a's client id").isEqualTo(BAD_USER_NAME_OR_PASSWORD);
        assertThat(refusal("mqdb-prod-b", "sensor", "s-pw")).as("a writer with a node's client id")
                .isEqualTo(BAD_USER_NAME_OR_PASSWORD);
        assertThat(refusal("mqdb-prod-b-ch-shop.readings", "b", "b-pw")).as("b's channel session").isZero();
        System.out.println("refused: no credentials, wrong password, unknown user, another node's client id, a "
                + "writer with a node's client id; let in: node b's channel session");
    }

    @Test
    void eachClientIsHeldToTheTopicsOfItsRole() throws Exception {
        MqttAsyncClient dash = connect("dash-1", "dash", "d-pw");
        try {
            List<String> seen = new CopyOnWriteArrayList<>();
            org.eclipse.paho.mqttv5.client.IMqttMessageListener keep =
                    (topic, m) -> seen.add(topic + "=" + new String(m.getPayload(), StandardCharsets.UTF_8));
            IMqttToken sub = dash.subscribe(new MqttSubscription[] {new MqttSubscription("mqdb/prod/ch/shop/readings",
                    1), new MqttSubscription("mqdb/prod/ch/shop/orders", 1), new MqttSubscription("mqdb/prod/pos/#", 1),
                    new MqttSubscription("mqdb/prod/ctl/#", 1)}, null, null,
                    new org.eclipse.paho.mqttv5.client.IMqttMessageListener[] {keep, keep, keep, keep},
                    new org.eclipse.paho.mqttv5.common.packet.MqttProperties());
            sub.waitForCompletion(10_000);
            assertThat(sub.getReasonCodes()).as("SUBACK: readings, orders, positions, control")
                    .containsExactly(1, NOT_AUTHORIZED, 1, NOT_AUTHORIZED);

            String w = "sensor-1";
            String n = "mqdb-prod-b-tool";
            assertThat(publish(w, "sensor", "s-pw", "mqdb/prod/ch/shop/readings", "w1", false)).as("writer, its "
                    + "channel").isEqualTo("ok");
            assertThat(publish(w, "sensor", "s-pw", "mqdb/prod/ch/shop/orders", "w2", false)).as("writer, another "
                    + "channel").isEqualTo("refused");
            assertThat(publish(w, "sensor", "s-pw", "mqdb/prod/ch/shop/readings", "w3", true)).as("writer, retained")
                    .isEqualTo("refused");
            assertThat(publish(w, "sensor", "s-pw", "mqdb/prod/pos/shop/readings/a", "forged", true)).as("writer, a "
                    + "position").isEqualTo("refused");
            assertThat(publish(n, "b", "b-pw", "mqdb/prod/pos/shop/readings/b", "b's", true)).as("node b, its "
                    + "position").isEqualTo("ok");
            assertThat(publish(n, "b", "b-pw", "mqdb/prod/pos/shop/readings/a", "forged", true)).as("node b, a's "
                    + "position").isEqualTo("refused");
            assertThat(publish(n, "b", "b-pw", "mqdb/prod/nodes/a/presence", "forged", true)).as("node b, a's "
                    + "presence").isEqualTo("refused");
            assertThat(publish(n, "b", "b-pw", "mqdb/prod/ch/shop/readings", "b1", false)).as("node b, a channel")
                    .isEqualTo("ok");
            assertThat(publish(n, "b", "b-pw", "mqdb/other/ch/shop/readings", "x", false)).as("node b, another "
                    + "cluster").isEqualTo("refused");
            assertThat(publish("dash-2", "dash", "d-pw", "mqdb/prod/ch/shop/readings", "r1", false)).as("reader, "
                    + "publishing").isEqualTo("refused");

            await().atMost(Duration.ofSeconds(10)).until(() -> seen.size() >= 3);
            // a marker after everything: whatever was let through has arrived once it has
            assertThat(publish(n, "b", "b-pw", "mqdb/prod/ch/shop/readings", "end", false)).isEqualTo("ok");
            await().atMost(Duration.ofSeconds(10)).until(() -> seen.contains("mqdb/prod/ch/shop/readings=end"));
            assertThat(seen).containsExactlyInAnyOrder("mqdb/prod/ch/shop/readings=w1",
                    "mqdb/prod/pos/shop/readings/b=b's", "mqdb/prod/ch/shop/readings=b1",
                    "mqdb/prod/ch/shop/readings=end");
            System.out.println("the reader received only what the roles allow: " + seen);
        } finally {
            dash.disconnect().waitForCompletion(5_000);
            dash.close();
        }
    }

    @Test
    void aNodePublishesItsAppliedPositionAndAReaderRunsMqdbStatus() throws Exception {
        String n = "mqdb-prod-b-tool";
        assertThat(publish(n, "b", "b-pw", "mqdb/prod/nodes/b/presence", "{\"state\":\"online\",\"node\":\"b\","
                + "\"time\":\"2027-01-15T08:00:00Z\",\"channels\":[{\"name\":\"shop:readings\",\"publish\":false,"
                + "\"subscribe\":true}]}", true)).isEqualTo("ok");
        assertThat(publish(n, "b", "b-pw", "mqdb/prod/applied/shop/readings/b", new String(new io.mqdb.node.catchup
                .Control.Applied("b", TableId.parse("shop:readings"), java.util.Map.of(), 0, 0, 0).toJson(),
                StandardCharsets.UTF_8), true)).as("node b, its applied position").isEqualTo("ok");
        assertThat(publish(n, "b", "b-pw", "mqdb/prod/applied/shop/readings/a", "forged", true))
                .as("node b, a's applied position").isEqualTo("refused");
        java.nio.file.Path config = dir.resolve("dash.yaml");
        java.nio.file.Files.writeString(config, """
                node: { name: dash, cluster: prod }
                broker: { uris: [ "%s" ], username: dash, password: d-pw, client-id: dash-tool }
                """.formatted(uri));
        java.io.StringWriter out = new java.io.StringWriter();
        java.io.StringWriter err = new java.io.StringWriter();
        int code = io.mqdb.cli.Main.execute(new java.io.PrintWriter(out, true), new java.io.PrintWriter(err, true),
                "status", "--config", config.toString(), "--settle-ms", "1000");
        System.out.println("mqdb status as the reader dash:\n" + out + err);
        assertThat(code).as(err.toString()).isZero();
        assertThat(out.toString()).contains("b     online  2027-01-15T08:00:00Z")
                .contains("shop:readings  -           ?       b           0              0.0             ?");
    }

    @Test
    void aTransportWhoseCredentialsAreRefusedFailsToStartNamingTheBrokerAndTheCause() {
        for (io.mqdb.transport.ClientLibrary library : io.mqdb.transport.ClientLibrary.values()) {
            io.mqdb.transport.TransportOptions options = io.mqdb.transport.TransportOptions.of(List.of(uri),
                    "mqdb-prod-b").withCredentials("b", "wrong").withClient(library);
            long t0 = System.nanoTime();
            try (io.mqdb.transport.Transport t = io.mqdb.transport.Transports.open(options)) {
                io.mqdb.spi.MqdbException e = catchThrowableOfType(t::start, io.mqdb.spi.MqdbException.class);
                long ms = (System.nanoTime() - t0) / 1_000_000;
                assertThat(e).as(library + ": start() gives up").isNotNull();
                assertThat(e.getMessage()).contains(uri).contains("user name or password").doesNotContain("wrong");
                assertThat(Duration.ofMillis(ms)).isLessThan(Duration.ofSeconds(30));
                System.out.printf("%s transport, wrong password: start() failed after %d ms: %s%n", library, ms,
                        e.getMessage());
            }
        }
    }
}
