package io.mqdb.broker;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.hivemq.configuration.service.InternalConfigurations;
import com.hivemq.migration.meta.PersistenceType;
import io.mqdb.config.EmbeddedBrokerConfig;
import io.mqdb.config.EmbeddedBrokerConfig.Persistence;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;

class HiveMqEmbeddedBrokerTest {
    private static final EmbeddedBrokerConfig DEFAULTS = EmbeddedBrokerConfig.of("127.0.0.1", 1884, Path.of("/tmp/x"));

    @Test
    void defaultsKeepTheBrokerInMemoryWithABoundedQueue() {
        String xml = new HiveMqEmbeddedBroker(DEFAULTS).configXml();
        assertThat(xml).contains("<port>1884</port>", "<bind-address>127.0.0.1</bind-address>",
                "<max-queue-size>256</max-queue-size>", "<strategy>discard</strategy>",
                "<server-receive-maximum>1000</server-receive-maximum>",
                "<max-packet-size>268435456</max-packet-size>", "<mode>in-memory</mode>")
                .containsPattern("(?s)<topic-alias>\\s*<enabled>false")
                .containsPattern("(?s)<anonymous-usage-statistics>\\s*<enabled>false")
                .doesNotContain("@");
    }

    @Test
    void configCarriesEveryBound() {
        EmbeddedBrokerConfig c = new EmbeddedBrokerConfig("127.0.0.1", 1884, Path.of("/tmp/x"), Persistence.FILE,
                250_000, 16, 200);
        assertThat(new HiveMqEmbeddedBroker(c).configXml()).contains("<max-queue-size>250000</max-queue-size>",
                "<max-packet-size>16777216</max-packet-size>", "<mode>file</mode>");
    }

    @Test
    void inFlightWindowIsSetBeforeStartAndReported() {
        String bounds = new HiveMqEmbeddedBroker(DEFAULTS.withMaxInflightMessages(321)).applyInternalBounds();
        assertThat(InternalConfigurations.MAX_INFLIGHT_WINDOW_SIZE_MESSAGES).isEqualTo(321);
        assertThat(InternalConfigurations.PUBLISH_POLL_BATCH_SIZE).isEqualTo(321);
        assertThat(bounds).isEqualTo("persistence in-memory, queue <= 256 messages per client (then the newest are "
                + "dropped), packets <= 256 MB, in flight <= 321 messages per client");
    }

    @Test
    void fileModeCapsRocksDbMemoryWhateverTheMachinesRam() {
        String bounds = new HiveMqEmbeddedBroker(DEFAULTS.withPersistence(Persistence.FILE)).applyInternalBounds();
        assertThat(bounds).contains("persistence file", "RocksDB memtables <= 16 MB and block cache <= 8 MB",
                "retained messages in Xodus");
        assertThat(InternalConfigurations.RETAINED_MESSAGE_PERSISTENCE_TYPE.get()).isEqualTo(PersistenceType.FILE);
        assertThat(InternalConfigurations.PAYLOAD_PERSISTENCE_MEMTABLE_SIZE_PORTION.get()).isGreaterThan(32);
    }

    @Test
    void portionIsTheDivisorOfRamThatStaysUnderTheCap() {
        long gb = 1L << 30;
        long mb = 1L << 20;
        assertThat(HiveMqEmbeddedBroker.portion(24 * gb, 16 * mb)).isEqualTo(1536);
        assertThat(24 * gb / HiveMqEmbeddedBroker.portion(24 * gb + 1, 16 * mb)).isLessThanOrEqualTo(16 * mb);
        assertThat(HiveMqEmbeddedBroker.portion(8 * mb, 16 * mb)).isEqualTo(1);
    }

    @Test
    void rejectsNonsense() {
        assertThatThrownBy(() -> new HiveMqEmbeddedBroker("", 1883, Path.of("x"), 1))
                .isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> new HiveMqEmbeddedBroker("127.0.0.1", 0, Path.of("x"), 1))
                .isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> new HiveMqEmbeddedBroker("127.0.0.1", 1883, Path.of("x"), 0))
                .isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> new EmbeddedBrokerConfig("127.0.0.1", 1883, Path.of("x"), Persistence.IN_MEMORY, 1,
                257, 1)).isInstanceOf(IllegalArgumentException.class).hasMessageContaining("maxPacketMb");
        assertThatThrownBy(() -> DEFAULTS.withMaxInflightMessages(0))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("maxInflightMessages");
    }

    @Test
    void uriNamesTheBoundAddress() {
        assertThat(new HiveMqEmbeddedBroker("127.0.0.1", 1883, Path.of("x"), 1).uri()).isEqualTo("tcp://127.0.0.1:1883");
        assertThat(new HiveMqEmbeddedBroker("0.0.0.0", 1883, Path.of("x"), 1).uri()).isEqualTo("tcp://127.0.0.1:1883");
    }
}
