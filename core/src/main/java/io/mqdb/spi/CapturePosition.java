package io.mqdb.spi;

import java.util.Objects;

/**
 * A position in a store's stream of captured changes. Opaque to the runtime, which only stores it (durably, in the
 * node's state) and hands it back to {@link ChangeCapture#poll} after a restart; the store defines what the token
 * means (a change-log id, a log sequence number, a composite of several).
 *
 * @param token the store's encoding of the position; short, printable
 */
public record CapturePosition(String token) {
    /** Rejects null. */
    public CapturePosition {
        Objects.requireNonNull(token, "token");
    }

    @Override
    public String toString() {
        return token;
    }
}
