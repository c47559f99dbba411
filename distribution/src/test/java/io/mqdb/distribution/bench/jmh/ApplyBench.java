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
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.OperationsPerInvocation;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.TearDown;

/**
 * The subscriber's apply path as far as it is public, for one store type: decode a batch of {@value Batches#SIZE}
 * upserts, turn them into mutations and apply them in one store call, the store opened through the SPI from the
 * tarball's plugin (system property {@code mqdb.bench.home}: an unpacked tarball). {@code ChannelApplier} itself is
 * package-private; this is its work minus MQTT and the acknowledgements. Keys cycle through 100,000 rows.
 */
public abstract class ApplyBench {
    private static final int DISTINCT_BATCHES = 200;
    private final EventCodec codec = new EventCodec();
    private final List<byte[]> payloads = new ArrayList<>();
    private TableSchema schema;
    private LoadedProvider provider;
    private Store store;
    private int next;

    /** @return the plugin's store type */
    protected abstract String type();

    /** Opens the store through the plugin's provider, with whatever server or folder it needs. */
    protected abstract Store open(LoadedProvider provider) throws IOException;

    /** Releases what {@link #open} started, after the store is closed. */
    protected abstract void release() throws IOException;

    @Setup(Level.Trial)
    public void setUp() throws IOException {
        String home = System.getProperty("mqdb.bench.home");
        if (home == null) {
            throw new IllegalStateException("-Dmqdb.bench.home=<unpacked tarball> is required");
        }
        provider = PluginRegistry.load(Optional.of(Path.of(home, "plugins")), getClass().getClassLoader())
                .find(type()).orElseThrow(() -> new IllegalStateException("no " + type() + " plugin under " + home));
        store = open(provider);
        schema = Batches.ordersSchema();
        provider.call(() -> store.ensureTable(schema));
        for (int b = 0; b < DISTINCT_BATCHES; b++) {
            payloads.add(codec.encodeBatch("bench", schema, Batches.orders(1 + (long) b * Batches.SIZE)));
        }
    }

    /** Decode + convert + one store call, per event. */
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
    public void tearDown() throws IOException {
        provider.run(store::close);
        release();
    }
}
