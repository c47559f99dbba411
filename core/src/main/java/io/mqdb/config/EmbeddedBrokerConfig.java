package io.mqdb.config;

import java.nio.file.Path;
import java.util.Objects;

/**
 * The {@code broker.embedded:} section: the MQTT broker the node runs in its own process. Read by the broker module
 * on the start-up thread; immutable. The embedded broker lets every client in, so it binds to a loopback address
 * unless the config says {@code allow-remote: true}.
 *
 * @param bindAddress the address to listen on; default {@code 127.0.0.1}
 * @param port the TCP port; default 1883, 0 picks a free port
 * @param dataDir where the broker keeps sessions and queued messages, absolute; default
 *     {@code <node data-dir>/broker}
 * @param maxQueuedMessages the most messages the broker queues per client session; default 100000
 */
public record EmbeddedBrokerConfig(String bindAddress, int port, Path dataDir, int maxQueuedMessages) {
    /** The address the embedded broker binds to by default. */
    public static final String DEFAULT_BIND = "127.0.0.1";
    /** The port the embedded broker listens on by default. */
    public static final int DEFAULT_PORT = 1883;
    /** The default of {@link #maxQueuedMessages()}. */
    public static final int DEFAULT_MAX_QUEUED_MESSAGES = 100_000;

    /** Rejects nulls. */
    public EmbeddedBrokerConfig {
        Objects.requireNonNull(bindAddress, "bindAddress");
        Objects.requireNonNull(dataDir, "dataDir");
    }
}
