package io.mqdb.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.mqdb.spi.Setting;
import io.mqdb.spi.SettingType;
import io.mqdb.spi.StoreConfig;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class StoreSettingsTest {
    private static final Path FILE = Path.of("/etc/mqdb/mqdb.yaml");
    private static final Path DIR = FILE.getParent();

    private static final List<Setting> DECLARED = List.of(
            Setting.required("file", SettingType.PATH, "the database file"),
            Setting.optional("cache-size", SettingType.INT, 64, "entries kept in memory").withRange(1, 1_000),
            Setting.optional("max-bytes", SettingType.LONG, 1L << 32, "largest file"),
            Setting.optional("sync", SettingType.BOOLEAN, false, "fsync every commit"),
            Setting.optional("timeout", SettingType.DURATION, Duration.ofSeconds(5), "lock timeout")
                    .withRange(250, 60_000),
            Setting.optional("backup-dir", SettingType.PATH, Path.of("backups"), "where backups go"),
            Setting.optional("hosts", SettingType.LIST, null, "replica hosts"),
            Setting.optional("options", SettingType.MAP, null, "driver options"),
            Setting.optional("label", SettingType.STRING, "main", "a label"),
            Setting.secret("password", "the database password"),
            new Setting("pin", SettingType.INT, null, false, true, "a secret number").withRange(0, 9_999));

    private static StoreSection store(String yaml) {
        NodeConfig c = ConfigLoader.parse("node: {name: a}\nstores:\n" + yaml, FILE,
                Map.of("DB_PASSWORD", "db-s3cret"));
        return c.stores().values().iterator().next();
    }

    @Test
    void convertsEveryTypeAndAppliesDefaults() {
        StoreSection section = store("""
                  local:
                    type: mapdb
                    file: db/local.db
                    cache-size: 128
                    sync: true
                    hosts: [a, b]
                    options: {compress: "yes", level: 3}
                    password: ${env:DB_PASSWORD}
                """);
        List<ConfigProblem> problems = new ArrayList<>();
        StoreConfig c = StoreSettings.validate(section, DECLARED, DIR, problems);

        assertThat(problems).isEmpty();
        assertThat(c.name()).isEqualTo("local");
        assertThat(c.type()).isEqualTo("mapdb");
        assertThat(c.path("file")).contains(DIR.resolve("db/local.db"));
        assertThat(c.intValue("cache-size")).isEqualTo(128);
        assertThat(c.longValue("max-bytes")).isEqualTo(1L << 32);
        assertThat(c.bool("sync")).isTrue();
        assertThat(c.duration("timeout")).isEqualTo(Duration.ofSeconds(5));
        assertThat(c.path("backup-dir")).as("relative defaults resolve too").contains(DIR.resolve("backups"));
        assertThat(c.list("hosts")).containsExactly("a", "b");
        assertThat(c.map("options")).containsExactly(Map.entry("compress", "yes"), Map.entry("level", "3"));
        assertThat(c.string("label")).contains("main");
        assertThat(c.string("password")).contains("db-s3cret");
        assertThat(c.value("pin")).isEmpty();

        assertThat(c.where("file")).isEqualTo("mqdb.yaml:5: stores.local.file");
        assertThat(c.where("timeout")).isEqualTo("stores.local.timeout (default)");
        assertThat(c.toString()).doesNotContain("db-s3cret");
        assertThatThrownBy(() -> c.value("nope")).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("declares no setting \"nope\"");
    }

    @Test
    void singleStringIsAOneElementListAndDurationsTakeUnits() {
        StoreSection section = store("""
                  local:
                    type: mapdb
                    file: /abs/x.db
                    hosts: solo
                    timeout: 250
                    max-bytes: 10000000000
                """);
        List<ConfigProblem> problems = new ArrayList<>();
        StoreConfig c = StoreSettings.validate(section, DECLARED, DIR, problems);
        assertThat(problems).isEmpty();
        assertThat(c.list("hosts")).containsExactly("solo");
        assertThat(c.duration("timeout")).isEqualTo(Duration.ofMillis(250));
        assertThat(c.longValue("max-bytes")).isEqualTo(10_000_000_000L);
        assertThat(c.path("file")).contains(Path.of("/abs/x.db"));
    }

    @Test
    void reportsUnknownKeysWrongTypesAndMissingRequiredOnesWithoutSecrets() {
        StoreSection section = store("""
                  local:
                    type: mapdb
                    fiel: local.db
                    cache-size: lots
                    sync: yes
                    timeout: 5 minutes
                    hosts: {a: b}
                    options: [x]
                    pin: hunter2
                    zzzzzz: 1
                """);
        List<ConfigProblem> problems = new ArrayList<>();
        StoreSettings.validate(section, DECLARED, DIR, problems);

        String known = "known: file, cache-size, max-bytes, sync, timeout, backup-dir, hosts, options, label, "
                + "password, pin";
        assertThat(problems).extracting(ConfigProblem::toString).containsExactly(
                "mqdb.yaml:5: stores.local.fiel: unknown key \"fiel\" for store type mapdb; did you mean "
                        + "\"file\"? " + known,
                "mqdb.yaml:6: stores.local.cache-size: expected a whole number from -2147483648 to 2147483647, "
                        + "got \"lots\"",
                "mqdb.yaml:7: stores.local.sync: expected true or false, got \"yes\"",
                "mqdb.yaml:8: stores.local.timeout: expected " + Values.DURATION_FORMAT + ", got \"5 minutes\"",
                "mqdb.yaml:9: stores.local.hosts: expected a list of strings, got a mapping",
                "mqdb.yaml:10: stores.local.options: expected a mapping of strings, got a list",
                "mqdb.yaml:11: stores.local.pin: expected a whole number from -2147483648 to 2147483647, "
                        + "got a value that is not shown (secret)",
                "mqdb.yaml:12: stores.local.zzzzzz: unknown key \"zzzzzz\" for store type mapdb; " + known,
                "mqdb.yaml:3: stores.local.file: required by store type mapdb, not given (the database file)");
        assertThat(problems.toString()).doesNotContain("hunter2");
    }

    @Test
    void problemsBecomeOneConfigException() {
        StoreSection section = store("  local: {type: mapdb}\n");
        List<ConfigProblem> problems = new ArrayList<>();
        StoreSettings.validate(section, DECLARED, DIR, problems);
        ConfigException e = new ConfigException(FILE, problems);
        assertThat(e.getMessage()).isEqualTo("1 problem in " + FILE + ":" + System.lineSeparator()
                + "  mqdb.yaml:3: stores.local.file: required by store type mapdb, not given (the database file)");
    }

    @Test
    void valuesOutOfTheDeclaredRangeAreRefusedWithFileLineAndKey() {
        StoreSection section = store("""
                  local:
                    type: mapdb
                    file: db/local.db
                    cache-size: 0
                    timeout: 100ms
                    pin: 123456
                """);
        List<ConfigProblem> problems = new ArrayList<>();
        StoreSettings.validate(section, DECLARED, DIR, problems);
        assertThat(problems).extracting(ConfigProblem::toString).containsExactly(
                "mqdb.yaml:6: stores.local.cache-size: expected 1 to 1000, got 0",
                "mqdb.yaml:7: stores.local.timeout: expected 250ms to 60000ms, got 100ms",
                "mqdb.yaml:8: stores.local.pin: expected 0 to 9999, got a value out of range");
        assertThatThrownBy(() -> Setting.optional("n", SettingType.INT, 0, "x").withRange(1, 2))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("default 0 is out of its range");
        assertThatThrownBy(() -> Setting.optional("s", SettingType.STRING, null, "x").withRange(1, 2))
                .isInstanceOf(IllegalArgumentException.class);
    }
}
