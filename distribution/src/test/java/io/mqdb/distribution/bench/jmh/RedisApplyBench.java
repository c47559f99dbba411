package io.mqdb.distribution.bench.jmh;

import io.mqdb.codec.EventCodec;
import io.mqdb.codec.WireBatch;
import io.mqdb.codec.WireEvent;
import io.mqdb.plugin.LoadedProvider;
import io.mqdb.plugin.PluginRegistry;
import io.mqdb.spi.Mutation;
import io.mqdb.spi.Store;
import io.mqdb.spi.TableSchema;
import io.mqdb.spi.WriteOrigin;
import io.mqdb.testing.MapStoreConfig;
import io.mqdb.testing.RedisServer;
import io.mqdb.testing.TestStoreContext;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OperationsPerInvocation;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;

/**
 * The subscriber's apply path into Redis, as {@link MapDbApplyBench} does it for MapDB: decode a batch of
 * {@value Batches#SIZE} upserts, turn them into mutations and apply them (one MULTI/EXEC of HSETs and the key index)
 * to a private {@code redis-server} through the tarball's plugin (system property {@code mqdb.bench.home}). The
 * server's own work is part of the time; {@code -prof gc} or a profiler tells the client's share. Keys cycle through
 * 100,000 rows.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
public class RedisApplyBench {
    private static final int DISTINCT_BATCHES = 200;
    private final EventCodec codec = new EventCodec();
    private final List<byte[]> payloads = new ArrayList<>();
    private TableSchema schema;
    private LoadedProvider provider;
    private Store store;
    private RedisServer redis;
    private int next;

    @Setup(Level.Trial)
    public void setUp() throws IOException {
        String home = System.getProperty("mqdb.bench.home");
        if (home == null) {
            throw new IllegalStateException("-Dmqdb.bench.home=<unpacked tarball> is required");
        }
        provider = PluginRegistry.load(Optional.of(Path.of(home, "plugins")), getClass().getClassLoader())
                .find("redis").orElseThrow(() -> new IllegalStateException("no redis plugin under " + home));
        redis = RedisServer.startPrivate();
        Path dir = Files.createTempDirectory("mqdb-jmh-redis");
        store = provider.call(() -> provider.provider().open(new MapStoreConfig("bench", "redis",
                provider.provider().settings(), Map.of("uri", redis.uri())), new TestStoreContext("bench", dir)));
        schema = Batches.ordersSchema();
        provider.call(() -> store.ensureTable(schema));
        for (int b = 0; b < DISTINCT_BATCHES; b++) {
            payloads.add(codec.encodeBatch("bench", schema, Batches.orders(1 + (long) b * Batches.SIZE)));
        }
    }

    /** Decode + convert + one MULTI/EXEC, per event. */
    @Benchmark
    @OperationsPerInvocation(Batches.SIZE)
    public void decodeAndApply() {
        WireBatch batch = codec.decode(payloads.get(next++ % DISTINCT_BATCHES), schema.table());
        List<Mutation> mutations = new ArrayList<>(batch.events().size());
        for (WireEvent e : batch.events()) {
            mutations.add(codec.toEvent(e, schema, 0L).toMutation());
        }
        provider.run(() -> store.apply(schema.table(), mutations, WriteOrigin.REPLICATED));
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        provider.run(store::close);
        redis.stop();
    }
}
