package io.mqdb.config;

import java.nio.file.Path;
import java.util.Objects;
import java.util.Optional;

/**
 * The {@code broker.tls:} section: the files the MQTT client uses for TLS connections. Read by the transport on the
 * start-up thread; immutable. Files given in the config existed when it was loaded.
 *
 * @param caFile PEM certificates of the authorities to trust, absolute; empty for the JVM's trust store
 * @param certFile the client's PEM certificate chain, absolute; given together with {@code keyFile}
 * @param keyFile the client's PEM private key, absolute
 * @param keyPassword the pass phrase of the private key, or empty when it is not encrypted
 * @param verifyHostname whether the broker's certificate must name the host connected to; default true
 */
public record TlsConfig(Optional<Path> caFile, Optional<Path> certFile, Optional<Path> keyFile,
                        Optional<Secret> keyPassword, boolean verifyHostname) {
    /** Rejects nulls. */
    public TlsConfig {
        Objects.requireNonNull(caFile, "caFile");
        Objects.requireNonNull(certFile, "certFile");
        Objects.requireNonNull(keyFile, "keyFile");
        Objects.requireNonNull(keyPassword, "keyPassword");
    }
}
