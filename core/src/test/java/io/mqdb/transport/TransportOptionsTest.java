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
}
