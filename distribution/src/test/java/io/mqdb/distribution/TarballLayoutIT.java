package io.mqdb.distribution;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assumptions.assumeThat;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Checks the tarball that {@code package} built: its layout, and that bin/mqdb starts Java the way the runtime
 * expects. Runs in {@code integration-test}, after the assembly.
 */
class TarballLayoutIT {

    private static final List<String> ADAPTERS = List.of("mapdb", "jdbc", "redis", "cassandra");

    private static final String VERSION = System.getProperty("mqdb.version", "0.1.0-SNAPSHOT");
    private static final String ROOT = "mqdb-" + VERSION + "/";

    private static Path tarball;
    /** Entry name (without the root folder) to its permission string ({@code -rwxr-xr-x}). */
    private static Map<String, String> entries;

    @BeforeAll
    static void listTarball() throws Exception {
        tarball = Path.of(System.getProperty("mqdb.tarball", "target/mqdb-" + VERSION + ".tar.gz"));
        assertThat(tarball).as("built by mvn package").isRegularFile();
        entries = new LinkedHashMap<>();
        for (String line : run(List.of("tar", "tzvf", tarball.toString()), null)) {
            // GNU tar: -rwxr-xr-x 0/0 1234 2025-01-01 00:00 mqdb-0.1.0-SNAPSHOT/bin/mqdb
            String[] fields = line.trim().split("\\s+", 6);
            String name = fields[5];
            assertThat(name).as("every entry is under the root folder").startsWith(ROOT);
            entries.put(name.substring(ROOT.length()), fields[0]);
        }
    }

    @Test
    void theLauncherIsThereAndExecutable() {
        assertThat(entries).containsKey("bin/mqdb");
        assertThat(entries.get("bin/mqdb")).startsWith("-rwx").matches(".*x$");
    }

    @Test
    void confAndReadmeAreThere() {
        assertThat(entries).containsKeys("conf/mqdb.yaml", "conf/logback.xml", "README.txt");
    }

    @Test
    void libHoldsCoreAndItsLibrariesButNoAdapter() {
        List<String> lib = jarsIn("lib/");

        assertThat(lib).contains("mqdb-core-" + VERSION + ".jar");
        assertThat(lib).anyMatch(j -> j.startsWith("logback-classic-"));
        assertThat(lib).anyMatch(j -> j.startsWith("slf4j-api-"));
        assertThat(lib).noneMatch(j -> j.startsWith("mqdb-adapter-"));
    }

    @Test
    void eachAdapterHasItsOwnFolderWithItsJar() {
        for (String adapter : ADAPTERS) {
            assertThat(jarsIn("plugins/" + adapter + "/")).as(adapter)
                    .contains("mqdb-adapter-" + adapter + "-" + VERSION + ".jar");
        }
        // Transitive dependencies come along, also those core has too (guava, through mapdb).
        assertThat(jarsIn("plugins/mapdb/")).anyMatch(j -> j.startsWith("mapdb-"))
                .anyMatch(j -> j.startsWith("guava-"));
        assertThat(jarsIn("plugins/jdbc/")).as("the binlog reader of capture: log on MariaDB")
                .anyMatch(j -> j.startsWith("mysql-binlog-connector-java-"));
    }

    @Test
    void pluginsHoldNeitherCoreNorSlf4jNorStrayFiles() {
        List<String> plugins = entries.keySet().stream()
                .filter(n -> n.startsWith("plugins/") && !n.endsWith("/"))
                .collect(Collectors.toList());

        assertThat(plugins).isNotEmpty().allMatch(n -> n.matches("plugins/[a-z0-9-]+/[^/]+\\.jar"), "a jar in a folder");
        assertThat(plugins).noneMatch(n -> n.contains("/mqdb-core-"));
        assertThat(plugins).noneMatch(n -> n.contains("/slf4j-api-"));
    }

    @Test
    void theLauncherFindsItsHomeThroughASymlinkAndStartsMain(@TempDir Path tmp) throws Exception {
        assumeThat(System.getProperty("os.name")).doesNotStartWith("Windows");
        run(List.of("tar", "xzf", tarball.toString(), "-C", tmp.toString()), null);
        Path home = tmp.resolve(ROOT).toRealPath();
        // A stand-in java that prints its arguments, one a line.
        Path javaHome = tmp.resolve("fake-jdk");
        Path java = Files.createDirectories(javaHome.resolve("bin")).resolve("java");
        Files.writeString(java, "#!/bin/sh\nfor a in \"$@\"; do echo \"$a\"; done\n");
        assertThat(java.toFile().setExecutable(true)).isTrue();
        Path link = Files.createSymbolicLink(Files.createDirectories(tmp.resolve("usr/bin")).resolve("mqdb"),
                home.resolve("bin/mqdb"));

        List<String> args = run(List.of(link.toString(), "run", "--config", "my config.yaml"),
                Map.of("JAVA_HOME", javaHome.toString()));

        assertThat(args).contains(
                "-Dmqdb.home=" + home,
                "-Dlogback.configurationFile=" + home.resolve("conf/logback.xml"),
                "-Xmx256m",
                "-cp", home + "/lib/*");
        assertThat(args).endsWith("io.mqdb.cli.Main", "run", "--config", "my config.yaml");
    }

    private static List<String> jarsIn(String folder) {
        return entries.keySet().stream()
                .filter(n -> n.startsWith(folder) && n.endsWith(".jar") && n.indexOf('/', folder.length()) < 0)
                .map(n -> n.substring(folder.length()))
                .collect(Collectors.toList());
    }

    private static List<String> run(List<String> command, Map<String, String> env)
            throws IOException, InterruptedException {
        ProcessBuilder builder = new ProcessBuilder(command).redirectErrorStream(true);
        if (env != null) {
            builder.environment().remove("JAVA_OPTS");
            builder.environment().remove("MQDB_OPTS");
            builder.environment().putAll(env);
        }
        Process process = builder.start();
        process.getOutputStream().close();
        String output = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(process.waitFor(60, TimeUnit.SECONDS)).as("%s finished", command).isTrue();
        assertThat(process.exitValue()).as("%s: %s", command, output).isZero();
        return new ArrayList<>(output.lines().collect(Collectors.toList()));
    }
}
