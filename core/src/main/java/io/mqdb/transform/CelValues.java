package io.mqdb.transform;

import dev.cel.common.types.CelKind;
import dev.cel.common.types.CelType;
import dev.cel.common.types.NullableType;
import dev.cel.common.types.SimpleType;
import dev.cel.common.values.CelByteString;
import io.mqdb.spi.Bytes;
import io.mqdb.spi.ColumnType;
import io.mqdb.spi.InvalidDataException;
import io.mqdb.spi.Json;
import java.math.BigDecimal;
import java.time.Instant;
import java.time.LocalDate;
import java.util.Optional;
import java.util.UUID;

/**
 * The one mapping between mqdb's portable column types and values and CEL's. Stateless, any thread.
 *
 * <table>
 *   <caption>column type: CEL type (value)</caption>
 *   <tr><td>string, uuid, date, json</td><td>{@code string} (a uuid's text, an ISO date, the JSON text)</td></tr>
 *   <tr><td>int64</td><td>{@code int}</td></tr>
 *   <tr><td>double, decimal</td><td>{@code double} (a decimal as the nearest double)</td></tr>
 *   <tr><td>boolean</td><td>{@code bool}</td></tr>
 *   <tr><td>bytes</td><td>{@code bytes}</td></tr>
 *   <tr><td>timestamp</td><td>{@code google.protobuf.Timestamp}, CEL's {@code timestamp}</td></tr>
 *   <tr><td>not declared</td><td>{@code dyn}: the value's own CEL type, as above</td></tr>
 * </table>
 * Every column may be null, so scalar columns are declared as CEL's nullable wrappers: {@code amount > 0} works on a
 * value and fails (the event is dead-lettered with the reason) on a null, {@code amount != null && amount > 0} works
 * on both.
 */
final class CelValues {
    private CelValues() {
    }

    /**
     * @param type a column's declared type, or null when the channel declares the column without one
     * @return the CEL type of the column's variable
     */
    static CelType variableType(ColumnType type) {
        if (type == null) {
            return SimpleType.DYN;
        }
        return switch (type) {
            case STRING, UUID, DATE, JSON -> NullableType.create(SimpleType.STRING);
            case INT64 -> NullableType.create(SimpleType.INT);
            case DOUBLE, DECIMAL -> NullableType.create(SimpleType.DOUBLE);
            case BOOLEAN -> NullableType.create(SimpleType.BOOL);
            case BYTES -> NullableType.create(SimpleType.BYTES);
            case TIMESTAMP -> SimpleType.TIMESTAMP;
        };
    }

    /**
     * @param type the checked result type of an expression
     * @return the column type a computed column of that result gets, or empty when it has none (dyn, lists, maps,
     *     durations, null)
     */
    static Optional<ColumnType> columnType(CelType type) {
        CelKind kind = type instanceof NullableType n ? n.targetType().kind() : type.kind();
        return switch (kind) {
            case STRING -> Optional.of(ColumnType.STRING);
            case INT -> Optional.of(ColumnType.INT64);
            case DOUBLE -> Optional.of(ColumnType.DOUBLE);
            case BOOL -> Optional.of(ColumnType.BOOLEAN);
            case BYTES -> Optional.of(ColumnType.BYTES);
            case TIMESTAMP -> Optional.of(ColumnType.TIMESTAMP);
            default -> Optional.empty();
        };
    }

    /**
     * @param value a canonical column value ({@link ColumnType#normalize}) or null
     * @return the value CEL evaluates with
     */
    static Object toCel(Object value) {
        if (value == null) {
            return dev.cel.common.values.NullValue.NULL_VALUE;
        }
        if (value instanceof BigDecimal d) {
            return d.doubleValue();
        }
        if (value instanceof Bytes b) {
            return CelByteString.of(b.toArray());
        }
        if (value instanceof Instant i) {
            return com.google.protobuf.Timestamp.newBuilder().setSeconds(i.getEpochSecond()).setNanos(i.getNano())
                    .build();
        }
        if (value instanceof UUID || value instanceof LocalDate || value instanceof Json) {
            return value.toString();
        }
        return value; // String, Long, Double, Boolean
    }

    /**
     * @param result what an expression evaluated to
     * @return the mqdb value: null for CEL's null; a timestamp as an {@link Instant}, a duration as a
     *     {@link java.time.Duration}, bytes as {@link Bytes}; strings, ints, doubles and bools as they are
     * @throws InvalidDataException for a value of another kind (a list, a map)
     */
    static Object fromCel(Object result) {
        if (result == null || result instanceof dev.cel.common.values.NullValue
                || result instanceof com.google.protobuf.NullValue) {
            return null;
        }
        if (result instanceof com.google.protobuf.Timestamp t) {
            return Instant.ofEpochSecond(t.getSeconds(), t.getNanos());
        }
        if (result instanceof com.google.protobuf.Duration d) {
            return java.time.Duration.ofSeconds(d.getSeconds(), d.getNanos());
        }
        if (result instanceof CelByteString b) {
            return Bytes.of(b.toByteArray());
        }
        if (result instanceof com.google.protobuf.ByteString b) {
            return Bytes.of(b.toByteArray());
        }
        if (result instanceof String || result instanceof Long || result instanceof Double
                || result instanceof Boolean || result instanceof Instant || result instanceof java.time.Duration) {
            return result;
        }
        throw new InvalidDataException("the expression gave a " + result.getClass().getSimpleName()
                + ", which is not a column value");
    }
}
