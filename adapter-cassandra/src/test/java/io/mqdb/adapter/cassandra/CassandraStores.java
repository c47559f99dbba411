package io.mqdb.adapter.cassandra;

import io.mqdb.spi.Store;
import io.mqdb.testing.CassandraServer;
import io.mqdb.testing.MapStoreConfig;
import io.mqdb.testing.TestStoreContext;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/** Opens stores on the shared test server, as the runtime would from YAML. */
final class CassandraStores {
    private CassandraStores() {
    }

    /** @return a store on the shared server with the default settings */
    static Store open() {
        return open(Map.of());
    }

    /**
     * @param extra settings beside the contact point and data center
     * @return a store on the shared server
     */
    static Store open(Map<String, ?> extra) {
        CassandraServer server = CassandraServer.shared();
        Map<String, Object> settings = new HashMap<>();
        settings.put(CassandraSettings.CONTACT_POINTS, List.of(server.contactPoint()));
        settings.put(CassandraSettings.LOCAL_DATACENTER, server.localDatacenter());
        settings.putAll(extra);
        CassandraStoreProvider p = new CassandraStoreProvider();
        return p.open(new MapStoreConfig("cass", p.type(), p.settings(), settings),
                new TestStoreContext("it-node", Path.of(System.getProperty("java.io.tmpdir"))));
    }
}
