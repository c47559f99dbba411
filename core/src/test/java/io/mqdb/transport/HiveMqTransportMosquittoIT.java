package io.mqdb.transport;

import static org.assertj.core.api.Assertions.assertThat;

import io.mqdb.testing.MosquittoServer;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The transport contract on the HiveMQ client, against Mosquitto with its stock flow control (receive maximum 20).
 */
class HiveMqTransportMosquittoIT extends TransportContract {
    static MosquittoServer mosquitto;

    @BeforeAll
    static void startBroker() {
        mosquitto = MosquittoServer.startStock();
    }

    @AfterAll
    static void stopBroker() {
        mosquitto.close();
    }

    @Override
    ClientLibrary client() {
        return ClientLibrary.HIVEMQ;
    }

    @Override
    String brokerUri() {
        return mosquitto.uri();
    }

    @Override
    void restartBroker() {
        mosquitto.restart();
    }

    @Override
    Optional<String> webSocketUri() {
        return Optional.of(mosquitto.webSocketUri());
    }

    @Test
    void everySocketHasTcpNoDelay() throws Exception {
        // Nagle's algorithm with delayed ACKs held QoS 1 near 1,000 msg/s with Paho (FIELD-NOTES)
        HiveMqTransport t = (HiveMqTransport) transport("nd-node");
        t.start();
        assertThat(t.tcpNoDelayForTest()).isTrue();
        HiveMqTransport ws = (HiveMqTransport) transport(
                TransportOptions.of(List.of(mosquitto.webSocketUri()), id("nd-ws")));
        ws.start();
        assertThat(ws.tcpNoDelayForTest()).isTrue();
    }

    @Test
    void roundTripOverAWebSocket() throws Exception {
        assertRoundTripOverAWebSocket(mosquitto.webSocketUri());
    }
}
