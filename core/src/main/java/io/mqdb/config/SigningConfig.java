package io.mqdb.config;

import io.mqdb.signing.TrustList;
import java.nio.file.Path;
import java.security.PrivateKey;
import java.util.Objects;
import java.util.Optional;

/**
 * {@code node.signing}: this node's Ed25519 private key and the cluster's trust list. When present, the node signs
 * every batch, position, resend request and targeted snapshot it publishes, and applies or acts on such messages only
 * when their signature verifies and the signer is the origin they claim (see {@code docs/security.md}). Checked at
 * parse time: the key parses, every trusted key parses, and the trust list holds this node's public key. Immutable;
 * {@link #toString()} never shows the private key.
 *
 * @param privateKey this node's private key (from {@code key}, a secret, or {@code key-file})
 * @param trust per node, the public keys whose signatures count as that node's
 * @param keyFile the file the private key was read from, when known ({@code key-file}, or {@code key: ${file:...}}):
 *     the node warns at start-up when others than its owner may read it
 */
public record SigningConfig(PrivateKey privateKey, TrustList trust, Optional<Path> keyFile) {
    /** Rejects nulls. */
    public SigningConfig {
        Objects.requireNonNull(privateKey, "privateKey");
        Objects.requireNonNull(trust, "trust");
        Objects.requireNonNull(keyFile, "keyFile");
    }

    @Override
    public String toString() {
        return "SigningConfig[privateKey=****, trust=" + trust.size() + " node(s), keyFile=" + keyFile + "]";
    }
}
