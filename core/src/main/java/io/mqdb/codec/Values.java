package io.mqdb.codec;

import com.google.gson.JsonElement;
import com.google.gson.JsonPrimitive;
import com.google.gson.stream.JsonReader;
import com.google.gson.stream.JsonWriter;
import io.mqdb.spi.Bytes;
import io.mqdb.spi.ColumnType;
import io.mqdb.spi.InvalidDataException;
import io.mqdb.spi.Json;
import java.io.IOException;
import java.math.BigDecimal;
import java.math.BigInteger;
import java.time.DateTimeException;
import java.time.Instant;
import java.time.LocalDate;
import java.time.LocalDateTime;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.time.format.DateTimeParseException;
import java.time.temporal.ChronoUnit;
import java.util.Base64;
import java.util.UUID;

/**
 * The JSON form of each portable value ({@code docs/wire-format.md}, "Values"). Writing goes by the value's Java
 * class, which is canonical for its column type; reading goes by the column type.
 */
final class Values {
    /**
     * Decimals with a larger scale either way are rejected: {@code 1e999999999} is a few bytes on the wire but a
     * gigabyte as plain text, and stores cap far lower (PostgreSQL: 16383 digits after the point).
     */
    static final int MAX_DECIMAL_SCALE = 20_000;

    private Values() {
    }

    /**
     * Writes a value.
     *
     * @throws InvalidDataException with a short reason when the value has no JSON form
     */
    static void write(JsonWriter w, Object v) throws IOException {
        if (v == null) {
            w.nullValue();
        } else if (v instanceof String s) {
            w.value(s);
        } else if (v instanceof Long || v instanceof Integer || v instanceof Short || v instanceof Byte) {
            w.value(((Number) v).longValue());
        } else if (v instanceof Double || v instanceof Float) {
            double d = ((Number) v).doubleValue();
            if (Double.isNaN(d)) {
                w.value("NaN");
            } else if (Double.isInfinite(d)) {
                w.value(d > 0 ? "Infinity" : "-Infinity");
            } else {
                w.value(d);
            }
        } else if (v instanceof BigDecimal d) {
            w.value(formatDecimal(d));
        } else if (v instanceof Boolean b) {
            w.value(b.booleanValue());
        } else if (v instanceof Instant t) {
            w.value(formatTimestamp(t));
        } else if (v instanceof LocalDate d) {
            w.value(d.toString());
        } else if (v instanceof UUID u) {
            w.value(u.toString());
        } else if (v instanceof Bytes b) {
            w.value(b.toBase64());
        } else if (v instanceof byte[] a) {
            w.value(Base64.getEncoder().encodeToString(a));
        } else if (v instanceof Json j) {
            writeJson(w, j.text());
        } else if (v instanceof BigInteger i) {
            w.jsonValue(i.toString());
        } else {
            throw new InvalidDataException("no JSON form for a value of class " + v.getClass().getName());
        }
    }

    private static void writeJson(JsonWriter w, String text) throws IOException {
        try {
            JsonReader r = JsonSupport.reader(text);
            JsonSupport.copy(r, w, 0);
            JsonSupport.expectEnd(r);
        } catch (IOException | IllegalStateException | JsonSupport.Malformed e) {
            throw new InvalidDataException("not a JSON document: " + JsonSupport.message(e));
        }
    }

    /**
     * @param text a JSON document
     * @return it as the codec writes it: compact, strings escaped as Gson does, numbers as written
     * @throws InvalidDataException when the text is not JSON
     */
    static String canonicalJson(String text) {
        if (JsonText.isCompact(text)) {
            return text;
        }
        JsonSupport.TextBuffer out = new JsonSupport.TextBuffer(text.length());
        try {
            JsonWriter w = JsonSupport.writer(out);
            writeJson(w, text);
            w.flush();
        } catch (IOException e) {
            throw new IllegalStateException("writing to memory failed", e);
        }
        return out.sb.toString();
    }

    /**
     * @param v a canonical value, not null
     * @return its JSON form as a tree: what {@link #read} is given for it in the JSON form
     */
    static JsonElement toJsonElement(Object v) {
        JsonSupport.TextBuffer out = new JsonSupport.TextBuffer(32);
        try {
            JsonWriter w = JsonSupport.writer(out);
            write(w, v);
            w.flush();
            return JsonSupport.readTree(JsonSupport.reader(out.sb.toString()), 0);
        } catch (IOException e) {
            throw new IllegalStateException("writing to memory failed", e);
        }
    }

    /** Plain notation keeps the scale ({@code 1.50}); a negative scale needs the exponent ({@code 1E+3}). */
    static String formatDecimal(BigDecimal d) {
        return d.scale() >= 0 ? d.toPlainString() : d.toString();
    }

    /**
     * Reads a value of a column type.
     *
     * @param e the JSON value, not null (Java null); {@code JsonNull} gives null
     * @return the canonical Java value, or null
     * @throws InvalidDataException with a short reason ({@code expected INT64, got string "x"})
     */
    static Object read(ColumnType type, JsonElement e) {
        if (e.isJsonNull()) {
            return null;
        }
        if (type == ColumnType.JSON) {
            return new Json(e.toString());
        }
        if (!e.isJsonPrimitive()) {
            throw mismatch(type, e, null);
        }
        JsonPrimitive p = e.getAsJsonPrimitive();
        try {
            switch (type) {
                case STRING:
                    if (p.isString()) {
                        return p.getAsString();
                    }
                    break;
                case INT64:
                    if (p.isNumber() || p.isString()) {
                        return parseInt64(p.getAsString());
                    }
                    break;
                case DOUBLE:
                    if (p.isNumber() || p.isString()) {
                        return parseDouble(p.getAsString());
                    }
                    break;
                case DECIMAL:
                    if (p.isNumber() || p.isString()) {
                        return parseDecimal(p.getAsString());
                    }
                    break;
                case BOOLEAN:
                    if (p.isBoolean()) {
                        return p.getAsBoolean();
                    }
                    break;
                case BYTES:
                    if (p.isString()) {
                        return Bytes.fromBase64(p.getAsString());
                    }
                    break;
                case TIMESTAMP:
                    if (p.isString()) {
                        return parseTimestamp(p.getAsString());
                    }
                    if (p.isNumber()) {
                        return Instant.ofEpochMilli(parseInt64(p.getAsString()));
                    }
                    break;
                case DATE:
                    if (p.isString()) {
                        return parseDate(p.getAsString());
                    }
                    break;
                case UUID:
                    if (p.isString()) {
                        return parseUuid(p.getAsString());
                    }
                    break;
                default:
                    break;
            }
        } catch (IllegalArgumentException | ArithmeticException | DateTimeException ex) {
            throw mismatch(type, e, JsonSupport.message(ex));
        }
        throw mismatch(type, e, null);
    }

    private static InvalidDataException mismatch(ColumnType type, JsonElement e, String why) {
        return new InvalidDataException("expected " + type + ", got " + JsonSupport.describe(e)
                + (why == null ? "" : " (" + why + ")"));
    }

    /** Integral text of any JSON number form ({@code 7}, {@code 7.0}, {@code 7e2}) that fits in a long. */
    static long parseInt64(String text) {
        try {
            return Long.parseLong(text);
        } catch (NumberFormatException notPlain) {
            try {
                return parseDecimal(text).longValueExact();
            } catch (ArithmeticException e) {
                throw new IllegalArgumentException("not a 64-bit integer");
            }
        }
    }

    static double parseDouble(String text) {
        switch (text) {
            case "NaN":
                return Double.NaN;
            case "Infinity":
                return Double.POSITIVE_INFINITY;
            case "-Infinity":
                return Double.NEGATIVE_INFINITY;
            default:
                requireNumber(text);
                double d = Double.parseDouble(text);
                if (Double.isInfinite(d)) {
                    throw new IllegalArgumentException("beyond the range of a double");
                }
                return d;
        }
    }

    static BigDecimal parseDecimal(String text) {
        requireNumber(text);
        BigDecimal d = new BigDecimal(text);
        if (Math.abs((long) d.scale()) > MAX_DECIMAL_SCALE) {
            throw new IllegalArgumentException("scale " + d.scale() + " beyond +-" + MAX_DECIMAL_SCALE);
        }
        return d;
    }

    /** Rejects what {@code BigDecimal} and {@code Double.parseDouble} accept beyond JSON ({@code +1}, {@code 1d}). */
    static void requireNumber(String s) {
        if (!isJsonNumber(s)) {
            throw new IllegalArgumentException("not a JSON number");
        }
    }

    /** @return whether {@code s} matches {@code -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?} */
    static boolean isJsonNumber(String s) {
        int n = s.length();
        int i = 0;
        if (i < n && s.charAt(i) == '-') {
            i++;
        }
        if (i >= n) {
            return false;
        }
        if (s.charAt(i) == '0') {
            i++;
        } else if (isDigit(s.charAt(i))) {
            while (i < n && isDigit(s.charAt(i))) {
                i++;
            }
        } else {
            return false;
        }
        if (i < n && s.charAt(i) == '.') {
            i++;
            int start = i;
            while (i < n && isDigit(s.charAt(i))) {
                i++;
            }
            if (i == start) {
                return false;
            }
        }
        if (i < n && (s.charAt(i) == 'e' || s.charAt(i) == 'E')) {
            i++;
            if (i < n && (s.charAt(i) == '+' || s.charAt(i) == '-')) {
                i++;
            }
            int start = i;
            while (i < n && isDigit(s.charAt(i))) {
                i++;
            }
            if (i == start) {
                return false;
            }
        }
        return i == n;
    }

    private static boolean isDigit(char c) {
        return c >= '0' && c <= '9';
    }

    /**
     * @return ISO-8601 in UTC: {@code 2024-05-01T10:00:00Z} for whole seconds, else exactly six fraction digits
     *     ({@code 2024-05-01T10:00:00.123000Z}); digits below the microsecond are dropped
     */
    static String formatTimestamp(Instant t) {
        LocalDateTime ldt = LocalDateTime.ofEpochSecond(t.getEpochSecond(), 0, ZoneOffset.UTC);
        StringBuilder sb = new StringBuilder(27);
        int year = ldt.getYear();
        if (year >= 0 && year <= 9999) {
            pad(sb, year, 4);
            sb.append('-');
            pad(sb, ldt.getMonthValue(), 2);
            sb.append('-');
            pad(sb, ldt.getDayOfMonth(), 2);
        } else {
            sb.append(ldt.toLocalDate()); // +10000-01-01, -0001-01-01
        }
        sb.append('T');
        pad(sb, ldt.getHour(), 2);
        sb.append(':');
        pad(sb, ldt.getMinute(), 2);
        sb.append(':');
        pad(sb, ldt.getSecond(), 2);
        int micros = t.getNano() / 1000;
        if (micros != 0) {
            sb.append('.');
            pad(sb, micros, 6);
        }
        return sb.append('Z').toString();
    }

    private static void pad(StringBuilder sb, int value, int width) {
        int digits = 1;
        for (int x = value; x >= 10; x /= 10) {
            digits++;
        }
        for (int i = digits; i < width; i++) {
            sb.append('0');
        }
        sb.append(value);
    }

    /**
     * Parses an ISO-8601 instant or date-time with offset, truncated to microseconds. The canonical form
     * ({@code yyyy-MM-ddTHH:mm:ss[.f{1,9}]Z}) takes a fast path; other forms go through {@code java.time}.
     */
    static Instant parseTimestamp(String s) {
        Instant fast = parseCanonicalTimestamp(s);
        if (fast != null) {
            return fast;
        }
        try {
            return Instant.parse(s).truncatedTo(ChronoUnit.MICROS);
        } catch (DateTimeParseException e) {
            try {
                return OffsetDateTime.parse(s).toInstant().truncatedTo(ChronoUnit.MICROS);
            } catch (DateTimeParseException e2) {
                throw new IllegalArgumentException("not an ISO-8601 timestamp with Z or an offset");
            }
        }
    }

    private static Instant parseCanonicalTimestamp(String s) {
        int n = s.length();
        if (n < 20 || n > 30 || s.charAt(n - 1) != 'Z' || s.charAt(4) != '-' || s.charAt(7) != '-'
                || s.charAt(10) != 'T' || s.charAt(13) != ':' || s.charAt(16) != ':') {
            return null;
        }
        int year = digits(s, 0, 4);
        int month = digits(s, 5, 7);
        int day = digits(s, 8, 10);
        int hour = digits(s, 11, 13);
        int minute = digits(s, 14, 16);
        int second = digits(s, 17, 19);
        if ((year | month | day | hour | minute | second) < 0 || hour > 23 || minute > 59 || second > 59) {
            return null;
        }
        int nanos = 0;
        if (n > 20) {
            int fractionDigits = n - 21;
            if (s.charAt(19) != '.' || fractionDigits < 1 || fractionDigits > 9) {
                return null;
            }
            nanos = digits(s, 20, n - 1);
            if (nanos < 0) {
                return null;
            }
            for (int i = fractionDigits; i < 9; i++) {
                nanos *= 10;
            }
        } else if (s.charAt(19) != 'Z') {
            return null;
        }
        long epochDay = LocalDate.of(year, month, day).toEpochDay(); // DateTimeException for 2024-02-30
        long seconds = epochDay * 86_400 + hour * 3600L + minute * 60L + second;
        return Instant.ofEpochSecond(seconds, nanos - nanos % 1000);
    }

    /** @return the decimal value of {@code s[from, to)}, or -1 when a character is not a digit */
    private static int digits(String s, int from, int to) {
        int v = 0;
        for (int i = from; i < to; i++) {
            char c = s.charAt(i);
            if (c < '0' || c > '9') {
                return -1;
            }
            v = v * 10 + (c - '0');
        }
        return v;
    }

    static LocalDate parseDate(String s) {
        if (s.length() == 10 && s.charAt(4) == '-' && s.charAt(7) == '-') {
            int year = digits(s, 0, 4);
            int month = digits(s, 5, 7);
            int day = digits(s, 8, 10);
            if ((year | month | day) >= 0) {
                return LocalDate.of(year, month, day);
            }
        }
        try {
            return LocalDate.parse(s);
        } catch (DateTimeParseException e) {
            throw new IllegalArgumentException("not an ISO-8601 date");
        }
    }

    /** {@code UUID.fromString} alone accepts short groups such as {@code 1-2-3-4-5}; the wire form is 8-4-4-4-12. */
    static UUID parseUuid(String s) {
        if (s.length() != 36) {
            throw new IllegalArgumentException("not a UUID");
        }
        for (int i = 0; i < 36; i++) {
            char c = s.charAt(i);
            boolean dash = i == 8 || i == 13 || i == 18 || i == 23;
            boolean ok = dash ? c == '-' : (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
            if (!ok) {
                throw new IllegalArgumentException("not a UUID");
            }
        }
        return UUID.fromString(s);
    }
}
