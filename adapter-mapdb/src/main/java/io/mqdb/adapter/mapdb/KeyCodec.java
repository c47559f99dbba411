package io.mqdb.adapter.mapdb;

import io.mqdb.spi.Bytes;
import io.mqdb.spi.Column;
import io.mqdb.spi.ColumnType;
import io.mqdb.spi.Json;
import io.mqdb.spi.Key;
import java.io.ByteArrayOutputStream;
import java.math.BigDecimal;
import java.time.Instant;
import java.time.LocalDate;
import java.util.List;
import java.util.UUID;

/**
 * Encodes a {@link Key} to bytes whose unsigned lexicographic order (MapDB's {@code Serializer.BYTE_ARRAY} order) is
 * {@link Key#compareTo}'s order, so a {@code BTreeMap} iterates rows in key order. Pure; any thread.
 *
 * <p>Keys are only encoded, never decoded: every stored row holds its key columns. Each component is self-delimiting,
 * so composite keys order column by column:
 * <ul>
 *   <li>INT64, DATE (epoch day): 8 bytes big-endian with the sign bit flipped.</li>
 *   <li>TIMESTAMP: epoch second as INT64, then the nanosecond as 4 bytes.</li>
 *   <li>DOUBLE: {@code Double.compareTo} order (-0.0 before 0.0, NaN last): the bits, all flipped when negative,
 *   else the sign bit flipped.</li>
 *   <li>UUID: both halves as INT64 ({@code UUID.compareTo} compares them signed).</li>
 *   <li>BOOLEAN: 0 or 1.</li>
 *   <li>STRING, JSON: UTF-16 code units ({@code String.compareTo} order), each as 1 to 3 bytes of an order-keeping
 *   variable-length code that never uses 0, then a 0 terminator.</li>
 *   <li>BYTES: the bytes with 0 escaped as {@code 00 FF}, then {@code 00 00}.</li>
 *   <li>DECIMAL: by numeric value ({@code 1.5} and {@code 1.50} are the same key): sign byte, then for non-zero values
 *   the decimal exponent and the significant digits, bit-inverted for negatives.</li>
 * </ul>
 */
final class KeyCodec {
    private KeyCodec() {
    }

    /**
     * @param keyColumns the table's key columns, in key order
     * @param key a canonical key of those columns
     * @return the order-preserving encoding
     */
    static byte[] encode(List<Column> keyColumns, Key key) {
        ByteArrayOutputStream out = new ByteArrayOutputStream(16);
        for (int i = 0; i < keyColumns.size(); i++) {
            write(out, keyColumns.get(i).type(), key.get(i));
        }
        return out.toByteArray();
    }

    private static void write(ByteArrayOutputStream out, ColumnType type, Object v) {
        switch (type) {
            case INT64 -> writeLong(out, (Long) v);
            case DATE -> writeLong(out, ((LocalDate) v).toEpochDay());
            case TIMESTAMP -> {
                Instant t = (Instant) v;
                writeLong(out, t.getEpochSecond());
                writeInt(out, t.getNano());
            }
            case DOUBLE -> {
                long bits = Double.doubleToLongBits((Double) v);
                bits = bits < 0 ? ~bits : bits ^ Long.MIN_VALUE;
                writeRaw(out, bits);
            }
            case UUID -> {
                UUID u = (UUID) v;
                writeLong(out, u.getMostSignificantBits());
                writeLong(out, u.getLeastSignificantBits());
            }
            case BOOLEAN -> out.write((Boolean) v ? 1 : 0);
            case STRING -> writeString(out, (String) v);
            case JSON -> writeString(out, ((Json) v).text());
            case BYTES -> {
                for (byte b : ((Bytes) v).toArray()) {
                    out.write(b);
                    if (b == 0) {
                        out.write(0xFF);
                    }
                }
                out.write(0);
                out.write(0);
            }
            case DECIMAL -> writeDecimal(out, (BigDecimal) v);
            default -> throw new IllegalStateException("unhandled key type " + type);
        }
    }

    private static void writeLong(ByteArrayOutputStream out, long v) {
        writeRaw(out, v ^ Long.MIN_VALUE);
    }

    private static void writeRaw(ByteArrayOutputStream out, long v) {
        for (int shift = 56; shift >= 0; shift -= 8) {
            out.write((int) (v >>> shift));
        }
    }

    private static void writeInt(ByteArrayOutputStream out, int v) {
        for (int shift = 24; shift >= 0; shift -= 8) {
            out.write(v >>> shift);
        }
    }

    /*
     * Code unit c as: c <= 0x7E -> one byte c+1 (01..7F); c <= 0x407E -> two bytes 80|(v>>8), v&FF with v = c-0x7F
     * (80..BF lead); else three bytes C0, v>>8, v&FF with v = c-0x407F. Groups and values within them keep order, no
     * byte of a lead is 0, so the 0 terminator sorts a prefix first ("a" < "ab").
     */
    private static void writeString(ByteArrayOutputStream out, String s) {
        for (int i = 0; i < s.length(); i++) {
            int c = s.charAt(i);
            if (c <= 0x7E) {
                out.write(c + 1);
            } else if (c <= 0x407E) {
                int v = c - 0x7F;
                out.write(0x80 | (v >>> 8));
                out.write(v & 0xFF);
            } else {
                int v = c - 0x407F;
                out.write(0xC0);
                out.write(v >>> 8);
                out.write(v & 0xFF);
            }
        }
        out.write(0);
    }

    /*
     * Zero is 0x80. A positive value is 0x81, then its adjusted exponent e (value = 0.d1d2... x 10^e, d1 != 0) as a
     * sign-flipped int, then its digits as ASCII, then 0: a larger exponent is a larger number, and at equal
     * exponents the digit strings compare like the numbers. A negative value is 0x7F, then the same body with every
     * bit inverted, which reverses its order.
     */
    private static void writeDecimal(ByteArrayOutputStream out, BigDecimal d) {
        int signum = d.signum();
        if (signum == 0) {
            out.write(0x80);
            return;
        }
        BigDecimal s = d.stripTrailingZeros();
        String digits = s.unscaledValue().abs().toString();
        int exponent = digits.length() - s.scale();
        ByteArrayOutputStream body = new ByteArrayOutputStream(digits.length() + 5);
        writeInt(body, exponent ^ Integer.MIN_VALUE);
        for (int i = 0; i < digits.length(); i++) {
            body.write(digits.charAt(i));
        }
        body.write(0);
        byte[] b = body.toByteArray();
        out.write(signum > 0 ? 0x81 : 0x7F);
        for (byte x : b) {
            out.write(signum > 0 ? x : ~x);
        }
    }
}
