package io.mqdb.transport;

import io.mqdb.broker.HiveMqEmbeddedBroker;
import io.mqdb.config.EmbeddedBrokerConfig;
import io.mqdb.testing.ServerFixture;
import java.nio.file.Path;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.io.TempDir;

/**
 * The transport contract on Paho, against the embedded HiveMQ CE (file persistence).
 */
class PahoTransportHiveMqIT extends TransportContract {
    @TempDir
    static Path dir;
    static int port;
    /** File persistence: the contract's broker restart must keep what the broker acknowledged. */
    static HiveMqEmbeddedBroker broker;

    @BeforeAll
    static void startBroker() throws InterruptedException {
        port = ServerFixture.freePort();
        broker = new HiveMqEmbeddedBroker(EmbeddedBrokerConfig.of("127.0.0.1", port, dir)
                .withPersistence(EmbeddedBrokerConfig.Persistence.FILE).withMaxQueuedMessages(100_000));
        broker.start();
    }

    @AfterAll
    static void stopBroker() {
        broker.close();
    }

    @Override
    ClientLibrary client() {
        return ClientLibrary.PAHO;
    }

    @Override
    String brokerUri() {
        return broker.uri();
    }

    @Override
    void restartBroker() throws InterruptedException {
        broker.close();
        broker = new HiveMqEmbeddedBroker(EmbeddedBrokerConfig.of("127.0.0.1", port, dir)
                .withPersistence(EmbeddedBrokerConfig.Persistence.FILE).withMaxQueuedMessages(100_000));
        broker.start();
    }
}
