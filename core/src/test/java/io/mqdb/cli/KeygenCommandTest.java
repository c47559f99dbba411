package io.mqdb.cli;

import static org.assertj.core.api.Assertions.assertThat;

import io.mqdb.config.ConfigLoader;
import io.mqdb.config.NodeConfig;
import io.mqdb.signing.Keys;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code mqdb keygen}: a private key file for the owner only, a trust line that a config loads with it. */
class KeygenCommandTest {
    @TempDir
    Path dir;

    private String run(String... args) {
        ByteArrayOutputStream o = new ByteArrayOutputStream();
        PrintStream out = System.out;
        System.setOut(new PrintStream(o, true, StandardCharsets.UTF_8));
        try {
            assertThat(Main.execute(args)).isZero();
        } finally {
            System.setOut(out);
        }
        return o.toString(StandardCharsets.UTF_8);
    }

    @Test
    void writesAnOwnerOnlyKeyAndPrintsATrustLineThatLoads() throws Exception {
        Path key = dir.resolve("node-a.key");
        String printed = run("keygen", "--node", "node-a", "--out", key.toString());
        System.out.print(printed);
        assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(key))).isEqualTo("rw-------");
        assertThat(Files.readString(key)).startsWith("-----BEGIN PRIVATE KEY-----");
        assertThat(printed).doesNotContain("PRIVATE KEY-----");
        String trustLine = printed.lines().filter(l -> l.startsWith("node-a: ")).findFirst().orElseThrow();
        Files.writeString(dir.resolve("trust.txt"), trustLine + "\n");
        Files.writeString(dir.resolve("mqdb.yaml"), """
                node: { name: node-a, signing: { key-file: node-a.key, trust-file: trust.txt } }
                stores: { local: { type: mapdb } }
                channels: [ { name: shop:items, publish: true } ]
                """);
        NodeConfig c = ConfigLoader.parse(Files.readString(dir.resolve("mqdb.yaml")), dir.resolve("mqdb.yaml"),
                Map.of());
        assertThat(c.node().signing()).isPresent();
        assertThat(Keys.permissionProblem(key)).isEmpty();
        Files.setPosixFilePermissions(key, PosixFilePermissions.fromString("rw-r--r--"));
        assertThat(Keys.permissionProblem(key)).contains("has permissions rw-r--r--: others than its owner may use "
                + "it");
    }

    @Test
    void neverOverwritesAKey() throws Exception {
        Path key = dir.resolve("k");
        Files.writeString(key, "keep me");
        assertThat(Main.execute("keygen", "--node", "n", "--out", key.toString())).isEqualTo(1);
        assertThat(Files.readString(key)).isEqualTo("keep me");
    }
}
