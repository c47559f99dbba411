package io.mqdb.adapter.redis;

import io.mqdb.spi.Bytes;
import io.mqdb.spi.ColumnType;
import io.mqdb.spi.InvalidDataException;
import io.mqdb.spi.Json;
import java.math.BigDecimal;
import java.time.Instant;
import java.time.LocalDate;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.time.format.DateTimeFormatterBuilder;
import java.time.temporal.ChronoUnit;
import java.util.UUID;

/**
 * The text of a portable value in a Redis hash field (and in a {@code json} document): one exact, documented
 * representation per {@link ColumnType}, read back to the same canonical value. Pure, any thread.
 */
final class FieldCodec {
    private static final DateTimeFormatter SECONDS = new DateTimeFormatterBuilder()
            .append(DateTimeFormatter.ISO_LOCAL_DATE).appendLiteral('T').appendPattern("HH:mm:ss")
            .toFormatter(java.util.Locale.ROOT);

    private FieldCodec() {
    }

    /**
     * @param type the column type
     * @param value a canonical, non-null value of that type
     * @return its field text
     */
    static String encode(ColumnType type, Object value) {
        switch (type) {
            case STRING:
                return (String) value;
            case INT64:
            case BOOLEAN:
            case UUID:
                return value.toString();
            case DOUBLE:
                // Double.toString round-trips exactly and writes NaN, Infinity, -Infinity literally
                return Double.toString((Double) value);
            case DECIMAL: {
                BigDecimal d = (BigDecimal) value;
                // plain text keeps a non-negative scale (1.50 stays 1.50); 1E+3 would read back as 1000, scale 0
                return d.scale() >= 0 ? d.toPlainString() : d.toString();
            }
            case BYTES:
                return ((Bytes) value).toBase64();
            case TIMESTAMP:
                return timestamp((Instant) value);
            case DATE:
                return value.toString();
            case JSON:
                return ((Json) value).text();
            default:
                throw new IllegalStateException("unhandled type " + type);
        }
    }

    /**
     * @param type the column type
     * @param text field text written by {@link #encode} (or by hand, in the same form)
     * @return the canonical value
     * @throws IllegalArgumentException when the text is not a value of that type
     */
    static Object decode(ColumnType type, String text) {
        switch (type) {
            case STRING:
                return text;
            case INT64:
                return Long.parseLong(text);
            case DOUBLE:
                return Double.parseDouble(text);
            case DECIMAL:
                return new BigDecimal(text);
            case BOOLEAN:
                if (text.equals("true")) {
                    return Boolean.TRUE;
                }
                if (text.equals("false")) {
                    return Boolean.FALSE;
                }
                throw new IllegalArgumentException("expected true or false");
            case BYTES:
                return Bytes.fromBase64(text);
            case TIMESTAMP:
                return Instant.parse(text).truncatedTo(ChronoUnit.MICROS);
            case DATE:
                return LocalDate.parse(text);
            case UUID:
                return UUID.fromString(text);
            case JSON:
                return new Json(text);
            default:
                throw new IllegalStateException("unhandled type " + type);
        }
    }

    /**
     * Decodes with context for the error message.
     *
     * @throws InvalidDataException naming the key and column when the text is not a value of the type
     */
    static Object decode(ColumnType type, String text, String redisKey, String column) {
        try {
            return decode(type, text);
        } catch (RuntimeException e) {
            throw new InvalidDataException(redisKey + " field " + column + ": \"" + abbreviate(text)
                    + "\" is not a " + type + " (" + e.getMessage() + ")", e);
        }
    }

    /** ISO-8601 in UTC: seconds always, then exactly six fraction digits when the micros are not zero. */
    static String timestamp(Instant instant) {
        Instant t = instant.truncatedTo(ChronoUnit.MICROS);
        StringBuilder sb = new StringBuilder(32).append(SECONDS.format(t.atOffset(ZoneOffset.UTC)));
        int micros = t.getNano() / 1000;
        if (micros != 0) {
            String m = Integer.toString(micros);
            sb.append('.');
            for (int i = m.length(); i < 6; i++) {
                sb.append('0');
            }
            sb.append(m);
        }
        return sb.append('Z').toString();
    }

    private static String abbreviate(String s) {
        return s.length() <= 40 ? s : s.substring(0, 37) + "...";
    }
}
