package io.mqdb.testkit;

import io.mqdb.plugin.PluginRegistry;
import io.mqdb.spi.Setting;
import io.mqdb.spi.SettingType;
import io.mqdb.spi.Store;
import io.mqdb.spi.StoreConfig;
import io.mqdb.spi.StoreContext;
import io.mqdb.spi.StoreProvider;
import java.io.IOException;
import java.net.URL;
import java.util.Collections;
import java.util.Enumeration;
import java.util.List;
import java.util.Optional;

/**
 * The store type {@code memory}: {@link InMemoryStore}s for tests. Setting {@code instance} names the
 * {@link InMemoryData} the store opens (stores and nodes naming the same instance share it); by default the store's
 * data folder names it, so a node restarted on the same data dir finds its data again.
 *
 * <p>Not listed in {@code META-INF/services} of the test class path (core's test jar is on every adapter's test
 * class path, whose tests list the installed types): {@link #registry()} builds a registry that holds it.
 */
public final class InMemoryStoreProvider implements StoreProvider {
    /** The store type. */
    public static final String TYPE = "memory";
    private static final String SERVICE_FILE = "META-INF/services/" + StoreProvider.class.getName();
    private static final String OWN_SERVICE_FILE = "io/mqdb/testkit/memory-store.services";

    /** For {@link java.util.ServiceLoader}. */
    public InMemoryStoreProvider() {
    }

    @Override
    public String type() {
        return TYPE;
    }

    @Override
    public List<Setting> settings() {
        return List.of(Setting.optional("instance", SettingType.STRING, null,
                "The in-memory data set to open; stores naming the same one share it. Default: the store's data "
                        + "folder."));
    }

    @Override
    public Store open(StoreConfig config, StoreContext context) {
        String instance = config.value("instance").map(Object::toString)
                .orElse(context.dataDir().toAbsolutePath().toString());
        return new InMemoryStore(InMemoryData.named(instance));
    }

    /**
     * @return a plugin registry holding this provider alone (whatever else the class path lists): what a node in a
     *     test starts with
     */
    public static PluginRegistry registry() {
        ClassLoader testLoader = InMemoryStoreProvider.class.getClassLoader();
        ClassLoader onlyMemory = new ClassLoader("memory-store-only", testLoader) {
            @Override
            public Enumeration<URL> getResources(String name) throws IOException {
                if (!SERVICE_FILE.equals(name)) {
                    return super.getResources(name);
                }
                URL own = getResource(OWN_SERVICE_FILE);
                return own == null ? Collections.emptyEnumeration() : Collections.enumeration(List.of(own));
            }
        };
        return PluginRegistry.load(Optional.empty(), onlyMemory);
    }
}
