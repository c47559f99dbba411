package io.mqdb.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import io.mqdb.signing.Keys;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.KeyPair;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code node.signing} and the channels' plain-write keys: parsed, checked, problems with file, line and key. */
class SigningConfigTest {
    private static final KeyPair A = Keys.generate();
    private static final KeyPair B = Keys.generate();

    @TempDir
    Path dir;

    private NodeConfig parse(String yaml, Map<String, String> env) {
        return ConfigLoader.parse(yaml, dir.resolve("mqdb.yaml"), env);
    }

    private List<String> problems(String yaml, Map<String, String> env) {
        ConfigException e = catchThrowableOfType(() -> parse(yaml, env), ConfigException.class);
        assertThat(e).as("expected a ConfigException").isNotNull();
        return e.problems().stream().map(ConfigProblem::toString).toList();
    }

    private Path keyFile(KeyPair pair, String name) throws Exception {
        Path f = dir.resolve(name);
        Files.writeString(f, Keys.pem(pair.getPrivate()));
        Files.setPosixFilePermissions(f, PosixFilePermissions.fromString("rw-------"));
        return f;
    }

    @Test
    void aKeyFileAndATrustListParseAndNothingSecretIsPrinted() throws Exception {
        Path key = keyFile(A, "a.key");
        NodeConfig c = parse("""
                node:
                  name: node-a
                  signing:
                    key: ${file:a.key}
                    trust:
                      node-a: %s
                      node-b: [ %s, %s ]
                stores: { local: { type: mapdb } }
                channels:
                  - { name: shop:items, subscribe: true, accept-plain-writes: true, plain-writes: upserts }
                """.formatted(Keys.text(A.getPublic()), Keys.text(B.getPublic()), Keys.text(A.getPublic())),
                Map.of());
        SigningConfig s = c.node().signing().orElseThrow();
        assertThat(s.keyFile()).contains(key);
        assertThat(s.trust().keys("node-b")).hasSize(2);
        assertThat(s.privateKey().getEncoded()).isEqualTo(A.getPrivate().getEncoded());
        assertThat(s.toString()).contains("****").doesNotContain(Keys.pem(A.getPrivate()).substring(30, 60));
        assertThat(c.channels().get(0).acceptPlainWrites()).isTrue();
        assertThat(c.channels().get(0).plainWrites()).isEqualTo(ChannelConfig.PlainWrites.UPSERTS);
    }

    @Test
    void aTrustFileAndAKeyFromTheEnvironment() throws Exception {
        Files.writeString(dir.resolve("trust.txt"), "# the cluster\nnode-a: " + Keys.text(A.getPublic())
                + "\n\nnode-b: " + Keys.text(B.getPublic()) + "\n");
        NodeConfig c = parse("""
                node: { name: node-b, signing: { key: "${env:KEY}", trust-file: trust.txt } }
                stores: { local: { type: mapdb } }
                channels: [ { name: shop:items, publish: true } ]
                """, Map.of("KEY", Keys.pem(B.getPrivate())));
        assertThat(c.node().signing().orElseThrow().trust().size()).isEqualTo(2);
        assertThat(c.node().signing().orElseThrow().keyFile()).isEmpty();
    }

    @Test
    void problemsNameFileLineAndKey() throws Exception {
        keyFile(B, "b.key");
        Files.writeString(dir.resolve("trust.txt"), "node-a " + Keys.text(A.getPublic()) + "\nnode-c: AAAA\n");
        List<String> p = problems("""
                node:
                  name: node-a
                  signing:
                    key-file: b.key
                    trust:
                      node-a: %s
                      "bad/name": %s
                      node-b: notbase64!!
                    trust-file: trust.txt
                    colour: red
                stores: { local: { type: mapdb } }
                channels:
                  - { name: shop:items, subscribe: true, plain-writes: everything }
                """.formatted(Keys.text(A.getPublic()), Keys.text(A.getPublic())), Map.of());
        assertThat(p).contains(
                "mqdb.yaml:7: node.signing.trust.bad/name: invalid node name \"bad/name\": expected 1 to 64 of "
                        + "A-Z a-z 0-9 _ -",
                "mqdb.yaml:8: node.signing.trust.node-b: not an Ed25519 public key (base64 of X.509 "
                        + "SubjectPublicKeyInfo, as mqdb keygen prints it)",
                "trust.txt:1: expected node-name: public-key (as mqdb keygen prints it)",
                "trust.txt:2: node-c: not an Ed25519 public key (base64 of X.509 SubjectPublicKeyInfo, as mqdb "
                        + "keygen prints it)",
                "mqdb.yaml:13: channels[0].plain-writes: expected all or upserts, got \"everything\"",
                "mqdb.yaml:13: channels[0].plain-writes: plain-writes without accept-plain-writes: true");
        assertThat(p).anyMatch(l -> l.startsWith("mqdb.yaml:10: node.signing.colour: unknown key \"colour\""));
        p.forEach(System.out::println);
    }

    @Test
    void theKeyMustMatchATrustedKeyOfThisNode() throws Exception {
        keyFile(B, "b.key");
        assertThat(problems("""
                node: { name: node-a, signing: { key-file: b.key, trust: { node-a: %s } } }
                stores: { local: { type: mapdb } }
                channels: [ { name: shop:items, publish: true } ]
                """.formatted(Keys.text(A.getPublic())), Map.of())).containsExactly(
                "mqdb.yaml:1: node.signing: node.signing.key does not match any public key node.signing.trust "
                        + "holds for node-a");
        assertThat(problems("""
                node: { name: node-a, signing: { key: "not a key", key-file: b.key } }
                stores: { local: { type: mapdb } }
                channels: [ { name: shop:items, publish: true } ]
                """, Map.of())).containsExactly(
                "mqdb.yaml:1: node.signing: key and key-file: give one of them",
                "mqdb.yaml:1: node.signing.trust: required: trust (node name: public key, for every node of the "
                        + "cluster, this one included) or trust-file");
        assertThat(problems("""
                node: { name: node-a, signing: { key: "not a key", trust: { node-a: %s } } }
                stores: { local: { type: mapdb } }
                channels: [ { name: shop:items, publish: true } ]
                """.formatted(Keys.text(A.getPublic())), Map.of())).containsExactly(
                "mqdb.yaml:1: node.signing.key: not an Ed25519 private key in PKCS#8 (PEM \"BEGIN PRIVATE KEY\"); "
                        + "make one with mqdb keygen");
    }

    @Test
    void plainWritesNeedSigningAndASubscribedChannel() {
        assertThat(problems("""
                node: { name: node-a }
                stores: { local: { type: mapdb } }
                channels: [ { name: shop:items, subscribe: true, accept-plain-writes: true } ]
                """, Map.of())).containsExactly("mqdb.yaml:3: channels[0].accept-plain-writes: accept-plain-writes "
                + "needs node.signing: without it every write is accepted as it comes");
    }
}
