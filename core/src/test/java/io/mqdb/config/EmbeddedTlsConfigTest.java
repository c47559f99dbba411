package io.mqdb.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import io.mqdb.config.EmbeddedTlsConfig.ClientAuth;
import io.mqdb.testing.TestPki;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code broker.embedded.tls} and {@code plain}: defaults, and every problem reported with file, line and key. */
class EmbeddedTlsConfigTest {
    private static final Path FILE = Path.of("/etc/mqdb/mqdb.yaml");
    @TempDir
    static Path dir;
    private static TestPki pki;
    private static TestPki.Pair server;
    private static TestPki.Pair other;

    @BeforeAll
    static void certificates() {
        pki = TestPki.create(dir);
        server = pki.server();
        other = pki.issue("other", "ca", "DNS:localhost");
    }

    private static NodeConfig parse(String yaml, Map<String, String> env) {
        return ConfigLoader.parse(yaml, FILE, env);
    }

    private static List<String> lines(String yaml) {
        ConfigException e = catchThrowableOfType(() -> ConfigLoader.parse(yaml, FILE, Map.of()),
                ConfigException.class);
        assertThat(e).as("expected a ConfigException").isNotNull();
        return e.problems().stream().map(ConfigProblem::toString).toList();
    }

    @Test
    void aTlsListenerGetsPort8883TheBrokersBindAndNoClientCertificates() {
        EmbeddedBrokerConfig e = parse("""
                node: {name: a}
                broker:
                  embedded:
                    bind: 127.0.0.2
                    tls: { cert-file: %s, key-file: %s }
                """.formatted(server.cert(), server.key()), Map.of()).broker().embedded().orElseThrow();
        EmbeddedTlsConfig t = e.tls().orElseThrow();
        assertThat(t.port()).isEqualTo(EmbeddedTlsConfig.DEFAULT_PORT).isEqualTo(8883);
        assertThat(t.bindAddress()).isEqualTo("127.0.0.2");
        assertThat(t.clientAuth()).isEqualTo(ClientAuth.NONE);
        assertThat(t.clientCaFile()).isEmpty();
        assertThat(e.plain()).isTrue();
        assertThat(e.plainBindAddress()).isEqualTo("127.0.0.2");
        assertThat(parse("node: {name: a}\n", Map.of()).broker().embedded().orElseThrow().tls()).isEmpty();
    }

    @Test
    void anEncryptedKeyTakesItsPassPhraseFromTheEnvironmentAndPlainFalseKeepsThePlainListenerOnLoopback() {
        Path encrypted = pki.encrypted(server.key(), "s3cret");
        EmbeddedBrokerConfig e = parse("""
                node: {name: a}
                broker:
                  embedded:
                    bind: 0.0.0.0
                    plain: false
                    users: { b: { password: pw } }
                    tls:
                      port: 18883
                      cert-file: %s
                      key-file: %s
                      key-password: ${env:KEY_PW}
                      client-ca-file: %s
                      client-auth: required
                """.formatted(server.cert(), encrypted, pki.clientCa()), Map.of("KEY_PW", "s3cret")).broker()
                .embedded().orElseThrow();
        EmbeddedTlsConfig t = e.tls().orElseThrow();
        assertThat(t.port()).isEqualTo(18883);
        assertThat(t.bindAddress()).isEqualTo("0.0.0.0");
        assertThat(t.clientAuth()).isEqualTo(ClientAuth.REQUIRED);
        assertThat(t.keyPassword().map(Secret::value)).contains("s3cret");
        assertThat(t.toString()).doesNotContain("s3cret");
        assertThat(e.plain()).isFalse();
        assertThat(e.plainBindAddress()).isEqualTo("127.0.0.1");
        assertThat(e.plainBesideRemoteTls()).isFalse();
    }

    @Test
    void aPlainListenerBesideARemoteTlsOneIsFlagged() {
        EmbeddedBrokerConfig e = parse("""
                node: {name: a}
                broker:
                  embedded:
                    bind: 0.0.0.0
                    users: { b: { password: pw } }
                    tls: { cert-file: %s, key-file: %s }
                """.formatted(server.cert(), server.key()), Map.of()).broker().embedded().orElseThrow();
        assertThat(e.plainBesideRemoteTls()).isTrue();
    }

    @Test
    void missingFilesAMismatchedKeyAndBadValuesAreReportedTogetherWithLines() {
        assertThat(lines("""
                node: {name: a}
                broker:
                  embedded:
                    tls:
                      cert-file: /nowhere/server.crt
                      client-auth: always
                """)).containsExactly(
                "mqdb.yaml:4: broker.embedded.tls.key-file: required: the broker's PEM PKCS#8 private key",
                "mqdb.yaml:5: broker.embedded.tls.cert-file: file not found: /nowhere/server.crt",
                "mqdb.yaml:6: broker.embedded.tls.client-auth: expected none, optional or required, got \"always\"");
        assertThat(lines("""
                node: {name: a}
                broker:
                  embedded:
                    tls:
                      cert-file: %s
                      key-file: %s
                """.formatted(server.cert(), other.key()))).containsExactly(
                "mqdb.yaml:6: broker.embedded.tls.key-file: tls: the key in " + other.key()
                        + " is not the key of the certificate in " + server.cert());
        assertThat(lines("""
                node: {name: a}
                broker:
                  embedded:
                    plain: false
                    tls:
                      cert-file: %s
                      key-file: %s
                      client-auth: required
                """.formatted(server.cert(), pki.encrypted(server.key(), "pw")))).containsExactly(
                "mqdb.yaml:7: broker.embedded.tls.key-file: tls: " + dir.resolve("server-encrypted.key")
                        + " is encrypted; keyPassword is needed",
                "mqdb.yaml:8: broker.embedded.tls.client-auth: client-auth required needs client-ca-file: the PEM "
                        + "certificates of the authorities that sign client certificates");
        assertThat(lines("node: {name: a}\nbroker: {embedded: {plain: false}}\n")).containsExactly(
                "mqdb.yaml:2: broker.embedded.plain: plain: false needs a tls listener (broker.embedded.tls)");
        assertThat(lines("""
                node: {name: a}
                broker:
                  embedded:
                    tls: { bind: 0.0.0.0, cert-file: %s, key-file: %s }
                """.formatted(server.cert(), server.key()))).singleElement().asString()
                .startsWith("mqdb.yaml:4: broker.embedded.tls.bind: \"0.0.0.0\" is not a loopback address");
    }

    @Test
    void theRecordRejectsClientAuthWithoutAClientCa() {
        assertThatThrownBy(() -> new EmbeddedTlsConfig("127.0.0.1", 8883, server.cert(), server.key(),
                Optional.empty(), Optional.empty(), ClientAuth.OPTIONAL)).hasMessageContaining("client-ca-file");
    }
}
