package io.mqdb.spi;

import java.util.Arrays;
import java.util.Base64;

/**
 * An immutable byte string: the Java value of {@link ColumnType#BYTES}. Unlike {@code byte[]} it has value equality,
 * so rows compare by content.
 */
public final class Bytes implements Comparable<Bytes> {
    private final byte[] data;

    private Bytes(byte[] data) {
        this.data = data;
    }

    /**
     * @param data the bytes; copied
     * @return an immutable byte string
     */
    public static Bytes of(byte[] data) {
        return new Bytes(data.clone());
    }

    /**
     * @param base64 standard base64 text, as on the wire and in Redis
     * @return the decoded bytes
     * @throws IllegalArgumentException when the text is not base64
     */
    public static Bytes fromBase64(String base64) {
        return new Bytes(Base64.getDecoder().decode(base64));
    }

    /** @return a copy of the bytes */
    public byte[] toArray() {
        return data.clone();
    }

    /** @return the number of bytes */
    public int length() {
        return data.length;
    }

    /** @return standard base64 with padding */
    public String toBase64() {
        return Base64.getEncoder().encodeToString(data);
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof Bytes b && Arrays.equals(data, b.data);
    }

    @Override
    public int hashCode() {
        return Arrays.hashCode(data);
    }

    @Override
    public int compareTo(Bytes o) {
        return Arrays.compareUnsigned(data, o.data);
    }

    /** @return the base64 text */
    @Override
    public String toString() {
        return toBase64();
    }
}
