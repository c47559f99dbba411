package io.mqdb.adapter.redis;

import io.mqdb.spi.Bytes;
import io.mqdb.spi.Column;
import io.mqdb.spi.InvalidDataException;
import io.mqdb.spi.Json;
import io.mqdb.spi.Key;
import java.math.BigDecimal;
import java.time.Instant;
import java.time.LocalDate;
import java.util.List;
import java.util.UUID;

/**
 * The member of a key in the per-table key index (a sorted set whose members all have score 0). Redis orders such
 * members byte by byte ({@code ZRANGEBYLEX}), so each key value is written in a form whose byte order is the order of
 * {@link Key#compareTo}: integers, doubles, dates, timestamps and UUIDs as fixed-width hex of their sortable bits,
 * text as UTF-8. Each value is followed by the terminator {@code \0\1}; a NUL inside text is written {@code \0\2},
 * so a shorter value sorts before every longer one that starts with it. The member decodes back to the key.
 *
 * <p>Differences from {@link Key#compareTo}, documented in {@code docs/adapters/redis.md}: strings compare by code
 * point (UTF-8 bytes), not UTF-16 unit, which differs only between supplementary characters and U+E000..U+FFFF;
 * DECIMAL and JSON key values compare as text.
 */
final class IndexCodec {
    private static final char[] HEX = "0123456789abcdef".toCharArray();

    private IndexCodec() {
    }

    /**
     * @param key a canonical key
     * @param keyColumns the table's key columns, in key order
     * @return the index member
     */
    static String encode(Key key, List<Column> keyColumns) {
        StringBuilder sb = new StringBuilder(24 * key.size());
        for (int i = 0; i < key.size(); i++) {
            Object v = key.get(i);
            switch (keyColumns.get(i).type()) {
                case INT64:
                    hex(sb, (Long) v ^ Long.MIN_VALUE);
                    break;
                case DOUBLE: {
                    long bits = Double.doubleToLongBits((Double) v);
                    hex(sb, bits < 0 ? ~bits : bits ^ Long.MIN_VALUE);
                    break;
                }
                case BOOLEAN:
                    sb.append((Boolean) v ? '1' : '0');
                    break;
                case DATE:
                    hex(sb, ((LocalDate) v).toEpochDay() ^ Long.MIN_VALUE);
                    break;
                case TIMESTAMP: {
                    Instant t = (Instant) v;
                    hex(sb, t.getEpochSecond() ^ Long.MIN_VALUE);
                    hex8(sb, t.getNano());
                    break;
                }
                case UUID: {
                    UUID u = (UUID) v;
                    // UUID.compareTo compares the two halves as signed longs
                    hex(sb, u.getMostSignificantBits() ^ Long.MIN_VALUE);
                    hex(sb, u.getLeastSignificantBits() ^ Long.MIN_VALUE);
                    break;
                }
                case BYTES:
                    for (byte b : ((Bytes) v).toArray()) {
                        sb.append(HEX[(b >> 4) & 0xF]).append(HEX[b & 0xF]);
                    }
                    break;
                default:
                    text(sb, FieldCodec.encode(keyColumns.get(i).type(), v));
            }
            sb.append('\0').append('\1');
        }
        return sb.toString();
    }

    /**
     * @param member an index member written by {@link #encode} with the same key columns
     * @param keyColumns the table's key columns, in key order
     * @return the key
     * @throws InvalidDataException when the member was not written for these key columns
     */
    static Key decode(String member, List<Column> keyColumns) {
        Object[] values = new Object[keyColumns.size()];
        int pos = 0;
        StringBuilder part = new StringBuilder();
        try {
            for (int i = 0; i < values.length; i++) {
                part.setLength(0);
                while (true) {
                    char c = member.charAt(pos++);
                    if (c == '\0') {
                        char n = member.charAt(pos++);
                        if (n == '\1') {
                            break;
                        }
                        part.append('\0');
                    } else {
                        part.append(c);
                    }
                }
                values[i] = decodeValue(keyColumns.get(i), part.toString());
            }
            if (pos != member.length()) {
                throw new IllegalArgumentException("trailing characters");
            }
        } catch (RuntimeException e) {
            throw new InvalidDataException("key index member " + printable(member) + " does not match key columns "
                    + keyColumns + ": " + e.getMessage(), e);
        }
        return Key.of(values);
    }

    private static Object decodeValue(Column column, String s) {
        switch (column.type()) {
            case INT64:
                return unhex(s, 0) ^ Long.MIN_VALUE;
            case DOUBLE: {
                long b = unhex(s, 0);
                return Double.longBitsToDouble(b < 0 ? b ^ Long.MIN_VALUE : ~b);
            }
            case BOOLEAN:
                return s.equals("1");
            case DATE:
                return LocalDate.ofEpochDay(unhex(s, 0) ^ Long.MIN_VALUE);
            case TIMESTAMP:
                return Instant.ofEpochSecond(unhex(s, 0) ^ Long.MIN_VALUE, Long.parseLong(s.substring(16), 16));
            case UUID:
                return new UUID(unhex(s, 0) ^ Long.MIN_VALUE, unhex(s, 16) ^ Long.MIN_VALUE);
            case BYTES: {
                byte[] b = new byte[s.length() / 2];
                for (int i = 0; i < b.length; i++) {
                    b[i] = (byte) Integer.parseInt(s, 2 * i, 2 * i + 2, 16);
                }
                return Bytes.of(b);
            }
            case DECIMAL:
                return new BigDecimal(s);
            case JSON:
                return new Json(s);
            default:
                return s;
        }
    }

    private static void text(StringBuilder sb, String s) {
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (c == '\0') {
                sb.append('\0').append('\2');
            } else {
                sb.append(c);
            }
        }
    }

    private static void hex(StringBuilder sb, long v) {
        for (int shift = 60; shift >= 0; shift -= 4) {
            sb.append(HEX[(int) (v >>> shift) & 0xF]);
        }
    }

    private static void hex8(StringBuilder sb, int v) {
        for (int shift = 28; shift >= 0; shift -= 4) {
            sb.append(HEX[(v >>> shift) & 0xF]);
        }
    }

    private static long unhex(String s, int from) {
        if (s.length() < from + 16) {
            throw new IllegalArgumentException("expected 16 hex digits");
        }
        return Long.parseUnsignedLong(s, from, from + 16, 16);
    }

    /** @return the member with control characters shown as {@code \xNN}, for messages */
    static String printable(String member) {
        StringBuilder sb = new StringBuilder();
        for (int i = 0; i < member.length() && sb.length() < 80; i++) {
            char c = member.charAt(i);
            if (c < 0x20) {
                sb.append("\\x").append(HEX[c >> 4]).append(HEX[c & 0xF]);
            } else {
                sb.append(c);
            }
        }
        return sb.toString();
    }
}
