package io.mqdb.version;

import io.mqdb.spi.Bytes;
import io.mqdb.spi.Json;
import io.mqdb.spi.Key;
import java.math.BigDecimal;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.time.LocalDate;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.UUID;

/**
 * A key's canonical values as compact bytes, unambiguous and reversible: per value a tag byte, then a {@link Long} as
 * a zig-zag varint, a {@link Double} as its 8 bytes ({@link Double#doubleToLongBits}, so equal bytes mean equal
 * values), and every other type as a varint length and the UTF-8 of the text {@link VersionIndex#encodeKey} uses.
 * Two keys are equal exactly when their bytes are. Not thread-safe: one encoder per index, used under its lock.
 */
final class KeyBytes {
    private static final byte STRING = 1;
    private static final byte LONG = 2;
    private static final byte DOUBLE = 3;
    private static final byte DECIMAL = 4;
    private static final byte BOOLEAN = 5;
    private static final byte BYTES = 6;
    private static final byte INSTANT = 7;
    private static final byte DATE = 8;
    private static final byte UUID_TEXT = 9;
    private static final byte JSON = 10;

    private byte[] buf = new byte[64];
    private int len;

    /** Encodes the key into {@link #buffer()}; returns its length. */
    int encode(Key key) {
        len = 0;
        for (Object v : key.values()) {
            if (v instanceof String s) {
                text(STRING, s);
            } else if (v instanceof Long l) {
                ensure(11);
                buf[len++] = LONG;
                long z = (l << 1) ^ (l >> 63);
                while ((z & ~0x7FL) != 0) {
                    buf[len++] = (byte) ((z & 0x7F) | 0x80);
                    z >>>= 7;
                }
                buf[len++] = (byte) z;
            } else if (v instanceof Double d) {
                ensure(9);
                buf[len++] = DOUBLE;
                long bits = Double.doubleToLongBits(d);
                for (int i = 56; i >= 0; i -= 8) {
                    buf[len++] = (byte) (bits >>> i);
                }
            } else if (v instanceof BigDecimal d) {
                text(DECIMAL, d.toString());
            } else if (v instanceof Boolean b) {
                ensure(1);
                buf[len++] = BOOLEAN;
                buf[len++] = (byte) (b ? 1 : 0);
            } else if (v instanceof Bytes b) {
                text(BYTES, b.toBase64());
            } else if (v instanceof Instant t) {
                text(INSTANT, t.toString());
            } else if (v instanceof LocalDate d) {
                text(DATE, d.toString());
            } else if (v instanceof UUID u) {
                text(UUID_TEXT, u.toString());
            } else if (v instanceof Json j) {
                text(JSON, j.text());
            } else {
                throw new IllegalArgumentException("not a canonical key value: " + v.getClass().getName());
            }
        }
        return len;
    }

    /** @return the bytes of the last {@link #encode}, valid up to its length until the next call */
    byte[] buffer() {
        return buf;
    }

    private void text(byte tag, String s) {
        byte[] b = s.getBytes(StandardCharsets.UTF_8);
        ensure(6 + b.length);
        buf[len++] = tag;
        int n = b.length;
        while ((n & ~0x7F) != 0) {
            buf[len++] = (byte) ((n & 0x7F) | 0x80);
            n >>>= 7;
        }
        buf[len++] = (byte) n;
        System.arraycopy(b, 0, buf, len, b.length);
        len += b.length;
    }

    private void ensure(int more) {
        if (len + more + 1 > buf.length) {
            buf = Arrays.copyOf(buf, Math.max(buf.length * 2, len + more + 1));
        }
    }

    /**
     * @param b bytes made by {@link #encode}
     * @return the key
     * @throws IllegalArgumentException when they are not an encoded key
     */
    static Key decode(byte[] b) {
        List<Object> values = new ArrayList<>(2);
        int[] at = {0};
        while (at[0] < b.length) {
            byte tag = b[at[0]++];
            switch (tag) {
                case LONG -> {
                    long z = varint(b, at);
                    values.add((z >>> 1) ^ -(z & 1));
                }
                case DOUBLE -> {
                    long bits = 0;
                    for (int i = 0; i < 8; i++) {
                        bits = (bits << 8) | (b[at[0]++] & 0xFF);
                    }
                    values.add(Double.longBitsToDouble(bits));
                }
                case BOOLEAN -> values.add(b[at[0]++] != 0);
                default -> {
                    int n = (int) varint(b, at);
                    String text = new String(b, at[0], n, StandardCharsets.UTF_8);
                    at[0] += n;
                    values.add(switch (tag) {
                        case STRING -> text;
                        case DECIMAL -> new BigDecimal(text);
                        case BYTES -> Bytes.fromBase64(text);
                        case INSTANT -> Instant.parse(text);
                        case DATE -> LocalDate.parse(text);
                        case UUID_TEXT -> UUID.fromString(text);
                        case JSON -> new Json(text);
                        default -> throw new IllegalArgumentException("not an encoded key: tag " + tag);
                    });
                }
            }
        }
        return Key.of(values);
    }

    private static long varint(byte[] b, int[] at) {
        long v = 0;
        for (int shift = 0;; shift += 7) {
            byte x = b[at[0]++];
            v |= (long) (x & 0x7F) << shift;
            if (x >= 0) {
                return v;
            }
        }
    }
}
