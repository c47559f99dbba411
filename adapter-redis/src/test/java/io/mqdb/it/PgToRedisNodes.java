package io.mqdb.it;

import io.mqdb.config.ConfigLoader;
import io.mqdb.node.MqdbNode;
import io.mqdb.plugin.PluginRegistry;
import io.mqdb.testing.PostgresServer;
import io.mqdb.testing.RedisServer;
import io.mqdb.testing.ServerFixture;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.io.TempDir;
import redis.clients.jedis.RedisClient;

/**
 * What the transform ITs share: a database of the shared PostgreSQL server, a private Redis server with a raw client,
 * the nodes a test starts from YAML (closed in reverse order after it), a free port for the embedded broker.
 */
abstract class PgToRedisNodes {
    @TempDir
    Path dir;
    final PluginRegistry plugins = PluginRegistry.load(Optional.empty(), PgToRedisNodes.class.getClassLoader());
    final PostgresServer pg = PostgresServer.shared();
    final int brokerPort = ServerFixture.freePort();
    private final List<MqdbNode> nodes = new ArrayList<>();
    RedisServer redis;
    RedisClient raw;
    String pgUrl;

    /** Creates the PostgreSQL database and starts the Redis server. */
    void servers(String database) {
        pgUrl = pg.createDatabase(database);
        redis = RedisServer.startPrivate();
        raw = RedisClient.create(redis.host(), redis.port());
    }

    /** @return the YAML of PostgreSQL's password setting, or nothing when it has none */
    String pgPassword() {
        return pg.password().isEmpty() ? "" : ", password: \"" + pg.password() + "\"";
    }

    @AfterEach
    void stopNodes() {
        for (int i = nodes.size() - 1; i >= 0; i--) {
            nodes.get(i).close();
        }
        if (raw != null) {
            raw.close();
        }
        if (redis != null) {
            redis.close();
        }
    }

    void start(String name, String yaml) throws Exception {
        Path file = dir.resolve(name + ".yaml");
        Files.writeString(file, yaml);
        nodes.add(MqdbNode.start(ConfigLoader.load(file), plugins));
    }

    void sql(String... statements) throws SQLException {
        try (Connection c = DriverManager.getConnection(pgUrl, pg.user(), pg.password());
             Statement s = c.createStatement()) {
            for (String q : statements) {
                s.execute(q);
            }
        }
    }
}
