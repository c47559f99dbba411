package io.mqdb.config;

import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;

/**
 * One entry of {@code stores:} as written: its name, its adapter type and its adapter settings, not yet checked.
 * The runtime finds the provider of {@link #type()} and hands this to {@link StoreSettings#validate}. Immutable.
 *
 * @param name the store's name, {@code [A-Za-z0-9_-]+}; channels refer to it
 * @param type the adapter type ({@code mapdb}, {@code jdbc}, ...); not checked against the installed adapters here
 * @param location where the store is written: the line of its name, key {@code stores.<name>}
 * @param settings every key of the store but {@code type}, in the order written
 * @param typeLocation where {@code type} is written, key {@code stores.<name>.type}
 */
public record StoreSection(String name, String type, Location location, Map<String, RawSetting> settings,
                           Location typeLocation) {
    /** Rejects nulls; copies the settings, keeping their order. */
    public StoreSection {
        Objects.requireNonNull(name, "name");
        Objects.requireNonNull(type, "type");
        Objects.requireNonNull(location, "location");
        settings = Collections.unmodifiableMap(new LinkedHashMap<>(settings));
    }
}
