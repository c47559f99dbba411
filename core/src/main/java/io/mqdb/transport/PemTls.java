package io.mqdb.transport;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyFactory;
import java.security.KeyStore;
import java.security.PrivateKey;
import java.security.cert.Certificate;
import java.security.cert.CertificateFactory;
import java.security.spec.PKCS8EncodedKeySpec;
import java.util.ArrayList;
import java.util.Base64;
import java.util.Collection;
import java.util.List;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import javax.crypto.Cipher;
import javax.crypto.EncryptedPrivateKeyInfo;
import javax.crypto.SecretKeyFactory;
import javax.crypto.spec.PBEKeySpec;
import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLSocketFactory;
import javax.net.ssl.TrustManagerFactory;

/**
 * TLS material from PEM files with the JDK alone: CA → trust managers, cert + key → key managers; and an
 * {@link SSLSocketFactory} of both for Paho. The HiveMQ client takes the manager factories; the embedded broker's TLS
 * listener takes key stores made by {@link #keyStore} and {@link #trustStore}. Internal to core (public only for the
 * broker and config packages).
 */
public final class PemTls {
    private static final Pattern BLOCK =
            Pattern.compile("-----BEGIN ([A-Z ]+)-----([A-Za-z0-9+/=\\s]+)-----END \\1-----");
    private static final char[] STORE_PASSWORD = new char[0];

    private PemTls() {}

    /**
     * @param tls the PEM files
     * @return a TLS socket factory (without TCP_NODELAY; see {@link NoDelaySocketFactory})
     * @throws IllegalArgumentException naming the file when one cannot be read or parsed
     */
    public static SSLSocketFactory socketFactory(TlsOptions tls) {
        try {
            SSLContext ctx = SSLContext.getInstance("TLS");
            ctx.init(keyManagers(tls).map(KeyManagerFactory::getKeyManagers).orElse(null),
                    trustManagers(tls).map(TrustManagerFactory::getTrustManagers).orElse(null), null);
            return ctx.getSocketFactory();
        } catch (GeneralSecurityException e) {
            throw new IllegalArgumentException("tls: cannot build the TLS context from " + tls + ": " + e, e);
        }
    }

    /**
     * @param tls the PEM files
     * @return trust managers for the CA file, or empty for the JVM's default trust store
     * @throws IllegalArgumentException naming the file when it cannot be read or parsed
     */
    static Optional<TrustManagerFactory> trustManagers(TlsOptions tls) {
        if (tls.caFile().isEmpty()) {
            return Optional.empty();
        }
        try {
            KeyStore trust = trustStore(tls.caFile().get());
            TrustManagerFactory tmf = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
            tmf.init(trust);
            return Optional.of(tmf);
        } catch (GeneralSecurityException e) {
            throw new IllegalArgumentException("tls: cannot build trust managers from " + tls.caFile().get() + ": "
                    + e, e);
        }
    }

    /**
     * @param tls the PEM files
     * @return key managers holding the client certificate and key, or empty when there is no client certificate
     * @throws IllegalArgumentException naming the file when one cannot be read or parsed
     */
    static Optional<KeyManagerFactory> keyManagers(TlsOptions tls) {
        if (tls.certFile().isEmpty() || tls.keyFile().isEmpty()) {
            return Optional.empty();
        }
        try {
            KeyStore keys = keyStore(tls.certFile().get(), tls.keyFile().get(), tls.keyPassword().orElse(null),
                    STORE_PASSWORD);
            KeyManagerFactory kmf = KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
            kmf.init(keys, STORE_PASSWORD);
            return Optional.of(kmf);
        } catch (GeneralSecurityException e) {
            throw new IllegalArgumentException("tls: cannot build key managers from " + tls.certFile().get()
                    + " and " + tls.keyFile().get() + ": " + e, e);
        }
    }

    /**
     * @param caFile PEM certificates of the authorities to trust
     * @return a key store (the JVM's default type, PKCS12) holding them as trusted entries
     * @throws IllegalArgumentException naming the file when it cannot be read or parsed
     */
    public static KeyStore trustStore(Path caFile) {
        try {
            KeyStore trust = KeyStore.getInstance(KeyStore.getDefaultType());
            trust.load(null, null);
            int i = 0;
            for (Certificate c : certificates(caFile)) {
                trust.setCertificateEntry("ca-" + i++, c);
            }
            return trust;
        } catch (GeneralSecurityException | IOException e) {
            throw new IllegalArgumentException("tls: cannot build a trust store from " + caFile + ": " + e, e);
        }
    }

    /**
     * @param certFile the PEM certificate chain, the holder's own certificate first
     * @param keyFile its PEM (PKCS#8) private key
     * @param keyPassword the pass phrase of an encrypted key, or null
     * @param entryPassword the password of the key entry in the store
     * @return a key store (the JVM's default type, PKCS12) with one key entry, {@code "key"}
     * @throws IllegalArgumentException naming the files when one cannot be read or parsed, or the key is not the
     *     certificate's
     */
    public static KeyStore keyStore(Path certFile, Path keyFile, String keyPassword, char[] entryPassword) {
        List<Certificate> chain = certificates(certFile);
        PrivateKey key = privateKey(keyFile, keyPassword);
        if (!matches(key, chain.get(0))) {
            throw new IllegalArgumentException("tls: the key in " + keyFile + " is not the key of the certificate in "
                    + certFile);
        }
        try {
            KeyStore keys = KeyStore.getInstance(KeyStore.getDefaultType());
            keys.load(null, null);
            keys.setKeyEntry("key", key, entryPassword, chain.toArray(Certificate[]::new));
            return keys;
        } catch (GeneralSecurityException | IOException e) {
            throw new IllegalArgumentException("tls: cannot build a key store from " + certFile + " and " + keyFile
                    + ": " + e, e);
        }
    }

    /** @return whether {@code key} signs what the certificate's public key verifies */
    private static boolean matches(PrivateKey key, Certificate cert) {
        String alg = switch (key.getAlgorithm()) {
            case "RSA" -> "SHA256withRSA";
            case "EC" -> "SHA256withECDSA";
            case "EdDSA", "Ed25519" -> "Ed25519";
            case "Ed448" -> "Ed448";
            default -> null;
        };
        if (alg == null) {
            return true; // cannot check (e.g. RSASSA-PSS, XDH): the TLS handshake will tell
        }
        try {
            byte[] probe = "mqdb key check".getBytes(StandardCharsets.US_ASCII);
            java.security.Signature s = java.security.Signature.getInstance(alg);
            s.initSign(key);
            s.update(probe);
            byte[] sig = s.sign();
            java.security.Signature v = java.security.Signature.getInstance(alg);
            v.initVerify(cert.getPublicKey());
            v.update(probe);
            return v.verify(sig);
        } catch (GeneralSecurityException e) {
            return false;
        }
    }

    /**
     * @param file a PEM file of one or more certificates
     * @return them, in file order
     * @throws IllegalArgumentException naming the file when it cannot be read or holds no certificate
     */
    public static List<Certificate> certificates(Path file) {
        try {
            CertificateFactory cf = CertificateFactory.getInstance("X.509");
            Collection<? extends Certificate> certs =
                    cf.generateCertificates(new ByteArrayInputStream(Files.readAllBytes(file)));
            if (certs.isEmpty()) {
                throw new IllegalArgumentException("tls: no certificate in " + file);
            }
            return new ArrayList<>(certs);
        } catch (IOException | GeneralSecurityException e) {
            throw new IllegalArgumentException("tls: cannot read certificates from " + file + ": " + e, e);
        }
    }

    /**
     * @param file a PEM file with a PKCS#8 private key, plain or encrypted
     * @param password the pass phrase of an encrypted key, or null
     * @return the key
     * @throws IllegalArgumentException naming the file when it cannot be read or decrypted
     */
    public static PrivateKey privateKey(Path file, String password) {
        String pem;
        try {
            pem = Files.readString(file, StandardCharsets.US_ASCII);
        } catch (IOException e) {
            throw new IllegalArgumentException("tls: cannot read key " + file + ": " + e, e);
        }
        Matcher m = BLOCK.matcher(pem);
        while (m.find()) {
            String type = m.group(1);
            byte[] der = Base64.getMimeDecoder().decode(m.group(2));
            try {
                switch (type) {
                    case "PRIVATE KEY":
                        return anyAlgorithm(new PKCS8EncodedKeySpec(der), file);
                    case "ENCRYPTED PRIVATE KEY":
                        if (password == null) {
                            throw new IllegalArgumentException("tls: " + file + " is encrypted; keyPassword is needed");
                        }
                        return anyAlgorithm(decrypt(der, password), file);
                    case "RSA PRIVATE KEY":
                    case "EC PRIVATE KEY":
                        throw new IllegalArgumentException("tls: " + file + " holds a PKCS#1/SEC1 key (" + type
                                + "); convert it: openssl pkcs8 -topk8 -nocrypt -in key.pem -out key.pk8.pem");
                    default:
                        // e.g. EC PARAMETERS before the key: skip
                }
            } catch (GeneralSecurityException | IOException e) {
                throw new IllegalArgumentException("tls: cannot read key " + file + ": " + e, e);
            }
        }
        throw new IllegalArgumentException("tls: no PKCS#8 private key in " + file);
    }

    private static PKCS8EncodedKeySpec decrypt(byte[] der, String password)
            throws GeneralSecurityException, IOException {
        EncryptedPrivateKeyInfo info = new EncryptedPrivateKeyInfo(der);
        // For PBES2 getAlgName() is an OID the JDK cannot look up; the parameters name the real algorithm.
        String alg = info.getAlgParameters() != null ? info.getAlgParameters().toString() : info.getAlgName();
        SecretKeyFactory skf = SecretKeyFactory.getInstance(alg);
        Cipher cipher = Cipher.getInstance(alg);
        cipher.init(Cipher.DECRYPT_MODE, skf.generateSecret(new PBEKeySpec(password.toCharArray())),
                info.getAlgParameters());
        return info.getKeySpec(cipher);
    }

    private static PrivateKey anyAlgorithm(PKCS8EncodedKeySpec spec, Path file) {
        for (String alg : List.of("RSA", "EC", "EdDSA", "RSASSA-PSS", "XDH")) {
            try {
                return KeyFactory.getInstance(alg).generatePrivate(spec);
            } catch (GeneralSecurityException ignored) {
                // try the next algorithm
            }
        }
        throw new IllegalArgumentException("tls: " + file + ": key algorithm not RSA, EC or EdDSA");
    }
}
