package io.mqdb.config;

import io.mqdb.spi.Setting;
import io.mqdb.spi.SettingType;
import io.mqdb.spi.StoreConfig;
import java.nio.file.InvalidPathException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;

/**
 * Phase 2 of configuration: checks one store's raw settings against the settings its provider declares
 * ({@link io.mqdb.spi.StoreProvider#settings()}) and turns them into the {@link StoreConfig} handed to
 * {@link io.mqdb.spi.StoreProvider#open}. Called by the runtime on the start-up thread, once per store, after
 * {@link ConfigLoader} and after it has found the store's provider; stateless, so any thread may call it.
 *
 * <p>Problems are appended to the caller's list so that all stores are checked before the runtime throws one
 * {@link ConfigException}. The value of a {@link Setting#secret() secret} setting never appears in a problem or in
 * the returned config's {@code toString()}.
 */
public final class StoreSettings {
    private StoreSettings() {
    }

    /**
     * Checks a store's settings: every key must be declared, every required one given, and every value convert to
     * its {@link SettingType} (PATHs resolved against {@code baseDir}); absent keys take their declared default.
     *
     * @param section the store as written
     * @param declared the provider's settings
     * @param baseDir the config file's folder ({@link NodeConfig#baseDir()}), for relative paths
     * @param problems where problems are appended, each naming file, line and {@code stores.<name>.<key>}
     * @return the checked settings; when problems were appended, the invalid ones are missing from it and the
     *     caller must not open the store
     */
    public static StoreConfig validate(StoreSection section, List<Setting> declared, Path baseDir,
                                       List<ConfigProblem> problems) {
        Objects.requireNonNull(section, "section");
        Objects.requireNonNull(baseDir, "baseDir");
        Objects.requireNonNull(problems, "problems");
        Map<String, Setting> byName = new LinkedHashMap<>();
        for (Setting s : declared) {
            byName.put(s.name(), s);
        }
        Map<String, Object> values = new HashMap<>();
        Map<String, String> where = new LinkedHashMap<>();
        for (RawSetting raw : section.settings().values()) {
            Setting setting = byName.get(raw.key());
            if (setting == null) {
                String suggestion = Values.suggest(raw.key(), byName.keySet())
                        .map(s -> "did you mean " + Values.quote(s) + "? ").orElse("");
                problems.add(new ConfigProblem(raw.location(), "unknown key " + Values.quote(raw.key())
                        + " for store type " + section.type() + "; " + suggestion + "known: "
                        + (byName.isEmpty() ? "none" : String.join(", ", byName.keySet()))));
                continue;
            }
            Object value = convert(setting, raw, baseDir, problems);
            if (value != null) {
                values.put(setting.name(), value);
            }
        }
        for (Setting s : byName.values()) {
            RawSetting raw = section.settings().get(s.name());
            Location keyAt = section.location().child(s.name());
            if (raw != null) {
                where.put(s.name(), raw.location().toString());
                continue;
            }
            where.put(s.name(), keyAt.key() + " (default)");
            if (s.required()) {
                problems.add(new ConfigProblem(keyAt, "required by store type " + section.type() + ", not given ("
                        + s.doc() + ")"));
            } else if (s.defaultValue() != null) {
                values.put(s.name(), defaultValue(s, baseDir));
            }
        }
        return new CheckedStoreConfig(section.name(), section.type(), values, where);
    }

    private static Object defaultValue(Setting s, Path baseDir) {
        Object v = s.defaultValue();
        if (s.type() == SettingType.PATH) {
            Path p = v instanceof Path path ? path : Path.of(v.toString());
            return baseDir.resolve(p).normalize();
        }
        return v;
    }

    /** @return the converted value, or null after appending a problem */
    private static Object convert(Setting s, RawSetting raw, Path baseDir, List<ConfigProblem> problems) {
        Object v = raw.value();
        SettingType type = s.type();
        if (type == SettingType.LIST) {
            if (v instanceof String text) {
                return List.of(text);
            }
            if (v instanceof List<?>) {
                return v;
            }
            return wrong(s, raw, "a list of strings", problems);
        }
        if (type == SettingType.MAP) {
            return v instanceof Map<?, ?> ? v : wrong(s, raw, "a mapping of strings", problems);
        }
        if (!(v instanceof String text)) {
            return wrong(s, raw, expected(type), problems);
        }
        Object out = switch (type) {
            case STRING -> text;
            case INT -> {
                Long n = Values.longValue(text);
                yield n != null && n >= Integer.MIN_VALUE && n <= Integer.MAX_VALUE ? Integer.valueOf(n.intValue())
                        : null;
            }
            case LONG -> Values.longValue(text);
            case BOOLEAN -> Values.bool(text);
            case DURATION -> Values.duration(text);
            case PATH -> path(text, baseDir);
            default -> throw new IllegalStateException("unhandled setting type " + type);
        };
        if (out != null && !s.inRange(out)) {
            problems.add(new ConfigProblem(raw.location(), "expected " + s.rangeText() + ", got "
                    + (s.secret() ? "a value out of range" : text)));
            return null;
        }
        return out != null ? out : wrong(s, raw, expected(type), problems);
    }

    private static Path path(String text, Path baseDir) {
        if (text.isBlank()) {
            return null;
        }
        try {
            return baseDir.resolve(text.strip()).normalize();
        } catch (InvalidPathException e) {
            return null;
        }
    }

    private static String expected(SettingType type) {
        return switch (type) {
            case STRING -> "a string";
            case INT -> "a whole number from " + Integer.MIN_VALUE + " to " + Integer.MAX_VALUE;
            case LONG -> "a whole number";
            case BOOLEAN -> "true or false";
            case DURATION -> Values.DURATION_FORMAT;
            case PATH -> "a path";
            case LIST -> "a list of strings";
            case MAP -> "a mapping of strings";
        };
    }

    private static Object wrong(Setting s, RawSetting raw, String expected, List<ConfigProblem> problems) {
        String got;
        if (raw.value() instanceof List<?>) {
            got = "a list";
        } else if (raw.value() instanceof Map<?, ?>) {
            got = "a mapping";
        } else {
            got = s.secret() ? "a value that is not shown (secret)" : Values.quote((String) raw.value());
        }
        problems.add(new ConfigProblem(raw.location(), "expected " + expected + ", got " + got));
        return null;
    }

    /** The {@link StoreConfig} handed to a provider; immutable. Its toString names the keys, never the values. */
    private record CheckedStoreConfig(String name, String type, Map<String, Object> values,
                                      Map<String, String> whereByKey) implements StoreConfig {
        CheckedStoreConfig {
            values = Collections.unmodifiableMap(new HashMap<>(values));
            whereByKey = Collections.unmodifiableMap(new LinkedHashMap<>(whereByKey));
        }

        @Override
        public Optional<Object> value(String key) {
            check(key);
            return Optional.ofNullable(values.get(key));
        }

        @Override
        public String where(String key) {
            check(key);
            return whereByKey.get(key);
        }

        private void check(String key) {
            if (!whereByKey.containsKey(key)) {
                throw new IllegalArgumentException("store " + name + " (type " + type + ") declares no setting "
                        + Values.quote(key) + "; declared: " + String.join(", ", new ArrayList<>(whereByKey.keySet())));
            }
        }

        @Override
        public String toString() {
            return "StoreConfig[" + name + ", type " + type + ", set: " + new ArrayList<>(values.keySet()) + "]";
        }
    }
}
