package io.mqdb.testing;

import io.mqdb.spi.Setting;
import io.mqdb.spi.StoreConfig;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * A {@link StoreConfig} for tests: the values given, defaulted from the provider's declared settings, as the runtime
 * would hand them after parsing YAML. Values must already be of the Java type of each setting's {@code SettingType}.
 */
public final class MapStoreConfig implements StoreConfig {
    private final String name;
    private final String type;
    private final Map<String, Setting> declared = new HashMap<>();
    private final Map<String, Object> given;

    /**
     * @param name the store's name
     * @param type the provider's type
     * @param settings the provider's declared settings
     * @param given the values written in the (imaginary) YAML
     * @throws IllegalArgumentException when a given key is not declared or a required one is missing
     */
    public MapStoreConfig(String name, String type, List<Setting> settings, Map<String, ?> given) {
        this.name = name;
        this.type = type;
        for (Setting s : settings) {
            declared.put(s.name(), s);
        }
        this.given = new HashMap<>(given);
        for (String k : given.keySet()) {
            if (!declared.containsKey(k)) {
                throw new IllegalArgumentException("stores." + name + "." + k + ": unknown setting");
            }
        }
        for (Setting s : settings) {
            if (s.required() && !given.containsKey(s.name())) {
                throw new IllegalArgumentException("stores." + name + "." + s.name() + ": required");
            }
        }
    }

    @Override
    public String name() {
        return name;
    }

    @Override
    public String type() {
        return type;
    }

    @Override
    public Optional<Object> value(String key) {
        Setting s = declared.get(key);
        if (s == null) {
            throw new IllegalArgumentException(key + " was not declared by the " + type + " provider");
        }
        Object v = given.get(key);
        return Optional.ofNullable(v != null ? v : s.defaultValue());
    }

    @Override
    public String where(String key) {
        return "stores." + name + "." + key + (given.containsKey(key) ? "" : " (default)");
    }
}
