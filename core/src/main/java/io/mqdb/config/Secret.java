package io.mqdb.config;

import java.util.Objects;

/**
 * A value that must never be printed: a password, a key's pass phrase. {@link #toString()} hides it, so a record
 * holding a secret can be logged. Immutable.
 *
 * @param value the secret itself; pass it only to the code that needs it (the MQTT client's connect options)
 */
public record Secret(String value) {
    /** Rejects null. */
    public Secret {
        Objects.requireNonNull(value, "value");
    }

    /** @return {@code ****}, whatever the value */
    @Override
    public String toString() {
        return "****";
    }
}
