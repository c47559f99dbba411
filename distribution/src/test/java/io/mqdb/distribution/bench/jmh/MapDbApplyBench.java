package io.mqdb.distribution.bench.jmh;

import io.mqdb.plugin.LoadedProvider;
import io.mqdb.spi.Store;
import io.mqdb.testing.MapStoreConfig;
import io.mqdb.testing.TestStoreContext;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.State;

/** {@link ApplyBench} into a MapDB store in a temporary folder: one commit per batch. */
@State(Scope.Thread)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
public class MapDbApplyBench extends ApplyBench {
    private Path dir;

    @Override
    protected String type() {
        return "mapdb";
    }

    @Override
    protected Store open(LoadedProvider provider) throws IOException {
        dir = Files.createTempDirectory("mqdb-jmh-mapdb");
        return provider.call(() -> provider.provider().open(new MapStoreConfig("bench", "mapdb",
                provider.provider().settings(), Map.of("file", dir.resolve("bench.db"))),
                new TestStoreContext("bench", dir)));
    }

    @Override
    protected void release() throws IOException {
        try (Stream<Path> files = Files.walk(dir)) {
            files.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        }
    }
}
