package io.mqdb.config;

import java.io.IOException;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Reads a node's YAML config file into a {@link NodeConfig}: phase 1 of configuration (phase 2 is
 * {@link StoreSettings#validate}). Called once by the CLI or the embedding API on the start-up thread; stateless, so
 * any thread may call it.
 *
 * <p>Every problem in the file is collected, then thrown together in one {@link ConfigException}, each with file,
 * line and key path. The format is documented in {@code docs/configuration.md}.
 */
public final class ConfigLoader {
    private static final Logger LOG = LoggerFactory.getLogger(ConfigLoader.class);

    private ConfigLoader() {
    }

    /**
     * Reads and checks a config file, interpolating {@code ${env:NAME}} from the process environment.
     *
     * @param file the config file, UTF-8; relative paths in it are resolved against its folder
     * @return the checked config
     * @throws ConfigException with every problem in the file, or with one problem (line 0) when the file cannot be
     *     read
     */
    public static NodeConfig load(Path file) {
        return load(file, StoreCheck.NONE);
    }

    /**
     * Reads and checks a config file, and checks each store against the installed adapters with {@code stores}, so
     * that the problems of the file and of the stores' settings are reported together.
     *
     * @param file the config file
     * @param stores the check of each store section
     * @return the checked config
     * @throws ConfigException with every problem found
     */
    public static NodeConfig load(Path file, StoreCheck stores) {
        Objects.requireNonNull(file, "file");
        Path abs = file.toAbsolutePath().normalize();
        String yaml;
        try {
            yaml = Files.readString(abs, StandardCharsets.UTF_8);
        } catch (NoSuchFileException e) {
            throw fileProblem(abs, "config file not found: " + abs);
        } catch (CharacterCodingException e) {
            throw fileProblem(abs, "config file is not UTF-8 text: " + abs);
        } catch (IOException e) {
            throw fileProblem(abs, "cannot read config file " + abs + ": " + e);
        }
        return parse(yaml, abs, System.getenv(), stores);
    }

    /**
     * Checks config text as if read from a file; what {@link #load} does after reading, with the environment given.
     *
     * @param yaml the config text
     * @param file the file it stands for: named in problems, and its folder resolves relative paths
     * @param env the environment variables {@code ${env:NAME}} reads
     * @return the checked config
     * @throws ConfigException with every problem in the text
     */
    public static NodeConfig parse(String yaml, Path file, Map<String, String> env) {
        return parse(yaml, file, env, StoreCheck.NONE);
    }

    /**
     * Checks config text as {@link #parse(String, Path, Map)} does, and each store with {@code stores}.
     *
     * @param yaml the config text
     * @param file the file it stands for
     * @param env the environment variables {@code ${env:NAME}} reads
     * @param stores the check of each store section
     * @return the checked config
     * @throws ConfigException with every problem found
     */
    public static NodeConfig parse(String yaml, Path file, Map<String, String> env, StoreCheck stores) {
        Objects.requireNonNull(yaml, "yaml");
        Objects.requireNonNull(file, "file");
        Objects.requireNonNull(env, "env");
        NodeConfig config = new ConfigParser(file, env, stores).parse(yaml);
        LOG.debug("Read {}: node {} in cluster {}, {} store(s), {} channel(s)", config.source(),
                config.node().name(), config.node().cluster(), config.stores().size(), config.channels().size());
        return config;
    }

    private static ConfigException fileProblem(Path file, String message) {
        return new ConfigException(file, List.of(new ConfigProblem(new Location(file, 0, ""), message)));
    }
}
