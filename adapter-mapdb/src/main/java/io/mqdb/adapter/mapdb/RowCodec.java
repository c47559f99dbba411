package io.mqdb.adapter.mapdb;

import io.mqdb.spi.Bytes;
import io.mqdb.spi.Column;
import io.mqdb.spi.ColumnType;
import io.mqdb.spi.Json;
import io.mqdb.spi.MqdbException;
import io.mqdb.spi.Row;
import io.mqdb.spi.TableId;
import io.mqdb.spi.TableSchema;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.math.BigDecimal;
import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.time.LocalDate;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;

/**
 * The value encodings of the MapDB store: rows, single values and table schemas, as compact self-describing bytes.
 * Pure; any thread.
 *
 * <p>A row is {@code [column count][value]...} in the table's column order. Columns are only ever appended to a
 * table, so a column's position never changes and rows written before a column was added decode with that column
 * null. Each value starts with a tag byte (0 = null, else {@code ColumnType.ordinal() + 1}), so a value of the wrong
 * type is detected instead of misread. Every encoding is exact: doubles keep their bits (-0.0, NaN payloads),
 * decimals their scale, timestamps their nanoseconds.
 */
final class RowCodec {
    private static final int FORMAT = 1;

    private RowCodec() {
    }

    /**
     * @param schema the table's schema
     * @param row a row holding every column of the schema (missing columns are written null)
     * @return the encoded row
     */
    static byte[] encodeRow(TableSchema schema, Row row) {
        Out out = new Out(64);
        List<Column> columns = schema.columns();
        writeVarInt(out.data, columns.size());
        for (Column c : columns) {
            writeValue(out.data, c.type(), row.get(c.name()));
        }
        return out.bytes();
    }

    /**
     * @param schema the table's current schema
     * @param bytes an encoded row
     * @return the row with every column of the schema, nulls included, in schema order
     */
    static Row decodeRow(TableSchema schema, byte[] bytes) {
        try {
            DataInputStream in = new DataInputStream(new ByteArrayInputStream(bytes));
            int n = readVarInt(in);
            List<Column> columns = schema.columns();
            Map<String, Object> values = new LinkedHashMap<>(columns.size() * 2);
            for (int i = 0; i < columns.size(); i++) {
                Column c = columns.get(i);
                values.put(c.name(), i < n ? readValue(in, schema.table(), c) : null);
            }
            return Row.of(values);
        } catch (IOException e) {
            throw new MqdbException(schema.table() + ": corrupt row in the MapDB file", e);
        }
    }

    /** Writes one tagged value. */
    static void writeValue(DataOutputStream out, ColumnType type, Object value) {
        try {
            if (value == null) {
                out.writeByte(0);
                return;
            }
            out.writeByte(type.ordinal() + 1);
            switch (type) {
                case STRING -> writeText(out, (String) value);
                case INT64 -> out.writeLong((Long) value);
                case DOUBLE -> out.writeLong(Double.doubleToRawLongBits((Double) value));
                case DECIMAL -> {
                    BigDecimal d = (BigDecimal) value;
                    writeVarInt(out, d.scale());
                    byte[] unscaled = d.unscaledValue().toByteArray();
                    writeVarInt(out, unscaled.length);
                    out.write(unscaled);
                }
                case BOOLEAN -> out.writeBoolean((Boolean) value);
                case BYTES -> {
                    byte[] b = ((Bytes) value).toArray();
                    writeVarInt(out, b.length);
                    out.write(b);
                }
                case TIMESTAMP -> {
                    Instant t = (Instant) value;
                    out.writeLong(t.getEpochSecond());
                    out.writeInt(t.getNano());
                }
                case DATE -> out.writeLong(((LocalDate) value).toEpochDay());
                case UUID -> {
                    UUID u = (UUID) value;
                    out.writeLong(u.getMostSignificantBits());
                    out.writeLong(u.getLeastSignificantBits());
                }
                case JSON -> writeText(out, ((Json) value).text());
                default -> throw new IllegalStateException("unhandled type " + type);
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Reads one tagged value written by {@link #writeValue}. */
    static Object readValue(DataInputStream in, TableId table, Column column) throws IOException {
        int tag = in.readUnsignedByte();
        if (tag == 0) {
            return null;
        }
        if (tag != column.type().ordinal() + 1) {
            throw new MqdbException(table + "." + column.name() + ": stored value has type tag " + tag
                    + ", the column is " + column.type());
        }
        return switch (column.type()) {
            case STRING -> readText(in);
            case INT64 -> in.readLong();
            case DOUBLE -> Double.longBitsToDouble(in.readLong());
            case DECIMAL -> {
                int scale = readVarInt(in);
                byte[] unscaled = new byte[readVarInt(in)];
                in.readFully(unscaled);
                yield new BigDecimal(new BigInteger(unscaled), scale);
            }
            case BOOLEAN -> in.readBoolean();
            case BYTES -> {
                byte[] b = new byte[readVarInt(in)];
                in.readFully(b);
                yield Bytes.of(b);
            }
            case TIMESTAMP -> Instant.ofEpochSecond(in.readLong(), in.readInt());
            case DATE -> LocalDate.ofEpochDay(in.readLong());
            case UUID -> new UUID(in.readLong(), in.readLong());
            case JSON -> new Json(readText(in));
        };
    }

    /**
     * @param schema a table schema
     * @return its catalog encoding
     */
    static byte[] encodeSchema(TableSchema schema) {
        try {
            Out out = new Out(128);
            out.data.writeByte(FORMAT);
            out.data.writeUTF(schema.table().schema());
            out.data.writeUTF(schema.table().table());
            writeVarInt(out.data, schema.columns().size());
            for (Column c : schema.columns()) {
                out.data.writeUTF(c.name());
                out.data.writeUTF(c.type().name());
                out.data.writeBoolean(c.nullable());
            }
            writeVarInt(out.data, schema.primaryKey().size());
            for (String k : schema.primaryKey()) {
                out.data.writeUTF(k);
            }
            return out.bytes();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /**
     * @param bytes a catalog entry
     * @return the schema
     */
    static TableSchema decodeSchema(byte[] bytes) {
        try {
            DataInputStream in = new DataInputStream(new ByteArrayInputStream(bytes));
            int format = in.readUnsignedByte();
            if (format != FORMAT) {
                throw new MqdbException("catalog entry has format " + format + ", this adapter reads " + FORMAT);
            }
            TableId table = new TableId(in.readUTF(), in.readUTF());
            int n = readVarInt(in);
            List<Column> columns = new ArrayList<>(n);
            for (int i = 0; i < n; i++) {
                columns.add(new Column(in.readUTF(), ColumnType.valueOf(in.readUTF()), in.readBoolean()));
            }
            int k = readVarInt(in);
            List<String> key = new ArrayList<>(k);
            for (int i = 0; i < k; i++) {
                key.add(in.readUTF());
            }
            return new TableSchema(table, columns, key);
        } catch (IOException e) {
            throw new MqdbException("corrupt catalog entry in the MapDB file", e);
        }
    }

    // Strings as UTF-8; an unpaired surrogate (not valid Unicode) would be replaced by '?', as in every other store.
    private static void writeText(DataOutputStream out, String s) throws IOException {
        byte[] b = s.getBytes(StandardCharsets.UTF_8);
        writeVarInt(out, b.length);
        out.write(b);
    }

    private static String readText(DataInputStream in) throws IOException {
        byte[] b = new byte[readVarInt(in)];
        in.readFully(b);
        return new String(b, StandardCharsets.UTF_8);
    }

    static void writeVarInt(DataOutputStream out, int value) {
        try {
            int v = value;
            while ((v & ~0x7F) != 0) {
                out.writeByte((v & 0x7F) | 0x80);
                v >>>= 7;
            }
            out.writeByte(v);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    static int readVarInt(DataInputStream in) throws IOException {
        int value = 0;
        for (int shift = 0; shift < 35; shift += 7) {
            int b = in.readUnsignedByte();
            value |= (b & 0x7F) << shift;
            if ((b & 0x80) == 0) {
                return value;
            }
        }
        throw new IOException("varint too long");
    }

    /** A growable output; its {@code data} stream never throws. */
    static final class Out {
        private final ByteArrayOutputStream buffer;
        final DataOutputStream data;

        Out(int size) {
            buffer = new ByteArrayOutputStream(size);
            data = new DataOutputStream(buffer);
        }

        byte[] bytes() {
            return buffer.toByteArray();
        }
    }
}
