package io.mqdb.spi;

import java.util.Objects;

/**
 * A JSON document: the Java value of {@link ColumnType#JSON}. It holds the document's text as given; adapters store it
 * in the store's JSON type where there is one (PostgreSQL {@code jsonb} normalises white space and key order, which is
 * why the contract compares JSON documents by meaning, not by text).
 *
 * @param text the JSON text, never null
 */
public record Json(String text) {
    /** Rejects null; the text is not parsed here. */
    public Json {
        Objects.requireNonNull(text, "text");
    }

    /** @return the JSON text */
    @Override
    public String toString() {
        return text;
    }
}
