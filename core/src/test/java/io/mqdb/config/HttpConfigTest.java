package io.mqdb.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;

/** {@code node.http}: defaults, the token rule beyond loopback, and problems named with file, line and key. */
class HttpConfigTest {
    private static final Path FILE = Path.of("/etc/mqdb/mqdb.yaml");

    private static NodeConfig parse(String yaml, Map<String, String> env) {
        return ConfigLoader.parse(yaml, FILE, env);
    }

    private static List<String> problems(String yaml, Map<String, String> env) {
        ConfigException e = catchThrowableOfType(() -> parse(yaml, env), ConfigException.class);
        assertThat(e).as("expected a ConfigException").isNotNull();
        assertThat(e.getMessage()).doesNotContain("hunter2");
        return e.problems().stream().map(ConfigProblem::toString).toList();
    }

    @Test
    void httpIsOffUnlessWritten() {
        assertThat(parse("node: {name: a}\n", Map.of()).node().http()).isEmpty();
    }

    @Test
    void anEmptyHttpSectionListensOnLoopbackWithTheDefaults() {
        assertThat(parse("node:\n  name: a\n  http:\n", Map.of()).node().http()).contains(new HttpConfig(
                "127.0.0.1", HttpConfig.DEFAULT_PORT, Optional.empty(), HttpConfig.DEFAULT_READY_MAX_LAG));
    }

    @Test
    void everySettingIsRead() {
        HttpConfig h = parse("""
                node:
                  name: a
                  http: { bind: 0.0.0.0, port: 9100, token: "${env:TOKEN}", ready-max-lag: 50 }
                """, Map.of("TOKEN", "hunter2")).node().http().orElseThrow();
        assertThat(h).isEqualTo(new HttpConfig("0.0.0.0", 9100, Optional.of(new Secret("hunter2")), 50));
        assertThat(h.toString()).doesNotContain("hunter2");
    }

    @Test
    void bindingBeyondLoopbackNeedsATokenAndATokenMustNotBeWrittenInTheFile() {
        assertThat(problems("""
                node:
                  name: a
                  http:
                    bind: 0.0.0.0
                    port: 0
                    ready-max-lag: -1
                    pathh: /x
                """, Map.of())).containsExactly(
                "mqdb.yaml:4: node.http.bind: \"0.0.0.0\" is not a loopback address; binding the HTTP listener "
                        + "elsewhere needs node.http.token (${env:NAME}), which every path but /health then "
                        + "requires as Authorization: Bearer <token>",
                "mqdb.yaml:5: node.http.port: expected 1 to 65535, got 0",
                "mqdb.yaml:6: node.http.ready-max-lag: expected 0 to 2147483647, got -1",
                "mqdb.yaml:7: node.http.pathh: unknown key \"pathh\"; known: bind, port, token, ready-max-lag");
        assertThat(problems("""
                node:
                  name: a
                  http: { bind: 10.0.0.1, token: hunter2 }
                """, Map.of())).containsExactly("mqdb.yaml:3: node.http.token: write the token as ${env:NAME} or "
                + "${file:path}, not in the file itself: it is a secret");
    }

    @Test
    void aMissingTokenVariableIsNamed() {
        assertThat(problems("""
                node:
                  name: a
                  http: { bind: 10.0.0.1, token: "${env:MQDB_HTTP_TOKEN}" }
                """, Map.of())).hasSize(1).first().asString()
                .startsWith("mqdb.yaml:3: node.http.token: environment variable MQDB_HTTP_TOKEN is not set");
    }
}
