package io.mqdb.spi;

/** The type of a store setting, which decides how the runtime parses and checks it from YAML. */
public enum SettingType {
    /** Text; {@code ${env:NAME}} and {@code ${file:path}} are interpolated. Java value {@link String}. */
    STRING,
    /** A whole number that fits an int. Java value {@link Integer}. */
    INT,
    /** A whole number. Java value {@link Long}. */
    LONG,
    /** {@code true} or {@code false}. Java value {@link Boolean}. */
    BOOLEAN,
    /** A duration: a number of milliseconds, or a number with a unit {@code ms}, {@code s}, {@code m}, {@code h}.
     * Java value {@link java.time.Duration}. */
    DURATION,
    /** A file system path, relative paths resolved against the config file's folder. Java value
     * {@link java.nio.file.Path}. */
    PATH,
    /** A list of strings (a YAML sequence, or one string). Java value {@code List<String>}. */
    LIST,
    /** A mapping of strings to strings. Java value {@code Map<String, String>}. */
    MAP
}
