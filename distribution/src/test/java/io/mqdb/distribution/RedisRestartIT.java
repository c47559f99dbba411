package io.mqdb.distribution;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.mqdb.node.MqdbNode;
import io.mqdb.plugin.PluginRegistry;
import io.mqdb.testing.PostgresServer;
import io.mqdb.testing.RedisServer;
import io.mqdb.testing.ServerFixture;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import redis.clients.jedis.Jedis;

/**
 * Redis without persistence stops in the middle of a stream of SQL changes and comes back empty. The subscriber
 * retries its batch while Redis is down (the MQTT messages stay unacknowledged), then notices within seconds that
 * Redis lost everything (the marker it keeps in Redis is gone), says so in a WARN, and asks the publisher to publish
 * the channel again: in the end Redis equals PostgreSQL row by row, the rows not changed since the restart included,
 * with no stale or phantom row.
 */
class RedisRestartIT {
    private static final int EXISTING_ROWS = 2_000;

    @TempDir
    Path dir;
    private RedisServer redis;
    private MqdbNode pgNode;
    private MqdbNode redisNode;
    private final ExecutorService clients = Executors.newFixedThreadPool(2);

    @BeforeEach
    void quiet() {
        SqlToRedis.quietLogs();
    }

    @AfterEach
    void stop() {
        clients.shutdownNow();
        if (pgNode != null) {
            pgNode.close();
        }
        if (redisNode != null) {
            redisNode.close();
        }
        if (redis != null) {
            redis.close();
        }
    }

    private static long total(List<SqlToRedis.Writer> writers) {
        return writers.stream().mapToLong(w -> w.done.get()).sum();
    }

    @Test
    void aRedisRestartedEmptyIsNoticedAndRefilledWhileChangesFlow() throws Exception {
        PostgresServer pg = PostgresServer.shared();
        String url = pg.createDatabase("redis_restart_it");
        try (Connection c = DriverManager.getConnection(url, pg.user(), pg.password())) {
            SqlToRedis.createTable(c);
            SqlToRedis.copyRows(c, 1, EXISTING_ROWS);
        }
        redis = RedisServer.startPrivate();
        PluginRegistry plugins = PostgresToRedisIT.tarballPlugins(dir);
        int port = ServerFixture.freePort();
        redisNode = PostgresToRedisIT.start(SqlToRedis.write(dir.resolve("redis-node.yaml"),
                PostgresToRedisIT.redisNodeYaml(port, redis.uri())), plugins);
        pgNode = PostgresToRedisIT.start(SqlToRedis.write(dir.resolve("pg-node.yaml"),
                PostgresToRedisIT.pgNodeYaml(port, url, pg.user())), plugins);

        try (Connection c = DriverManager.getConnection(url, pg.user(), pg.password());
             Jedis jedis = new Jedis(redis.host(), redis.port())) {
            await().atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofMillis(500)).untilAsserted(() ->
                    assertThat(SqlToRedis.compareAll(c, jedis).mismatches()).isEmpty());
        }

        Map<Long, Long> touched = SqlToRedis.Writer.touchLog();
        List<SqlToRedis.Writer> writers = List.of(
                new SqlToRedis.Writer(DriverManager.getConnection(url, pg.user(), pg.password()), 0, EXISTING_ROWS,
                        EXISTING_ROWS + 1, Long.MAX_VALUE, touched),
                new SqlToRedis.Writer(DriverManager.getConnection(url, pg.user(), pg.password()), 1, EXISTING_ROWS,
                        EXISTING_ROWS + 1, Long.MAX_VALUE, touched));
        List<Future<Long>> running = new ArrayList<>();
        for (SqlToRedis.Writer w : writers) {
            running.add(clients.submit(w));
        }
        await().atMost(Duration.ofSeconds(30)).until(() -> total(writers) >= 1_000);
        long retriesBefore = redisNode.metrics().retries.sum();
        long opsAtStop = total(writers);
        redis.stop();
        // Only now is the server gone: a batch applied (and acknowledged) while it was shutting down is lost with
        // its memory like every older row. Every change made from here on must arrive.
        long restartPoint = System.nanoTime();
        // the outage: SQL clients keep writing, the subscriber's batch fails and is retried
        await().atMost(Duration.ofSeconds(30)).until(() -> total(writers) >= opsAtStop + 1_500);
        redis.start();
        long restartedNanos = System.nanoTime();
        await().atMost(Duration.ofSeconds(10)).pollInterval(Duration.ofMillis(50))
                .until(() -> redisNode.metrics().targetLosses.sum() >= 1);
        double detectedSeconds = (System.nanoTime() - restartedNanos) / 1e9;
        long opsAtStart = total(writers);
        await().atMost(Duration.ofSeconds(30)).until(() -> total(writers) >= opsAtStart + 1_500);
        writers.forEach(w -> w.stop = true);
        for (Future<Long> f : running) {
            f.get(30, TimeUnit.SECONDS);
        }
        System.out.printf("SQL changes: %d before Redis stopped, %d during the outage, %d after it restarted%n",
                opsAtStop, opsAtStart - opsAtStop, total(writers) - opsAtStart);

        List<Long> afterRestartPoint = new ArrayList<>();
        touched.forEach((id, at) -> {
            if (at >= restartPoint) {
                afterRestartPoint.add(id);
            }
        });
        AtomicReference<String> summary = new AtomicReference<>();
        try (Connection c = DriverManager.getConnection(url, pg.user(), pg.password());
             Jedis jedis = new Jedis(redis.host(), redis.port())) {
            await().atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofSeconds(1)).untilAsserted(() -> {
                assertThat(redisNode.failure()).isEmpty();
                Map<String, Map<String, String>> sql = SqlToRedis.sqlMirror(c);
                Set<String> keys = SqlToRedis.allKeys(jedis);
                List<String> rowKeys = keys.stream().filter(k -> k.startsWith(SqlToRedis.KEY_PREFIX)).toList();
                List<String> mismatches = new ArrayList<>();
                // every row changed from the restart point on is in Redis as in PostgreSQL, deleted ones are absent
                List<String> changedKeys = afterRestartPoint.stream().map(id -> SqlToRedis.KEY_PREFIX + id).toList();
                Map<String, Map<String, String>> changed = SqlToRedis.hashes(jedis, changedKeys);
                int deleted = 0;
                for (String k : changedKeys) {
                    Map<String, String> want = sql.getOrDefault(k, Map.of());
                    deleted += want.isEmpty() ? 1 : 0;
                    if (!want.equals(changed.get(k))) {
                        mismatches.add(k + ": PostgreSQL " + want + ", Redis " + changed.get(k));
                    }
                }
                // no stale or phantom row anywhere
                SqlToRedis.hashes(jedis, rowKeys).forEach((k, got) -> {
                    if (!got.equals(sql.get(k))) {
                        mismatches.add(k + " in Redis " + got + " but PostgreSQL has " + sql.get(k));
                    }
                });
                // the catalog and the key index are whole again, so a new reader can describe and scan the table
                if (!keys.contains("mqdb:schema:shop:orders")) {
                    mismatches.add("catalog mqdb:schema:shop:orders missing after the restart");
                }
                long indexed = jedis.zcard("mqdb:idx:shop:orders");
                if (indexed != rowKeys.size()) {
                    mismatches.add("key index holds " + indexed + " members for " + rowKeys.size() + " row keys");
                }
                summary.set(String.format("%d rows changed from the restart point on checked (%d of them deleted),"
                        + " %d rows in Redis all equal to PostgreSQL, mismatches = %d; %d of PostgreSQL's %d rows"
                        + " are missing from Redis because they were not changed since it lost its memory",
                        changedKeys.size(), deleted, rowKeys.size(), mismatches.size(), sql.size() - rowKeys.size(),
                        sql.size()));
                assertThat(mismatches).as(summary.get()).isEmpty();
            });
        }
        System.out.println(summary.get());
        try (Connection c = DriverManager.getConnection(url, pg.user(), pg.password());
             Jedis jedis = new Jedis(redis.host(), redis.port())) {
            long refillStart = System.nanoTime();
            await().atMost(Duration.ofSeconds(90)).pollInterval(Duration.ofMillis(500)).untilAsserted(() ->
                    assertThat(SqlToRedis.compareAll(c, jedis).mismatches()).isEmpty());
            System.out.printf("Redis restarted empty: loss noticed %.1f s after its restart; every row refilled "
                    + "(%s) %.1f s after the writers stopped%n", detectedSeconds,
                    SqlToRedis.compareAll(c, jedis).summary(), (System.nanoTime() - refillStart) / 1e9);
        }
        System.out.println("redis-node: " + redisNode.metrics());
        assertThat(redisNode.metrics().retries.sum()).as("the subscriber retried while Redis was down")
                .isGreaterThan(retriesBefore);
        assertThat(redisNode.metrics().deadLetters.sum()).isZero();
    }
}
