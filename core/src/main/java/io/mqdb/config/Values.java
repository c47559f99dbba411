package io.mqdb.config;

import java.time.Duration;
import java.util.Collection;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** Parses the text of scalar values, and suggests the closest known key. Pure functions, any thread. */
final class Values {
    /** How a duration is written, for messages. */
    static final String DURATION_FORMAT =
            "a duration: a whole number of milliseconds, or a whole number with unit ms, s, m, h or d (30s)";

    private static final Pattern DURATION = Pattern.compile("([0-9]{1,18})(ms|s|m|h|d)?");

    private Values() {
    }

    /**
     * @param text {@code 250}, {@code 250ms}, {@code 30s}, {@code 5m}, {@code 2h} or {@code 7d}
     * @return the duration, or null when the text is not one
     */
    static Duration duration(String text) {
        Matcher m = DURATION.matcher(text.strip());
        if (!m.matches()) {
            return null;
        }
        long n = Long.parseLong(m.group(1));
        String unit = m.group(2) == null ? "ms" : m.group(2);
        try {
            return switch (unit) {
                case "ms" -> Duration.ofMillis(n);
                case "s" -> Duration.ofSeconds(n);
                case "m" -> Duration.ofMinutes(n);
                case "h" -> Duration.ofHours(n);
                default -> Duration.ofDays(n);
            };
        } catch (ArithmeticException e) {
            return null;
        }
    }

    /**
     * @param text a decimal integer
     * @return it, or null when it is not one or does not fit a long
     */
    static Long longValue(String text) {
        try {
            return Long.parseLong(text.strip());
        } catch (NumberFormatException e) {
            return null;
        }
    }

    /**
     * @param text YAML {@code true} or {@code false}, exactly
     * @return the boolean, or null for anything else ({@code yes}, {@code on}, {@code True})
     */
    static Boolean bool(String text) {
        return switch (text.strip()) {
            case "true" -> Boolean.TRUE;
            case "false" -> Boolean.FALSE;
            default -> null;
        };
    }

    /**
     * @param d a duration
     * @return it written back the shortest way: {@code 7d}, {@code 30s}, {@code 1500ms}
     */
    static String format(Duration d) {
        long ms = d.toMillis();
        if (ms != 0 && ms % 86_400_000L == 0) {
            return ms / 86_400_000L + "d";
        } else if (ms != 0 && ms % 3_600_000L == 0) {
            return ms / 3_600_000L + "h";
        } else if (ms != 0 && ms % 60_000L == 0) {
            return ms / 60_000L + "m";
        } else if (ms != 0 && ms % 1000L == 0) {
            return ms / 1000L + "s";
        }
        return ms + "ms";
    }

    /**
     * @param wrong an unknown key
     * @param known the keys allowed where it was written
     * @return the known key closest to it by edit distance, if within 2 edits
     */
    static Optional<String> suggest(String wrong, Collection<String> known) {
        String best = null;
        int bestDistance = 3;
        for (String k : known) {
            int d = distance(wrong, k);
            if (d < bestDistance) {
                best = k;
                bestDistance = d;
            }
        }
        return Optional.ofNullable(best);
    }

    /**
     * @return the Levenshtein distance: the fewest single-character insertions, deletions and substitutions that
     *     turn a into b
     */
    static int distance(String a, String b) {
        int[] prev = new int[b.length() + 1];
        int[] cur = new int[b.length() + 1];
        for (int j = 0; j <= b.length(); j++) {
            prev[j] = j;
        }
        for (int i = 1; i <= a.length(); i++) {
            cur[0] = i;
            for (int j = 1; j <= b.length(); j++) {
                int cost = a.charAt(i - 1) == b.charAt(j - 1) ? 0 : 1;
                cur[j] = Math.min(Math.min(cur[j - 1] + 1, prev[j] + 1), prev[j - 1] + cost);
            }
            int[] t = prev;
            prev = cur;
            cur = t;
        }
        return prev[b.length()];
    }

    /**
     * @param wrong an unknown key
     * @param known the keys allowed where it was written
     * @return {@code unknown key "x"; did you mean "y"?}, or {@code unknown key "x"; known: a, b, c}
     */
    static String unknownKey(String wrong, Collection<String> known) {
        String head = "unknown key " + quote(wrong);
        return suggest(wrong, known).map(s -> head + "; did you mean " + quote(s) + "?")
                .orElseGet(() -> head + "; known: " + String.join(", ", known));
    }

    /** @return the text in double quotes, with quotes, backslashes and control characters escaped */
    static String quote(String text) {
        StringBuilder sb = new StringBuilder(text.length() + 2).append('"');
        for (char c : text.toCharArray()) {
            switch (c) {
                case '"' -> sb.append("\\\"");
                case '\\' -> sb.append("\\\\");
                case '\n' -> sb.append("\\n");
                case '\t' -> sb.append("\\t");
                case '\r' -> sb.append("\\r");
                default -> sb.append(c);
            }
        }
        return sb.append('"').toString();
    }
}
