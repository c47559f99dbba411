package io.mqdb.adapter.redis;

import io.mqdb.spi.Store;
import io.mqdb.spi.StoreContract;
import io.mqdb.spi.StoreLimit;
import io.mqdb.testing.RedisClusterServer;
import java.util.EnumSet;
import java.util.Map;
import java.util.Set;

/** The shared store contract against a three-master Redis Cluster, rows stored as hashes. */
class RedisClusterContractIT extends StoreContract {
    @Override
    protected Store openStore() {
        RedisStoreProvider p = new RedisStoreProvider();
        return p.open(TestStoreConfig.of(p, Map.of(RedisSettings.CLUSTER_NODES, RedisClusterServer.shared().nodes())),
                TestStoreConfig.context());
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
