package io.mqdb.config;

import java.util.Objects;

/**
 * One thing wrong in a config file, with where it is. Collected by {@link ConfigLoader} and
 * {@link StoreSettings#validate}, thrown together in one {@link ConfigException}. Messages never contain the value of
 * a secret. Immutable.
 *
 * @param location file, line and key path
 * @param message what is wrong, fit for a user, e.g. {@code expected schema:table, got "orders"}
 */
public record ConfigProblem(Location location, String message) {
    /** Rejects nulls. */
    public ConfigProblem {
        Objects.requireNonNull(location, "location");
        Objects.requireNonNull(message, "message");
    }

    /** @return {@code mqdb.yaml:14: channels[2].name: expected schema:table, got "orders"} */
    @Override
    public String toString() {
        return location + ": " + message;
    }
}
