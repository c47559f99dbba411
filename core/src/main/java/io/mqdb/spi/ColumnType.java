package io.mqdb.spi;

import java.math.BigDecimal;
import java.math.BigInteger;
import java.time.Instant;
import java.time.LocalDate;
import java.time.temporal.ChronoUnit;

/**
 * The portable column types every store maps to its own. Each type has exactly one Java class for its values, named
 * below; {@link #normalize(Object)} converts the few close relatives (an {@code Integer} for {@link #INT64}, say) and
 * rejects everything else, so a {@link Row} built by the runtime always holds canonical values.
 */
public enum ColumnType {
    /** Text, {@link String}. */
    STRING(String.class),
    /** A signed 64-bit integer, {@link Long}. */
    INT64(Long.class),
    /** An IEEE 754 double, {@link Double}. */
    DOUBLE(Double.class),
    /** An exact decimal, {@link BigDecimal}; its scale is kept ({@code 1.50} stays {@code 1.50}). */
    DECIMAL(BigDecimal.class),
    /** {@link Boolean}. */
    BOOLEAN(Boolean.class),
    /** A byte string, {@link Bytes}. */
    BYTES(Bytes.class),
    /** An instant in UTC with microsecond precision, {@link Instant}; finer digits are truncated. */
    TIMESTAMP(Instant.class),
    /** A calendar date without time zone, {@link LocalDate}. */
    DATE(LocalDate.class),
    /** {@link UUID}. */
    UUID(java.util.UUID.class),
    /** A JSON document, {@link Json}. */
    JSON(Json.class);

    private final Class<?> javaType;

    ColumnType(Class<?> javaType) {
        this.javaType = javaType;
    }

    /** @return the one Java class that holds values of this type */
    public Class<?> javaType() {
        return javaType;
    }

    /**
     * Converts a value to this type's canonical Java value. Called by the runtime when it builds rows and by adapters
     * when they read values back; pure, any thread.
     *
     * @param value a value or null
     * @return null for null, else the canonical value
     * @throws InvalidDataException when the value cannot be this type without loss
     */
    public Object normalize(Object value) {
        if (value == null) {
            return null;
        }
        switch (this) {
            case INT64:
                if (value instanceof Long) {
                    return value;
                }
                if (value instanceof Integer || value instanceof Short || value instanceof Byte) {
                    return ((Number) value).longValue();
                }
                if (value instanceof BigInteger b && b.bitLength() < 64) {
                    return b.longValue();
                }
                break;
            case DOUBLE:
                if (value instanceof Double) {
                    return value;
                }
                if (value instanceof Float f) {
                    return f.doubleValue();
                }
                break;
            case DECIMAL:
                if (value instanceof BigDecimal) {
                    return value;
                }
                if (value instanceof Long || value instanceof Integer) {
                    return BigDecimal.valueOf(((Number) value).longValue());
                }
                if (value instanceof BigInteger b) {
                    return new BigDecimal(b);
                }
                break;
            case BYTES:
                if (value instanceof Bytes) {
                    return value;
                }
                if (value instanceof byte[] a) {
                    return Bytes.of(a);
                }
                break;
            case TIMESTAMP:
                if (value instanceof Instant i) {
                    return i.truncatedTo(ChronoUnit.MICROS);
                }
                break;
            case UUID:
                if (value instanceof java.util.UUID) {
                    return value;
                }
                break;
            default:
                if (javaType.isInstance(value)) {
                    return value;
                }
        }
        throw new InvalidDataException("expected " + name() + " (" + javaType.getSimpleName() + "), got "
                + value.getClass().getSimpleName() + " " + abbreviate(value));
    }

    private static String abbreviate(Object value) {
        String s = String.valueOf(value);
        return s.length() <= 40 ? s : s.substring(0, 37) + "...";
    }

    /**
     * @param name a type name as written in a schema, any case
     * @return the type
     * @throws IllegalArgumentException listing the valid names when there is no such type
     */
    public static ColumnType parse(String name) {
        for (ColumnType t : values()) {
            if (t.name().equalsIgnoreCase(name)) {
                return t;
            }
        }
        throw new IllegalArgumentException("unknown column type \"" + name + "\", expected one of "
                + java.util.Arrays.toString(values()).toLowerCase(java.util.Locale.ROOT));
    }
}
