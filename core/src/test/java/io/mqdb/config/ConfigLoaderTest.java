package io.mqdb.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import io.mqdb.spi.TableId;
import io.mqdb.transport.BrokerMode;
import io.mqdb.transport.ClientLibrary;
import java.net.URISyntaxException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ConfigLoaderTest {
    private static final Path FILE = Path.of("/etc/mqdb/mqdb.yaml");
    private static final Path DIR = FILE.getParent();

    private static NodeConfig parse(String yaml) {
        return ConfigLoader.parse(yaml, FILE, Map.of());
    }

    private static ConfigException problems(String yaml, Map<String, String> env) {
        return catchThrowableOfType(() -> ConfigLoader.parse(yaml, FILE, env), ConfigException.class);
    }

    private static List<String> lines(String yaml) {
        ConfigException e = problems(yaml, Map.of());
        assertThat(e).as("expected a ConfigException").isNotNull();
        return e.problems().stream().map(ConfigProblem::toString).toList();
    }

    @Test
    void fullConfigParsesToRecords() throws URISyntaxException {
        Path file = Path.of(getClass().getResource("/config/mqdb.yaml").toURI());
        Path dir = file.getParent();
        NodeConfig c = ConfigLoader.parse(readString(file), file, Map.of(
                "MQTT_USER", "replicator", "MQTT_PASSWORD", "mqtt-secret", "DB_PASSWORD", "db-secret"));

        assertThat(c.source()).isEqualTo(file);
        assertThat(c.baseDir()).isEqualTo(dir);
        assertThat(c.node()).isEqualTo(new NodeSection("node-a", "shop", Path.of("/var/lib/mqdb")));
        BrokerConfig b = c.broker();
        assertThat(b.embedded()).contains(
                new EmbeddedBrokerConfig("127.0.0.1", 1884, Path.of("/var/lib/mqdb/mq"),
                        EmbeddedBrokerConfig.Persistence.FILE, 5000, 16, 200, "shop", List.of()));
        assertThat(b.uris()).containsExactly("tcp://10.0.0.5:1883", "ssl://mq2.example:8883");
        assertThat(b.username()).contains("replicator");
        assertThat(b.password()).contains(new Secret("mqtt-secret"));
        assertThat(b.tls()).contains(new TlsConfig(Optional.of(dir.resolve("ca.pem")),
                Optional.of(dir.resolve("client.pem")), Optional.of(dir.resolve("client.key")),
                Optional.of(new Secret("changeit")), false));
        assertThat(b.clientId()).isEqualTo("node-a-client");
        assertThat(b.sessionExpiry()).isEqualTo(Duration.ofDays(2));
        assertThat(b.keepAlive()).isEqualTo(Duration.ofMinutes(1));
        assertThat(b.connectTimeout()).isEqualTo(Duration.ofSeconds(5));
        assertThat(b.receiveMaximum()).isEqualTo(200);
        assertThat(b.maxInflight()).isEqualTo(300);
        assertThat(b.flowWindow()).isEqualTo(64);

        assertThat(c.stores()).containsOnlyKeys("local", "warehouse");
        assertThat(c.stores().keySet()).containsExactly("local", "warehouse");
        StoreSection local = c.stores().get("local");
        assertThat(local.type()).isEqualTo("mapdb");
        assertThat(local.location()).hasToString("mqdb.yaml:33: stores.local");
        assertThat(local.settings().get("file").value()).isEqualTo("local.db");
        assertThat(local.settings().get("file").location()).hasToString("mqdb.yaml:35: stores.local.file");
        StoreSection warehouse = c.stores().get("warehouse");
        assertThat(warehouse.settings().keySet()).containsExactly("url", "password", "schemas", "properties");
        assertThat(warehouse.settings().get("password").value()).isEqualTo("db-secret");
        assertThat(warehouse.settings().get("schemas").value()).isEqualTo(List.of("shop", "audit"));
        assertThat(warehouse.settings().get("properties").value()).isEqualTo(Map.of("ssl", "true"));

        assertThat(c.channels()).containsExactly(
                new ChannelConfig(TableId.parse("shop:orders"), "local", true, true, 1000, Duration.ofMillis(50),
                        new Location(file, 44, "channels[0]")),
                new ChannelConfig(TableId.parse("shop:customers"), "warehouse", false, true, 500,
                        Duration.ZERO, new Location(file, 50, "channels[1]")));

        assertThat(c.toString()).doesNotContain("mqtt-secret", "db-secret", "changeit");
    }

    @Test
    void minimalConfigGetsDefaultsAndAnEmbeddedBrokerOnLoopback() {
        NodeConfig c = parse("""
                node:
                  name: node-a
                stores:
                  local: { type: mapdb }
                channels:
                  - name: shop:orders
                    publish: true
                """);
        assertThat(c.node()).isEqualTo(new NodeSection("node-a", "mqdb", DIR.resolve("data")));
        assertThat(c.broker()).isEqualTo(new BrokerConfig(
                Optional.of(new EmbeddedBrokerConfig("127.0.0.1", 1883, DIR.resolve("data/broker"),
                        EmbeddedBrokerConfig.Persistence.IN_MEMORY, 256, 256, 100)),
                List.of(), Optional.empty(), Optional.empty(), Optional.empty(), "mqdb-mqdb-node-a",
                Duration.ofDays(7), Duration.ofSeconds(30), Duration.ofSeconds(10), 65_535, 1000));
        assertThat(c.stores().get("local").settings()).isEmpty();
        ChannelConfig ch = c.channels().get(0);
        assertThat(ch.store()).as("the only store is the default").isEqualTo("local");
        assertThat(ch.publish()).isTrue();
        assertThat(ch.subscribe()).isFalse();
        assertThat(ch.batchSize()).isEqualTo(500);
        assertThat(ch.flushInterval()).isEqualTo(Duration.ZERO);
    }

    @Test
    void brokerEmbeddedScalarIsTheDefaultBroker() {
        NodeConfig absent = parse("node: {name: a}\n");
        NodeConfig scalar = parse("node: {name: a}\nbroker: embedded\n");
        NodeConfig empty = parse("node: {name: a}\nbroker:\n  embedded:\n");
        assertThat(scalar.broker()).isEqualTo(absent.broker());
        assertThat(empty.broker()).isEqualTo(absent.broker());
        assertThat(lines("node: {name: a}\nbroker: external\n")).containsExactly(
                "mqdb.yaml:2: broker: expected \"embedded\" or a mapping with embedded and/or uris, got \"external\"");
    }

    @Test
    void externalBrokersWithoutEmbeddedAndASingleUri() {
        NodeConfig c = parse("""
                node: {name: a}
                broker:
                  uris: mqtts://mq.example:8883
                """);
        assertThat(c.broker().embedded()).isEmpty();
        assertThat(c.broker().uris()).containsExactly("mqtts://mq.example:8883");
        assertThat(lines("""
                node: {name: a}
                broker:
                  uris:
                    - tcp://ok:1883
                    - http://web:80
                  username: u
                """)).containsExactly(
                "mqdb.yaml:5: broker.uris[1]: expected a broker URI with scheme tcp, ssl, mqtt, mqtts, ws or wss, "
                        + "got \"http://web:80\"");
        assertThat(lines("node: {name: a}\nbroker:\n  username: u\n")).containsExactly(
                "mqdb.yaml:2: broker: no broker: give embedded, uris, or both; or write broker: embedded");
    }

    @Test
    void typosUnknownTypesAndBadChannelNamesAreReportedTogetherWithLines() {
        String yaml = """
                node:
                  name: node-a
                stores:
                  local:
                    type: mapdb
                    file: local.db
                  remote:
                    type: no-such-adapter
                chanels:
                  - name: shop:x
                channels:
                  - name: shop:orders
                    store: local
                    pubish: true
                    subscribe: true
                  - name: orders
                    store: local
                    subscribe: true
                """;
        ConfigException e = problems(yaml, Map.of());

        assertThat(e.problems()).extracting(ConfigProblem::toString).containsExactly(
                "mqdb.yaml:9: chanels: unknown key \"chanels\"; did you mean \"channels\"?",
                "mqdb.yaml:14: channels[0].pubish: unknown key \"pubish\"; did you mean \"publish\"?",
                "mqdb.yaml:16: channels[1].name: expected schema:table, got \"orders\"");
        assertThat(e.problems().get(2).location()).isEqualTo(new Location(FILE, 16, "channels[1].name"));
        assertThat(e.getMessage()).startsWith("3 problems in " + FILE + ":")
                .contains("mqdb.yaml:9: chanels: unknown key")
                .hasLineCount(4);
    }

    @Test
    void unknownStoreTypeIsKeptForPhaseTwo() {
        NodeConfig c = parse("""
                node: {name: a}
                stores:
                  remote:
                    type: no-such-adapter
                    endpoint: x
                """);
        assertThat(c.stores().get("remote").type()).isEqualTo("no-such-adapter");
        assertThat(c.stores().get("remote").settings()).containsOnlyKeys("endpoint");
    }

    @Test
    void aTypoedPublishDoesNotAlsoReportNeitherDirection() {
        assertThat(lines("""
                node: {name: a}
                stores: {s: {type: mapdb}}
                channels:
                  - name: shop:orders
                    pubish: true
                """)).containsExactly(
                "mqdb.yaml:5: channels[0].pubish: unknown key \"pubish\"; did you mean \"publish\"?");
    }

    @Test
    void channelRulesAreChecked() {
        assertThat(lines("""
                node: {name: a}
                stores:
                  one: {type: mapdb}
                  two: {type: mapdb}
                channels:
                  - name: shop:orders
                    store: one
                    publish: yes
                  - name: shop:orders
                    store: tow
                    subscribe: true
                  - name: shop:items
                    publish: false
                    batch-size: 0
                    flush-interval: soon
                  - just-a-string
                """)).containsExactly(
                "mqdb.yaml:8: channels[0].publish: expected true or false, got \"yes\"",
                "mqdb.yaml:9: channels[1].name: shop:orders is already configured at line 6",
                "mqdb.yaml:10: channels[1].store: no store named \"tow\"; did you mean \"two\"?",
                "mqdb.yaml:12: channels[2].store: required when there are several stores: one, two",
                "mqdb.yaml:12: channels[2]: neither publish nor subscribe is true: set at least one",
                "mqdb.yaml:14: channels[2].batch-size: expected 1 to 100000, got 0",
                "mqdb.yaml:15: channels[2].flush-interval: expected " + Values.DURATION_FORMAT + ", got \"soon\"",
                "mqdb.yaml:16: channels[3]: expected a mapping with name, store, publish, subscribe, got a scalar");
    }

    @Test
    void aReplicaKeyIsAListOfDistinctColumnNames() {
        NodeConfig c = parse("""
                node: {name: a}
                stores: {s: {type: mapdb}}
                channels:
                  - name: shop:items
                    publish: true
                    key: [sku, warehouse]
                  - name: shop:orders
                    publish: true
                """);
        assertThat(c.channels().get(0).key()).containsExactly("sku", "warehouse");
        assertThat(c.channels().get(1).key()).isEmpty();
    }

    @Test
    void aMalformedReplicaKeyNamesFileLineAndKey() {
        assertThat(lines("""
                node: {name: a}
                stores: {s: {type: mapdb}}
                channels:
                  - name: shop:a
                    publish: true
                    key: sku
                  - name: shop:b
                    publish: true
                    key: []
                  - name: shop:c
                    publish: true
                    key:
                      - sku
                      - warehouse
                      - sku
                  - name: shop:d
                    publish: true
                    key: [sku, "bad name", {x: 1}]
                  - name: shop:e
                    publish: true
                    key:
                  - name: shop:f
                    publish: true
                    kee: [sku]
                """)).containsExactly(
                "mqdb.yaml:6: channels[0].key: expected a list of column names, like [a, b], got a scalar",
                "mqdb.yaml:9: channels[1].key: empty; expected a list of column names, like [a, b] (at least one "
                        + "column)",
                "mqdb.yaml:15: channels[2].key[2]: column sku is already named at channels[2].key[0]",
                "mqdb.yaml:18: channels[3].key[1]: invalid column name \"bad name\": expected a letter or _, then "
                        + "letters, digits or _, at most 63 characters",
                "mqdb.yaml:18: channels[3].key[2]: expected a column name, got a mapping",
                "mqdb.yaml:21: channels[4].key: no value; expected a list of column names, like [a, b], or remove "
                        + "the key to use the primary key",
                "mqdb.yaml:24: channels[5].kee: unknown key \"kee\"; did you mean \"key\"?");
    }

    @Test
    void namesAreChecked() {
        assertThat(lines("""
                node:
                  name: node a
                  cluster: "a/b"
                stores:
                  bad.name: {type: mapdb}
                  nothing:
                  untyped: {file: x}
                """)).containsExactly(
                "mqdb.yaml:2: node.name: invalid name \"node a\": expected 1 to 64 of A-Z a-z 0-9 _ -",
                "mqdb.yaml:3: node.cluster: invalid name \"a/b\": expected 1 to 64 of A-Z a-z 0-9 _ -",
                "mqdb.yaml:5: stores.bad.name: invalid store name \"bad.name\": expected A-Z a-z 0-9 _ -",
                "mqdb.yaml:6: stores.nothing: expected a mapping with type and the adapter's settings, got nothing",
                "mqdb.yaml:7: stores.untyped.type: required: the adapter type, like mapdb or jdbc");
        assertThat(lines("broker: embedded\n")).containsExactly(
                "mqdb.yaml:1: node.name: required: the node's name, 1 to 64 of A-Z a-z 0-9 _ -");
        assertThat(lines("node: node-a\n")).containsExactly(
                "mqdb.yaml:1: node: expected a mapping, got a scalar");
        assertThat(lines("- a\n")).containsExactly(
                "mqdb.yaml:1: expected a mapping with the keys node, broker, brokers, stores, channels, got a list");
        assertThat(lines("")).containsExactly(
                "mqdb.yaml:1: node.name: required: the node's name, 1 to 64 of A-Z a-z 0-9 _ -");
    }

    @Test
    void brokerClientDefaultsToHiveMqAndTakesPaho() {
        assertThat(parse("node: {name: a}\n").broker().client()).isEqualTo(ClientLibrary.HIVEMQ);
        assertThat(parse("node: {name: a}\nbroker: {embedded: , client: Paho}\n").broker().client())
                .isEqualTo(ClientLibrary.PAHO);
        assertThat(lines("node: {name: a}\nbroker: {embedded: , client: mosquitto}\n")).containsExactly(
                "mqdb.yaml:2: broker.client: expected hivemq or paho, got \"mosquitto\"");
    }

    @Test
    void brokerModeDefaultsToFailoverInListOrderAndTakesMirrorAndShuffle() {
        BrokerConfig defaults = parse("node: {name: a}\nbroker: {uris: [tcp://a:1883, tcp://b:1883]}\n").broker();
        assertThat(defaults.mode()).isEqualTo(BrokerMode.FAILOVER);
        assertThat(defaults.shuffle()).isFalse();
        BrokerConfig mirror = parse("node: {name: a}\nbroker: {uris: [tcp://a:1883, tcp://b:1883], mode: mirror,"
                + " shuffle: true}\n").broker();
        assertThat(mirror.mode()).isEqualTo(BrokerMode.MIRROR);
        assertThat(mirror.shuffle()).isTrue();
        assertThat(mirror.uris()).as("the config keeps the written order; the node shuffles at start")
                .containsExactly("tcp://a:1883", "tcp://b:1883");
        assertThat(lines("node: {name: a}\nbroker:\n  uris: [tcp://a:1883]\n  mode: cluster\n  shuffle: often\n"))
                .containsExactly("mqdb.yaml:4: broker.mode: expected failover or mirror, got \"cluster\"",
                        "mqdb.yaml:5: broker.shuffle: expected true or false, got \"often\"");
    }

    @Test
    void embeddedBrokerPortZeroIsRefusedAtLoadNotAtStart() {
        assertThat(lines("node: {name: a}\nbroker: {embedded: {port: 0}}\n")).containsExactly(
                "mqdb.yaml:2: broker.embedded.port: expected 1 to 65535, got 0");
    }

    @Test
    void theLogFormatIsTextOrJson(@TempDir Path dir) throws Exception {
        assertThat(lines("node: {name: a, log-format: yaml}\nbroker: embedded\n")).containsExactly(
                "mqdb.yaml:1: node.log-format: expected text or json, got \"yaml\"");
        Path file = dir.resolve("log.yaml");
        Files.writeString(file, "node: {name: a, log-format: json}\nbroker: embedded\n");
        assertThat(ConfigLoader.load(file).node().logFormat()).isEqualTo(NodeSection.LogFormat.JSON);
    }

    @Test
    void theWireFormIsBinaryOrJson(@TempDir Path dir) throws Exception {
        assertThat(lines("node: {name: a, wire-form: xml}\nbroker: embedded\n")).containsExactly(
                "mqdb.yaml:1: node.wire-form: expected binary or json, got \"xml\"");
        Path file = dir.resolve("json.yaml");
        Files.writeString(file, "node: {name: a, wire-form: json}\nbroker: embedded\n");
        assertThat(ConfigLoader.load(file).node().wireForm()).isEqualTo(io.mqdb.codec.WireForm.JSON);
        Files.writeString(file, "node: {name: a}\nbroker: embedded\n");
        assertThat(ConfigLoader.load(file).node().wireForm()).isEqualTo(io.mqdb.codec.WireForm.BINARY);
    }

    @Test
    void inputLimitsAreSettingsWithBoundsAndTheBatchSizeMustFitThem(@TempDir Path dir) throws Exception {
        Path file = dir.resolve("limits.yaml");
        Files.writeString(file, "node: {name: a}\nbroker: embedded\n");
        assertThat(ConfigLoader.load(file).node().limits()).isEqualTo(io.mqdb.codec.CodecLimits.DEFAULTS);
        Files.writeString(file, """
                node:
                  name: a
                  limits: {max-message-mb: 8, max-events: 20000, max-columns: 200, max-depth: 32}
                broker: embedded
                """);
        io.mqdb.codec.CodecLimits l = ConfigLoader.load(file).node().limits();
        assertThat(l).isEqualTo(new io.mqdb.codec.CodecLimits(8 << 20, 20_000, 200, 8 << 20, 32));
        assertThat(lines("""
                node:
                  name: a
                  limits: {max-message-mb: 0, max-events: 2000000, max-columns: many, max-depth: 2, max-rows: 1}
                broker: embedded
                """)).containsExactly(
                "mqdb.yaml:3: node.limits.max-rows: unknown key \"max-rows\"; known: max-message-mb, max-events, "
                        + "max-columns, max-value-mb, max-depth",
                "mqdb.yaml:3: node.limits.max-message-mb: expected 1 to 256, got 0",
                "mqdb.yaml:3: node.limits.max-events: expected 1 to 1000000, got 2000000",
                "mqdb.yaml:3: node.limits.max-columns: expected a whole number, got \"many\"",
                "mqdb.yaml:3: node.limits.max-depth: expected 8 to 1024, got 2");
        assertThat(lines("node: {name: a, dead-letter-max-mb: 0}\nbroker: embedded\n")).containsExactly(
                "mqdb.yaml:1: node.dead-letter-max-mb: expected 1 to 1048576, got 0");
        Files.writeString(file, "node: {name: a, dead-letter-max-mb: 64}\nbroker: embedded\n");
        assertThat(ConfigLoader.load(file).node().deadLetterMaxMb()).isEqualTo(64);
        assertThat(lines("node: {name: a, limits: {max-message-mb: 4, max-value-mb: 5}}\nbroker: embedded\n"))
                .containsExactly("mqdb.yaml:1: node.limits.max-value-mb: expected at most max-message-mb (4), got 5: "
                        + "a value never exceeds its message");
        assertThat(lines("""
                node: {name: a, limits: {max-events: 400}}
                broker: embedded
                stores: {s: {type: mapdb}}
                channels:
                  - {name: "shop:a", publish: true}
                  - {name: "shop:b", publish: true, batch-size: 400}
                  - {name: "shop:c", publish: true, batch-size: 401}
                """)).containsExactly("mqdb.yaml:5: channels[0].batch-size: batch-size 500 is above "
                + "node.limits.max-events (400): nodes with these limits would dead-letter its batches",
                "mqdb.yaml:7: channels[2].batch-size: batch-size 401 is above "
                + "node.limits.max-events (400): nodes with these limits would dead-letter its batches");
    }

    @Test
    void aBrokerReachableFromOtherMachinesIsToldApartFromALoopbackOne(@TempDir Path dir) throws Exception {
        Path file = dir.resolve("reach.yaml");
        Files.writeString(file, "node: {name: a}\nbroker: {uris: [\"tcp://127.0.0.1:1883\", "
                + "\"ws://localhost:80/mqtt\"]}\n");
        assertThat(ConfigLoader.load(file).broker().reachableBeyondLoopback()).isEmpty();
        Files.writeString(file, "node: {name: a}\nbroker: {uris: [\"tcp://127.0.0.1:1883\", "
                + "\"ssl://mq.example:8883\"]}\n");
        assertThat(ConfigLoader.load(file).broker().reachableBeyondLoopback()).contains("ssl://mq.example:8883");
        Files.writeString(file, "node: {name: a}\nbroker: {embedded: {bind: 0.0.0.0, allow-remote: true}}\n");
        assertThat(ConfigLoader.load(file).broker().reachableBeyondLoopback()).contains("0.0.0.0");
    }

    @Test
    void aNegativeFlowWindowIsRefusedAndZeroTurnsItOff(@TempDir Path dir) throws Exception {
        assertThat(lines("node: {name: a}\nbroker:\n  embedded: {port: 1883}\n  flow-window: -1\n"))
                .containsExactly("mqdb.yaml:4: broker.flow-window: expected 0 to 65535, got -1");
        Path file = dir.resolve("zero.yaml");
        Files.writeString(file, "node: {name: a}\nbroker: {embedded: {port: 1883}, flow-window: 0}\n");
        assertThat(ConfigLoader.load(file).broker().flowWindow()).isZero();
    }

    @Test
    void brokerValuesAreChecked() {
        assertThat(lines("""
                node: {name: a}
                broker:
                  embedded:
                    port: 70000
                    prot: 1
                  session-expiry: 0
                  keep-alive: 1500ms
                  connect-timeout: 10
                  receive-maximum: many
                  max-inflight: [1]
                  tls:
                    cert-file: missing.pem
                """)).containsExactly(
                "mqdb.yaml:4: broker.embedded.port: expected 1 to 65535, got 70000",
                "mqdb.yaml:5: broker.embedded.prot: unknown key \"prot\"; did you mean \"port\"?",
                "mqdb.yaml:6: broker.session-expiry: expected 1s to 4294967295s, got 0ms",
                "mqdb.yaml:7: broker.keep-alive: expected whole seconds (MQTT counts it in seconds), got 1500ms",
                "mqdb.yaml:8: broker.connect-timeout: expected whole seconds (MQTT counts it in seconds), got 10ms",
                "mqdb.yaml:9: broker.receive-maximum: expected a whole number, got \"many\"",
                "mqdb.yaml:10: broker.max-inflight: expected a whole number, got a list",
                "mqdb.yaml:11: broker.tls: cert-file and key-file go together: give both for a client "
                        + "certificate, or neither",
                "mqdb.yaml:12: broker.tls.cert-file: file not found: " + DIR.resolve("missing.pem"));
    }

    @Test
    void embeddedBrokerBoundsAreCheckedAndReportedTogether() {
        assertThat(lines("""
                node: {name: a}
                broker:
                  embedded:
                    persistence: disk
                    max-queued-messages: 0
                    max-packet-mb: 257
                    max-inflight-messages: 10001
                """)).containsExactly(
                "mqdb.yaml:4: broker.embedded.persistence: expected in-memory or file, got \"disk\"",
                "mqdb.yaml:5: broker.embedded.max-queued-messages: expected 1 to 2147483647, got 0",
                "mqdb.yaml:6: broker.embedded.max-packet-mb: expected 1 to 256, got 257",
                "mqdb.yaml:7: broker.embedded.max-inflight-messages: expected 1 to 10000, got 10001");
        EmbeddedBrokerConfig e = parse("node: {name: a}\nbroker: {embedded: {persistence: in-memory}}\n").broker()
                .embedded().orElseThrow();
        assertThat(e.persistence()).isEqualTo(EmbeddedBrokerConfig.Persistence.IN_MEMORY);
        assertThat(e.maxQueuedMessages()).isEqualTo(EmbeddedBrokerConfig.DEFAULT_MAX_QUEUED_MESSAGES);
    }

    @Test
    void embeddedBrokerOnANonLoopbackAddressNeedsAllowRemote() {
        assertThat(lines("""
                node: {name: a}
                broker:
                  embedded:
                    bind: 0.0.0.0
                """)).containsExactly("mqdb.yaml:4: broker.embedded.bind: \"0.0.0.0\" is not a loopback address; "
                + "without users the embedded broker lets every client in, so binding it elsewhere needs users (see "
                + "docs/security.md), or allow-remote: true to let every client in");
        NodeConfig c = parse("""
                node: {name: a}
                broker:
                  embedded:
                    bind: 0.0.0.0
                    allow-remote: true
                """);
        assertThat(c.broker().embedded().orElseThrow().bindAddress()).isEqualTo("0.0.0.0");
        assertThat(parse("node: {name: a}\nbroker: {embedded: {bind: localhost}}\n").broker().embedded())
                .hasValueSatisfying(e -> assertThat(e.bindAddress()).isEqualTo("localhost"));
        assertThat(ConfigParser.isLoopback("127.0.1.1")).isTrue();
        assertThat(ConfigParser.isLoopback("[::1]")).isTrue();
        assertThat(ConfigParser.isLoopback("10.0.0.1")).isFalse();
        assertThat(ConfigParser.isLoopback("::")).isFalse();
    }

    @Test
    void embeddedBrokerUsersTurnAuthenticationOnAndMayBindAnywhere() {
        NodeConfig c = ConfigLoader.parse("""
                node: {name: a, cluster: prod}
                broker:
                  embedded:
                    bind: 0.0.0.0
                    users:
                      b: { password: "${env:B_PW}" }
                      edge-1: { password: s3cret, role: node, node: edge_1, channels: [shop:orders] }
                      sensor@site: { password: x, role: writer, channels: [ "shop:readings" ] }
                      dash: { password: y, role: reader }
                """, FILE, Map.of("B_PW", "from-env"));
        EmbeddedBrokerConfig e = c.broker().embedded().orElseThrow();
        assertThat(e.authenticates()).isTrue();
        assertThat(e.cluster()).isEqualTo("prod");
        assertThat(e.users()).extracting(BrokerUser::username).containsExactly("b", "edge-1", "sensor@site", "dash");
        assertThat(e.users().get(0).password().value()).isEqualTo("from-env");
        assertThat(e.users().get(0).nodeName()).contains("b");
        assertThat(e.users().get(1).nodeName()).contains("edge_1");
        assertThat(e.users().get(1).channels()).containsExactly(TableId.parse("shop:orders"));
        assertThat(e.users().get(2).role()).isEqualTo(BrokerUser.Role.WRITER);
        assertThat(e.users().get(3).channels()).isEmpty();
        assertThat(e.users().toString()).doesNotContain("from-env").doesNotContain("s3cret");
        assertThat(parse("node: {name: a}\nbroker: embedded\n").broker().embedded().orElseThrow().authenticates())
                .isFalse();
    }

    @Test
    void embeddedBrokerUsersAreChecked() {
        assertThat(lines("""
                node: {name: a}
                broker:
                  embedded:
                    users:
                      b: { role: node }
                      "bad name": { password: x }
                      w: { password: x, role: writer }
                      r: { password: x, role: reader, node: r, channels: [] }
                      n: { password: x, role: admin, colour: red }
                      m: { password: "", channels: [shop:a, shop:a, nope] }
                """)).containsExactly(
                "mqdb.yaml:5: broker.embedded.users.b.password: required: the user's password, e.g. "
                        + "${env:MQDB_BROKER_PASSWORD} or ${file:/run/secrets/mqdb}",
                "mqdb.yaml:6: broker.embedded.users.bad name: invalid user name \"bad name\": expected 1 to 64 of "
                        + "A-Z a-z 0-9 _ . @ -",
                "mqdb.yaml:7: broker.embedded.users.w.channels: required for a writer: the channels it may write, "
                        + "[schema:table, ...]",
                "mqdb.yaml:8: broker.embedded.users.r.node: only a user of role node has a node name",
                "mqdb.yaml:8: broker.embedded.users.r.channels: an empty list; give the channels, or remove the key "
                        + "for every channel",
                "mqdb.yaml:9: broker.embedded.users.n.colour: " + Values.unknownKey("colour", ConfigParser.USER_KEYS),
                "mqdb.yaml:9: broker.embedded.users.n.role: expected node, writer or reader, got \"admin\"",
                "mqdb.yaml:10: broker.embedded.users.m.password: empty; expected a password",
                "mqdb.yaml:10: broker.embedded.users.m.channels[1]: shop:a is listed twice",
                "mqdb.yaml:10: broker.embedded.users.m.channels[2]: " + bad("nope"));
    }

    private static String bad(String table) {
        try {
            TableId.parse(table);
            return "";
        } catch (IllegalArgumentException e) {
            return e.getMessage();
        }
    }

    @Test
    void envVariablesAreInterpolatedWithDefaults() {
        NodeConfig c = ConfigLoader.parse("""
                node:
                  name: ${env:NODE}
                  cluster: ${env:CLUSTER:-blue}
                  data-dir: /srv/${env:NODE}/$${literal}
                broker:
                  uris: ${env:MQTT_URI}
                  username: ${env:MQTT_USER}
                  password: ${env:MQTT_PASSWORD}
                """, FILE, Map.of("NODE", "n1", "MQTT_URI", "tcp://mq:1883", "MQTT_USER", "u",
                "MQTT_PASSWORD", "s3cr3t!"));
        assertThat(c.node()).isEqualTo(new NodeSection("n1", "blue", Path.of("/srv/n1/${literal}")));
        assertThat(c.broker().uris()).containsExactly("tcp://mq:1883");
        assertThat(c.broker().password().orElseThrow().value()).isEqualTo("s3cr3t!");
        assertThat(c.broker().password().orElseThrow()).hasToString("****");
        assertThat(c.toString()).doesNotContain("s3cr3t!");
    }

    @Test
    void missingEnvVariablesAreNamedAndSecretsAreNeverPrinted() {
        ConfigException e = problems("""
                node: {name: a}
                broker:
                  embedded:
                    port: ${env:PORT}
                  uris: [tcp://h:1883]
                  password: ${env:MQTT_PASSWORD}
                  client-id: "${env:ID"
                  keep-alive: ${vault:x}
                """, Map.of("PORT", "hunter2"));
        assertThat(e.problems()).extracting(ConfigProblem::toString).containsExactly(
                "mqdb.yaml:4: broker.embedded.port: expected a whole number, got the value of \"${env:PORT}\"",
                "mqdb.yaml:6: broker.password: environment variable MQTT_PASSWORD is not set; set it, or give a "
                        + "default with ${env:MQTT_PASSWORD:-default}",
                "mqdb.yaml:7: broker.client-id: unterminated \"${\": write ${env:NAME} or ${file:path}, or $${ for "
                        + "a literal ${",
                "mqdb.yaml:8: broker.keep-alive: unknown reference kind \"vault\": write ${env:NAME} or "
                        + "${file:path}, or $${ for a literal ${");
        assertThat(e.getMessage()).doesNotContain("hunter2");
    }

    @Test
    void fileReferencesReadTrimmedContentRelativeToTheConfig(@TempDir Path dir) throws Exception {
        Files.writeString(dir.resolve("password.txt"), "  from-file \n");
        Path file = dir.resolve("mqdb.yaml");
        Files.writeString(file, """
                node: {name: a}
                broker:
                  uris: tcp://h:1883
                  password: ${file:password.txt}
                  username: ${file:nope.txt}
                """);
        ConfigException e = catchThrowableOfType(() -> ConfigLoader.load(file), ConfigException.class);
        assertThat(e.problems()).extracting(ConfigProblem::toString).containsExactly(
                "mqdb.yaml:5: broker.username: file not found: " + dir.resolve("nope.txt"));
        Files.writeString(dir.resolve("nope.txt"), "user");
        NodeConfig c = ConfigLoader.load(file);
        assertThat(c.broker().password()).contains(new Secret("from-file"));
        assertThat(c.broker().username()).contains("user");
        assertThat(c.source()).isEqualTo(file.toAbsolutePath());
    }

    @Test
    void missingFileIsOneProblemOnLineZero(@TempDir Path dir) {
        Path file = dir.resolve("absent.yaml");
        ConfigException e = catchThrowableOfType(() -> ConfigLoader.load(file), ConfigException.class);
        assertThat(e.problems()).hasSize(1);
        assertThat(e.problems().get(0).location()).isEqualTo(new Location(file, 0, ""));
        assertThat(e.problems().get(0)).hasToString("absent.yaml:0: config file not found: " + file);
        assertThat(e.getMessage()).startsWith("1 problem in " + file + ":");
    }

    @Test
    void yamlSyntaxErrorsAndDuplicateKeysHaveLines() {
        List<String> syntax = lines("""
                node:
                  name: a
                 broken: [
                """);
        assertThat(syntax).hasSize(1);
        assertThat(syntax.get(0)).startsWith("mqdb.yaml:3: invalid YAML: ");

        assertThat(lines("""
                node:
                  name: a
                  cluster: x
                  name: b
                """)).containsExactly("mqdb.yaml:4: node.name: duplicate key \"name\"; first at line 2");
    }

    @Test
    void emptyScalarValuesAreProblemsButEmptySectionsAreAbsent() {
        NodeConfig c = parse("node: {name: a}\nstores:\nchannels:\nbroker:\n");
        assertThat(c.stores()).isEmpty();
        assertThat(c.channels()).isEmpty();
        assertThat(lines("node:\n  name: a\n  cluster:\n")).containsExactly(
                "mqdb.yaml:3: node.cluster: no value; expected a name, or remove the key to use the default");
    }

    private static String readString(Path file) {
        try {
            return Files.readString(file);
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    @Test
    void anEdgeNodeNamesAnUpstreamConnectionAndItsChannelsSayWhichWayGoesWhere() {
        NodeConfig c = parse("""
                node: { name: edge }
                broker: { embedded: { port: 1883 } }
                brokers:
                  hq: { uris: [ "ssl://hq.example:8883" ], username: edge-1, keep-alive: 10s }
                stores: { local: { type: mapdb } }
                channels:
                  - { name: default:sensor_data, subscribe: true, publish: true, publish-via: hq }
                  - { name: default:configs, subscribe: true, subscribe-via: hq }
                """);
        assertThat(c.brokers()).containsOnlyKeys("hq");
        assertThat(c.brokerNamed("hq").uris()).containsExactly("ssl://hq.example:8883");
        assertThat(c.brokerNamed("hq").embedded()).isEmpty();
        assertThat(c.brokerNamed("hq").clientId()).isEqualTo("mqdb-mqdb-edge");
        assertThat(c.brokerNamed(ChannelConfig.MAIN_BROKER)).isSameAs(c.broker());
        assertThat(c.channels().get(0).relays()).isTrue();
        assertThat(c.channels().get(0).subscribeVia()).isEqualTo(ChannelConfig.MAIN_BROKER);
        assertThat(c.channels().get(1).relays()).isFalse();
        assertThat(c.channels().get(1).subscribeVia()).isEqualTo("hq");
    }

    @Test
    void badConnectionsAndViasAreRejectedWithTheirLines() {
        assertThat(lines("""
                node: { name: edge }
                brokers:
                  hq: { embedded: { port: 1884 } }
                  Main: { uris: [ "tcp://x:1883" ] }
                  main: { uris: [ "tcp://x:1883" ] }
                  up: { username: u }
                stores: { local: { type: mapdb }, other: { type: mapdb } }
                channels:
                  - { name: a:one, store: local, subscribe: true, publish-via: hq }
                  - { name: a:two, store: other, publish: true, subscribe-via: hq }
                  - { name: a:three, store: local, publish: true, publish-via: hqq }
                  - { name: a:four, store: local, publish: true, publish-via: up }
                """)).containsExactly(
                "mqdb.yaml:3: brokers.hq.embedded: a node runs at most one broker, broker.embedded; brokers: names "
                        + "connections to others",
                "mqdb.yaml:4: brokers.Main: a connection name is a lower-case letter, then letters, digits, _ or -,"
                        + " at most 32; got \"Main\"",
                "mqdb.yaml:5: brokers.main: \"main\" is the broker section's own name; choose another",
                "mqdb.yaml:6: brokers.up.uris: required: the broker's URIs",
                "mqdb.yaml:9: channels[0].publish-via: publish-via without publish: true",
                "mqdb.yaml:10: channels[1].subscribe-via: subscribe-via without subscribe: true",
                "mqdb.yaml:11: channels[2].publish-via: no broker connection named \"hqq\"; connections: main, up"
                        + " (main is the broker section; name others under brokers:)",
                "mqdb.yaml:12: channels[3].publish-via: store \"local\" publishes a:three via hqq (line 11): the"
                        + " channels a store publishes share its outbox and go out on one connection");
    }
}
