package io.mqdb.adapter.redis;

import io.mqdb.spi.Store;
import io.mqdb.spi.StoreContract;
import io.mqdb.spi.StoreLimit;
import io.mqdb.testing.RedisServer;
import java.util.EnumSet;
import java.util.HashMap;
import java.util.Map;
import java.util.Set;

/**
 * The shared store contract against one standalone Redis, rows stored as hashes (the default format). Redis offers no
 * capture, so the contract's capture cases check that {@code capture()} is empty.
 */
class RedisContractIT extends StoreContract {
    @Override
    protected Store openStore() {
        Map<String, Object> settings = new HashMap<>(formatSettings());
        settings.put(RedisSettings.URI, RedisServer.shared().uri());
        RedisStoreProvider p = new RedisStoreProvider();
        return p.open(TestStoreConfig.of(p, settings), TestStoreConfig.context());
    }

    /** @return the settings that choose the row format */
    protected Map<String, Object> formatSettings() {
        return Map.of();
    }

    @Override
    protected boolean supportsCapture() {
        return false;
    }

    @Override
    protected Set<StoreLimit> limits() {
        return EnumSet.noneOf(StoreLimit.class);
    }
}
