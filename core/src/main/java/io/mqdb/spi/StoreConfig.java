package io.mqdb.spi;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * The checked settings of one configured store, handed to {@link StoreProvider#open}. Every key the provider declared
 * in {@link StoreProvider#settings()} has been parsed to its type and defaulted; unknown keys were rejected before.
 * Immutable, any thread.
 */
public interface StoreConfig {

    /** @return the store's name in the node's config (the key under {@code stores:}) */
    String name();

    /** @return the store's type, the {@link StoreProvider#type()} that opened it */
    String type();

    /**
     * @param key a declared setting
     * @return its value (given or default) as the Java type of its {@link SettingType}, or empty when neither given
     *     nor defaulted
     * @throws IllegalArgumentException when the key was not declared by the provider
     */
    Optional<Object> value(String key);

    /**
     * Where a setting was written, for error messages about its value that only the adapter can detect (a refused
     * password, an unknown database).
     *
     * @param key a declared setting
     * @return {@code file:line: stores.NAME.KEY}, or {@code stores.NAME.KEY (default)} when not written
     */
    String where(String key);

    /**
     * @param key a declared {@link SettingType#STRING} setting
     * @return its value, or empty
     */
    default Optional<String> string(String key) {
        return value(key).map(String.class::cast);
    }

    /**
     * @param key a declared {@link SettingType#INT} setting with a default or required
     * @return its value
     */
    default int intValue(String key) {
        return (Integer) value(key).orElseThrow(() -> new IllegalStateException(key + " has no value"));
    }

    /**
     * @param key a declared {@link SettingType#LONG} setting with a default or required
     * @return its value
     */
    default long longValue(String key) {
        return (Long) value(key).orElseThrow(() -> new IllegalStateException(key + " has no value"));
    }

    /**
     * @param key a declared {@link SettingType#BOOLEAN} setting with a default or required
     * @return its value
     */
    default boolean bool(String key) {
        return (Boolean) value(key).orElseThrow(() -> new IllegalStateException(key + " has no value"));
    }

    /**
     * @param key a declared {@link SettingType#DURATION} setting with a default or required
     * @return its value
     */
    default Duration duration(String key) {
        return (Duration) value(key).orElseThrow(() -> new IllegalStateException(key + " has no value"));
    }

    /**
     * @param key a declared {@link SettingType#PATH} setting
     * @return its value, or empty
     */
    default Optional<Path> path(String key) {
        return value(key).map(Path.class::cast);
    }

    /**
     * @param key a declared {@link SettingType#LIST} setting
     * @return its value, empty list when absent
     */
    @SuppressWarnings("unchecked")
    default List<String> list(String key) {
        return value(key).map(v -> (List<String>) v).orElse(List.of());
    }

    /**
     * @param key a declared {@link SettingType#MAP} setting
     * @return its value, empty map when absent
     */
    @SuppressWarnings("unchecked")
    default Map<String, String> map(String key) {
        return value(key).map(v -> (Map<String, String>) v).orElse(Map.of());
    }
}
