package io.mqdb.adapter.mapdb;

import io.mqdb.node.StoreQueueCrashChild;
import java.nio.file.Path;

/** The child JVM of {@link MapDbStoreQueueCrashTest}: {@code DIR MODE ROUND}. */
public final class MapDbQueueCrashChild {
    private MapDbQueueCrashChild() {
    }

    public static void main(String[] args) throws Exception {
        StoreQueueCrashChild.run(MapDbStoreTest.open(Path.of(args[0])), args[1], args[2]);
    }
}
