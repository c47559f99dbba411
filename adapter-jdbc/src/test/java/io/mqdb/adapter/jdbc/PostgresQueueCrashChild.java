package io.mqdb.adapter.jdbc;

import io.mqdb.node.StoreQueueCrashChild;
import java.nio.file.Path;
import java.util.Map;

/** The child JVM of {@link PostgresStoreQueueCrashIT}: {@code URL USER PASSWORD MODE ROUND}. */
public final class PostgresQueueCrashChild {
    private PostgresQueueCrashChild() {
    }

    public static void main(String[] args) throws Exception {
        Map<String, Object> m = Map.of("url", args[0], "username", args[1], "password", args[2]);
        StoreQueueCrashChild.run(new JdbcStoreProvider().open(TestStoreConfig.of(m),
                TestStoreConfig.context(Path.of("target"), m)), args[3], args[4]);
    }
}
