package io.mqdb.distribution;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.mqdb.plugin.LoadedProvider;
import io.mqdb.plugin.PluginRegistry;
import io.mqdb.spi.Key;
import io.mqdb.spi.Row;
import io.mqdb.spi.Setting;
import io.mqdb.spi.Store;
import io.mqdb.spi.StoreConfig;
import io.mqdb.spi.StoreContext;
import io.mqdb.spi.TableId;
import io.mqdb.testing.ServerFixture;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The README's walk-through, automated: two nodes started with {@code bin/mqdb run} from the built tarball, one
 * config each, share a channel over the embedded broker of the first. Writes published with {@code mosquitto_pub}
 * (inserts, partial updates, deletes) reach both nodes; node B is stopped, more rows are written, node B restarts and
 * catches up. The stores are then read with the tarball's MapDB plugin and compared row by row.
 */
class TwoNodesFromTarballIT {
    private static final Pattern APPLIED = Pattern.compile("applied=(\\d+)");
    private static final TableId ITEMS = TableId.parse("shop:items");

    @TempDir
    Path dir;
    private Path home;
    private int port;
    private final List<Process> processes = new ArrayList<>();

    @BeforeEach
    void locateTarball() throws IOException, InterruptedException {
        home = Tarball.unpacked(dir.resolve("dist"));
        port = ServerFixture.freePort();
        Files.writeString(dir.resolve("node-a.yaml"), """
                node: { name: node-a, data-dir: a-data }
                broker: { embedded: { port: %d } }
                stores: { local: { type: mapdb } }
                channels: [ { name: shop:items, store: local, subscribe: true } ]
                """.formatted(port));
        Files.writeString(dir.resolve("node-b.yaml"), """
                node: { name: node-b, data-dir: b-data }
                broker: { uris: [ "tcp://127.0.0.1:%d" ] }
                stores: { local: { type: mapdb } }
                channels: [ { name: shop:items, store: local, subscribe: true } ]
                """.formatted(port));
    }

    @AfterEach
    void stopAll() throws InterruptedException {
        for (Process p : processes) {
            p.destroy();
            if (!p.waitFor(15, TimeUnit.SECONDS)) {
                p.destroyForcibly();
            }
        }
    }

    private Process node(String name) throws IOException {
        Path log = dir.resolve(name + ".log");
        ProcessBuilder pb = new ProcessBuilder(home.resolve("bin/mqdb").toString(), "run", "--config",
                dir.resolve(name + ".yaml").toString())
                .redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile()));
        pb.environment().put("JAVA_OPTS", "-Xmx256m -Dmqdb.status.interval.ms=300");
        Process p = pb.start();
        processes.add(p);
        return p;
    }

    private long appliedSoFar(String name) throws IOException {
        Path log = dir.resolve(name + ".log");
        long last = 0;
        if (Files.exists(log)) {
            Matcher m = APPLIED.matcher(Files.readString(log));
            while (m.find()) {
                last = Long.parseLong(m.group(1));
            }
        }
        return last;
    }

    private void stop(Process p, String name) throws InterruptedException {
        p.destroy(); // SIGTERM: the node closes its stores cleanly
        assertThat(p.waitFor(30, TimeUnit.SECONDS)).as(name + " stops on SIGTERM").isTrue();
        processes.remove(p);
        // rotate the log so the next run's counters start fresh
        dir.resolve(name + ".log").toFile().renameTo(dir.resolve(name + "-" + System.nanoTime() + ".log").toFile());
    }

    private void pub(String json) throws IOException, InterruptedException {
        Process p = new ProcessBuilder("mosquitto_pub", "-h", "127.0.0.1", "-p", String.valueOf(port), "-q", "1",
                "-V", "mqttv5", "-t", "mqdb/mqdb/ch/shop/items", "-m", json).redirectErrorStream(true).start();
        assertThat(p.waitFor(20, TimeUnit.SECONDS)).isTrue();
        assertThat(p.exitValue()).as(new String(p.getInputStream().readAllBytes())).isZero();
    }

    private void awaitApplied(String name, long events) {
        await().atMost(Duration.ofSeconds(90)).pollInterval(Duration.ofMillis(200))
                .until(() -> appliedSoFar(name) >= events);
    }

    private void awaitPort(Process a) {
        ServerFixture.awaitPort("127.0.0.1", port, Duration.ofSeconds(60), a, dir.resolve("node-a.log"));
    }

    @Test
    void twoTarballNodesShareAChannelAndTheSubscriberCatchesUp() throws Exception {
        Process a = node("node-a");
        awaitPort(a);
        Process b = node("node-b");
        await().atMost(Duration.ofSeconds(60)).until(() -> Files.exists(dir.resolve("node-b.log"))
                && Files.readString(dir.resolve("node-b.log")).contains("started"));

        Map<Long, String> expected = new LinkedHashMap<>();
        for (long i = 1; i <= 20; i++) {
            pub("{\"v\":1,\"op\":\"upsert\",\"row\":{\"id\":" + i + ",\"name\":\"item " + i + "\",\"qty\":" + i + "}}");
            expected.put(i, "item " + i);
        }
        pub("{\"v\":1,\"op\":\"upsert\",\"row\":{\"id\":3,\"name\":\"three, renamed\"}}");
        expected.put(3L, "three, renamed");
        pub("{\"v\":1,\"op\":\"delete\",\"key\":{\"id\":4}}");
        expected.remove(4L);
        awaitApplied("node-b", 22);
        awaitApplied("node-a", 22);

        stop(b, "node-b");
        for (long i = 21; i <= 30; i++) {
            pub("{\"v\":1,\"op\":\"upsert\",\"row\":{\"id\":" + i + ",\"name\":\"while b was away " + i
                    + "\",\"qty\":0}}");
            expected.put(i, "while b was away " + i);
        }
        pub("{\"v\":1,\"op\":\"delete\",\"key\":{\"id\":5}}");
        expected.remove(5L);
        System.out.println("node-b stopped; published 10 upserts and 1 delete meanwhile");
        b = node("node-b");
        awaitApplied("node-b", 11);
        awaitApplied("node-a", 33);
        stop(b, "node-b");
        stop(a, "node-a");

        Map<Long, Row> rowsA = read(dir.resolve("a-data/stores/local"));
        Map<Long, Row> rowsB = read(dir.resolve("b-data/stores/local"));
        assertThat(rowsB.keySet()).containsExactlyInAnyOrderElementsOf(expected.keySet());
        for (Map.Entry<Long, String> e : expected.entrySet()) {
            assertThat(rowsB.get(e.getKey()).get("name")).isEqualTo(e.getValue());
        }
        assertThat(rowsB.get(3L).get("qty")).isEqualTo(3L); // a partial update keeps the other columns
        assertThat(rowsA).isEqualTo(rowsB);
        System.out.printf("compared %d rows on node-a and node-b: mismatches = 0%n", rowsB.size());
    }

    /** Opens a stopped node's MapDB store with the tarball's own plugin and reads every row. */
    private Map<Long, Row> read(Path storeDir) {
        PluginRegistry registry = PluginRegistry.load(Optional.of(home.resolve("plugins")),
                TwoNodesFromTarballIT.class.getClassLoader());
        LoadedProvider mapdb = registry.find("mapdb").orElseThrow();
        Map<Long, Row> out = new LinkedHashMap<>();
        try (Store store = mapdb.call(() -> mapdb.provider().open(defaults(mapdb), new StoreContext() {
            @Override
            public String nodeName() {
                return "reader";
            }

            @Override
            public Path dataDir() {
                return storeDir;
            }
        }))) {
            Key after = null;
            do {
                var page = store.scan(ITEMS, after, 1000);
                for (Row r : page.rows()) {
                    out.put((Long) r.get("id"), r);
                }
                after = page.next().orElse(null);
            } while (after != null);
        }
        return out;
    }

    private static StoreConfig defaults(LoadedProvider p) {
        Map<String, Setting> declared = new LinkedHashMap<>();
        for (Setting s : p.provider().settings()) {
            declared.put(s.name(), s);
        }
        return new StoreConfig() {
            @Override
            public String name() {
                return "local";
            }

            @Override
            public String type() {
                return "mapdb";
            }

            @Override
            public Optional<Object> value(String key) {
                Setting s = declared.get(key);
                if (s == null) {
                    throw new IllegalArgumentException(key);
                }
                return Optional.ofNullable(s.defaultValue());
            }

            @Override
            public String where(String key) {
                return "stores.local." + key + " (default)";
            }
        };
    }
}
