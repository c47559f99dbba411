package io.mqdb.adapter.mapdb;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.mqdb.spi.CapturedChange;
import io.mqdb.spi.ChangeCapture;
import io.mqdb.spi.Key;
import io.mqdb.spi.MqdbException;
import io.mqdb.spi.Mutation;
import io.mqdb.spi.Row;
import io.mqdb.spi.Store;
import io.mqdb.spi.StoreContract;
import io.mqdb.spi.StoreProvider;
import io.mqdb.spi.TableId;
import io.mqdb.spi.TableSchema;
import io.mqdb.spi.WriteOrigin;
import io.mqdb.testing.MapStoreConfig;
import io.mqdb.testing.TestStoreContext;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.ServiceLoader;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The store contract against a MapDB file in a fresh temporary folder per test, plus what is particular to MapDB:
 * atomic batches, crash durability, concurrency, the file lock, and a throughput figure.
 */
class MapDbStoreTest extends StoreContract {
    @TempDir
    Path dir;

    @Override
    protected Store openStore() {
        return open(dir);
    }

    static Store open(Path dir) {
        MapDbStoreProvider provider = new MapDbStoreProvider();
        return provider.open(new MapStoreConfig("local", "mapdb", provider.settings(), Map.of()),
                new TestStoreContext("node-a", dir));
    }

    @Test
    void providerIsFoundByServiceLoaderAsMapdb() {
        assertThat(ServiceLoader.load(StoreProvider.class).stream().map(p -> p.get().type()))
                .contains("mapdb");
        assertThat(store.describeTarget()).isEqualTo("mapdb:" + dir.resolve("store.db").toAbsolutePath());
    }

    @Test
    void fileSettingChoosesTheFile(@TempDir Path other) {
        MapDbStoreProvider provider = new MapDbStoreProvider();
        Path file = other.resolve("sub/custom.db");
        try (Store s = provider.open(new MapStoreConfig("x", "mapdb", provider.settings(),
                Map.of("file", file, "mmap", false)), new TestStoreContext("node-a", dir))) {
            TableSchema schema = simpleSchema(newTable());
            s.ensureTable(schema);
            s.upsert(schema.table(), List.of(row(1L, "x")), WriteOrigin.LOCAL);
        }
        assertThat(file).exists();
    }

    @Test
    void aSecondOpenOfTheSameFileFailsWithAClearMessage() {
        assertThatThrownBy(() -> open(dir)).isInstanceOf(MqdbException.class)
                .hasMessageContaining("store.db");
    }

    @Test
    void aFailingBatchIsRolledBackWhole() throws InterruptedException {
        TableSchema schema = simpleSchema(newTable());
        store.ensureTable(schema);
        ChangeCapture capture = store.capture().orElseThrow();
        capture.enable(schema.table());
        upsert(schema.table(), row(1L, "kept"));
        var before = capture.current();

        assertThatThrownBy(() -> store.apply(schema.table(), List.of(
                Mutation.Upsert.of(row(1L, "changed")), Mutation.Upsert.of(row(2L, "new")),
                Mutation.Upsert.of(Row.builder().set("id", 3L).set("nope", 1L).build())), WriteOrigin.LOCAL))
                .isInstanceOf(io.mqdb.spi.InvalidDataException.class).hasMessageContaining("nope");

        assertThat(store.get(schema.table(), Key.of(1L))).contains(row(1L, "kept"));
        assertThat(store.get(schema.table(), Key.of(2L))).isEmpty();
        assertThat(capture.current()).isEqualTo(before);
        upsert(schema.table(), row(4L, "after"));
        List<CapturedChange> changes = capture.poll(before, 10, Duration.ofSeconds(5));
        assertThat(changes).extracting(CapturedChange::key).containsExactly(Key.of(4L));
    }

    /**
     * A child JVM commits batches and halts without closing the store (no shutdown hooks, no flush): every batch
     * whose apply returned, and its captured changes, must be there on reopen.
     */
    @Test
    void committedBatchesSurviveACrashOfTheProcess() throws Exception {
        store.close();
        Process child = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-cp", System.getProperty("java.class.path"), CrashingWriter.class.getName(), dir.toString())
                .redirectErrorStream(true).start();
        assertThat(child.waitFor(60, TimeUnit.SECONDS)).as("child finished").isTrue();
        String output = new String(child.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(child.exitValue()).as(output).isEqualTo(CrashingWriter.EXIT_CODE);
        assertThat(output).contains("committed " + CrashingWriter.BATCHES);

        store = openStore();

        TableId table = CrashingWriter.TABLE;
        assertThat(store.count(table)).isEqualTo((long) CrashingWriter.BATCHES * CrashingWriter.BATCH_SIZE);
        assertThat(store.get(table, Key.of(0L))).contains(row(0L, "row 0"));
        ChangeCapture capture = store.capture().orElseThrow();
        assertThat(capture.poll(capture.start(), 100_000, Duration.ZERO))
                .hasSize(CrashingWriter.BATCHES * CrashingWriter.BATCH_SIZE);
    }

    @Test
    void concurrentWritersAndReadersSeeWholeBatches() throws Exception {
        int writers = 4;
        int batches = 50;
        List<TableSchema> schemas = new ArrayList<>();
        for (int i = 0; i < writers; i++) {
            TableSchema s = simpleSchema(newTable());
            store.ensureTable(s);
            store.capture().orElseThrow().enable(s.table());
            schemas.add(s);
        }
        ExecutorService pool = Executors.newFixedThreadPool(writers + 1);
        try {
            List<Future<?>> futures = new ArrayList<>();
            for (TableSchema s : schemas) {
                futures.add(pool.submit(() -> {
                    for (int b = 0; b < batches; b++) {
                        List<Row> rows = new ArrayList<>();
                        for (int i = 0; i < 20; i++) {
                            rows.add(row(b * 20L + i, "b" + b));
                        }
                        store.upsert(s.table(), rows, WriteOrigin.LOCAL);
                    }
                    return null;
                }));
            }
            futures.add(pool.submit(() -> {
                for (int i = 0; i < 200; i++) {
                    for (TableSchema s : schemas) {
                        assertThat(store.count(s.table()) % 20).as("a reader saw half a batch").isZero();
                    }
                }
                return null;
            }));
            for (Future<?> f : futures) {
                f.get(60, TimeUnit.SECONDS);
            }
        } finally {
            pool.shutdownNow();
        }
        for (TableSchema s : schemas) {
            assertThat(store.count(s.table())).isEqualTo(batches * 20L);
        }
        ChangeCapture capture = store.capture().orElseThrow();
        assertThat(capture.current().token()).isEqualTo(Long.toString(writers * batches * 20L));
    }

    @Test
    void measuresUpsertsPerSecondFor100kRowsInBatchesOf500() {
        TableSchema schema = wideSchema(newTable());
        store.ensureTable(schema);
        store.capture().orElseThrow().enable(schema.table());
        int total = 100_000;
        int batchSize = 500;
        for (WriteOrigin origin : List.of(WriteOrigin.REPLICATED, WriteOrigin.LOCAL)) {
            long offset = origin == WriteOrigin.LOCAL ? total : 0;
            long t0 = System.nanoTime();
            for (int b = 0; b < total / batchSize; b++) {
                List<Row> rows = new ArrayList<>(batchSize);
                for (int i = 0; i < batchSize; i++) {
                    long id = offset + (long) b * batchSize + i;
                    rows.add(wideRow(id, "name " + id, id * 3, "a note of some length " + id));
                }
                store.upsert(schema.table(), rows, origin);
            }
            double seconds = (System.nanoTime() - t0) / 1e9;
            System.out.printf("mapdb: %,d upserts (%s, batches of %d, commit per batch) in %.2f s: %,.0f rows/s%n",
                    total, origin == WriteOrigin.LOCAL ? "LOCAL, captured" : "REPLICATED, not captured",
                    batchSize, seconds, total / seconds);
        }
        long t0 = System.nanoTime();
        assertThat(scanAll(schema.table(), 1000)).hasSize(2 * total);
        System.out.printf("mapdb: scanned %,d rows in pages of 1000: %,.0f rows/s%n", 2 * total,
                2 * total / ((System.nanoTime() - t0) / 1e9));
    }
}
