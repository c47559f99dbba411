package io.mqdb.transport;

import java.nio.file.Path;
import java.util.Objects;
import java.util.Optional;

/**
 * TLS settings for {@code ssl://} broker URIs, read from PEM files (no key stores, no BouncyCastle).
 *
 * @param caFile PEM file of one or more CA certificates the broker's certificate must chain to; empty: the JVM's
 *     default trust store
 * @param certFile PEM file of the client certificate (chain) for mutual TLS; given together with {@code keyFile}
 * @param keyFile PEM file of the client's PKCS#8 private key ({@code BEGIN PRIVATE KEY} or
 *     {@code BEGIN ENCRYPTED PRIVATE KEY}); RSA, EC and EdDSA keys
 * @param keyPassword the password of an encrypted key; never logged
 * @param verifyHostname whether the broker's certificate must name the host of the URI (turn off only for tests)
 */
public record TlsOptions(Optional<Path> caFile, Optional<Path> certFile, Optional<Path> keyFile,
        Optional<String> keyPassword, boolean verifyHostname) {

    /** Validates that a client certificate comes with its key. */
    public TlsOptions {
        Objects.requireNonNull(caFile, "caFile");
        Objects.requireNonNull(certFile, "certFile");
        Objects.requireNonNull(keyFile, "keyFile");
        Objects.requireNonNull(keyPassword, "keyPassword");
        if (certFile.isPresent() != keyFile.isPresent()) {
            throw new IllegalArgumentException("tls: certFile and keyFile must be given together");
        }
    }

    /** @return TLS trusting the JVM's default CAs, verifying host names, without a client certificate */
    public static TlsOptions defaults() {
        return new TlsOptions(Optional.empty(), Optional.empty(), Optional.empty(), Optional.empty(), true);
    }

    @Override
    public String toString() {
        return "TlsOptions[caFile=" + caFile.orElse(null) + ", certFile=" + certFile.orElse(null) + ", keyFile="
                + keyFile.orElse(null) + ", keyPassword=" + (keyPassword.isPresent() ? "***" : "none")
                + ", verifyHostname=" + verifyHostname + "]";
    }
}
