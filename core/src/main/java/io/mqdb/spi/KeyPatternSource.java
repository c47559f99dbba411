package io.mqdb.spi;

import java.util.Objects;

/**
 * A key pattern a channel's transform names for its table ({@code transform.key}), with where it was written, for the
 * store's messages. Handed to a store through {@link StoreContext#keyPatterns()}; immutable.
 *
 * @param pattern the pattern as written, in the store's syntax (Redis: {@code order:{id}})
 * @param where file, line and key of the pattern, e.g. {@code mqdb.yaml:14: channels[0].transform.key}
 */
public record KeyPatternSource(String pattern, String where) {
    /** Rejects nulls. */
    public KeyPatternSource {
        Objects.requireNonNull(pattern, "pattern");
        Objects.requireNonNull(where, "where");
    }
}
