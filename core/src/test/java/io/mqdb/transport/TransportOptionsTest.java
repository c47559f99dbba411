package io.mqdb.transport;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;

class TransportOptionsTest {

    @Test
    void reportsEveryProblemAtOnce() {
        assertThatThrownBy(() -> new TransportOptions(List.of("http://x:1", "tcp://nohost"), " ", Optional.empty(),
                Optional.empty(), Optional.empty(), Duration.ZERO, Duration.ofSeconds(30), Duration.ZERO, 0, 70_000,
                "a/#", new byte[0], new byte[0]))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContainingAll("brokerUris[0]", "brokerUris[1]", "clientId", "sessionExpiry",
                        "connectTimeout", "receiveMaximum", "maxInflight", "presenceTopic");
    }

    @Test
    void neverPrintsThePassword() {
        TransportOptions o = TransportOptions.of(List.of("tcp://127.0.0.1:1883"), "n1");
        o = new TransportOptions(o.brokerUris(), o.clientId(), Optional.of("u"), Optional.of("s3cret"), o.tls(),
                o.sessionExpiry(), o.keepAlive(), o.connectTimeout(), o.receiveMaximum(), o.maxInflight(),
                o.presenceTopic(), o.onlinePayload(), o.offlinePayload());
        assertThat(o.toString()).doesNotContain("s3cret").contains("***");
    }

    @Test
    void defaultsKeepTheSessionAndUseThePresenceTopicOfTheClient() {
        TransportOptions o = TransportOptions.of(List.of("ssl://broker:8883"), "n1");
        assertThat(o.sessionExpiry()).isPositive();
        assertThat(o.presenceTopic()).isEqualTo("mqdb/presence/n1");
    }

    @Test
    void acceptsEveryBrokerSchemeTheConfigurationAcceptsAndDefaultsToTheHiveMqClient() {
        TransportOptions o = TransportOptions.of(List.of("tcp://a:1883", "mqtt://b:1883", "ssl://c:8883",
                "mqtts://d:8883", "ws://e:8080/mqtt", "wss://f:8443"), "n1");
        assertThat(o.client()).isEqualTo(ClientLibrary.HIVEMQ);
        assertThat(o.withClient(ClientLibrary.PAHO).client()).isEqualTo(ClientLibrary.PAHO);
        assertThat(o.withClient(ClientLibrary.PAHO)).isNotEqualTo(o);
    }

    @Test
    void brokerAddressesMapToWhatEachLibraryKnows() {
        BrokerAddress mqtts = BrokerAddress.parse("mqtts://broker:8883");
        assertThat(mqtts.tls()).isTrue();
        assertThat(mqtts.webSocket()).isFalse();
        assertThat(mqtts.pahoUri()).isEqualTo("ssl://broker:8883");
        assertThat(BrokerAddress.parse("mqtt://broker:1883").pahoUri()).isEqualTo("tcp://broker:1883");
        BrokerAddress wss = BrokerAddress.parse("wss://broker:8443");
        assertThat(wss.tls()).isTrue();
        assertThat(wss.webSocket()).isTrue();
        assertThat(wss.path()).isEqualTo("mqtt");
        assertThat(BrokerAddress.parse("ws://broker:8080/ws/mqtt").path()).isEqualTo("ws/mqtt");
        assertThat(BrokerAddress.parse("ws://[::1]:8080/mqtt").pahoUri()).isEqualTo("ws://[::1]:8080/mqtt");
        assertThatThrownBy(() -> BrokerAddress.parse("http://broker:80"))
                .hasMessageContaining("tcp, ssl, mqtt, mqtts, ws or wss");
    }

    @Test
    void clientLibraryNamesAreTheConfigurationValues() {
        assertThat(ClientLibrary.parse(" HiveMQ ")).contains(ClientLibrary.HIVEMQ);
        assertThat(ClientLibrary.parse("paho")).contains(ClientLibrary.PAHO);
        assertThat(ClientLibrary.parse("mosquitto")).isEmpty();
    }

    @Test
    void theAnnouncedMaximumPacketSizeFitsTheLargestPayloadTheDecoderTakes() {
        assertThat(TransportOptions.MAX_PACKET_BYTES)
                .isEqualTo(io.mqdb.codec.CodecLimits.DEFAULT_MAX_PAYLOAD_BYTES + (64 << 10));
    }

    @Test
    void theModeIsFailoverByDefaultAndEveryCopyKeepsIt() {
        TransportOptions o = TransportOptions.of(List.of("tcp://a:1883", "tcp://b:1883"), "n1");
        assertThat(o.mode()).isEqualTo(BrokerMode.FAILOVER);
        TransportOptions m = o.withMode(BrokerMode.MIRROR);
        assertThat(m).isNotEqualTo(o);
        assertThat(m.toString()).contains("mode=mirror");
        // the node derives its channel sessions from its options with these: they must stay mirrored
        assertThat(m.withClientId("n1-ch-shop.items").mode()).isEqualTo(BrokerMode.MIRROR);
        assertThat(m.withPresence("p/t", new byte[] {1}, new byte[] {0}).mode()).isEqualTo(BrokerMode.MIRROR);
        assertThat(m.withFlowControl(10, 10).withCredentials("u", "p").withClient(ClientLibrary.PAHO)
                .withMaxPacketBytes(TransportOptions.MIN_PACKET_BYTES).withBrokerUris(List.of("tcp://c:1883"))
                .mode()).isEqualTo(BrokerMode.MIRROR);
    }

    @Test
    void shuffledKeepsTheBrokersInAnotherOrderAndSpreadsNodesOverThem() {
        List<String> uris = List.of("tcp://a:1883", "tcp://b:1883", "tcp://c:1883");
        TransportOptions o = TransportOptions.of(uris, "n1").withMode(BrokerMode.MIRROR);
        java.util.Map<String, Integer> firsts = new java.util.TreeMap<>();
        long seed = System.nanoTime();
        System.out.println("shuffle seed " + seed);
        java.util.Random random = new java.util.Random(seed);
        for (int node = 0; node < 300; node++) {
            TransportOptions s = o.shuffled(random);
            assertThat(s.brokerUris()).containsExactlyInAnyOrderElementsOf(uris);
            assertThat(s.mode()).isEqualTo(BrokerMode.MIRROR);
            firsts.merge(s.brokerUris().get(0), 1, Integer::sum);
        }
        // 300 draws of 3: each broker first about 100 times; below 50 has a probability far under 1e-9
        assertThat(firsts).containsOnlyKeys(uris);
        assertThat(firsts.values()).allSatisfy(n -> assertThat(n).isGreaterThan(50));
        assertThat(o.brokerUris()).as("the original is unchanged").isEqualTo(uris);
    }

    @Test
    void mirrorOverOneBrokerIsThePlainTransportAndOverTwoAMirror() {
        TransportOptions one = TransportOptions.of(List.of("tcp://127.0.0.1:1"), "n1").withMode(BrokerMode.MIRROR);
        try (Transport t = Transports.open(one)) {
            assertThat(t).isInstanceOf(HiveMqTransport.class);
        }
        TransportOptions two = one.withBrokerUris(List.of("tcp://127.0.0.1:1", "tcp://127.0.0.1:2"));
        try (Transport t = Transports.open(two)) {
            assertThat(t).isInstanceOf(MirrorTransport.class);
            assertThat(((MirrorTransport) t).counters()).extracting(MirrorTransport.BrokerCounters::uri)
                    .containsExactly("tcp://127.0.0.1:1", "tcp://127.0.0.1:2");
            assertThat(t.isConnected()).isFalse();
            assertThat(t.currentBroker()).isEqualTo("tcp://127.0.0.1:1, tcp://127.0.0.1:2");
        }
        try (Transport t = Transports.open(two.withMode(BrokerMode.FAILOVER))) {
            assertThat(t).isInstanceOf(HiveMqTransport.class);
        }
    }
}
