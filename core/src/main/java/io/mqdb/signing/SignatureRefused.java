package io.mqdb.signing;

import io.mqdb.spi.InvalidDataException;

/**
 * A node message whose signature does not hold: unsigned where one is required, malformed envelope, unknown signer,
 * wrong key, or a signature that does not verify. The message is the reason a dead letter or a log line carries; it
 * never holds key material.
 */
public final class SignatureRefused extends InvalidDataException {
    private static final long serialVersionUID = 1L;

    /** @param reason why the message is refused */
    public SignatureRefused(String reason) {
        super(reason);
    }
}
