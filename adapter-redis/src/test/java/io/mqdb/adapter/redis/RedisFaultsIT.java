package io.mqdb.adapter.redis;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import io.mqdb.spi.Key;
import io.mqdb.spi.MqdbException;
import io.mqdb.spi.RetriableException;
import io.mqdb.spi.Row;
import io.mqdb.spi.Store;
import io.mqdb.spi.TableId;
import io.mqdb.spi.WriteOrigin;
import io.mqdb.testing.RedisServer;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;

/** Authentication, and a Redis that goes away and comes back, each on a private server. */
class RedisFaultsIT {

    private static Store open(Map<String, Object> settings) {
        RedisStoreProvider p = new RedisStoreProvider();
        return p.open(TestStoreConfig.of(p, settings), TestStoreConfig.context());
    }

    @Test
    void passwordProtectedRedisNeedsThePassword() {
        try (RedisServer server = RedisServer.startWithPassword("s3cret-pw")) {
            try (Store store = open(Map.of(RedisSettings.URI, server.uri(), RedisSettings.PASSWORD, "s3cret-pw"))) {
                roundTrip(store);
                assertThat(store.describeTarget()).doesNotContain("s3cret");
            }
            try (Store store = open(Map.of(RedisSettings.URI,
                    "redis://:s3cret-pw@" + server.host() + ":" + server.port()))) {
                roundTrip(store);
            }
            assertThatThrownBy(() -> open(Map.of(RedisSettings.URI, server.uri(), RedisSettings.PASSWORD, "wrong")))
                    .isInstanceOf(MqdbException.class).isNotInstanceOf(RetriableException.class)
                    .hasMessageContaining("authentication refused").hasMessageNotContaining("wrong");
            assertThatThrownBy(() -> open(Map.of(RedisSettings.URI, server.uri())))
                    .isInstanceOf(MqdbException.class).hasMessageContaining("NOAUTH");
        }
    }

    @Test
    void aclUserLogsInWithUserAndPassword() {
        try (RedisServer server = RedisServer.startWithUser("mqdb", "acl-pw")) {
            try (Store store = open(Map.of(RedisSettings.URI, server.uri(), RedisSettings.USER, "mqdb",
                    RedisSettings.PASSWORD, "acl-pw"))) {
                roundTrip(store);
            }
            try (Store store = open(Map.of(RedisSettings.URI,
                    "redis://mqdb:acl-pw@" + server.host() + ":" + server.port() + "/3"))) {
                assertThat(store.describeTarget()).endsWith("/3");
                roundTrip(store);
            }
            assertThatThrownBy(() -> open(Map.of(RedisSettings.URI, server.uri(), RedisSettings.PASSWORD, "acl-pw")))
                    .isInstanceOf(MqdbException.class).isNotInstanceOf(RetriableException.class);
        }
    }

    @Test
    void tlsWithTheServersCaConnectsAndWithoutItDoesNot() {
        try (RedisServer server = RedisServer.startWithTls()) {
            String uri = "rediss://127.0.0.1:" + server.port();
            try (Store store = open(Map.of(RedisSettings.URI, uri, RedisSettings.CA_FILE,
                    server.caFile().orElseThrow()))) {
                assertThat(store.describeTarget()).startsWith("rediss://");
                roundTrip(store);
            }
            assertThatThrownBy(() -> open(Map.of(RedisSettings.URI, uri, RedisSettings.TIMEOUT,
                    Duration.ofSeconds(1)))).isInstanceOf(MqdbException.class).hasMessageContaining("cannot connect");
            assertThatThrownBy(() -> open(Map.of(RedisSettings.URI, "redis://127.0.0.1:" + server.port(),
                    RedisSettings.TIMEOUT, Duration.ofSeconds(1)))).isInstanceOf(RetriableException.class);
        }
    }

    @Test
    void unreachableRedisIsRetriableAtOpen() {
        assertThatThrownBy(() -> open(Map.of(RedisSettings.URI, "redis://127.0.0.1:" + RedisServer.freePort(),
                RedisSettings.TIMEOUT, Duration.ofMillis(300)))).isInstanceOf(RetriableException.class)
                .hasMessageContaining("cannot connect");
    }

    @Test
    void applyIsRetriableWhileRedisIsDownAndSucceedsAfterRestart() throws Exception {
        try (RedisServer server = RedisServer.startPrivate();
             Store store = open(Map.of(RedisSettings.URI, server.uri(), RedisSettings.TIMEOUT,
                     Duration.ofMillis(500)))) {
            TableId t = new TableId("it", "restart");
            store.ensureTable(RedisStoreCases.orders(t));
            AtomicBoolean running = new AtomicBoolean(true);
            AtomicLong ok = new AtomicLong();
            AtomicLong okAfterRestart = new AtomicLong();
            AtomicBoolean restarted = new AtomicBoolean();
            AtomicLong retriable = new AtomicLong();
            AtomicReference<Throwable> unexpected = new AtomicReference<>();
            ExecutorService writer = Executors.newSingleThreadExecutor();
            Future<?> loop = writer.submit(() -> {
                long id = 0;
                while (running.get()) {
                    List<Row> rows = new ArrayList<>();
                    for (int i = 0; i < 50; i++, id++) {
                        rows.add(RedisStoreCases.order(id, "n", id, "1"));
                    }
                    try {
                        store.upsert(t, rows, WriteOrigin.REPLICATED);
                        ok.incrementAndGet();
                        if (restarted.get()) {
                            okAfterRestart.incrementAndGet();
                        }
                    } catch (RetriableException e) {
                        retriable.incrementAndGet();
                    } catch (Throwable e) {
                        unexpected.set(e);
                        return;
                    }
                }
            });
            await().atMost(Duration.ofSeconds(10)).until(() -> ok.get() > 20);
            server.stop();
            await().atMost(Duration.ofSeconds(10)).until(() -> retriable.get() > 3);
            assertThatThrownBy(() -> store.upsert(t, List.of(RedisStoreCases.order(-1, "x", 1, "1")),
                    WriteOrigin.REPLICATED)).isInstanceOf(RetriableException.class)
                    .hasMessageContaining("redis://127.0.0.1:" + server.port());
            server.start();
            restarted.set(true);
            await().atMost(Duration.ofSeconds(20)).until(() -> okAfterRestart.get() > 20);
            running.set(false);
            loop.get(10, TimeUnit.SECONDS);
            writer.shutdown();
            assertThat(unexpected.get()).isNull();
            store.upsert(t, List.of(RedisStoreCases.order(-1, "x", 1, "1")), WriteOrigin.REPLICATED);
            assertThat(store.get(t, Key.of(-1L))).contains(RedisStoreCases.order(-1, "x", 1, "1"));
            // the restarted server had lost the catalog; the writes since restored it for other readers
            try (Store reader = open(Map.of(RedisSettings.URI, server.uri()))) {
                assertThat(reader.describe(t)).contains(RedisStoreCases.orders(t));
                assertThat(reader.get(t, Key.of(-1L))).contains(RedisStoreCases.order(-1, "x", 1, "1"));
            }
        }
    }

    private static void roundTrip(Store store) {
        TableId t = new TableId("it", "auth");
        store.ensureTable(RedisStoreCases.orders(t));
        store.upsert(t, List.of(RedisStoreCases.order(1, "a", 1, "1")), WriteOrigin.REPLICATED);
        assertThat(store.get(t, Key.of(1L))).contains(RedisStoreCases.order(1, "a", 1, "1"));
    }
}
