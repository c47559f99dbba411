package io.mqdb.config;

import java.nio.file.Path;
import java.util.Locale;
import java.util.Objects;
import java.util.Optional;

/**
 * The {@code broker.embedded.tls:} section: a TLS listener of the embedded broker, from PEM files. Read by the broker
 * module on the start-up thread; immutable. Files given in the config existed and parsed when it was loaded, and the
 * key matched the certificate.
 *
 * @param bindAddress the address the TLS listener binds to; default the embedded broker's {@code bind}
 * @param port the TLS port; default {@value #DEFAULT_PORT}
 * @param certFile the broker's PEM certificate chain, absolute
 * @param keyFile the broker's PEM (PKCS#8) private key, absolute
 * @param keyPassword the pass phrase of an encrypted key; never logged
 * @param clientCaFile PEM certificates of the authorities whose client certificates are accepted; needed unless
 *     {@code clientAuth} is {@link ClientAuth#NONE}
 * @param clientAuth whether clients must present a certificate; default {@link ClientAuth#NONE}
 */
public record EmbeddedTlsConfig(String bindAddress, int port, Path certFile, Path keyFile,
        Optional<Secret> keyPassword, Optional<Path> clientCaFile, ClientAuth clientAuth) {
    /** The TLS port by default, MQTT's registered port for TLS. */
    public static final int DEFAULT_PORT = 8883;

    /** Whether the TLS listener asks clients for a certificate. */
    public enum ClientAuth {
        /** No client certificate is asked for. The default. */
        NONE,
        /** A client may present a certificate; if it does, it must chain to the client CA. */
        OPTIONAL,
        /** A client without a certificate of the client CA is refused in the TLS handshake. */
        REQUIRED;

        /** @return the setting's spelling: {@code none}, {@code optional} or {@code required} */
        public String text() {
            return name().toLowerCase(Locale.ROOT);
        }
    }

    /** Rejects nulls, a port out of range and client authentication without a client CA. */
    public EmbeddedTlsConfig {
        Objects.requireNonNull(bindAddress, "bindAddress");
        Objects.requireNonNull(certFile, "certFile");
        Objects.requireNonNull(keyFile, "keyFile");
        Objects.requireNonNull(keyPassword, "keyPassword");
        Objects.requireNonNull(clientCaFile, "clientCaFile");
        Objects.requireNonNull(clientAuth, "clientAuth");
        if (port < 1 || port > 65_535) {
            throw new IllegalArgumentException("embedded broker tls: port must be 1..65535, got " + port);
        }
        if (clientAuth != ClientAuth.NONE && clientCaFile.isEmpty()) {
            throw new IllegalArgumentException("embedded broker tls: client-auth " + clientAuth.text()
                    + " needs a client-ca-file");
        }
    }

    @Override
    public String toString() {
        return "EmbeddedTlsConfig[" + bindAddress + ":" + port + ", certFile=" + certFile + ", keyFile=" + keyFile
                + ", keyPassword=" + (keyPassword.isPresent() ? "***" : "none") + ", clientCaFile="
                + clientCaFile.orElse(null) + ", clientAuth=" + clientAuth.text() + "]";
    }
}
