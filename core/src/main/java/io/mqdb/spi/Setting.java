package io.mqdb.spi;

import java.util.Objects;

/**
 * The declaration of one store setting: its name, type, default, whether it is required or secret, and one line of
 * documentation. A provider lists its settings in {@link StoreProvider#settings()}; the runtime checks a store's
 * YAML against them before {@link StoreProvider#open}, reporting unknown keys, missing required keys and values of
 * the wrong type with file, line and key, and the adapter's documentation page lists them.
 *
 * @param name the key under the store in YAML, e.g. {@code url}
 * @param type how the value is parsed
 * @param defaultValue the value when the key is absent (of the Java type of {@code type}), or null for none
 * @param required whether the key must be given
 * @param secret whether the value must never be printed (passwords)
 * @param doc one line of documentation
 */
public record Setting(String name, SettingType type, Object defaultValue, boolean required, boolean secret,
                      String doc) {
    /** Checks the name and documentation. */
    public Setting {
        Objects.requireNonNull(name, "name");
        Objects.requireNonNull(type, "type");
        Objects.requireNonNull(doc, "doc");
        if (required && defaultValue != null) {
            throw new IllegalArgumentException(name + ": a required setting has no default");
        }
    }

    /**
     * @param name the key
     * @param type the type
     * @param defaultValue the default, or null
     * @param doc one line of documentation
     * @return an optional, non-secret setting
     */
    public static Setting optional(String name, SettingType type, Object defaultValue, String doc) {
        return new Setting(name, type, defaultValue, false, false, doc);
    }

    /**
     * @param name the key
     * @param type the type
     * @param doc one line of documentation
     * @return a required, non-secret setting
     */
    public static Setting required(String name, SettingType type, String doc) {
        return new Setting(name, type, null, true, false, doc);
    }

    /**
     * @param name the key
     * @param doc one line of documentation
     * @return an optional secret string setting without default (a password)
     */
    public static Setting secret(String name, String doc) {
        return new Setting(name, SettingType.STRING, null, false, true, doc);
    }
}
