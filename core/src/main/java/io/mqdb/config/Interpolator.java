package io.mqdb.config;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.regex.Pattern;

/**
 * Replaces {@code ${env:NAME}}, {@code ${env:NAME:-default}} and {@code ${file:path}} in scalar values; {@code $${}
 * stands for a literal {@code ${}. Problems name the variable or file, never a value. One per parse; start-up
 * thread.
 */
final class Interpolator {
    /** The result of interpolating one scalar. */
    record Result(String text, boolean interpolated) {
    }

    private static final Pattern ENV_NAME = Pattern.compile("[A-Za-z_][A-Za-z0-9_]*");

    private final Path baseDir;
    private final Map<String, String> env;

    Interpolator(Path baseDir, Map<String, String> env) {
        this.baseDir = baseDir;
        this.env = env;
    }

    /**
     * @param raw the scalar as written
     * @param where where it is written, for problems
     * @param problems where problems are added
     * @return the interpolated text, or null when a reference could not be resolved (a problem was added)
     */
    Result apply(String raw, Location where, List<ConfigProblem> problems) {
        if (!raw.contains("${")) {
            return new Result(raw, false);
        }
        StringBuilder out = new StringBuilder(raw.length());
        boolean interpolated = false;
        boolean failed = false;
        int i = 0;
        while (i < raw.length()) {
            if (raw.startsWith("$${", i)) {
                out.append("${");
                i += 3;
            } else if (raw.startsWith("${", i)) {
                int end = raw.indexOf('}', i + 2);
                if (end < 0) {
                    problems.add(new ConfigProblem(where, "unterminated \"${\": write ${env:NAME} or ${file:path}, "
                            + "or $${ for a literal ${"));
                    return null;
                }
                String expr = raw.substring(i + 2, end);
                String value = resolve(expr, where, problems);
                if (value == null) {
                    failed = true;
                } else {
                    out.append(value);
                }
                interpolated = true;
                i = end + 1;
            } else {
                out.append(raw.charAt(i++));
            }
        }
        return failed ? null : new Result(out.toString(), interpolated);
    }

    private String resolve(String expr, Location where, List<ConfigProblem> problems) {
        if (expr.startsWith("env:")) {
            String spec = expr.substring(4);
            int dash = spec.indexOf(":-");
            String name = dash < 0 ? spec : spec.substring(0, dash);
            if (!ENV_NAME.matcher(name).matches()) {
                problems.add(new ConfigProblem(where, "invalid environment variable name " + Values.quote(name)
                        + " in ${env:...}"));
                return null;
            }
            String value = env.get(name);
            if (value != null) {
                return value;
            }
            if (dash >= 0) {
                return spec.substring(dash + 2);
            }
            problems.add(new ConfigProblem(where, "environment variable " + name
                    + " is not set; set it, or give a default with ${env:" + name + ":-default}"));
            return null;
        }
        if (expr.startsWith("file:")) {
            String name = expr.substring(5).strip();
            if (name.isEmpty()) {
                problems.add(new ConfigProblem(where, "${file:} needs a path"));
                return null;
            }
            Path file = baseDir.resolve(name).normalize();
            try {
                return Files.readString(file, StandardCharsets.UTF_8).strip();
            } catch (NoSuchFileException e) {
                problems.add(new ConfigProblem(where, "file not found: " + file));
            } catch (IOException e) {
                problems.add(new ConfigProblem(where, "cannot read " + file + ": " + e));
            }
            return null;
        }
        int colon = expr.indexOf(':');
        String kind = colon < 0 ? expr : expr.substring(0, colon);
        problems.add(new ConfigProblem(where, "unknown reference kind " + Values.quote(kind)
                + ": write ${env:NAME} or ${file:path}, or $${ for a literal ${"));
        return null;
    }
}
