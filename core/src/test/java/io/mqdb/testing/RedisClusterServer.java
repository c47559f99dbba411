package io.mqdb.testing;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;

/**
 * A Redis Cluster of three masters (no replicas) for integration tests: {@code MQDB_TEST_REDIS_CLUSTER=h:p,h:p,...},
 * else three {@code redis-server --cluster-enabled yes} processes on free loopback ports joined with
 * {@code redis-cli --cluster create}. There is no container fallback: a cluster in Docker announces addresses the
 * host cannot reach.
 */
public final class RedisClusterServer extends ServerFixture {
    /** The environment variable naming an external cluster's nodes. */
    public static final String ENV = "MQDB_TEST_REDIS_CLUSTER";
    private static final int MASTERS = 3;
    private static RedisClusterServer shared;

    private final List<String> nodes = new ArrayList<>();

    private RedisClusterServer() {
    }

    /** @return the cluster shared by every test of this JVM */
    public static synchronized RedisClusterServer shared() {
        if (shared == null) {
            RedisClusterServer c = new RedisClusterServer();
            Optional<String> env = env(ENV);
            if (env.isPresent()) {
                for (String n : env.get().split(",")) {
                    c.nodes.add(n.trim());
                }
            } else {
                c.startLocal();
            }
            shared = c;
        }
        return shared;
    }

    private void startLocal() {
        String unavailable = "redis-server and redis-cli (apt-get install redis-server)";
        Path server = findBinary(List.of("redis-server"), List.of())
                .orElseThrow(() -> unavailable("Redis Cluster", ENV, unavailable));
        Path cli = findBinary(List.of("redis-cli"), List.of())
                .orElseThrow(() -> unavailable("Redis Cluster", ENV, unavailable));
        List<Integer> ports = new ArrayList<>();
        while (ports.size() < MASTERS) {
            int p = freePort();
            // the cluster bus listens on port + 10000
            if (p <= 55535 && !ports.contains(p) && isFree(p + 10000)) {
                ports.add(p);
            }
        }
        List<Process> processes = new ArrayList<>();
        List<Path> logs = new ArrayList<>();
        for (int port : ports) {
            Path dir = tempDir("mqdb-redis-cluster-" + port + "-");
            Path log = dir.resolve("redis.log");
            processes.add(startProcess(log, List.of(server.toString(), "--port", Integer.toString(port), "--bind",
                    "127.0.0.1", "--save", "", "--appendonly", "no", "--dir", dir.toString(), "--cluster-enabled",
                    "yes", "--cluster-config-file", dir.resolve("nodes.conf").toString(),
                    "--cluster-node-timeout", "5000")));
            logs.add(log);
        }
        for (int i = 0; i < MASTERS; i++) {
            awaitPort("127.0.0.1", ports.get(i), Duration.ofSeconds(20), processes.get(i), logs.get(i));
            nodes.add("127.0.0.1:" + ports.get(i));
        }
        List<String> create = new ArrayList<>(List.of(cli.toString(), "--cluster", "create"));
        create.addAll(nodes);
        create.addAll(List.of("--cluster-replicas", "0", "--cluster-yes"));
        String out = run(create);
        if (!out.contains("[OK] All 16384 slots covered")) {
            throw new IllegalStateException("redis-cli --cluster create failed:\n" + out);
        }
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        for (int port : ports) {
            while (!run(List.of(cli.toString(), "-p", Integer.toString(port), "cluster", "info"))
                    .contains("cluster_state:ok")) {
                if (System.nanoTime() > deadline) {
                    throw new IllegalStateException("cluster on " + nodes + " did not reach cluster_state:ok");
                }
                pause(100);
            }
        }
    }

    private static boolean isFree(int port) {
        try (ServerSocket s = new ServerSocket(port, 1, InetAddress.getLoopbackAddress())) {
            return true;
        } catch (IOException e) {
            return false;
        }
    }

    private static String run(List<String> command) {
        try {
            Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
            String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            if (!p.waitFor(60, TimeUnit.SECONDS)) {
                p.destroyForcibly();
            }
            return out;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted", e);
        }
    }

    /** @return the masters, {@code host:port} each */
    public List<String> nodes() {
        return List.copyOf(nodes);
    }
}
