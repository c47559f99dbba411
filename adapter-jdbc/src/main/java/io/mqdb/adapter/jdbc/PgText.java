package io.mqdb.adapter.jdbc;

import io.mqdb.spi.Bytes;
import io.mqdb.spi.Column;
import io.mqdb.spi.InvalidDataException;
import io.mqdb.spi.Json;
import java.math.BigDecimal;
import java.time.Instant;
import java.time.LocalDate;
import java.time.LocalDateTime;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.time.format.DateTimeFormatterBuilder;
import java.time.format.DateTimeParseException;
import java.time.temporal.ChronoField;
import java.time.temporal.ChronoUnit;
import java.util.UUID;

/**
 * PostgreSQL's text output of a value (as {@code pgoutput} sends it) to the canonical value of the column's portable
 * type, the same value {@link Dialect#read} gives for it from a {@code ResultSet}. The replication session runs with
 * {@code TimeZone=UTC}, {@code DateStyle=ISO}, {@code bytea_output=hex} and {@code extra_float_digits=3} (see
 * {@link LogCapture}), which this parser relies on. Pure, any thread.
 */
final class PgText {
    /** {@code 2024-05-01 12:00:00.123456}, the fraction optional, as {@code timestamp} prints with DateStyle ISO. */
    private static final DateTimeFormatter LOCAL = new DateTimeFormatterBuilder()
            .appendPattern("uuuu-MM-dd HH:mm:ss")
            .optionalStart().appendFraction(ChronoField.NANO_OF_SECOND, 0, 9, true).optionalEnd()
            .toFormatter();

    private PgText() {
    }

    /**
     * @param column the column, with its portable type
     * @param sqlType the column's type name as described ({@code timestamptz}, {@code jsonb}, ...)
     * @param text the value's text output, not null
     * @return the canonical value
     * @throws InvalidDataException when the text is not a value of the type
     */
    static Object parse(Column column, String sqlType, String text) {
        try {
            return switch (column.type()) {
                case STRING -> text;
                case INT64 -> Long.parseLong(text);
                case DOUBLE -> Double.parseDouble(text); // NaN, Infinity, -Infinity as PostgreSQL prints them
                case DECIMAL -> new BigDecimal(text.trim());
                case BOOLEAN -> switch (text) {
                    case "t" -> Boolean.TRUE;
                    case "f" -> Boolean.FALSE;
                    default -> throw new IllegalArgumentException("not a boolean");
                };
                case BYTES -> Bytes.of(hex(text));
                case TIMESTAMP -> timestamp(text, sqlType.equals("timestamptz")
                        || sqlType.contains("with time zone"));
                case DATE -> date(text);
                case UUID -> UUID.fromString(text.trim());
                case JSON -> new Json(text);
            };
        } catch (IllegalArgumentException | DateTimeParseException | ArithmeticException e) {
            throw new InvalidDataException("column " + column.name() + " (" + sqlType + "): cannot read \""
                    + abbreviate(text) + "\" as " + column.type() + ": " + e.getMessage());
        }
    }

    /** {@code \x0a1b...}: bytea in hex output. */
    static byte[] hex(String text) {
        if (!text.startsWith("\\x")) {
            throw new IllegalArgumentException("bytea not in hex output (bytea_output must be hex)");
        }
        int n = text.length() - 2;
        if (n % 2 != 0) {
            throw new IllegalArgumentException("odd number of hex digits");
        }
        byte[] out = new byte[n / 2];
        for (int i = 0; i < out.length; i++) {
            int hi = Character.digit(text.charAt(2 + 2 * i), 16);
            int lo = Character.digit(text.charAt(3 + 2 * i), 16);
            if (hi < 0 || lo < 0) {
                throw new IllegalArgumentException("not a hex digit");
            }
            out[i] = (byte) (hi << 4 | lo);
        }
        return out;
    }

    /** As PgJDBC reads them: {@code infinity} is {@link LocalDateTime#MAX}, {@code -infinity} its MIN. */
    static Instant timestamp(String text, boolean withZone) {
        if (text.equals("infinity")) {
            return withZone ? OffsetDateTime.MAX.toInstant() : LocalDateTime.MAX.toInstant(ZoneOffset.UTC);
        }
        if (text.equals("-infinity")) {
            return withZone ? OffsetDateTime.MIN.toInstant() : LocalDateTime.MIN.toInstant(ZoneOffset.UTC);
        }
        boolean bc = text.endsWith(" BC");
        String t = bc ? text.substring(0, text.length() - 3) : text;
        Instant i;
        if (withZone) {
            OffsetDateTime o = zoned(t);
            if (bc) {
                o = o.withYear(1 - o.getYear());
            }
            i = o.toInstant();
        } else {
            LocalDateTime l = LocalDateTime.parse(t, LOCAL);
            if (bc) {
                l = l.withYear(1 - l.getYear());
            }
            i = l.toInstant(ZoneOffset.UTC);
        }
        return i.truncatedTo(ChronoUnit.MICROS);
    }

    /** {@code timestamptz} text: the local part, then {@code +HH}, {@code +HH:MM} or {@code +HH:MM:SS}. */
    private static OffsetDateTime zoned(String t) {
        int sign = Math.max(t.lastIndexOf('+'), t.lastIndexOf('-'));
        if (sign < 19) {
            throw new IllegalArgumentException("no time zone offset");
        }
        String[] hms = t.substring(sign + 1).split(":");
        if (hms.length > 3) {
            throw new IllegalArgumentException("bad time zone offset");
        }
        int seconds = 0;
        for (int i = 0; i < 3; i++) {
            seconds = seconds * 60 + (i < hms.length ? Integer.parseInt(hms[i]) : 0);
        }
        ZoneOffset offset = ZoneOffset.ofTotalSeconds(t.charAt(sign) == '-' ? -seconds : seconds);
        return LocalDateTime.parse(t.substring(0, sign), LOCAL).atOffset(offset);
    }

    static LocalDate date(String text) {
        if (text.equals("infinity")) {
            return LocalDate.MAX;
        }
        if (text.equals("-infinity")) {
            return LocalDate.MIN;
        }
        if (text.endsWith(" BC")) {
            LocalDate d = LocalDate.parse(text.substring(0, text.length() - 3));
            return d.withYear(1 - d.getYear());
        }
        return LocalDate.parse(text);
    }

    private static String abbreviate(String s) {
        return s.length() <= 40 ? s : s.substring(0, 37) + "...";
    }
}
