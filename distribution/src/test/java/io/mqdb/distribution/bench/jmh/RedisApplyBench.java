package io.mqdb.distribution.bench.jmh;

import io.mqdb.plugin.LoadedProvider;
import io.mqdb.spi.Store;
import io.mqdb.testing.MapStoreConfig;
import io.mqdb.testing.RedisServer;
import io.mqdb.testing.TestStoreContext;
import java.io.IOException;
import java.nio.file.Files;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.State;

/**
 * {@link ApplyBench} into a private {@code redis-server}: one MULTI/EXEC of HSETs and the key index per batch. The
 * server's own work is part of the time; {@code -prof gc} or a profiler tells the client's share.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
public class RedisApplyBench extends ApplyBench {
    private RedisServer redis;

    @Override
    protected String type() {
        return "redis";
    }

    @Override
    protected Store open(LoadedProvider provider) throws IOException {
        redis = RedisServer.startPrivate();
        java.nio.file.Path dir = Files.createTempDirectory("mqdb-jmh-redis");
        return provider.call(() -> provider.provider().open(new MapStoreConfig("bench", "redis",
                provider.provider().settings(), Map.of("uri", redis.uri())), new TestStoreContext("bench", dir)));
    }

    @Override
    protected void release() {
        redis.stop();
    }
}
