package io.mqdb.adapter.redis;

import static org.assertj.core.api.Assertions.assertThat;

import io.mqdb.node.StoreQueueContract;
import io.mqdb.spi.Store;
import io.mqdb.testing.RedisServer;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The store-backed queue's contract on a standalone Redis: entries and counters in one MULTI/EXEC. */
class RedisStoreQueueIT extends StoreQueueContract {
    @Override
    protected Store openStore() {
        RedisStoreProvider p = new RedisStoreProvider();
        return p.open(TestStoreConfig.of(p, Map.of(RedisSettings.URI, RedisServer.shared().uri())),
                TestStoreConfig.context());
    }

    @Test
    void aStandaloneServerOffersAtomicWrites() {
        assertThat(store.atomicWrites()).isPresent();
    }
}
