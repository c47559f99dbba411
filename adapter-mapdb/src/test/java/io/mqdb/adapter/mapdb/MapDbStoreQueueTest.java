package io.mqdb.adapter.mapdb;

import io.mqdb.node.StoreQueueContract;
import io.mqdb.spi.Store;
import java.nio.file.Path;
import org.junit.jupiter.api.io.TempDir;

/** The store-backed queue's contract on a MapDB file: entries and counters in one MapDB commit. */
class MapDbStoreQueueTest extends StoreQueueContract {
    @TempDir
    Path dir;

    @Override
    protected Store openStore() {
        return MapDbStoreTest.open(dir);
    }
}
