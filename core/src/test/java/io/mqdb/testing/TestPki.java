package io.mqdb.testing;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * Throw-away certificates made by {@code openssl} at test time (RSA 2048, valid two days, PKCS#8 keys), in one
 * folder: {@link #ca} signs server certificates, {@link #clientCa} client certificates, and {@link #otherCa} is trusted
 * by nobody, each made on first use. Each method returns the PEM paths; the folder is the caller's (a
 * {@code @TempDir}). One thread at a time.
 */
public final class TestPki {
    private final Path dir;
    private final String openssl;

    /** A PEM certificate and its unencrypted PKCS#8 key. */
    public record Pair(Path cert, Path key) {}

    private TestPki(Path dir, String openssl) {
        this.dir = dir;
        this.openssl = openssl;
    }

    /**
     * @param dir the folder the files go in
     * @return the PKI, with {@link #ca} made
     * @throws org.opentest4j.TestAbortedException when openssl is not installed
     */
    public static TestPki create(Path dir) {
        Path openssl = ServerFixture.findBinary(List.of("openssl"), List.of())
                .orElseThrow(() -> ServerFixture.unavailable("openssl for test certificates", "MQDB_OPENSSL",
                        "openssl"));
        TestPki pki = new TestPki(dir, openssl.toString());
        pki.authority("ca");
        return pki;
    }

    /** @return the certificate of the CA {@code name}, made now unless it exists */
    private Path authority(String name) {
        Path cert = dir.resolve(name + ".crt");
        if (!Files.exists(cert)) {
            exec("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj", "/CN=mqdb-test-" + name,
                    "-keyout", name + ".key", "-out", name + ".crt");
        }
        return cert;
    }

    /** @return the CA of server certificates */
    public Path ca() {
        return dir.resolve("ca.crt");
    }

    /** @return the CA of client certificates */
    public Path clientCa() {
        return authority("client-ca");
    }

    /** @return a CA nobody trusts */
    public Path otherCa() {
        return authority("other-ca");
    }

    /**
     * @param name the file name stem and common name
     * @param signer {@code "ca"}, {@code "client-ca"} or {@code "other-ca"}
     * @param san the subjectAltName, e.g. {@code IP:127.0.0.1,DNS:localhost}, or null for none
     * @return the certificate and key
     */
    public Pair issue(String name, String signer, String san) {
        authority(signer);
        exec("req", "-newkey", "rsa:2048", "-nodes", "-subj", "/CN=" + name, "-keyout", name + ".key", "-out",
                name + ".csr");
        List<String> cmd = new ArrayList<>(List.of("x509", "-req", "-in", name + ".csr", "-CA", signer + ".crt",
                "-CAkey", signer + ".key", "-CAcreateserial", "-days", "2", "-out", name + ".crt"));
        if (san != null) {
            try {
                Files.writeString(dir.resolve(name + ".ext"), "subjectAltName=" + san + "\n");
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
            cmd.addAll(List.of("-extfile", name + ".ext"));
        }
        exec(cmd.toArray(String[]::new));
        return new Pair(dir.resolve(name + ".crt"), dir.resolve(name + ".key"));
    }

    /** @return a server certificate for 127.0.0.1 and localhost, signed by {@link #ca} */
    public Pair server() {
        return issue("server", "ca", "IP:127.0.0.1,DNS:localhost");
    }

    /**
     * @param key an unencrypted PKCS#8 key
     * @param password the pass phrase
     * @return a copy encrypted with it (PBES2, AES-256-CBC), next to the original
     */
    public Path encrypted(Path key, String password) {
        String out = key.getFileName().toString().replace(".key", "") + "-encrypted.key";
        exec("pkcs8", "-topk8", "-v2", "aes-256-cbc", "-in", key.getFileName().toString(), "-out", out,
                "-passout", "pass:" + password);
        return dir.resolve(out);
    }

    private void exec(String... args) {
        List<String> command = new ArrayList<>(List.of(openssl));
        command.addAll(List.of(args));
        Path log = dir.resolve("openssl.log");
        try {
            Process p = new ProcessBuilder(command).directory(dir.toFile()).redirectErrorStream(true)
                    .redirectOutput(log.toFile()).start();
            if (!p.waitFor(60, TimeUnit.SECONDS) || p.exitValue() != 0) {
                throw new IllegalStateException("openssl failed: " + command + ": " + Files.readString(log));
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted", e);
        }
    }
}
