package io.mqdb.broker;

import com.hivemq.embedded.EmbeddedHiveMQ;
import io.mqdb.spi.MqdbException;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.lang.reflect.Method;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
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
 * {@code maxQueuedMessages} (HiveMQ's default of 1,000 drops silently); server receive maximum
 * {@value #RECEIVE_MAXIMUM} (default 10); topic aliases off; file persistence in {@code <dataDir>/data}, so
 * persistent sessions and their queued QoS 1 messages survive a restart; anonymous usage statistics off; an empty
 * {@code <dataDir>/extensions}. HiveMQ CE without extensions lets every client in: keep the bind address on loopback
 * unless the network is trusted.
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
    private static final long START_TIMEOUT_SECONDS = 60;
    private static final List<String> QUIET_LOGGERS = List.of("com.hivemq", "jetbrains.exodus", "oshi", "io.netty",
            "migrations");

    private final String bindAddress;
    private final int port;
    private final Path dataDir;
    private final long maxQueuedMessages;
    private EmbeddedHiveMQ hivemq; // guarded by this
    private boolean closed; // guarded by this

    /**
     * @param bindAddress the address to listen on; {@code 127.0.0.1} unless other machines must connect, since every
     *     client is let in
     * @param port the TCP port
     * @param dataDir the broker's folder: {@code conf/}, {@code data/} (sessions, queues, retained messages) and
     *     {@code extensions/} go in it
     * @param maxQueuedMessages how many QoS 1 messages the broker queues per offline or slow client before it drops
     *     new ones; size it for the longest outage a node must survive
     */
    public HiveMqEmbeddedBroker(String bindAddress, int port, Path dataDir, int maxQueuedMessages) {
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
        this.bindAddress = bindAddress;
        this.port = port;
        this.dataDir = dataDir.toAbsolutePath();
        this.maxQueuedMessages = maxQueuedMessages;
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
        EmbeddedHiveMQ broker = EmbeddedHiveMQ.builder()
                .withConfigurationFolder(conf)
                .withDataFolder(data)
                .withExtensionsFolder(extensions)
                .withoutLoggingBootstrap()
                .build();
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
            throw new MqdbException("embedded broker started but " + bindAddress + ":" + port
                    + " does not accept connections (port in use?)");
        }
        hivemq = broker;
        log.info("embedded broker listening on {} (data in {}, started in {} ms)", uri(), dataDir,
                TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0));
    }

    @Override
    public String uri() {
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
                    .replace("@PORT@", Integer.toString(port))
                    .replace("@BIND_ADDRESS@", xmlEscape(bindAddress))
                    .replace("@MAX_QUEUE_SIZE@", Long.toString(maxQueuedMessages))
                    .replace("@RECEIVE_MAXIMUM@", Integer.toString(RECEIVE_MAXIMUM));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private boolean accepts() {
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
