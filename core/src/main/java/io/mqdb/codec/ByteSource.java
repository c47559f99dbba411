package io.mqdb.codec;

import io.mqdb.codec.JsonSupport.Malformed;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;

/**
 * Reads the primitives of the binary form from a slice of a byte array, every read checked against the slice's end,
 * every length against the limit it is given. Errors are {@link Malformed} with the byte offset.
 */
final class ByteSource {
    final byte[] buf;
    int pos;
    final int end;

    ByteSource(byte[] buf, int from, int to) {
        this.buf = buf;
        this.pos = from;
        this.end = to;
    }

    int remaining() {
        return end - pos;
    }

    Malformed error(String what) {
        return new Malformed(what + " at byte " + pos);
    }

    private void need(int n, String what) {
        if (n > end - pos) {
            throw new Malformed("truncated: " + what + " needs " + n + " bytes, " + (end - pos) + " left at byte "
                    + pos);
        }
    }

    int u8(String what) {
        need(1, what);
        return buf[pos++] & 0xFF;
    }

    long uvarint(String what) {
        long v = 0;
        for (int shift = 0; shift < 64; shift += 7) {
            if (pos >= end) {
                throw new Malformed("truncated: " + what + " ends inside a varint at byte " + pos);
            }
            byte b = buf[pos++];
            if (shift == 63 && (b & 0xFE) != 0) {
                throw error(what + ": varint beyond 64 bits");
            }
            v |= (long) (b & 0x7F) << shift;
            if (b >= 0) {
                return v;
            }
        }
        throw error(what + ": varint longer than 10 bytes");
    }

    long zvarint(String what) {
        long u = uvarint(what);
        return (u >>> 1) ^ -(u & 1);
    }

    /** A non-negative length or count, at most {@code limit} (named {@code limitName} in the error). */
    int length(String what, int limit, String limitName) {
        long n = uvarint(what);
        if (n < 0 || n > limit) {
            throw new Malformed(what + " of " + Long.toUnsignedString(n) + " exceeds the limit " + limitName + " ("
                    + limit + ") at byte " + pos);
        }
        return (int) n;
    }

    long int64(String what) {
        need(8, what);
        byte[] b = buf;
        int p = pos;
        pos = p + 8;
        return ((long) b[p] << 56) | ((long) (b[p + 1] & 0xFF) << 48) | ((long) (b[p + 2] & 0xFF) << 40)
                | ((long) (b[p + 3] & 0xFF) << 32) | ((long) (b[p + 4] & 0xFF) << 24) | ((b[p + 5] & 0xFF) << 16)
                | ((b[p + 6] & 0xFF) << 8) | (b[p + 7] & 0xFF);
    }

    byte[] bytes(String what, int maxBytes) {
        int n = length(what + " length", maxBytes, "maxStringBytes");
        need(n, what);
        byte[] out = new byte[n];
        System.arraycopy(buf, pos, out, 0, n);
        pos += n;
        return out;
    }

    /** A length-prefixed string, which must be valid UTF-8. */
    String string(String what, int maxBytes) {
        int n = length(what + " length", maxBytes, "maxStringBytes");
        need(n, what);
        int from = pos;
        pos += n;
        byte[] b = buf;
        boolean ascii = true;
        for (int i = from; i < from + n; i++) {
            if (b[i] < 0) {
                ascii = false;
                break;
            }
        }
        if (ascii) {
            return new String(b, from, n, StandardCharsets.ISO_8859_1);
        }
        try {
            return StandardCharsets.UTF_8.newDecoder().onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT).decode(ByteBuffer.wrap(b, from, n)).toString();
        } catch (CharacterCodingException e) {
            throw new Malformed(what + ": not UTF-8 text at byte " + from);
        }
    }
}
