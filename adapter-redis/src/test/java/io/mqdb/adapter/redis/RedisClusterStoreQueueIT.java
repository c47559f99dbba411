package io.mqdb.adapter.redis;

import static org.assertj.core.api.Assertions.assertThat;

import io.mqdb.node.StoreQueueContract;
import io.mqdb.spi.Store;
import io.mqdb.testing.RedisClusterServer;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * The store-backed queue's contract on a three-master Redis Cluster, which has no atomic writes across slots: the
 * queue's ordered two-write path (entry, then counter) against a real server.
 */
class RedisClusterStoreQueueIT extends StoreQueueContract {
    @Override
    protected Store openStore() {
        RedisStoreProvider p = new RedisStoreProvider();
        return p.open(TestStoreConfig.of(p, Map.of(RedisSettings.CLUSTER_NODES, RedisClusterServer.shared().nodes())),
                TestStoreConfig.context());
    }

    @Test
    void aClusterOffersNoAtomicWrites() {
        assertThat(store.atomicWrites()).isEmpty();
    }
}
