package io.mqdb.distribution;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.mqdb.config.ConfigLoader;
import io.mqdb.node.MqdbNode;
import io.mqdb.node.StoreSet;
import io.mqdb.plugin.PluginRegistry;
import io.mqdb.testing.PostgresServer;
import io.mqdb.testing.RedisServer;
import io.mqdb.testing.ServerFixture;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
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
 * The headline use, end to end with the tarball's plugins: a legacy PostgreSQL table with 100,000 rows, a node
 * publishing it from PostgreSQL (trigger capture, initial load), a node keeping it in Redis, and two plain SQL
 * clients writing inserts, updates, deletes and key changes while the initial load runs. Redis must then hold
 * exactly PostgreSQL's rows: every key by the configured pattern, every field by the documented type mapping, and
 * no other key.
 */
class PostgresToRedisIT {
    static final int EXISTING_ROWS = 100_000;

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
    void stop() throws Exception {
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

    /** Starts a node in-process exactly as {@code bin/mqdb run} does, with the tarball's plugins. */
    static MqdbNode start(Path config, PluginRegistry plugins) throws Exception {
        return MqdbNode.start(ConfigLoader.load(config, StoreSet.checker(plugins)), plugins);
    }

    static PluginRegistry tarballPlugins(Path dir) throws Exception {
        Path home = Tarball.unpacked(dir.resolve("dist"));
        PluginRegistry plugins = PluginRegistry.load(Optional.of(home.resolve("plugins")),
                PostgresToRedisIT.class.getClassLoader());
        // This JVM has its own PostgreSQL driver too; the plugin uses its own (the jdbc provider names its driver class).
        return plugins;
    }


    /**
     * The Redis node runs the embedded broker and starts first: a subscriber receives only what is published after
     * its first subscription, so it must hold its session before the publisher's initial load begins.
     */
    static String redisNodeYaml(int brokerPort, String redisUri) {
        return """
                node: { name: redis-node, data-dir: redis-data }
                broker: { embedded: { port: %d } }
                stores:
                  cache:
                    type: redis
                    uri: %s
                    key-patterns: { "shop:orders": "order:{id}" }
                channels: [ { name: shop:orders, store: cache, subscribe: true, batch-size: 1000 } ]
                """.formatted(brokerPort, redisUri);
    }

    static String pgNodeYaml(int brokerPort, String jdbcUrl, String user) {
        return """
                node: { name: pg-node, data-dir: pg-data }
                broker: { uris: [ "tcp://127.0.0.1:%d" ] }
                stores:
                  legacy: { type: jdbc, url: "%s", username: %s }
                channels: [ { name: shop:orders, store: legacy, publish: true, batch-size: 1000 } ]
                """.formatted(brokerPort, jdbcUrl, user);
    }

    /**
     * Diagnostics: a second subscriber recording every message on the channel, so that a mismatch can be traced to
     * what was published for its key, in which order.
     */
    static final class WireTap implements AutoCloseable {
        private final org.eclipse.paho.mqttv5.client.MqttClient client;
        private final List<String> messages = java.util.Collections.synchronizedList(new java.util.ArrayList<>());

        WireTap(int port) throws Exception {
            client = new org.eclipse.paho.mqttv5.client.MqttClient("tcp://127.0.0.1:" + port, "wiretap",
                    new org.eclipse.paho.mqttv5.client.persist.MemoryPersistence());
            var options = new org.eclipse.paho.mqttv5.client.MqttConnectionOptions();
            options.setReceiveMaximum(65535);
            client.connect(options);
            client.subscribe(new org.eclipse.paho.mqttv5.common.MqttSubscription[] {
                new org.eclipse.paho.mqttv5.common.MqttSubscription("mqdb/mqdb/ch/shop/orders", 1)},
                    new org.eclipse.paho.mqttv5.client.IMqttMessageListener[] {
                        (topic, m) -> messages.add(readable(m.getPayload()))});
        }

        /** The payload as JSON text: a binary batch (what nodes publish) re-encoded as JSON, for the searches below. */
        private static String readable(byte[] payload) {
            io.mqdb.codec.EventCodec codec = new io.mqdb.codec.EventCodec();
            try {
                io.mqdb.codec.WireBatch b = codec.decode(payload, null);
                if (b.version() == io.mqdb.codec.EventCodec.BINARY_VERSION) {
                    io.mqdb.spi.TableSchema s = b.schema().orElseThrow();
                    List<io.mqdb.spi.ChangeEvent> events = new java.util.ArrayList<>();
                    for (io.mqdb.codec.WireEvent e : b.events()) {
                        events.add(codec.toEvent(e, s, 0));
                    }
                    return new String(codec.encodeBatch(b.origin(), s, false, events),
                            java.nio.charset.StandardCharsets.UTF_8);
                }
            } catch (io.mqdb.spi.InvalidDataException e) {
                // not a batch this codec reads: keep its text
            }
            return new String(payload, java.nio.charset.StandardCharsets.UTF_8);
        }

        /** Prints, for the first mismatched keys, every message that mentions them (index, op, excerpt). */
        void explain(SqlToRedis.Comparison cmp) {
            if (cmp == null) {
                return;
            }
            System.out.println("wire tap: " + messages.size() + " messages on the channel");
            for (String m : cmp.mismatches().subList(0, Math.min(5, cmp.mismatches().size()))) {
                java.util.regex.Matcher k = java.util.regex.Pattern.compile("order:(\\d+)").matcher(m);
                if (!k.find()) {
                    continue;
                }
                String id = k.group(1);
                java.util.regex.Pattern mention = java.util.regex.Pattern.compile("\"id\":\"?" + id + "\\b");
                synchronized (messages) {
                    for (int i = 0; i < messages.size(); i++) {
                        java.util.regex.Matcher hit = mention.matcher(messages.get(i));
                        while (hit.find()) {
                            String text = messages.get(i);
                            int from = Math.max(0, text.lastIndexOf("{\"", Math.max(0, hit.start() - 40)) - 60);
                            System.out.printf("  order:%s in message %d of %d: ...%s...%n", id, i, messages.size(),
                                    text.substring(from, Math.min(text.length(), hit.end() + 200)));
                        }
                    }
                }
            }
        }

        @Override
        public void close() throws Exception {
            client.disconnect();
            client.close();
        }
    }

    /** Diagnostics: the change-log entries of the first keys the second SQL client changes, and the log's size. */
    private static String changelogSummary(String url, PostgresServer pg) {
        try (Connection c = DriverManager.getConnection(url, pg.user(), pg.password());
             var st = c.createStatement();
             var rs = st.executeQuery("SELECT count(*) AS n, min(xid::text::numeric)::text AS lo, string_agg(CASE WHEN pk IN"
                     + " ('[177]', '[997]') THEN op || pk || '@' || xid::text || '/' || id || ' ' || created::text"
                     + " END, '; ') AS hits, pg_snapshot_xmin(pg_current_snapshot())::text AS xmin"
                     + " FROM mqdb_changelog")) {
            rs.next();
            return rs.getLong("n") + " entries, lowest xid " + rs.getString("lo") + ", xmin now "
                    + rs.getString("xmin") + ", entries for 177/997: " + rs.getString("hits");
        } catch (java.sql.SQLException e) {
            return "cannot read: " + e.getMessage();
        }
    }

    @Test
    void legacyTableAndItsChangeStreamAreMirroredInRedisFieldForField() throws Exception {
        PostgresServer pg = PostgresServer.shared();
        String url = pg.createDatabase("p2r_it");
        try (Connection c = DriverManager.getConnection(url, pg.user(), pg.password())) {
            SqlToRedis.createTable(c);
            long t0 = System.nanoTime();
            SqlToRedis.copyRows(c, 1, EXISTING_ROWS);
            System.out.printf("COPY of %,d existing rows: %d ms%n", EXISTING_ROWS, (System.nanoTime() - t0) / 1_000_000);
        }
        redis = RedisServer.startPrivate();
        PluginRegistry plugins = tarballPlugins(dir);
        int port = ServerFixture.freePort();
        redisNode = start(SqlToRedis.write(dir.resolve("redis-node.yaml"), redisNodeYaml(port, redis.uri())), plugins);
        WireTap tap = new WireTap(port);
        long loadStart = System.nanoTime();
        pgNode = start(SqlToRedis.write(dir.resolve("pg-node.yaml"), pgNodeYaml(port, url, pg.user())), plugins);

        // Two plain SQL clients write while the initial load runs.
        Map<Long, Long> touched = SqlToRedis.Writer.touchLog();
        List<SqlToRedis.Writer> writers = List.of(
                new SqlToRedis.Writer(DriverManager.getConnection(url, pg.user(), pg.password()), 0, EXISTING_ROWS,
                        EXISTING_ROWS + 1, 3_000, touched),
                new SqlToRedis.Writer(DriverManager.getConnection(url, pg.user(), pg.password()), 1, EXISTING_ROWS,
                        EXISTING_ROWS + 1, 3_000, touched));
        List<Future<Long>> done = clients.invokeAll(writers.stream()
                .map(w -> (java.util.concurrent.Callable<Long>) w).toList(), 90, TimeUnit.SECONDS);
        long changes = 0;
        for (Future<Long> f : done) {
            changes += f.get();
        }
        System.out.printf("2 SQL clients made %,d changes (inserts, updates, deletes, key changes)%n", changes);
        String changelogEarly = changelogSummary(url, pg);

        AtomicReference<SqlToRedis.Comparison> last = new AtomicReference<>();
        try (Connection c = DriverManager.getConnection(url, pg.user(), pg.password());
             Jedis jedis = new Jedis(redis.host(), redis.port())) {
            try {
                await().atMost(Duration.ofSeconds(90)).pollInterval(Duration.ofSeconds(2)).untilAsserted(() -> {
                    assertThat(pgNode.failure()).isEmpty();
                    assertThat(redisNode.failure()).isEmpty();
                    SqlToRedis.Comparison cmp = SqlToRedis.compareAll(c, jedis);
                    last.set(cmp);
                    assertThat(cmp.mismatches()).as(cmp.summary()).isEmpty();
                });
            } catch (org.awaitility.core.ConditionTimeoutException e) {
                tap.explain(last.get());
                System.out.println("change log when the SQL clients had finished: " + changelogEarly);
                throw e;
            } finally {
                tap.close();
            }
        }
        System.out.printf("initial load + change stream mirrored after %d ms; pg-node: %s; redis-node: %s%n",
                (System.nanoTime() - loadStart) / 1_000_000, pgNode.metrics(), redisNode.metrics());
        System.out.println(last.get().summary());
        assertThat(last.get().rowsChecked()).isGreaterThan(EXISTING_ROWS - 2_000);
        assertThat(pgNode.metrics().snapshotRows.sum()).isGreaterThan(EXISTING_ROWS - 2_000);
        assertThat(redisNode.metrics().deadLetters.sum()).isZero();
    }
}
