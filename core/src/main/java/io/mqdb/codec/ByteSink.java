package io.mqdb.codec;

import java.util.Arrays;

/** A growable byte array with the primitives of the binary form: varints, fixed 64-bit words, UTF-8 strings. */
final class ByteSink {
    byte[] buf;
    int pos;

    ByteSink(int capacity) {
        buf = new byte[Math.max(64, capacity)];
    }

    void ensure(int more) {
        if (pos + more > buf.length) {
            int want = Math.max(buf.length * 2, pos + more);
            if (want < 0) {
                throw new IllegalStateException("a binary payload cannot exceed 2 GiB");
            }
            buf = Arrays.copyOf(buf, want);
        }
    }

    void put(int b) {
        ensure(1);
        buf[pos++] = (byte) b;
    }

    void put(byte[] a) {
        ensure(a.length);
        System.arraycopy(a, 0, buf, pos, a.length);
        pos += a.length;
    }

    /** Unsigned LEB128. */
    void uvarint(long v) {
        ensure(10);
        byte[] b = buf;
        int p = pos;
        while ((v & ~0x7FL) != 0) {
            b[p++] = (byte) ((v & 0x7F) | 0x80);
            v >>>= 7;
        }
        b[p++] = (byte) v;
        pos = p;
    }

    /** Zigzag, then unsigned LEB128. */
    void zvarint(long v) {
        uvarint((v << 1) ^ (v >> 63));
    }

    /** Big-endian. */
    void int64(long v) {
        ensure(8);
        byte[] b = buf;
        int p = pos;
        b[p] = (byte) (v >>> 56);
        b[p + 1] = (byte) (v >>> 48);
        b[p + 2] = (byte) (v >>> 40);
        b[p + 3] = (byte) (v >>> 32);
        b[p + 4] = (byte) (v >>> 24);
        b[p + 5] = (byte) (v >>> 16);
        b[p + 6] = (byte) (v >>> 8);
        b[p + 7] = (byte) v;
        pos = p + 8;
    }

    /** Length-prefixed UTF-8; an unpaired surrogate becomes {@code ?}, as {@code String.getBytes} does. */
    void string(String s) {
        int n = s.length();
        if (n < 43) { // at most 126 bytes: the length fits in one varint byte, written after the text
            ensure(1 + 3 * n);
            int lenAt = pos++;
            utf8(s, n);
            buf[lenAt] = (byte) (pos - lenAt - 1);
        } else {
            uvarint(utf8Length(s, n));
            ensure(3 * n);
            utf8(s, n);
        }
    }

    private void utf8(String s, int n) {
        byte[] b = buf;
        int p = pos;
        int i = 0;
        for (; i < n; i++) { // the ASCII run, the usual case
            char c = s.charAt(i);
            if (c >= 0x80) {
                break;
            }
            b[p++] = (byte) c;
        }
        for (; i < n; i++) {
            char c = s.charAt(i);
            if (c < 0x80) {
                b[p++] = (byte) c;
            } else if (c < 0x800) {
                b[p++] = (byte) (0xC0 | (c >> 6));
                b[p++] = (byte) (0x80 | (c & 0x3F));
            } else if (Character.isHighSurrogate(c) && i + 1 < n && Character.isLowSurrogate(s.charAt(i + 1))) {
                int cp = Character.toCodePoint(c, s.charAt(++i));
                b[p++] = (byte) (0xF0 | (cp >> 18));
                b[p++] = (byte) (0x80 | ((cp >> 12) & 0x3F));
                b[p++] = (byte) (0x80 | ((cp >> 6) & 0x3F));
                b[p++] = (byte) (0x80 | (cp & 0x3F));
            } else if (Character.isSurrogate(c)) {
                b[p++] = '?';
            } else {
                b[p++] = (byte) (0xE0 | (c >> 12));
                b[p++] = (byte) (0x80 | ((c >> 6) & 0x3F));
                b[p++] = (byte) (0x80 | (c & 0x3F));
            }
        }
        pos = p;
    }

    private static int utf8Length(String s, int n) {
        int len = 0;
        for (int i = 0; i < n; i++) {
            char c = s.charAt(i);
            if (c < 0x80) {
                len++;
            } else if (c < 0x800) {
                len += 2;
            } else if (Character.isHighSurrogate(c) && i + 1 < n && Character.isLowSurrogate(s.charAt(i + 1))) {
                len += 4;
                i++;
            } else if (Character.isSurrogate(c)) {
                len++;
            } else {
                len += 3;
            }
        }
        return len;
    }

    byte[] toArray() {
        return Arrays.copyOf(buf, pos);
    }
}
