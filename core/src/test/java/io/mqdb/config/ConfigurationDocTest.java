package io.mqdb.config;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Keeps the examples in docs/configuration.md valid. */
class ConfigurationDocTest {
    private static final Pattern YAML_BLOCK = Pattern.compile("```yaml\\n(.*?)```", Pattern.DOTALL);

    @Test
    void everyExampleInTheDocsParses(@TempDir Path dir) throws Exception {
        Path doc = Path.of("..", "docs", "configuration.md");
        // surefire runs in the module's folder, so the docs are one level up
        assertThat(doc).as("docs/configuration.md seen from the core module").isRegularFile();
        List<String> examples = new ArrayList<>();
        Matcher m = YAML_BLOCK.matcher(Files.readString(doc));
        while (m.find()) {
            examples.add(m.group(1));
        }
        assertThat(examples).hasSizeGreaterThanOrEqualTo(2);
        for (String name : List.of("ca.pem", "client.pem", "client.key", "secrets/key-password.txt")) {
            Files.createDirectories(dir.resolve(name).getParent());
            Files.writeString(dir.resolve(name), "x");
        }
        Map<String, String> env = Map.of("MQTT_USER", "u", "MQTT_PASSWORD", "p", "DB_PASSWORD", "d");
        for (String yaml : examples) {
            NodeConfig c = ConfigLoader.parse(yaml, dir.resolve("mqdb.yaml"), env);
            assertThat(c.channels()).isNotEmpty();
        }
    }

    @Test
    void everyBrokerKeyIsInTheTable() throws Exception {
        String doc = Files.readString(Path.of("..", "docs", "configuration.md"));
        for (String key : ConfigParser.BROKER_KEYS) {
            assertThat(doc).as("docs/configuration.md documents broker." + key).contains("| `broker." + key + "` |");
        }
        for (String key : ConfigParser.EMBEDDED_KEYS) {
            assertThat(doc).as("docs/configuration.md documents broker.embedded." + key)
                    .contains("| `broker.embedded." + key + "` |");
        }
        for (String key : ConfigParser.EMBEDDED_TLS_KEYS) {
            assertThat(doc).as("docs/configuration.md documents broker.embedded.tls." + key)
                    .contains("| `broker.embedded.tls." + key + "` |");
        }
        for (String key : ConfigParser.USER_KEYS) {
            assertThat(doc).as("docs/configuration.md documents broker.embedded.users.<name>." + key)
                    .contains("| `broker.embedded.users.<name>." + key + "` |");
        }
    }

    @Test
    void everyChannelKeyIsInTheTable() throws Exception {
        String doc = Files.readString(Path.of("..", "docs", "configuration.md"));
        for (String key : ConfigParser.CHANNEL_KEYS) {
            assertThat(doc).as("docs/configuration.md documents channels[i]." + key)
                    .contains("| `channels[i]." + key + "` |");
        }
    }
}
