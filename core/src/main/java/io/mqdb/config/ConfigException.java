package io.mqdb.config;

import io.mqdb.spi.MqdbException;
import java.nio.file.Path;
import java.util.List;
import java.util.Objects;

/**
 * Every problem found in a config file, thrown at once so the user fixes them in one go. Thrown by
 * {@link ConfigLoader} on the start-up thread, and by the runtime after {@link StoreSettings#validate} has
 * collected the problems of the store settings.
 *
 * <p>The message is one line per problem, after a header:
 * <pre>
 * 2 problems in /etc/mqdb/mqdb.yaml:
 *   mqdb.yaml:3: chanels: unknown key "chanels"; did you mean "channels"?
 *   mqdb.yaml:14: channels[2].name: expected schema:table, got "orders"
 * </pre>
 */
public final class ConfigException extends MqdbException {
    private static final long serialVersionUID = 1L;

    private final transient Path file;
    private final transient List<ConfigProblem> problems;

    /**
     * @param file the config file the problems are in
     * @param problems the problems, at least one, in the order they were found
     */
    public ConfigException(Path file, List<ConfigProblem> problems) {
        super(message(Objects.requireNonNull(file, "file"), problems));
        if (problems.isEmpty()) {
            throw new IllegalArgumentException("a ConfigException needs at least one problem");
        }
        this.file = file;
        this.problems = List.copyOf(problems);
    }

    /** @return the config file */
    public Path file() {
        return file;
    }

    /** @return the problems, at least one, in the order they were found */
    public List<ConfigProblem> problems() {
        return problems;
    }

    private static String message(Path file, List<ConfigProblem> problems) {
        StringBuilder sb = new StringBuilder();
        sb.append(problems.size()).append(problems.size() == 1 ? " problem in " : " problems in ").append(file)
                .append(':');
        for (ConfigProblem p : problems) {
            sb.append(System.lineSeparator()).append("  ").append(p);
        }
        return sb.toString();
    }
}
