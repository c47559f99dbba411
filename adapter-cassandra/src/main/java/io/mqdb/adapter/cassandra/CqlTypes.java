package io.mqdb.adapter.cassandra;

import com.datastax.oss.driver.api.core.ProtocolVersion;
import com.datastax.oss.driver.api.core.cql.BoundStatementBuilder;
import com.datastax.oss.driver.api.core.type.codec.TypeCodec;
import com.datastax.oss.driver.api.core.type.codec.TypeCodecs;
import com.datastax.oss.driver.api.core.data.GettableByIndex;
import io.mqdb.spi.Bytes;
import io.mqdb.spi.ColumnType;
import io.mqdb.spi.InvalidDataException;
import io.mqdb.spi.Json;
import java.nio.ByteBuffer;
import java.time.Instant;
import java.util.Optional;

/**
 * The mapping of portable types to CQL types and values. Pure, any thread.
 *
 * <p>{@link ColumnType#TIMESTAMP} is a CQL {@code bigint} of microseconds since the epoch, because CQL's
 * {@code timestamp} keeps milliseconds only. A {@link ColumnType#STRING} or {@link ColumnType#BYTES} value in a
 * partition-key column that is empty or starts with U+0000 (byte 0) is stored with one U+0000 (byte 0) in front,
 * because Cassandra refuses an empty partition key; every other value is stored as it is.
 */
final class CqlTypes {
    private static final char ESCAPE = '\u0000';

    private CqlTypes() {
    }

    /** @return the CQL type that holds the portable type */
    static String cqlType(ColumnType type) {
        return switch (type) {
            case STRING, JSON -> "text";
            case INT64, TIMESTAMP -> "bigint";
            case DOUBLE -> "double";
            case DECIMAL -> "decimal";
            case BOOLEAN -> "boolean";
            case BYTES -> "blob";
            case DATE -> "date";
            case UUID -> "uuid";
        };
    }

    /**
     * @param cqlType a CQL type as system_schema.columns writes it
     * @return the portable type of a column mqdb did not create, if there is one
     */
    static Optional<ColumnType> portableType(String cqlType) {
        return Optional.ofNullable(switch (cqlType) {
            case "text", "varchar", "ascii" -> ColumnType.STRING;
            case "bigint", "int", "smallint", "tinyint", "counter" -> ColumnType.INT64;
            case "double", "float" -> ColumnType.DOUBLE;
            case "decimal", "varint" -> ColumnType.DECIMAL;
            case "boolean" -> ColumnType.BOOLEAN;
            case "blob" -> ColumnType.BYTES;
            case "date" -> ColumnType.DATE;
            case "uuid", "timeuuid" -> ColumnType.UUID;
            default -> null;
        });
    }

    /** @return the driver's codec of the CQL type of the portable type */
    static TypeCodec<?> codec(ColumnType type) {
        return switch (type) {
            case STRING, JSON -> TypeCodecs.TEXT;
            case INT64, TIMESTAMP -> TypeCodecs.BIGINT;
            case DOUBLE -> TypeCodecs.DOUBLE;
            case DECIMAL -> TypeCodecs.DECIMAL;
            case BOOLEAN -> TypeCodecs.BOOLEAN;
            case BYTES -> TypeCodecs.BLOB;
            case DATE -> TypeCodecs.DATE;
            case UUID -> TypeCodecs.UUID;
        };
    }

    /**
     * @param type the portable type
     * @param value a canonical value, not null
     * @param partitionKey whether the column is part of the partition key (see the class comment)
     * @return the driver's value
     */
    static Object toCql(ColumnType type, Object value, boolean partitionKey) {
        return switch (type) {
            case STRING -> partitionKey ? escape((String) value) : value;
            case JSON -> ((Json) value).text();
            case TIMESTAMP -> micros((Instant) value);
            case BYTES -> {
                byte[] b = ((Bytes) value).toArray();
                if (partitionKey && (b.length == 0 || b[0] == 0)) {
                    byte[] e = new byte[b.length + 1];
                    System.arraycopy(b, 0, e, 1, b.length);
                    b = e;
                }
                yield ByteBuffer.wrap(b);
            }
            default -> value;
        };
    }

    /**
     * @param type the portable type
     * @param value the driver's value, not null
     * @param partitionKey whether the column is part of the partition key
     * @return the canonical value
     */
    static Object fromCql(ColumnType type, Object value, boolean partitionKey) {
        return switch (type) {
            case STRING -> partitionKey ? unescape((String) value) : value;
            case JSON -> new Json((String) value);
            case TIMESTAMP -> instant((Long) value);
            case BYTES -> {
                ByteBuffer buf = ((ByteBuffer) value).duplicate();
                if (partitionKey && buf.hasRemaining() && buf.get(buf.position()) == 0) {
                    buf.position(buf.position() + 1);
                }
                byte[] b = new byte[buf.remaining()];
                buf.get(b);
                yield Bytes.of(b);
            }
            default -> type.normalize(value);
        };
    }

    /** Binds a canonical value (or null, a tombstone) to a bound statement's marker. */
    @SuppressWarnings({"unchecked", "rawtypes"})
    static void bind(BoundStatementBuilder b, int index, ColumnType type, Object value, boolean partitionKey) {
        if (value == null) {
            b.setToNull(index);
        } else {
            TypeCodec codec = codec(type);
            b.set(index, toCql(type, value, partitionKey), codec);
        }
    }

    /** Reads a column of a result row as a canonical value, or null. */
    static Object read(GettableByIndex row, int index, ColumnType type, boolean partitionKey) {
        if (row.isNull(index)) {
            return null;
        }
        Object v = row.get(index, codec(type));
        return fromCql(type, v, partitionKey);
    }

    /** @return the serialized CQL value, as Cassandra keys and hashes it */
    @SuppressWarnings({"unchecked", "rawtypes"})
    static ByteBuffer serialize(ColumnType type, Object value, boolean partitionKey) {
        TypeCodec codec = codec(type);
        return codec.encode(toCql(type, value, partitionKey), ProtocolVersion.DEFAULT);
    }

    static long micros(Instant i) {
        try {
            return Math.addExact(Math.multiplyExact(i.getEpochSecond(), 1_000_000L), i.getNano() / 1_000);
        } catch (ArithmeticException e) {
            throw new InvalidDataException("timestamp " + i + " is outside the range of 64-bit microseconds");
        }
    }

    static Instant instant(long micros) {
        return Instant.ofEpochSecond(Math.floorDiv(micros, 1_000_000L), Math.floorMod(micros, 1_000_000L) * 1_000L);
    }

    private static String escape(String s) {
        return s.isEmpty() || s.charAt(0) == ESCAPE ? ESCAPE + s : s;
    }

    private static String unescape(String s) {
        return !s.isEmpty() && s.charAt(0) == ESCAPE ? s.substring(1) : s;
    }
}
