package io.mqdb.config;

import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * One adapter setting as written under a store, after {@code ${env:...}} and {@code ${file:...}} interpolation but
 * before it is checked against the adapter's declared type (that is {@link StoreSettings#validate}). Immutable.
 * {@link #toString()} leaves the value out, since only the adapter knows whether it is a secret.
 *
 * @param key the key under the store
 * @param value a {@code String} (a scalar), a {@code List<String>} (a sequence of scalars) or a
 *     {@code Map<String, String>} (a mapping of scalars, in the order written)
 * @param location where the key is written, key path {@code stores.<name>.<key>}
 */
public record RawSetting(String key, Object value, Location location) {
    /** Rejects nulls and other value types; copies lists and maps. */
    public RawSetting {
        Objects.requireNonNull(key, "key");
        Objects.requireNonNull(value, "value");
        Objects.requireNonNull(location, "location");
        if (value instanceof List<?> list) {
            for (Object o : list) {
                if (!(o instanceof String)) {
                    throw new IllegalArgumentException(key + ": a list setting holds strings only");
                }
            }
            value = List.copyOf(list);
        } else if (value instanceof Map<?, ?> map) {
            for (Map.Entry<?, ?> e : map.entrySet()) {
                if (!(e.getKey() instanceof String) || !(e.getValue() instanceof String)) {
                    throw new IllegalArgumentException(key + ": a map setting holds strings only");
                }
            }
            value = Collections.unmodifiableMap(new LinkedHashMap<>(map));
        } else if (!(value instanceof String)) {
            throw new IllegalArgumentException(key + ": expected a String, List or Map, got " + value.getClass());
        }
    }

    /** @return the key and where it is written, never the value */
    @Override
    public String toString() {
        return "RawSetting[" + location + "]";
    }
}
