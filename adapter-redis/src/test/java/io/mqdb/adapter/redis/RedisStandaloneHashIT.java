package io.mqdb.adapter.redis;

import io.mqdb.spi.Store;
import io.mqdb.spi.TableId;
import io.mqdb.testing.RedisServer;
import java.util.HashMap;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import redis.clients.jedis.RedisClient;
import redis.clients.jedis.UnifiedJedis;

/** The shared cases against one standalone Redis, rows stored as hashes (the default format). */
class RedisStandaloneHashIT extends RedisStoreCases {
    private static RedisClient raw;

    @Override
    protected Store openStore(Map<String, Object> settings) {
        Map<String, Object> all = new HashMap<>(settings);
        all.put(RedisSettings.URI, RedisServer.shared().uri());
        all.putAll(formatSettings());
        RedisStoreProvider p = new RedisStoreProvider();
        return p.open(TestStoreConfig.of(p, all), TestStoreConfig.context());
    }

    /** @return the settings that choose the row format */
    protected Map<String, Object> formatSettings() {
        return Map.of();
    }

    @Override
    protected synchronized UnifiedJedis raw() {
        if (raw == null) {
            raw = RedisClient.create(RedisServer.shared().host(), RedisServer.shared().port());
        }
        return raw;
    }

    @Override
    protected Map<String, String> storedFields(TableId t, String pk) {
        return raw().hgetAll(t.schema() + ":" + t.table() + ":" + pk);
    }

    @AfterAll
    static synchronized void closeRaw() {
        if (raw != null) {
            raw.close();
            raw = null;
        }
    }
}
