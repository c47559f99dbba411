package io.mqdb.adapter.redis;

import io.mqdb.spi.Setting;
import io.mqdb.spi.StoreConfig;
import io.mqdb.spi.StoreContext;
import io.mqdb.spi.StoreProvider;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;
import java.util.Optional;

/** A {@link StoreConfig} built in code, defaulted from the provider's declared settings, as the runtime would. */
record TestStoreConfig(String name, StoreProvider provider, Map<String, Object> values) implements StoreConfig {

    static TestStoreConfig of(StoreProvider provider, Map<String, ?> given) {
        Map<String, Object> values = new HashMap<>();
        for (String k : given.keySet()) {
            if (provider.settings().stream().noneMatch(s -> s.name().equals(k))) {
                throw new IllegalArgumentException("undeclared setting " + k);
            }
        }
        for (Setting s : provider.settings()) {
            Object v = given.containsKey(s.name()) ? given.get(s.name()) : s.defaultValue();
            if (v != null) {
                values.put(s.name(), v);
            }
        }
        return new TestStoreConfig("test", provider, values);
    }

    @Override
    public String type() {
        return provider.type();
    }

    @Override
    public Optional<Object> value(String key) {
        if (provider.settings().stream().noneMatch(s -> s.name().equals(key))) {
            throw new IllegalArgumentException("undeclared setting " + key);
        }
        return Optional.ofNullable(values.get(key));
    }

    @Override
    public String where(String key) {
        return "test.yaml: stores.test." + key;
    }

    static StoreContext context() {
        return new StoreContext() {
            @Override
            public String nodeName() {
                return "it-node";
            }

            @Override
            public Path dataDir() {
                return Path.of(System.getProperty("java.io.tmpdir"));
            }
        };
    }
}
