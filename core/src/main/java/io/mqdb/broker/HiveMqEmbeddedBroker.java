package io.mqdb.broker;

import com.hivemq.configuration.service.InternalConfigurations;
import com.hivemq.embedded.EmbeddedHiveMQ;
import com.hivemq.migration.meta.PersistenceType;
import io.mqdb.config.EmbeddedBrokerConfig;
import io.mqdb.config.EmbeddedBrokerConfig.Persistence;
import io.mqdb.spi.MqdbException;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.lang.management.ManagementFactory;
import java.lang.reflect.Method;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The {@link EmbeddedBroker} on HiveMQ CE embedded.
 *
 * <p>On {@link #start} it writes {@code <dataDir>/conf/config.xml} (from the template
 * {@code io/mqdb/broker/hivemq-config.xml}): one TCP listener on {@code bindAddress:port}; a per-client queue of
 * {@code maxQueuedMessages}, strategy discard (a full queue drops the newest message; mqdb's gap detection and
 * resend or snapshot recover it, docs/topics.md); the largest packet {@code maxPacketMb}; server receive maximum
 * {@value #RECEIVE_MAXIMUM} (default 10); topic aliases off; persistence in memory (the default: a restart starts
 * empty, publishers resend from their outbox) or in files in {@code <dataDir>/data} (sessions and queued QoS 1
 * messages survive a restart); anonymous usage statistics off; an empty {@code <dataDir>/extensions}. Without
 * {@code users} in its config HiveMQ CE lets every client in: keep the bind address on loopback unless the network is
 * trusted. With users, the embedded extension {@link HiveMqAccessExtension} lets in only them, each with the
 * permissions of its role ({@link BrokerAccess}), and the hosting node connects with {@link #localCredential()}.
 *
 * <p>Bounds outside the XML file are HiveMQ's {@code InternalConfigurations}, static fields read when the broker
 * starts, so they hold for every HiveMQ in the JVM (a node runs one): the outgoing in-flight window
 * ({@code MAX_INFLIGHT_WINDOW_SIZE_MESSAGES}, HiveMQ's default 50) and the poll batch of queued messages
 * ({@code PUBLISH_POLL_BATCH_SIZE}) are set to {@code maxInflightMessages}; in file mode RocksDB's memtables and
 * block cache, which HiveMQ sizes from the machine's physical RAM (RAM/32 and RAM/64, outside the heap), are capped
 * at {@value #FILE_MEMTABLE_BYTES} and {@value #FILE_BLOCK_CACHE_BYTES} bytes, and retained messages go to Xodus
 * (its cache is in the heap) instead of a second RocksDB sized from RAM. {@link #start} logs the bounds in force.
 *
 * <p>Logging: HiveMQ's own logging bootstrap is turned off ({@code withoutLoggingBootstrap()}), because it detaches
 * the root logger's appenders during start-up, replaces the whole logback configuration when
 * {@code conf/logback.xml} exists, and installs the JUL bridge. HiveMQ then logs through the application's SLF4J
 * binding; its chatty loggers ({@code com.hivemq}, {@code jetbrains.exodus}, {@code oshi}, {@code io.netty}) are set to
 * WARN when logback is the binding and the application's configuration gave them no level of their own. Note that the
 * HiveMQ jar carries a {@code logback.xml} at its root: an application without its own {@code logback.xml} (or
 * {@code logback-test.xml}) ahead of it on the class path gets HiveMQ's console configuration.
 */
public final class HiveMqEmbeddedBroker implements EmbeddedBroker {
    private static final Logger log = LoggerFactory.getLogger(HiveMqEmbeddedBroker.class);
    /** The server receive maximum written into the configuration. */
    public static final int RECEIVE_MAXIMUM = 1_000;
    /** In file mode: the most bytes of RocksDB memtables of the payload persistence, all buckets together. */
    public static final long FILE_MEMTABLE_BYTES = 16L << 20;
    /** In file mode: the most bytes of RocksDB block cache of the payload persistence. */
    public static final long FILE_BLOCK_CACHE_BYTES = 8L << 20;
    private static final long START_TIMEOUT_SECONDS = 60;
    private static final List<String> QUIET_LOGGERS = List.of("com.hivemq", "jetbrains.exodus", "oshi", "io.netty",
            "migrations");

    private final EmbeddedBrokerConfig config;
    private final Path dataDir;
    /** The users' rules when the config has users; null when every client is let in. */
    private final BrokerAccess access;
    private EmbeddedHiveMQ hivemq; // guarded by this
    private boolean closed; // guarded by this

    /**
     * @param config where it listens, its folder ({@code conf/}, {@code data/} and {@code extensions/} go in it),
     *     its persistence and its bounds
     */
    public HiveMqEmbeddedBroker(EmbeddedBrokerConfig config) {
        if (config.bindAddress().isBlank()) {
            throw new IllegalArgumentException("embedded broker: bindAddress must not be blank");
        }
        if (config.port() < 1 || config.port() > 65_535) {
            throw new IllegalArgumentException("embedded broker: port must be 1..65535, got " + config.port());
        }
        this.config = config;
        this.dataDir = config.dataDir().toAbsolutePath();
        this.access = config.authenticates() ? new BrokerAccess(config.cluster(), config.users()) : null;
    }

    @Override
    public Optional<BrokerAccess.Credential> localCredential() {
        return access == null ? Optional.empty() : Optional.of(access.local());
    }

    /**
     * The defaults of {@link EmbeddedBrokerConfig#of} (in memory) with another queue bound; for tests and tools.
     *
     * @param bindAddress the address to listen on; {@code 127.0.0.1} unless other machines must connect, since every
     *     client is let in
     * @param port the TCP port
     * @param dataDir the broker's folder
     * @param maxQueuedMessages how many QoS 1 messages the broker queues per offline or slow client before it drops
     *     new ones
     */
    public HiveMqEmbeddedBroker(String bindAddress, int port, Path dataDir, int maxQueuedMessages) {
        this(validated(bindAddress, port, dataDir, maxQueuedMessages));
    }

    private static EmbeddedBrokerConfig validated(String bindAddress, int port, Path dataDir, int maxQueuedMessages) {
        if (bindAddress == null || bindAddress.isBlank()) {
            throw new IllegalArgumentException("embedded broker: bindAddress must not be blank");
        }
        if (port < 1 || port > 65_535) {
            throw new IllegalArgumentException("embedded broker: port must be 1..65535, got " + port);
        }
        if (maxQueuedMessages < 1) {
            throw new IllegalArgumentException("embedded broker: maxQueuedMessages must be positive, got "
                    + maxQueuedMessages);
        }
        return EmbeddedBrokerConfig.of(bindAddress, port, dataDir).withMaxQueuedMessages(maxQueuedMessages);
    }

    @Override
    public synchronized void start() throws InterruptedException {
        if (closed) {
            throw new IllegalStateException("embedded broker " + uri() + " is closed");
        }
        if (hivemq != null) {
            return;
        }
        Path conf = dataDir.resolve("conf");
        Path data = dataDir.resolve("data");
        Path extensions = dataDir.resolve("extensions");
        try {
            Files.createDirectories(conf);
            Files.createDirectories(data);
            Files.createDirectories(extensions);
            Files.writeString(conf.resolve("config.xml"), configXml(), StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new UncheckedIOException("embedded broker: cannot write its folder " + dataDir, e);
        }
        quietLogging();
        String bounds = applyInternalBounds();
        var builder = EmbeddedHiveMQ.builder()
                .withConfigurationFolder(conf)
                .withDataFolder(data)
                .withExtensionsFolder(extensions)
                .withoutLoggingBootstrap();
        if (access != null) {
            builder.withEmbeddedExtension(com.hivemq.embedded.EmbeddedExtension.builder()
                    .withId("mqdb-access").withName("mqdb access control").withVersion("1")
                    .withPriority(1000).withStartPriority(1000)
                    .withExtensionMain(new HiveMqAccessExtension(access)).build());
        }
        EmbeddedHiveMQ broker = builder.build();
        long t0 = System.nanoTime();
        try {
            broker.start().get(START_TIMEOUT_SECONDS, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            closeQuietly(broker);
            throw e;
        } catch (ExecutionException | TimeoutException e) {
            closeQuietly(broker);
            throw new MqdbException("embedded broker " + uri() + " did not start: " + e, e);
        }
        if (!accepts()) {
            closeQuietly(broker);
            throw new MqdbException("embedded broker started but " + config.bindAddress() + ":" + config.port()
                    + " does not accept connections (port in use?)");
        }
        hivemq = broker;
        log.info("embedded broker listening on {} (folder {}, started in {} ms); {}", uri(), dataDir,
                TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0), bounds);
    }

    /** @return the settings it was made with */
    public EmbeddedBrokerConfig config() {
        return config;
    }

    /**
     * Sets HiveMQ's static bounds for this broker (see the class comment); called on {@link #start}'s thread before
     * HiveMQ reads them.
     *
     * @return the bounds in force, for the start-up log line
     */
    String applyInternalBounds() {
        synchronized (InternalConfigurations.class) {
            InternalConfigurations.MAX_INFLIGHT_WINDOW_SIZE_MESSAGES = config.maxInflightMessages();
            InternalConfigurations.PUBLISH_POLL_BATCH_SIZE = config.maxInflightMessages();
            StringBuilder b = new StringBuilder("persistence ").append(config.persistence().text())
                    .append(", queue <= ").append(config.maxQueuedMessages())
                    .append(" messages per client (then the newest are dropped)")
                    .append(", packets <= ").append(config.maxPacketMb()).append(" MB")
                    .append(", in flight <= ").append(config.maxInflightMessages()).append(" messages per client");
            if (config.persistence() == Persistence.FILE) {
                long ram = physicalMemoryBytes();
                InternalConfigurations.PAYLOAD_PERSISTENCE_MEMTABLE_SIZE_PORTION.set(portion(ram, FILE_MEMTABLE_BYTES));
                InternalConfigurations.PAYLOAD_PERSISTENCE_BLOCK_CACHE_SIZE_PORTION.set(
                        portion(ram, FILE_BLOCK_CACHE_BYTES));
                InternalConfigurations.RETAINED_MESSAGE_PERSISTENCE_TYPE.set(PersistenceType.FILE);
                b.append(", RocksDB memtables <= ").append(mb(ram / portion(ram, FILE_MEMTABLE_BYTES)))
                        .append(" MB and block cache <= ").append(mb(ram / portion(ram, FILE_BLOCK_CACHE_BYTES)))
                        .append(" MB (of ").append(mb(ram)).append(" MB RAM), retained messages in Xodus");
            }
            return b.toString();
        }
    }

    /** @return the divisor of RAM HiveMQ takes for a RocksDB memory, so that RAM/divisor is at most {@code bytes} */
    static int portion(long ramBytes, long bytes) {
        long p = (ramBytes + bytes - 1) / bytes;
        return (int) Math.max(1, Math.min(Integer.MAX_VALUE, p));
    }

    private static long mb(long bytes) {
        return Math.round(bytes / (double) (1L << 20));
    }

    private static long physicalMemoryBytes() {
        if (ManagementFactory.getOperatingSystemMXBean() instanceof com.sun.management.OperatingSystemMXBean os) {
            return os.getTotalMemorySize();
        }
        return Runtime.getRuntime().maxMemory() * 4; // not HotSpot: a guess; the cap is only approximate then
    }

    @Override
    public String uri() {
        String bindAddress = config.bindAddress();
        int port = config.port();
        String host = bindAddress.equals("0.0.0.0") ? "127.0.0.1" : bindAddress;
        return "tcp://" + (host.contains(":") ? "[" + host + "]" : host) + ":" + port;
    }

    @Override
    public synchronized void close() {
        if (closed) {
            return;
        }
        closed = true;
        if (hivemq != null) {
            closeQuietly(hivemq);
            hivemq = null;
            log.info("embedded broker {} stopped", uri());
        }
    }

    /** @return the config.xml written on start */
    String configXml() {
        try (InputStream in = HiveMqEmbeddedBroker.class.getResourceAsStream("hivemq-config.xml")) {
            if (in == null) {
                throw new IllegalStateException("hivemq-config.xml missing from the class path");
            }
            return new String(in.readAllBytes(), StandardCharsets.UTF_8)
                    .replace("@PORT@", Integer.toString(config.port()))
                    .replace("@BIND_ADDRESS@", xmlEscape(config.bindAddress()))
                    .replace("@MAX_QUEUE_SIZE@", Long.toString(config.maxQueuedMessages()))
                    .replace("@RECEIVE_MAXIMUM@", Integer.toString(RECEIVE_MAXIMUM))
                    .replace("@MAX_PACKET_SIZE@", Long.toString((long) config.maxPacketMb() << 20))
                    .replace("@PERSISTENCE@", config.persistence().text());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private boolean accepts() {
        String bindAddress = config.bindAddress();
        int port = config.port();
        String host = bindAddress.equals("0.0.0.0") ? "127.0.0.1" : bindAddress;
        try (Socket s = new Socket()) {
            s.connect(new InetSocketAddress(host, port), 2_000);
            return true;
        } catch (IOException e) {
            return false;
        }
    }

    private static void closeQuietly(EmbeddedHiveMQ broker) {
        try {
            broker.close();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } catch (ExecutionException | RuntimeException e) {
            log.warn("embedded broker: stop failed: {}", e.toString());
        }
    }

    private static String xmlEscape(String s) {
        return s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;");
    }

    /**
     * Sets HiveMQ's loggers to WARN when logback is the SLF4J binding and the application configured no level for
     * them. Reflection, because logback is an optional run-time dependency of core.
     */
    private static void quietLogging() {
        for (String name : QUIET_LOGGERS) {
            Object logger = LoggerFactory.getLogger(name);
            if (!logger.getClass().getName().equals("ch.qos.logback.classic.Logger")) {
                return;
            }
            try {
                Method getLevel = logger.getClass().getMethod("getLevel");
                if (getLevel.invoke(logger) != null) {
                    continue;
                }
                Class<?> level = Class.forName("ch.qos.logback.classic.Level", true, logger.getClass().getClassLoader());
                Object warn = level.getField("WARN").get(null);
                logger.getClass().getMethod("setLevel", level).invoke(logger, warn);
            } catch (ReflectiveOperationException | RuntimeException e) {
                log.debug("cannot quiet logger {}: {}", name, e.toString());
                return;
            }
        }
    }
}
