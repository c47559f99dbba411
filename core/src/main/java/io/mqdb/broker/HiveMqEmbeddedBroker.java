package io.mqdb.broker;

import com.hivemq.configuration.service.InternalConfigurations;
import com.hivemq.embedded.EmbeddedHiveMQ;
import com.hivemq.migration.meta.PersistenceType;
import io.mqdb.config.EmbeddedBrokerConfig;
import io.mqdb.config.EmbeddedBrokerConfig.Persistence;
import io.mqdb.config.EmbeddedTlsConfig;
import io.mqdb.transport.PemTls;
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
 * {@code io/mqdb/broker/hivemq-config.xml}): one TCP listener on {@code bindAddress:port} ({@code 127.0.0.1:port}
 * with {@code plain: false}, for the hosting node); with {@code tls}, a TLS listener (TLS 1.3 and 1.2 only) whose
 * PKCS12 key store, and trust store of client CAs, are written from the PEM files to {@code <dataDir>/conf/tls/},
 * owner-only, under a password made for each start and never logged; a per-client queue of
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
    /** The TLS versions the TLS listener accepts; older ones are refused in the handshake. */
    public static final List<String> TLS_PROTOCOLS = List.of("TLSv1.3", "TLSv1.2");
    private static final List<String> QUIET_LOGGERS = List.of("com.hivemq", "jetbrains.exodus", "oshi", "io.netty",
            "migrations");

    private final EmbeddedBrokerConfig config;
    private final Path dataDir;
    /** The users' rules when the config has users; null when every client is let in. */
    private final BrokerAccess access;
    private EmbeddedHiveMQ hivemq; // guarded by this
    /** The password of this start's key and trust stores; never logged. Guarded by this. */
    private String storePassword = "";
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
            if (config.tls().isPresent()) {
                writeStores(conf.resolve("tls"), config.tls().get());
            }
            Path xml = conf.resolve("config.xml");
            Files.deleteIfExists(xml);
            Files.writeString(ownerOnly(xml), configXml(), StandardCharsets.UTF_8);
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
        for (String[] l : listeners()) {
            if (!accepts(l[0], Integer.parseInt(l[1]))) {
                closeQuietly(broker);
                throw new MqdbException("embedded broker started but " + l[0] + ":" + l[1]
                        + " does not accept connections (port in use?)");
            }
        }
        hivemq = broker;
        log.info("embedded broker listening on {} (folder {}, started in {} ms); {}", listenersText(), dataDir,
                TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0), bounds);
        if (config.plainBesideRemoteTls()) {
            log.warn("embedded broker: the plain TCP listener on {}:{} is reachable from other machines next to the "
                    + "TLS listener, so credentials and rows may cross the network unencrypted; set "
                    + "broker.embedded.plain: false to keep it on loopback", config.bindAddress(), config.port());
        }
    }

    /** @return {host, port} of the listeners to probe after start: the plain one, then the TLS one */
    private List<String[]> listeners() {
        List<String[]> out = new java.util.ArrayList<>();
        out.add(new String[] {probeHost(config.plainBindAddress()), Integer.toString(config.port())});
        config.tls().ifPresent(t -> out.add(new String[] {probeHost(t.bindAddress()), Integer.toString(t.port())}));
        return out;
    }

    /** @return the listeners for the start-up log line, without any password */
    String listenersText() {
        StringBuilder b = new StringBuilder("tcp ").append(config.plainBindAddress()).append(':').append(config.port());
        if (!config.plain()) {
            b.append(" (loopback only, for this node)");
        }
        config.tls().ifPresent(t -> b.append(", tls ").append(t.bindAddress()).append(':').append(t.port())
                .append(" (").append(String.join(", ", TLS_PROTOCOLS)).append("; client certificates ")
                .append(t.clientAuth().text()).append(')'));
        return b.toString();
    }

    /**
     * Writes {@code dir/keystore.p12} (the broker's certificate and key) and, with a client CA,
     * {@code dir/truststore.p12}, owner-only, under a password made anew for this start.
     */
    private void writeStores(Path dir, EmbeddedTlsConfig tls) throws IOException {
        Files.createDirectories(dir);
        byte[] random = new byte[24];
        new java.security.SecureRandom().nextBytes(random);
        storePassword = java.util.Base64.getUrlEncoder().withoutPadding().encodeToString(random);
        char[] pw = storePassword.toCharArray();
        try {
            store(PemTls.keyStore(tls.certFile(), tls.keyFile(), tls.keyPassword().map(s -> s.value()).orElse(null),
                    pw), dir.resolve("keystore.p12"), pw);
            Files.deleteIfExists(dir.resolve("truststore.p12"));
            if (tls.clientCaFile().isPresent()) {
                store(PemTls.trustStore(tls.clientCaFile().get()), dir.resolve("truststore.p12"), pw);
            }
        } catch (IllegalArgumentException e) {
            throw new MqdbException("embedded broker tls: " + e.getMessage(), e);
        }
    }

    private static void store(java.security.KeyStore ks, Path file, char[] password) throws IOException {
        Files.deleteIfExists(file);
        try (var out = Files.newOutputStream(ownerOnly(file))) {
            ks.store(out, password);
        } catch (java.security.GeneralSecurityException e) {
            throw new IOException("cannot write " + file + ": " + e, e);
        }
    }

    /** Creates an empty file readable by its owner only (where the file system has POSIX permissions). */
    private static Path ownerOnly(Path file) throws IOException {
        try {
            return Files.createFile(file, java.nio.file.attribute.PosixFilePermissions.asFileAttribute(
                    java.nio.file.attribute.PosixFilePermissions.fromString("rw-------")));
        } catch (UnsupportedOperationException e) {
            return Files.createFile(file);
        }
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
        String bindAddress = config.plainBindAddress();
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
                    .replace("@BIND_ADDRESS@", xmlEscape(config.plainBindAddress()))
                    .replace("@TLS_LISTENER@", tlsListenerXml())
                    .replace("@MAX_QUEUE_SIZE@", Long.toString(config.maxQueuedMessages()))
                    .replace("@RECEIVE_MAXIMUM@", Integer.toString(RECEIVE_MAXIMUM))
                    .replace("@MAX_PACKET_SIZE@", Long.toString((long) config.maxPacketMb() << 20))
                    .replace("@PERSISTENCE@", config.persistence().text());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** @return the {@code tls-tcp-listener} element, or nothing without TLS */
    private String tlsListenerXml() {
        if (config.tls().isEmpty()) {
            return "";
        }
        EmbeddedTlsConfig t = config.tls().get();
        Path dir = dataDir.resolve("conf").resolve("tls");
        StringBuilder b = new StringBuilder()
                .append("        <tls-tcp-listener>\n")
                .append("            <port>").append(t.port()).append("</port>\n")
                .append("            <bind-address>").append(xmlEscape(t.bindAddress())).append("</bind-address>\n")
                .append("            <tls>\n")
                .append("                <keystore>\n")
                .append("                    <path>").append(xmlEscape(dir.resolve("keystore.p12").toString()))
                .append("</path>\n")
                .append("                    <password>").append(storePassword).append("</password>\n")
                .append("                    <private-key-password>").append(storePassword)
                .append("</private-key-password>\n")
                .append("                </keystore>\n");
        if (t.clientCaFile().isPresent()) {
            b.append("                <truststore>\n")
                    .append("                    <path>").append(xmlEscape(dir.resolve("truststore.p12").toString()))
                    .append("</path>\n")
                    .append("                    <password>").append(storePassword).append("</password>\n")
                    .append("                </truststore>\n");
        }
        b.append("                <protocols>\n");
        for (String p : TLS_PROTOCOLS) {
            b.append("                    <protocol>").append(p).append("</protocol>\n");
        }
        return b.append("                </protocols>\n")
                .append("                <client-authentication-mode>").append(t.clientAuth().name())
                .append("</client-authentication-mode>\n")
                .append("            </tls>\n")
                .append("        </tls-tcp-listener>").toString();
    }

    private static String probeHost(String bindAddress) {
        return bindAddress.equals("0.0.0.0") ? "127.0.0.1" : bindAddress;
    }

    private static boolean accepts(String host, int port) {
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
