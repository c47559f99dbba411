package io.mqdb.adapter.mapdb;

import io.mqdb.node.StoreQueueCrashTestBase;
import io.mqdb.spi.Store;
import java.util.List;

/** kill -9 of a process putting and taking on a queue in a MapDB file; see {@link StoreQueueCrashTestBase}. */
class MapDbStoreQueueCrashTest extends StoreQueueCrashTestBase {
    @Override
    protected Store openStore() {
        return MapDbStoreTest.open(dir.resolve("store"));
    }

    @Override
    protected List<String> childCommand() {
        return List.of(MapDbQueueCrashChild.class.getName(), dir.resolve("store").toString());
    }
}
