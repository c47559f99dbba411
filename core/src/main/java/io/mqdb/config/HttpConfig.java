package io.mqdb.config;

import java.util.Objects;
import java.util.Optional;

/**
 * {@code node.http}: the node's HTTP listener for {@code /metrics} (Prometheus), {@code /health} and {@code /ready}
 * ({@code docs/operations.md}). Off unless the section is written. Checked at parse time: the port is 1 to 65535, and
 * a bind address beyond loopback needs a token. Immutable; {@link #toString()} never shows the token.
 *
 * @param bind the address to listen on; default {@value #DEFAULT_BIND}
 * @param port the TCP port; default {@value #DEFAULT_PORT}
 * @param token the bearer token every path but {@code /health} then requires ({@code Authorization: Bearer ...});
 *     required when {@code bind} is not a loopback address, optional otherwise
 * @param readyMaxLagEvents {@code ready-max-lag}: {@code /ready} answers 503 while a subscribed channel is more than
 *     this many events behind; default {@value #DEFAULT_READY_MAX_LAG}
 */
public record HttpConfig(String bind, int port, Optional<Secret> token, long readyMaxLagEvents) {
    /** The default bind address: loopback only. */
    public static final String DEFAULT_BIND = "127.0.0.1";
    /** The default port. */
    public static final int DEFAULT_PORT = 9464;
    /** The default {@code ready-max-lag}. */
    public static final long DEFAULT_READY_MAX_LAG = 1000;

    /** Rejects nulls. */
    public HttpConfig {
        Objects.requireNonNull(bind, "bind");
        Objects.requireNonNull(token, "token");
    }
}
