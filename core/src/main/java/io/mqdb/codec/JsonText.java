package io.mqdb.codec;

/**
 * A fast check that a JSON document's text is already in the form the codec writes: valid, compact (no white space
 * outside strings), strings without escapes or control characters, at most 64 levels deep. Such text is sent and
 * taken as it is; any other text goes through Gson ({@link Values#canonicalJson}), which validates it and writes it
 * in that form. Pure; any thread.
 */
final class JsonText {
    private JsonText() {
    }

    /** @return whether {@code s} is compact valid JSON as above; false also for text that is merely unusual */
    static boolean isCompact(String s) {
        int n = s.length();
        int i = 0;
        long stack = 0; // bit d set: the container at depth d is an object
        int depth = 0;
        while (true) {
            // a value starts at i
            if (i >= n) {
                return false;
            }
            char c = s.charAt(i);
            if (c == '{' || c == '[') {
                if (depth == 64) {
                    return false;
                }
                boolean object = c == '{';
                stack = object ? stack | (1L << depth) : stack & ~(1L << depth);
                depth++;
                i++;
                if (i < n && s.charAt(i) == (object ? '}' : ']')) {
                    depth--;
                    i++;
                } else {
                    if (object) {
                        i = memberName(s, i, n);
                        if (i < 0) {
                            return false;
                        }
                    }
                    continue;
                }
            } else if (c == '"') {
                i = string(s, i, n);
            } else if (c == 't') {
                i = s.startsWith("true", i) ? i + 4 : -1;
            } else if (c == 'f') {
                i = s.startsWith("false", i) ? i + 5 : -1;
            } else if (c == 'n') {
                i = s.startsWith("null", i) ? i + 4 : -1;
            } else {
                i = number(s, i, n);
            }
            if (i < 0) {
                return false;
            }
            // after a value: close containers, or move to the next element
            while (true) {
                if (depth == 0) {
                    return i == n;
                }
                if (i >= n) {
                    return false;
                }
                boolean object = (stack & (1L << (depth - 1))) != 0;
                char d = s.charAt(i);
                if (d == ',') {
                    i++;
                    if (object) {
                        i = memberName(s, i, n);
                        if (i < 0) {
                            return false;
                        }
                    }
                    break;
                }
                if (d != (object ? '}' : ']')) {
                    return false;
                }
                depth--;
                i++;
            }
        }
    }

    /** A member name and its colon; @return the index after the colon, or -1 */
    private static int memberName(String s, int i, int n) {
        if (i >= n || s.charAt(i) != '"') {
            return -1;
        }
        i = string(s, i, n);
        if (i < 0 || i >= n || s.charAt(i) != ':') {
            return -1;
        }
        return i + 1;
    }

    /** A string without escapes; @return the index after its closing quote, or -1 */
    private static int string(String s, int i, int n) {
        for (i++; i < n; i++) {
            char c = s.charAt(i);
            if (c == '"') {
                return i + 1;
            }
            if (c == '\\' || c < 0x20 || c == '\u2028' || c == '\u2029' || Character.isSurrogate(c)) {
                return -1;
            }
        }
        return -1;
    }

    /** {@code -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?}; @return the index after it, or -1 */
    private static int number(String s, int i, int n) {
        if (i < n && s.charAt(i) == '-') {
            i++;
        }
        if (i >= n) {
            return -1;
        }
        char c = s.charAt(i);
        if (c == '0') {
            i++;
        } else if (c >= '1' && c <= '9') {
            i = digits(s, i, n);
        } else {
            return -1;
        }
        if (i < n && s.charAt(i) == '.') {
            int start = ++i;
            i = digits(s, i, n);
            if (i == start) {
                return -1;
            }
        }
        if (i < n && (s.charAt(i) == 'e' || s.charAt(i) == 'E')) {
            i++;
            if (i < n && (s.charAt(i) == '+' || s.charAt(i) == '-')) {
                i++;
            }
            int start = i;
            i = digits(s, i, n);
            if (i == start) {
                return -1;
            }
        }
        return i;
    }

    private static int digits(String s, int i, int n) {
        while (i < n && s.charAt(i) >= '0' && s.charAt(i) <= '9') {
            i++;
        }
        return i;
    }
}
