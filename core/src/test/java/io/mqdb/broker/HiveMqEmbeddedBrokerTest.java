package io.mqdb.broker;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Path;
import org.junit.jupiter.api.Test;

class HiveMqEmbeddedBrokerTest {

    @Test
    void configRaisesTheLimitsThatDropMessagesByDefault() {
        String xml = new HiveMqEmbeddedBroker("127.0.0.1", 1884, Path.of("/tmp/x"), 250_000).configXml();
        assertThat(xml).contains("<port>1884</port>", "<bind-address>127.0.0.1</bind-address>",
                "<max-queue-size>250000</max-queue-size>", "<server-receive-maximum>1000</server-receive-maximum>",
                "<mode>file</mode>").containsPattern("(?s)<topic-alias>\\s*<enabled>false")
                .containsPattern("(?s)<anonymous-usage-statistics>\\s*<enabled>false");
    }

    @Test
    void rejectsNonsense() {
        assertThatThrownBy(() -> new HiveMqEmbeddedBroker("", 1883, Path.of("x"), 1))
                .isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> new HiveMqEmbeddedBroker("127.0.0.1", 0, Path.of("x"), 1))
                .isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void uriNamesTheBoundAddress() {
        assertThat(new HiveMqEmbeddedBroker("127.0.0.1", 1883, Path.of("x"), 1).uri()).isEqualTo("tcp://127.0.0.1:1883");
        assertThat(new HiveMqEmbeddedBroker("0.0.0.0", 1883, Path.of("x"), 1).uri()).isEqualTo("tcp://127.0.0.1:1883");
    }
}
