package io.mqdb.distribution;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import io.mqdb.config.ConfigLoader;
import io.mqdb.node.MqdbNode;
import io.mqdb.node.StoreSet;
import io.mqdb.plugin.LoadedProvider;
import io.mqdb.plugin.PluginRegistry;
import io.mqdb.spi.Key;
import io.mqdb.spi.Mutation;
import io.mqdb.spi.Row;
import io.mqdb.spi.Store;
import io.mqdb.spi.TableId;
import io.mqdb.spi.WriteOrigin;
import io.mqdb.testing.MapStoreConfig;
import io.mqdb.testing.PostgresServer;
import io.mqdb.testing.RedisServer;
import io.mqdb.testing.ServerFixture;
import io.mqdb.testing.TestStoreContext;
import java.math.BigDecimal;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.Statement;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code bin/mqdb verify} from the tarball on a PostgreSQL table synced into Redis by two nodes: equal after the
 * sync (exit 0), then, with a missing, an extra and two stale rows planted in Redis, it lists exactly those (exit 1).
 */
class VerifyIT {
    private static final TableId ITEMS = TableId.parse("shop:items");
    @TempDir
    static Path dir;
    private static Path home;
    private static PluginRegistry plugins;

    @BeforeAll
    static void unpack() throws Exception {
        home = Tarball.unpacked(dir.resolve("dist"));
        plugins = PluginRegistry.load(Optional.of(home.resolve("plugins")), VerifyIT.class.getClassLoader());
    }

    private static BinMqdb.Result mqdb(String... args) throws Exception {
        return BinMqdb.run(home, dir, 120, args);
    }

    @Test
    void findsExactlyThePlantedDifferencesBetweenPostgresAndRedis() throws Exception {
        PostgresServer pg = PostgresServer.shared();
        RedisServer redis = RedisServer.shared();
        String url = pg.createDatabase("mqdb_verify");
        try (Connection c = DriverManager.getConnection(url, pg.user(), pg.password());
             Statement st = c.createStatement()) {
            st.execute("CREATE SCHEMA shop");
            st.execute("CREATE TABLE shop.items (id bigint PRIMARY KEY, name text, price numeric, doc jsonb)");
            st.execute("INSERT INTO shop.items SELECT g, 'item ' || g, g / 100.0, "
                    + "jsonb_build_object('n', g, 'tags', jsonb_build_array('a', 'b')) FROM generate_series(1, 3000) g");
        }
        int port = ServerFixture.freePort();
        Path cacheYaml = dir.resolve("cache.yaml");
        Files.writeString(cacheYaml, """
                node: { name: cache, data-dir: cache-data }
                broker: { embedded: { port: %d } }
                stores: { cache: { type: redis, uri: "redis://%s", database: 5 } }
                channels: [ { name: shop:items, store: cache, subscribe: true } ]
                """.formatted(port, redis.address()));
        Path legacyYaml = dir.resolve("legacy.yaml");
        Files.writeString(legacyYaml, """
                node: { name: legacy, data-dir: legacy-data }
                broker: { uris: [ "tcp://127.0.0.1:%d" ] }
                stores: { legacy: { type: jdbc, url: "%s", username: %s, password: "%s" } }
                channels: [ { name: shop:items, store: legacy, publish: true } ]
                """.formatted(port, url, pg.user(), pg.password()));
        Store cache = store("redis", Map.of("uri", "redis://" + redis.address(), "database", 5));
        try (MqdbNode c = MqdbNode.start(ConfigLoader.load(cacheYaml, StoreSet.checker(plugins)), plugins);
             MqdbNode l = MqdbNode.start(ConfigLoader.load(legacyYaml, StoreSet.checker(plugins)), plugins)) {
            await().atMost(Duration.ofSeconds(60)).until(() -> cache.describe(ITEMS).isPresent()
                    && cache.get(ITEMS, Key.of(3000L)).isPresent());
            await().atMost(Duration.ofSeconds(30)).until(() -> c.metrics().applied.sum() >= 3000);
        }
        String[] verify = {"verify", "-c", legacyYaml.toString(), "--source", "legacy", "--target-config",
                cacheYaml.toString(), "--target", "cache", "--channel", "shop:items", "--json"};
        BinMqdb.Result same = mqdb(verify);
        assertThat(same.exit()).as(same.out() + same.err()).isZero();
        JsonObject s = JsonParser.parseString(same.out()).getAsJsonObject();
        assertThat(s.get("same").getAsBoolean()).isTrue();
        assertThat(s.get("sourceRows").getAsLong()).isEqualTo(3000);
        assertThat(s.get("rowsRead").getAsLong()).as("equal: one scan of each side").isEqualTo(6000);
        System.out.println("verify of the synced copy: " + same.out().strip());

        cache.apply(ITEMS, List.of(Mutation.Delete.of(Key.of(17L)),
                Mutation.Upsert.of(Row.of(Map.of("id", 9_999L, "name", "extra"))),
                Mutation.Upsert.of(Row.of(Map.of("id", 42L, "name", "stale"))),
                Mutation.Upsert.of(Row.of(Map.of("id", 43L, "price", new BigDecimal("0.430"))))), WriteOrigin.LOCAL);
        BinMqdb.Result differ = mqdb(verify);
        assertThat(differ.exit()).as(differ.out() + differ.err()).isEqualTo(1);
        JsonObject d = JsonParser.parseString(differ.out()).getAsJsonObject();
        assertThat(d.get("missing").getAsInt()).isEqualTo(1);
        assertThat(d.get("extra").getAsInt()).isEqualTo(1);
        assertThat(d.get("stale").getAsInt()).isEqualTo(2);
        assertThat(d.get("firstMissing").toString()).isEqualTo("[[\"17\"]]");
        assertThat(d.get("firstExtra").toString()).isEqualTo("[[\"9999\"]]");
        assertThat(d.get("firstStale").toString()).isEqualTo("[[\"42\"],[\"43\"]]");
        assertThat(d.get("rowsRead").getAsLong()).as("pass 2 kept only the differing buckets' rows")
                .isLessThan(6_050);
        System.out.println("verify after planting 1 missing, 1 extra and 2 stale rows in Redis: " + differ.out().strip());

        BinMqdb.Result text = mqdb(verify[0], verify[1], verify[2], verify[3], verify[4], verify[5], verify[6], verify[7],
                verify[8], verify[9], verify[10]);
        assertThat(text.exit()).isEqualTo(1);
        assertThat(text.out()).contains("missing from the target: 1, first [17]")
                .contains("extra in the target: 1, first [9999]").contains("stale in the target: 2, first [42, 43]")
                .doesNotContain("INFO");

        // --repair: the running publisher publishes the 4 keys again through its normal path; the copy is equal again
        try (MqdbNode c = MqdbNode.start(ConfigLoader.load(cacheYaml, StoreSet.checker(plugins)), plugins);
             MqdbNode l = MqdbNode.start(ConfigLoader.load(legacyYaml, StoreSet.checker(plugins)), plugins)) {
            BinMqdb.Result repaired = mqdb(verify[0], verify[1], verify[2], verify[3], verify[4], verify[5],
                    verify[6], verify[7], verify[8], verify[9], verify[10], "--repair", "--repair-wait", "60");
            assertThat(repaired.exit()).as(repaired.out() + repaired.err()).isZero();
            assertThat(repaired.out()).contains("repair: asked legacy to publish 4 key(s) again; all equal");
            assertThat(l.metrics().republished.sum()).isEqualTo(4);
            BinMqdb.Result after = mqdb(verify);
            assertThat(after.exit()).as(after.out() + after.err()).isZero();
            assertThat(cache.get(ITEMS, Key.of(9_999L))).as("the extra row deleted").isEmpty();
            assertThat(cache.get(ITEMS, Key.of(17L))).as("the missing row back").isPresent();
            System.out.println("verify --repair: " + repaired.out().strip() + "; verify after it: "
                    + after.out().strip());
        }
    }

    private Store store(String type, Map<String, ?> settings) {
        LoadedProvider p = plugins.find(type).orElseThrow();
        return p.call(() -> p.provider().open(new MapStoreConfig("check-" + type, type, p.provider().settings(),
                settings), new TestStoreContext("checker", dir)));
    }
}
