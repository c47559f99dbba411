package io.mqdb.signing;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.GeneralSecurityException;
import java.security.KeyFactory;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.security.PrivateKey;
import java.security.PublicKey;
import java.security.spec.PKCS8EncodedKeySpec;
import java.security.spec.X509EncodedKeySpec;
import java.util.Arrays;
import java.util.Base64;
import java.util.EnumSet;
import java.util.HexFormat;
import java.util.Optional;
import java.util.Set;

/**
 * Ed25519 keys in the forms the config and {@code mqdb keygen} use: a private key as PKCS#8 PEM
 * ({@code -----BEGIN PRIVATE KEY-----}, what {@code openssl genpkey -algorithm ed25519} writes too), a public key as
 * base64 of its X.509 SubjectPublicKeyInfo (one line, for the trust list). Stateless; any thread. Messages never
 * contain key material.
 */
public final class Keys {
    /** The JDK's name of the signature algorithm. */
    public static final String ALGORITHM = "Ed25519";

    private Keys() {
    }

    /** @return a new key pair */
    public static KeyPair generate() {
        try {
            return KeyPairGenerator.getInstance(ALGORITHM).generateKeyPair();
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("this JVM has no " + ALGORITHM, e);
        }
    }

    /**
     * @param text a PKCS#8 PEM private key, or the base64 of its DER bytes
     * @return the key
     * @throws IllegalArgumentException when it is not an Ed25519 private key (the message holds no key material)
     */
    public static PrivateKey privateKey(String text) {
        byte[] der = der(text, "PRIVATE KEY");
        try {
            return KeyFactory.getInstance(ALGORITHM).generatePrivate(new PKCS8EncodedKeySpec(der));
        } catch (GeneralSecurityException | RuntimeException e) {
            throw new IllegalArgumentException("not an Ed25519 private key in PKCS#8 (PEM \"BEGIN PRIVATE KEY\"); "
                    + "make one with mqdb keygen");
        } finally {
            Arrays.fill(der, (byte) 0);
        }
    }

    /**
     * @param text base64 of an X.509 SubjectPublicKeyInfo, or the same in PEM ({@code BEGIN PUBLIC KEY})
     * @return the key
     * @throws IllegalArgumentException when it is not an Ed25519 public key
     */
    public static PublicKey publicKey(String text) {
        try {
            return KeyFactory.getInstance(ALGORITHM).generatePublic(new X509EncodedKeySpec(der(text, "PUBLIC KEY")));
        } catch (GeneralSecurityException | RuntimeException e) {
            throw new IllegalArgumentException("not an Ed25519 public key (base64 of X.509 SubjectPublicKeyInfo, as "
                    + "mqdb keygen prints it)");
        }
    }

    private static byte[] der(String text, String label) {
        String body = text.strip();
        if (body.startsWith("-----BEGIN " + label + "-----")) {
            int end = body.indexOf("-----END " + label + "-----");
            if (end < 0) {
                throw new IllegalArgumentException("PEM without its END line");
            }
            body = body.substring(("-----BEGIN " + label + "-----").length(), end);
        }
        return Base64.getMimeDecoder().decode(body.replaceAll("\\s", ""));
    }

    /** @return the key as PKCS#8 PEM */
    public static String pem(PrivateKey key) {
        String b64 = Base64.getMimeEncoder(64, "\n".getBytes(StandardCharsets.US_ASCII))
                .encodeToString(key.getEncoded());
        return "-----BEGIN PRIVATE KEY-----\n" + b64 + "\n-----END PRIVATE KEY-----\n";
    }

    /** @return the key as one line of base64 (X.509 SubjectPublicKeyInfo), as the trust list takes it */
    public static String text(PublicKey key) {
        return Base64.getEncoder().encodeToString(key.getEncoded());
    }

    /**
     * @param key a public key
     * @return its id: the first 8 bytes of SHA-256 over its X.509 encoding
     */
    public static byte[] keyId(PublicKey key) {
        try {
            return Arrays.copyOf(MessageDigest.getInstance("SHA-256").digest(key.getEncoded()),
                    Envelope.KEY_ID_BYTES);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    /**
     * @param file a private key's file
     * @return what is wrong with its permissions (others than its owner may read or write it), if anything; empty
     *     where the file system has no POSIX permissions
     */
    public static Optional<String> permissionProblem(Path file) {
        try {
            Set<PosixFilePermission> p = Files.getPosixFilePermissions(file);
            Set<PosixFilePermission> others = EnumSet.copyOf(p);
            others.removeAll(EnumSet.of(PosixFilePermission.OWNER_READ, PosixFilePermission.OWNER_WRITE));
            return others.isEmpty() ? Optional.empty() : Optional.of("has permissions "
                    + PosixFilePermissions.toString(p) + ": others than its owner may use it");
        } catch (UnsupportedOperationException | IOException e) {
            return Optional.empty();
        }
    }

    /** @return the key id in hex, for messages */
    public static String keyIdText(byte[] keyId) {
        return HexFormat.of().formatHex(keyId);
    }
}
