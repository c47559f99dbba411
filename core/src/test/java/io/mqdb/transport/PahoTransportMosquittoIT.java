package io.mqdb.transport;

import static org.assertj.core.api.Assertions.assertThat;

import io.mqdb.testing.MosquittoServer;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The transport contract on Paho, against Mosquitto with its stock flow control (receive maximum 20).
 */
class PahoTransportMosquittoIT extends TransportContract {
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
        return ClientLibrary.PAHO;
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
    void pahoNeverUsesTopicAliasesEvenWhenTheBrokerOffersThem() throws Exception {
        // mosquitto offers 10 aliases by default; Paho would use them on its own
        PahoTransport t = (PahoTransport) transport(TransportOptions.of(List.of(brokerUri()), id("fo-alias")));
        t.start();
        assertThat(t.outgoingTopicAliasMaximumForTest()).isZero();
    }

    @Test
    void roundTripOverAWebSocket() throws Exception {
        assertRoundTripOverAWebSocket(mosquitto.webSocketUri());
    }
}
