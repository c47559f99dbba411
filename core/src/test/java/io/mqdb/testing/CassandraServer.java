package io.mqdb.testing;

import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.File;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.stream.Stream;

/**
 * A single-node Cassandra for integration tests, resolved in this order:
 * <ol>
 *   <li>{@code MQDB_TEST_CASSANDRA=host:port} (the native port), with {@code MQDB_TEST_CASSANDRA_DC} naming its data
 *   center ({@code datacenter1} by default);</li>
 *   <li>else {@code cassandra-all} from Maven Central started as {@code CassandraDaemon} in its own JVM on free
 *   loopback ports in a temporary folder. Its class path is the folder named by the system property
 *   {@code mqdb.test.cassandra.lib} (adapter-cassandra's build fills {@code target/cassandra-server} with
 *   cassandra-all and its runtime dependencies, off the tests' class path);</li>
 *   <li>else a {@code cassandra:5} container.</li>
 * </ol>
 * {@link #shared()} is one server per JVM (a Cassandra takes 0.6 GB and seconds to start), stopped at JVM exit.
 * Tests use their own keyspaces or tables.
 */
public final class CassandraServer extends ServerFixture {
    /** The environment variable naming an external server's native port, {@code host:port}. */
    public static final String ENV = "MQDB_TEST_CASSANDRA";
    /** The environment variable naming an external server's data center. */
    public static final String ENV_DC = "MQDB_TEST_CASSANDRA_DC";
    /** The system property naming the folder of cassandra-all and its dependencies. */
    public static final String LIB_PROPERTY = "mqdb.test.cassandra.lib";
    private static final Duration START_TIMEOUT = Duration.ofSeconds(120);
    private static CassandraServer shared;

    private final String host;
    private final int port;
    private final String datacenter;

    private CassandraServer(String host, int port, String datacenter) {
        this.host = host;
        this.port = port;
        this.datacenter = datacenter;
    }

    /** @return the server shared by every test of this JVM */
    public static synchronized CassandraServer shared() {
        if (shared == null) {
            long started = System.nanoTime();
            Optional<String> env = env(ENV);
            String how;
            if (env.isPresent()) {
                String a = env.get();
                int colon = a.lastIndexOf(':');
                shared = new CassandraServer(a.substring(0, colon), Integer.parseInt(a.substring(colon + 1)),
                        env(ENV_DC).orElse("datacenter1"));
                how = "external (" + ENV + ")";
            } else if (serverLib().isPresent()) {
                shared = local(serverLib().get());
                how = "cassandra-all in its own JVM";
            } else {
                shared = container();
                how = "container cassandra:5";
            }
            awaitCql(shared.host, shared.port, START_TIMEOUT);
            System.out.printf("Cassandra %s, %s, answered CQL after %d ms%n", shared.contactPoint(), how,
                    (System.nanoTime() - started) / 1_000_000);
        }
        return shared;
    }

    private static Optional<Path> serverLib() {
        List<Path> candidates = new ArrayList<>();
        String p = System.getProperty(LIB_PROPERTY);
        if (p != null && !p.isBlank()) {
            candidates.add(Path.of(p));
        }
        candidates.add(Path.of("target", "cassandra-server"));
        candidates.add(Path.of("adapter-cassandra", "target", "cassandra-server"));
        for (Path c : candidates) {
            try (Stream<Path> s = Files.isDirectory(c) ? Files.list(c) : Stream.empty()) {
                if (s.anyMatch(f -> f.getFileName().toString().startsWith("cassandra-all-"))) {
                    return Optional.of(c.toAbsolutePath());
                }
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }
        return Optional.empty();
    }

    private static CassandraServer local(Path lib) {
        CassandraServer s = new CassandraServer("127.0.0.1", freePort(), "datacenter1");
        int storagePort = freePort();
        Path dir = s.tempDir("mqdb-cassandra-");
        Path yaml = dir.resolve("cassandra.yaml");
        String d = dir.toString();
        String config = String.join("\n",
                "cluster_name: mqdb-test",
                "num_tokens: 16",
                "partitioner: org.apache.cassandra.dht.Murmur3Partitioner",
                "endpoint_snitch: SimpleSnitch",
                "commitlog_sync: periodic",
                "commitlog_sync_period: 10000ms",
                "seed_provider:",
                "  - class_name: org.apache.cassandra.locator.SimpleSeedProvider",
                "    parameters:",
                "      - seeds: \"127.0.0.1:" + storagePort + "\"",
                "listen_address: 127.0.0.1",
                "rpc_address: 127.0.0.1",
                "storage_port: " + storagePort,
                "native_transport_port: " + s.port,
                "data_file_directories: [" + d + "/data]",
                "commitlog_directory: " + d + "/commitlog",
                "saved_caches_directory: " + d + "/saved_caches",
                "hints_directory: " + d + "/hints",
                "cdc_raw_directory: " + d + "/cdc_raw",
                "auto_snapshot: false",
                "concurrent_compactors: 1",
                "");
        try {
            Files.writeString(yaml, config);
            Files.createDirectories(dir.resolve("logs"));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        String classPath;
        try (Stream<Path> jars = Files.list(lib)) {
            classPath = String.join(File.pathSeparator, jars.filter(f -> f.toString().endsWith(".jar"))
                    .map(Path::toString).sorted().toList());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        List<String> cmd = new ArrayList<>();
        // As root the JVM would mlock its memory (1.5 GB resident); without CAP_IPC_LOCK it stays near 0.6 GB.
        Optional<Path> capsh = findBinary(List.of("capsh"), List.of());
        if ("root".equals(System.getProperty("user.name")) && capsh.isPresent()) {
            cmd.addAll(List.of(capsh.get().toString(), "--drop=cap_ipc_lock", "--", "-c", "exec \"$@\"", "x"));
        }
        cmd.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        cmd.addAll(jvmFlags());
        cmd.addAll(List.of("-Dcassandra.config=" + yaml.toUri(), "-Dcassandra-foreground=true",
                "-Dcassandra.storagedir=" + d, "-Dcassandra.logdir=" + d + "/logs",
                "-Dcassandra.skip_wait_for_gossip_to_settle=0",
                "-cp", classPath, "org.apache.cassandra.service.CassandraDaemon"));
        Path log = dir.resolve("cassandra.out");
        Process p = s.startProcess(log, cmd);
        awaitPort(s.host, s.port, START_TIMEOUT, p, log);
        return s;
    }

    /** The flags of Cassandra's conf/jvm17-server.options and jvm-server.options that matter here, with a 1 GB heap. */
    private static List<String> jvmFlags() {
        List<String> f = new ArrayList<>(List.of("-Xms1g", "-Xmx1g", "-Xss256k", "-XX:+UseG1GC",
                "-XX:+ParallelRefProcEnabled", "-XX:MaxTenuringThreshold=1", "-XX:G1HeapRegionSize=16m",
                "-XX:G1RSetUpdatingPauseTimePercent=5", "-XX:MaxGCPauseMillis=300",
                "-XX:InitiatingHeapOccupancyPercent=70", "-Djava.net.preferIPv4Stack=true",
                "-Djdk.attach.allowAttachSelf=true", "-Dio.netty.tryReflectionSetAccessible=true",
                "-Dio.netty.allocator.useCacheForAllThreads=true", "-Dio.netty.allocator.maxOrder=11"));
        for (String e : List.of("java.base/jdk.internal.misc", "java.management.rmi/com.sun.jmx.remote.internal.rmi",
                "java.rmi/sun.rmi.registry", "java.rmi/sun.rmi.server", "java.sql/java.sql",
                "java.base/java.lang.ref", "jdk.unsupported/sun.misc", "jdk.compiler/com.sun.tools.javac.file",
                "jdk.attach/sun.tools.attach")) {
            f.addAll(List.of("--add-exports", e + "=ALL-UNNAMED"));
        }
        for (String o : List.of("java.base/java.lang.module", "java.base/jdk.internal.loader",
                "java.base/jdk.internal.ref", "java.base/jdk.internal.reflect", "java.base/jdk.internal.math",
                "java.base/jdk.internal.module", "java.base/jdk.internal.util.jar",
                "jdk.management/com.sun.management.internal", "java.base/sun.nio.ch", "java.base/java.io",
                "java.base/java.lang.reflect", "jdk.compiler/com.sun.tools.javac", "java.base/java.lang",
                "java.base/java.util", "java.base/java.nio", "java.base/java.util.concurrent",
                "java.base/java.util.concurrent.atomic", "java.base/java.math", "java.base/java.net")) {
            f.addAll(List.of("--add-opens", o + "=ALL-UNNAMED"));
        }
        return f;
    }

    private static CassandraServer container() {
        if (!dockerAvailable()) {
            throw unavailable("Cassandra", ENV, "nothing: adapter-cassandra's build copies cassandra-all into"
                    + " target/cassandra-server (run the build through Maven)");
        }
        org.testcontainers.containers.GenericContainer<?> c =
                new org.testcontainers.containers.GenericContainer<>("cassandra:5").withExposedPorts(9042)
                        .withEnv("MAX_HEAP_SIZE", "1G").withEnv("HEAP_NEWSIZE", "200M")
                        .waitingFor(org.testcontainers.containers.wait.strategy.Wait
                                .forLogMessage(".*Starting listening for CQL clients.*", 1)
                                .withStartupTimeout(START_TIMEOUT));
        c.start();
        CassandraServer s = new CassandraServer(c.getHost(), c.getMappedPort(9042), "datacenter1");
        s.closeLater(c);
        return s;
    }

    /**
     * Waits until the server answers a CQL query on its native port (protocol v4, no authentication): the port opens
     * a moment before the node serves queries. Speaks the protocol itself, because core's tests have no driver.
     */
    static void awaitCql(String host, int port, Duration timeout) {
        long deadline = System.nanoTime() + timeout.toNanos();
        String last = "";
        while (System.nanoTime() < deadline) {
            try (Socket socket = new Socket()) {
                socket.connect(new InetSocketAddress(host, port), 1_000);
                socket.setSoTimeout(5_000);
                DataOutputStream out = new DataOutputStream(socket.getOutputStream());
                DataInputStream in = new DataInputStream(socket.getInputStream());
                byte[] startup = body(b -> {
                    b.writeShort(1);
                    writeString(b, "CQL_VERSION");
                    writeString(b, "3.0.0");
                });
                if (exchange(out, in, 0x01, startup) == 0x02) { // STARTUP -> READY
                    byte[] query = body(b -> {
                        byte[] q = "SELECT release_version FROM system.local".getBytes(StandardCharsets.UTF_8);
                        b.writeInt(q.length);
                        b.write(q);
                        b.writeShort(0x0001); // consistency ONE
                        b.writeByte(0);
                    });
                    if (exchange(out, in, 0x07, query) == 0x08) { // QUERY -> RESULT
                        return;
                    }
                }
                last = "server answered with an error";
            } catch (IOException e) {
                last = e.toString();
            }
            pause(200);
        }
        throw new IllegalStateException("Cassandra " + host + ":" + port + " did not answer CQL within " + timeout
                + ": " + last);
    }

    private interface BodyWriter {
        void write(DataOutputStream b) throws IOException;
    }

    private static byte[] body(BodyWriter w) throws IOException {
        java.io.ByteArrayOutputStream bytes = new java.io.ByteArrayOutputStream();
        w.write(new DataOutputStream(bytes));
        return bytes.toByteArray();
    }

    private static void writeString(DataOutputStream b, String s) throws IOException {
        byte[] bytes = s.getBytes(StandardCharsets.UTF_8);
        b.writeShort(bytes.length);
        b.write(bytes);
    }

    /** Sends one request frame and returns the response's opcode, skipping its body. */
    private static int exchange(DataOutputStream out, DataInputStream in, int opcode, byte[] body)
            throws IOException {
        out.writeByte(0x04); // protocol v4 request
        out.writeByte(0);
        out.writeShort(0);
        out.writeByte(opcode);
        out.writeInt(body.length);
        out.write(body);
        out.flush();
        in.readByte();
        in.readByte();
        in.readShort();
        int responseOpcode = in.readUnsignedByte();
        in.readFully(new byte[in.readInt()]);
        return responseOpcode;
    }

    /** @return the native (CQL) address, {@code host:port} */
    public String contactPoint() {
        return host + ":" + port;
    }

    /** @return the host */
    public String host() {
        return host;
    }

    /** @return the native port */
    public int port() {
        return port;
    }

    /** @return the server's data center, which a driver must name as its local one */
    public String localDatacenter() {
        return datacenter;
    }
}
