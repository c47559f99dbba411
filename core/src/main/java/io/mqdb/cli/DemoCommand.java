package io.mqdb.cli;

import io.mqdb.config.ConfigLoader;
import io.mqdb.node.LocalTable;
import io.mqdb.node.MqdbNode;
import io.mqdb.node.StoreSet;
import io.mqdb.plugin.PluginRegistry;
import io.mqdb.spi.Column;
import io.mqdb.spi.ColumnType;
import io.mqdb.spi.Key;
import io.mqdb.spi.Row;
import io.mqdb.spi.TableId;
import io.mqdb.spi.TableSchema;
import java.io.IOException;
import java.io.PrintWriter;
import java.math.BigDecimal;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code mqdb demo}: two nodes on this machine, on embedded defaults. Node {@code edge} runs the embedded broker and
 * publishes {@code demo:items} from a MapDB store; node {@code hub} subscribes into its own MapDB store. The demo
 * writes rows, updates and deletes on the edge through the embedding API, waits until the hub holds exactly the same
 * rows, prints the figures and exits 0 (1 when the hub does not converge in time).
 */
@Command(name = "demo", mixinStandardHelpOptions = true,
        description = "Run two local nodes over the embedded broker and sync rows between them.")
final class DemoCommand implements Callable<Integer> {
    private static final TableId TABLE = TableId.parse("demo:items");

    @Option(names = "--rows", defaultValue = "20000", description = "rows to write (default ${DEFAULT-VALUE})")
    private int rows;

    @Option(names = "--dir", description = "working folder (default: a new temporary folder)")
    private Path dir;

    @Option(names = "--timeout", defaultValue = "120", description = "seconds to wait for convergence")
    private int timeoutSeconds;

    @Spec
    private picocli.CommandLine.Model.CommandSpec spec;

    @Override
    public Integer call() throws IOException, InterruptedException {
        PrintWriter out = spec.commandLine().getOut();
        Path work = dir != null ? Files.createDirectories(dir) : Files.createTempDirectory("mqdb-demo");
        int port = freePort();
        Path edgeConf = work.resolve("edge.yaml");
        Path hubConf = work.resolve("hub.yaml");
        Files.writeString(edgeConf, """
                node: { name: edge, data-dir: edge-data }
                broker: { embedded: { port: %d } }
                stores:
                  local: { type: mapdb }
                channels:
                  - { name: demo:items, store: local, publish: true }
                """.formatted(port));
        Files.writeString(hubConf, """
                node: { name: hub, data-dir: hub-data }
                broker: { uris: [ "tcp://127.0.0.1:%d" ] }
                stores:
                  local: { type: mapdb }
                channels:
                  - { name: demo:items, store: local, subscribe: true }
                """.formatted(port));
        out.printf("mqdb demo in %s: node edge (embedded broker on 127.0.0.1:%d) -> node hub%n", work, port);
        out.flush();
        PluginRegistry plugins = PluginRegistry.load(MqdbNode.defaultPluginsDir(), Main.class.getClassLoader());
        try (MqdbNode edge = MqdbNode.start(ConfigLoader.load(edgeConf, StoreSet.checker(plugins)), plugins);
             MqdbNode hub = MqdbNode.start(ConfigLoader.load(hubConf, StoreSet.checker(plugins)), plugins)) {
            LocalTable items = edge.table(TABLE.toString());
            items.ensure(new TableSchema(TABLE, List.of(new Column("id", ColumnType.INT64, false),
                    Column.of("name", ColumnType.STRING), Column.of("price", ColumnType.DECIMAL),
                    Column.of("updated", ColumnType.TIMESTAMP)), List.of("id")));
            long start = System.nanoTime();
            List<Row> batch = new ArrayList<>();
            for (int i = 1; i <= rows; i++) {
                batch.add(Row.of(Map.of("id", (long) i, "name", "item " + i,
                        "price", new BigDecimal(i).movePointLeft(2), "updated", Instant.now())));
                if (batch.size() == 500 || i == rows) {
                    items.upsert(batch);
                    batch.clear();
                }
            }
            List<Row> updates = new ArrayList<>();
            for (int i = 1; i <= rows; i += 10) {
                updates.add(Row.of(Map.of("id", (long) i, "name", "item " + i + " (updated)")));
            }
            List<Key> deletes = new ArrayList<>();
            for (int i = 5; i <= rows; i += 10) {
                deletes.add(Key.of((long) i));
            }
            for (int from = 0; from < updates.size(); from += 500) {
                items.upsert(updates.subList(from, Math.min(updates.size(), from + 500)));
            }
            for (int from = 0; from < deletes.size(); from += 500) {
                items.delete(deletes.subList(from, Math.min(deletes.size(), from + 500)));
            }
            int changed = updates.size();
            int deleted = deletes.size();
            out.printf("edge: wrote %d rows, updated %d, deleted %d%n", rows, changed, deleted);
            out.flush();
            LocalTable mirror = hub.table(TABLE.toString());
            long expected = rows - deleted;
            long deadline = System.nanoTime() + timeoutSeconds * 1_000_000_000L;
            long lastPrint = 0;
            while (System.nanoTime() < deadline) {
                long n = mirror.schema().isPresent() ? mirror.count() : 0;
                if (n == expected && same(items, mirror)) {
                    double s = (System.nanoTime() - start) / 1e9;
                    out.printf("hub: %d rows, identical to edge, %.1f s after the first write (%d changes/s)%n", n,
                            s, Math.round((rows + changed + deleted) / s));
                    return 0;
                }
                if (System.nanoTime() - lastPrint > 1_000_000_000L) {
                    out.printf("hub: %d of %d rows%n", n, expected);
                    out.flush();
                    lastPrint = System.nanoTime();
                }
                Thread.sleep(100);
            }
            out.printf("hub did not converge within %d s%n", timeoutSeconds);
            return Main.FAILURE;
        }
    }

    private static boolean same(LocalTable a, LocalTable b) {
        Key after = null;
        while (true) {
            var pa = a.scan(after, 5000);
            for (Row r : pa.rows()) {
                var other = b.get(Key.of(r.get("id")));
                if (other.isEmpty() || !other.get().equals(r)) {
                    return false;
                }
            }
            if (pa.next().isEmpty()) {
                return true;
            }
            after = pa.next().get();
        }
    }

    private static int freePort() throws IOException {
        try (ServerSocket s = new ServerSocket(0)) {
            return s.getLocalPort();
        }
    }
}
