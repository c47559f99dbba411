package io.mqdb.config;

import java.nio.file.Path;
import java.util.Objects;

/**
 * Where a value was written in a config file: the file, the 1-based line and the key path ({@code channels[2].name},
 * {@code stores.local.file}; sequence indexes count from 0). Used in every {@link ConfigProblem} and by
 * {@link io.mqdb.spi.StoreConfig#where}. Immutable.
 *
 * @param file the config file
 * @param line the 1-based line, or 0 when the problem concerns the file as a whole (it is missing)
 * @param key the key path, or an empty string for the file as a whole
 */
public record Location(Path file, int line, String key) {
    /** Rejects nulls and negative lines. */
    public Location {
        Objects.requireNonNull(file, "file");
        Objects.requireNonNull(key, "key");
        if (line < 0) {
            throw new IllegalArgumentException("line " + line + " < 0");
        }
    }

    /**
     * For problems about a key below this one that has no line of its own (a missing key, a store's {@code type}).
     *
     * @param child a key below this one ({@code name}) or an index ({@code [2]})
     * @return the location of the same line with the longer key path
     */
    public Location child(String child) {
        return new Location(file, line, ConfigPaths.join(key, child));
    }

    /**
     * @param newLine another line of the same file
     * @return this key path on that line
     */
    Location atLine(int newLine) {
        return new Location(file, newLine, key);
    }

    /** @return {@code mqdb.yaml:14: channels[2].name}: the file name only, the line, the key path if any */
    @Override
    public String toString() {
        Path name = file.getFileName();
        String text = (name == null ? file.toString() : name.toString()) + ":" + line;
        return key.isEmpty() ? text : text + ": " + key;
    }
}
