package io.mqdb.distribution;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.mqdb.config.ConfigException;
import io.mqdb.config.ConfigLoader;
import io.mqdb.config.NodeConfig;
import io.mqdb.node.StoreSet;
import io.mqdb.plugin.PluginRegistry;
import io.mqdb.testing.PostgresServer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.Statement;
import java.util.Map;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Keeps {@code examples/sql-to-redis/} valid: both node configs pass {@code check-config} (the file checks and each
 * store's settings against the tarball's plugins), and its sample SQL runs on PostgreSQL.
 */
class SqlToRedisExampleIT {
    private static final Path EXAMPLE = Path.of("..", "examples", "sql-to-redis");

    @TempDir
    Path dir;

    @BeforeEach
    void quiet() {
        SqlToRedis.quietLogs();
    }

    private static NodeConfig check(String file, Map<String, String> env, PluginRegistry plugins) throws Exception {
        Path p = EXAMPLE.resolve(file).toAbsolutePath();
        return ConfigLoader.parse(Files.readString(p), p, env, StoreSet.checker(plugins));
    }

    @Test
    void bothExampleConfigsPassCheckConfigWithTheTarballPlugins() throws Exception {
        PluginRegistry plugins = PostgresToRedisIT.tarballPlugins(dir);
        NodeConfig legacy = check("legacy.yaml", Map.of("PGPASSWORD", "secret"), plugins);
        NodeConfig cache = check("cache.yaml", Map.of(), plugins);

        assertThat(legacy.node().name()).isEqualTo("legacy");
        assertThat(legacy.channels()).singleElement().satisfies(c -> {
            assertThat(c.table().toString()).isEqualTo("shop:orders");
            assertThat(c.publish()).isTrue();
        });
        assertThat(legacy.broker().uris()).containsExactly("tcp://127.0.0.1:1883");
        assertThat(legacy.toString()).doesNotContain("secret");
        assertThat(cache.node().name()).isEqualTo("cache");
        assertThat(cache.broker().embedded()).isPresent();
        assertThat(cache.channels()).singleElement().satisfies(c -> assertThat(c.subscribe()).isTrue());

        // without the password the problem names the variable
        assertThatThrownBy(() -> check("legacy.yaml", Map.of(), plugins)).isInstanceOf(ConfigException.class)
                .hasMessageContaining("PGPASSWORD");
    }

    @Test
    void sampleSqlCreatesTheLegacyTable() throws Exception {
        PostgresServer pg = PostgresServer.shared();
        String url = pg.createDatabase("example_shop");
        try (Connection c = DriverManager.getConnection(url, pg.user(), pg.password());
             Statement st = c.createStatement()) {
            st.execute(Files.readString(EXAMPLE.resolve("sample.sql")));
            try (ResultSet rs = st.executeQuery("SELECT count(*), count(price), count(meta) FROM shop.orders")) {
                assertThat(rs.next()).isTrue();
                assertThat(rs.getLong(1)).isEqualTo(100_000);
                assertThat(rs.getLong(2)).isBetween(80_000L, 90_000L);
                assertThat(rs.getLong(3)).isEqualTo(100_000);
            }
        }
    }
}
