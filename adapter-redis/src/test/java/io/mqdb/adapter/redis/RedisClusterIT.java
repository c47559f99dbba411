package io.mqdb.adapter.redis;

import static org.assertj.core.api.Assertions.assertThat;

import io.mqdb.spi.Store;
import io.mqdb.spi.TableId;
import io.mqdb.testing.RedisClusterServer;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;
import redis.clients.jedis.HostAndPort;
import redis.clients.jedis.RedisClusterClient;
import redis.clients.jedis.UnifiedJedis;

/** The shared cases against a three-master Redis Cluster: rows spread over the masters, no MULTI. */
class RedisClusterIT extends RedisStoreCases {
    private static RedisClusterClient raw;

    @Override
    protected Store openStore(Map<String, Object> settings) {
        Map<String, Object> all = new HashMap<>(settings);
        all.put(RedisSettings.CLUSTER_NODES, RedisClusterServer.shared().nodes());
        RedisStoreProvider p = new RedisStoreProvider();
        return p.open(TestStoreConfig.of(p, all), TestStoreConfig.context());
    }

    @Override
    protected synchronized UnifiedJedis raw() {
        if (raw == null) {
            Set<HostAndPort> nodes = new HashSet<>();
            RedisClusterServer.shared().nodes().forEach(n -> nodes.add(HostAndPort.from(n)));
            raw = RedisClusterClient.create(nodes);
        }
        return raw;
    }

    @Override
    protected Map<String, String> storedFields(TableId t, String pk) {
        return raw().hgetAll(t.schema() + ":" + t.table() + ":" + pk);
    }

    @Test
    void rowsSpreadOverEveryMaster() {
        assertThat(store.describeTarget()).startsWith("redis-cluster://");
        TableId t = newTable("spread");
        store.ensureTable(orders(t));
        java.util.List<io.mqdb.spi.Row> rows = new java.util.ArrayList<>();
        for (long i = 0; i < 300; i++) {
            rows.add(order(i, "n", i, "1"));
        }
        store.upsert(t, rows, io.mqdb.spi.WriteOrigin.REPLICATED);
        for (String node : RedisClusterServer.shared().nodes()) {
            try (redis.clients.jedis.Jedis j = new redis.clients.jedis.Jedis(HostAndPort.from(node))) {
                assertThat(j.keys("it:" + t.table() + ":*")).as(node).isNotEmpty();
            }
        }
        assertThat(store.count(t)).isEqualTo(300);
    }

    @AfterAll
    static synchronized void closeRaw() {
        if (raw != null) {
            raw.close();
            raw = null;
        }
    }
}
