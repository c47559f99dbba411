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
 * @param min the smallest value allowed: for {@link SettingType#INT} and {@link SettingType#LONG} the number, for
 *     {@link SettingType#DURATION} milliseconds; {@link Long#MIN_VALUE} when unbounded (see {@link #withRange})
 * @param max the largest value allowed, alike; {@link Long#MAX_VALUE} when unbounded
 */
public record Setting(String name, SettingType type, Object defaultValue, boolean required, boolean secret,
                      String doc, long min, long max) {
    /** Checks the name, the documentation, the range and that the default lies in it. */
    public Setting {
        Objects.requireNonNull(name, "name");
        Objects.requireNonNull(type, "type");
        Objects.requireNonNull(doc, "doc");
        if (required && defaultValue != null) {
            throw new IllegalArgumentException(name + ": a required setting has no default");
        }
        if (min > max) {
            throw new IllegalArgumentException(name + ": min " + min + " is above max " + max);
        }
        boolean ranged = min != Long.MIN_VALUE || max != Long.MAX_VALUE;
        if (ranged && type != SettingType.INT && type != SettingType.LONG && type != SettingType.DURATION) {
            throw new IllegalArgumentException(name + ": only numbers and durations have a range");
        }
        if (defaultValue != null && ranged && !inRange(defaultValue, min, max)) {
            throw new IllegalArgumentException(name + ": the default " + defaultValue + " is out of its range");
        }
    }

    /** A setting without a range. */
    public Setting(String name, SettingType type, Object defaultValue, boolean required, boolean secret,
            String doc) {
        this(name, type, defaultValue, required, secret, doc, Long.MIN_VALUE, Long.MAX_VALUE);
    }

    /**
     * @param lowest the smallest value allowed (milliseconds for a duration)
     * @param highest the largest value allowed (milliseconds for a duration)
     * @return a copy that the runtime refuses outside {@code lowest..highest}, with file, line and key
     */
    public Setting withRange(long lowest, long highest) {
        return new Setting(name, type, defaultValue, required, secret, doc, lowest, highest);
    }

    /** @return whether a value of this setting's Java type lies in the range */
    public boolean inRange(Object value) {
        return inRange(value, min, max);
    }

    private static boolean inRange(Object value, long min, long max) {
        long n;
        if (value instanceof Number x) {
            n = x.longValue();
        } else if (value instanceof java.time.Duration d) {
            n = d.toMillis();
        } else {
            return true;
        }
        return n >= min && n <= max;
    }

    /** @return the range for messages, e.g. {@code 1 to 1000} or {@code 1ms to 600000ms}; empty when unbounded */
    public String rangeText() {
        if (min == Long.MIN_VALUE && max == Long.MAX_VALUE) {
            return "";
        }
        String unit = type == SettingType.DURATION ? "ms" : "";
        return (min == Long.MIN_VALUE ? "at most " + max + unit : max == Long.MAX_VALUE ? "at least " + min + unit
                : min + unit + " to " + max + unit);
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
