package io.mqdb.adapter.jdbc;

import io.mqdb.spi.Setting;
import io.mqdb.spi.StoreConfig;
import io.mqdb.spi.StoreContext;
import io.mqdb.spi.TableId;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/** A StoreConfig from a map, defaulted like the runtime does from the provider's settings. */
final class TestStoreConfig implements StoreConfig {
    private final Map<String, Object> values;
    private final Map<String, Object> given;

    /**
     * A pseudo-setting for tests: a {@code Map<TableId, List<String>>} of replica keys, handed to the store through
     * {@link #context(Path, Map)} as the runtime would from the channels' {@code key:}; never a store setting.
     */
    static final String REPLICA_KEYS = "test.replica-keys";

    private TestStoreConfig(Map<String, Object> given) {
        given = new HashMap<>(given);
        given.remove(REPLICA_KEYS);
        this.given = given;
        this.values = new HashMap<>();
        for (Setting s : new JdbcStoreProvider().settings()) {
            if (s.defaultValue() != null) {
                values.put(s.name(), s.defaultValue());
            }
        }
        values.putAll(given);
    }

    static TestStoreConfig of(Map<String, Object> values) {
        return new TestStoreConfig(values);
    }

    /** A context with the replica keys of {@code settings}' {@link #REPLICA_KEYS}, if any. */
    @SuppressWarnings("unchecked")
    static StoreContext context(Path dir, Map<String, Object> settings) {
        Map<TableId, List<String>> keys = (Map<TableId, List<String>>) settings.getOrDefault(REPLICA_KEYS, Map.of());
        return new StoreContext() {
            @Override
            public String nodeName() {
                return "test-node";
            }

            @Override
            public Path dataDir() {
                return dir;
            }

            @Override
            public Map<TableId, List<String>> replicaKeys() {
                return keys;
            }
        };
    }

    static StoreContext context(Path dir) {
        return new StoreContext() {
            @Override
            public String nodeName() {
                return "test-node";
            }

            @Override
            public Path dataDir() {
                return dir;
            }
        };
    }

    @Override
    public String name() {
        return "test";
    }

    @Override
    public String type() {
        return "jdbc";
    }

    @Override
    public Optional<Object> value(String key) {
        if (new JdbcStoreProvider().settings().stream().noneMatch(s -> s.name().equals(key))) {
            throw new IllegalArgumentException(key + " not declared");
        }
        return Optional.ofNullable(values.get(key));
    }

    @Override
    public String where(String key) {
        return given.containsKey(key) ? "test.yaml:1: stores.test." + key : "stores.test." + key + " (default)";
    }
}
