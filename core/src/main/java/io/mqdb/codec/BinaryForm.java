package io.mqdb.codec;

import com.google.gson.JsonObject;
import io.mqdb.codec.JsonSupport.Malformed;
import io.mqdb.codec.SchemaIndex.ColumnInfo;
import io.mqdb.spi.Bytes;
import io.mqdb.spi.ChangeEvent;
import io.mqdb.spi.Column;
import io.mqdb.spi.ColumnType;
import io.mqdb.spi.InvalidDataException;
import io.mqdb.spi.Json;
import io.mqdb.spi.Key;
import io.mqdb.spi.Op;
import io.mqdb.spi.Row;
import io.mqdb.spi.TableId;
import io.mqdb.spi.TableSchema;
import io.mqdb.spi.Version;
import java.math.BigDecimal;
import java.math.BigInteger;
import java.time.DateTimeException;
import java.time.Instant;
import java.time.LocalDate;
import java.util.AbstractMap;
import java.util.AbstractSet;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.NoSuchElementException;
import java.util.Optional;
import java.util.Set;
import java.util.UUID;

/**
 * The binary form of a change batch, wire format version 2 ({@code docs/wire-format.md}, "Binary form"): the schema
 * once, then each event's values positionally, typed by the schema. Decoding reads the envelope and each event's
 * header; the values are read by {@link #toEvent}, one event at a time, so a bad value fails its event only.
 */
final class BinaryForm {
    /** The first four bytes of every binary payload: {@code MQDB}. No JSON text starts so. */
    static final byte[] MAGIC = {'M', 'Q', 'D', 'B'};
    static final int VERSION = 2;

    static final int ENVELOPE_ORIGIN = 0x01;
    static final int EVENT_DELETE = 0x01;
    static final int EVENT_HLC = 0x02;
    static final int EVENT_SEQ = 0x04;
    static final int EVENT_ORIGIN = 0x08;
    static final int EVENT_KEY = 0x10;
    private static final int EVENT_FLAGS = 0x1F;

    private BinaryForm() {
    }

    /** Thrown while encoding when a value has no binary form of its column's type; the batch is written as JSON. */
    static final class NotRepresentable extends RuntimeException {
        private static final long serialVersionUID = 1L;

        NotRepresentable(String message) {
            super(message, null, false, false);
        }
    }

    static boolean isBinary(byte[] p) {
        return p.length >= 4 && p[0] == 'M' && p[1] == 'Q' && p[2] == 'D' && p[3] == 'B';
    }

    static int typeCode(ColumnType t) {
        switch (t) {
            case STRING: return 1;
            case INT64: return 2;
            case DOUBLE: return 3;
            case DECIMAL: return 4;
            case BOOLEAN: return 5;
            case BYTES: return 6;
            case TIMESTAMP: return 7;
            case DATE: return 8;
            case UUID: return 9;
            case JSON: return 10;
            default: throw new IllegalStateException("no type code for " + t);
        }
    }

    private static final ColumnType[] BY_CODE = {null, ColumnType.STRING, ColumnType.INT64, ColumnType.DOUBLE,
        ColumnType.DECIMAL, ColumnType.BOOLEAN, ColumnType.BYTES, ColumnType.TIMESTAMP, ColumnType.DATE,
        ColumnType.UUID, ColumnType.JSON};

    // ---------------------------------------------------------------------------------------------------- encoding

    /** The schema section: table, columns, primary key. */
    static byte[] schemaSection(SchemaIndex ix) {
        ByteSink out = new ByteSink(32 + 16 * ix.names.length);
        out.string(ix.table.toString());
        out.uvarint(ix.names.length);
        for (Column c : ix.schema.columns()) {
            out.string(c.name());
            out.put(typeCode(c.type()));
            out.put(c.nullable() ? 1 : 0);
        }
        out.uvarint(ix.keyIndex.length);
        for (int k : ix.keyIndex) {
            out.uvarint(k);
        }
        return out.toArray();
    }

    /**
     * @throws NotRepresentable when a row names a column the schema lacks or holds a value of another type
     * @throws InvalidDataException naming table, key and column when a JSON value is not JSON
     */
    static byte[] encode(String origin, SchemaIndex ix, List<ChangeEvent> events) {
        int n = ix.names.length;
        byte[] schema = ix.binarySchema();
        ByteSink out = new ByteSink(16 + schema.length + 128 * events.size());
        out.put(MAGIC);
        out.put(VERSION);
        out.put(origin != null ? ENVELOPE_ORIGIN : 0);
        if (origin != null) {
            out.string(origin);
        }
        out.put(schema);
        out.uvarint(events.size());
        Object[] values = new Object[n];
        boolean[] present = new boolean[n];
        int bitmapBytes = (n + 7) >>> 3;
        String[] names = ix.names;
        ColumnType[] types = ix.types;
        int[] keyIndex = ix.keyIndex;
        for (ChangeEvent e : events) {
            if (!e.table().equals(ix.table)) {
                throw new IllegalArgumentException("a batch holds the events of one table: got " + e.table()
                        + " in a batch of " + ix.table);
            }
            Key key = e.key();
            if (key.size() != keyIndex.length) {
                throw new IllegalArgumentException(e.table() + " key " + key + ": has " + key.size()
                        + " values, the primary key " + ix.primaryKey + " has " + keyIndex.length);
            }
            int start = out.pos;
            out.ensure(2);
            out.pos += 2; // the body's length, filled in below
            boolean upsert = e.op() == Op.UPSERT;
            boolean keyGiven = !upsert;
            if (upsert) {
                Arrays.fill(present, false);
                int guess = 0;
                for (Map.Entry<String, Object> c : e.row().values().entrySet()) {
                    String name = c.getKey();
                    int at = guess < n && names[guess].equals(name) ? guess : ix.position(name);
                    if (at < 0) {
                        throw new NotRepresentable(e.table() + " key " + key + ": column " + name
                                + " is not in the schema");
                    }
                    present[at] = true;
                    values[at] = c.getValue();
                    guess = at + 1;
                }
                for (int k = 0; k < keyIndex.length; k++) {
                    int at = keyIndex[k];
                    if (!present[at] || !key.get(k).equals(values[at])) {
                        keyGiven = true;
                    }
                }
            }
            String eventOrigin = e.origin();
            boolean ownOrigin = !eventOrigin.equals(origin);
            out.put((upsert ? 0 : EVENT_DELETE) | EVENT_HLC | (e.sequence() != 0 ? EVENT_SEQ : 0)
                    | (ownOrigin ? EVENT_ORIGIN : 0) | (keyGiven ? EVENT_KEY : 0));
            out.int64(e.version().hlc());
            if (e.sequence() != 0) {
                out.uvarint(e.sequence());
            }
            if (ownOrigin) {
                out.string(eventOrigin);
            }
            int column = -1;
            try {
                if (keyGiven) {
                    for (int k = 0; k < keyIndex.length; k++) {
                        column = keyIndex[k];
                        writeValue(out, types[column], key.get(k));
                    }
                }
                if (upsert) {
                    out.ensure(2 * bitmapBytes);
                    int presentAt = out.pos;
                    int nullAt = presentAt + bitmapBytes;
                    Arrays.fill(out.buf, presentAt, nullAt + bitmapBytes, (byte) 0);
                    out.pos = nullAt + bitmapBytes;
                    for (int i = 0; i < n; i++) {
                        if (present[i]) {
                            out.buf[presentAt + (i >>> 3)] |= (byte) (1 << (i & 7));
                            Object v = values[i];
                            values[i] = null;
                            if (v == null) {
                                out.buf[nullAt + (i >>> 3)] |= (byte) (1 << (i & 7));
                            } else {
                                column = i;
                                writeValue(out, types[i], v);
                            }
                        }
                    }
                }
            } catch (InvalidDataException ex) {
                throw new InvalidDataException(e.table() + " key " + key + ": column " + names[column] + ": "
                        + ex.getMessage(), ex);
            }
            int len = out.pos - start - 2;
            if (len < 1 << 14) { // two varint bytes, the first with its continuation bit even when not needed
                out.buf[start] = (byte) (0x80 | (len & 0x7F));
                out.buf[start + 1] = (byte) (len >>> 7);
            } else {
                ByteSink prefix = new ByteSink(10);
                prefix.uvarint(len);
                out.ensure(prefix.pos - 2);
                System.arraycopy(out.buf, start + 2, out.buf, start + prefix.pos, len);
                System.arraycopy(prefix.buf, 0, out.buf, start, prefix.pos);
                out.pos = start + prefix.pos + len;
            }
        }
        return out.toArray();
    }

    private static void writeValue(ByteSink out, ColumnType t, Object v) {
        switch (t) {
            case STRING:
                if (v instanceof String s) {
                    out.string(s);
                    return;
                }
                break;
            case INT64:
                if (v instanceof Long || v instanceof Integer || v instanceof Short || v instanceof Byte) {
                    out.zvarint(((Number) v).longValue());
                    return;
                }
                break;
            case DOUBLE:
                if (v instanceof Double || v instanceof Float) {
                    out.int64(Double.doubleToLongBits(((Number) v).doubleValue()));
                    return;
                }
                break;
            case DECIMAL:
                if (v instanceof BigDecimal d) {
                    writeDecimal(out, d);
                    return;
                }
                if (v instanceof Long || v instanceof Integer) {
                    writeDecimal(out, BigDecimal.valueOf(((Number) v).longValue()));
                    return;
                }
                if (v instanceof BigInteger b) {
                    writeDecimal(out, new BigDecimal(b));
                    return;
                }
                break;
            case BOOLEAN:
                if (v instanceof Boolean b) {
                    out.put(b ? 1 : 0);
                    return;
                }
                break;
            case BYTES:
                if (v instanceof Bytes b) {
                    byte[] a = b.toArray();
                    out.uvarint(a.length);
                    out.put(a);
                    return;
                }
                if (v instanceof byte[] a) {
                    out.uvarint(a.length);
                    out.put(a);
                    return;
                }
                break;
            case TIMESTAMP:
                if (v instanceof Instant i) {
                    out.zvarint(i.getEpochSecond());
                    out.uvarint(i.getNano() / 1000);
                    return;
                }
                break;
            case DATE:
                if (v instanceof LocalDate d) {
                    out.zvarint(d.toEpochDay());
                    return;
                }
                break;
            case UUID:
                if (v instanceof UUID u) {
                    out.int64(u.getMostSignificantBits());
                    out.int64(u.getLeastSignificantBits());
                    return;
                }
                break;
            case JSON:
                if (v instanceof Json j) {
                    out.string(Values.canonicalJson(j.text()));
                    return;
                }
                break;
            default:
                break;
        }
        throw new NotRepresentable("a " + v.getClass().getName() + " in a " + t + " column");
    }

    static void writeDecimal(ByteSink out, BigDecimal d) {
        out.zvarint(d.scale());
        BigInteger u = d.unscaledValue();
        if (u.bitLength() < 64) {
            long l = u.longValue();
            int bytes = l == 0 ? 0 : (64 - Long.numberOfLeadingZeros(l ^ (l >> 63))) / 8 + 1;
            out.uvarint(bytes);
            out.ensure(bytes);
            for (int i = bytes - 1; i >= 0; i--) {
                out.buf[out.pos++] = (byte) (l >>> (8 * i));
            }
        } else {
            byte[] a = u.toByteArray();
            out.uvarint(a.length);
            out.put(a);
        }
    }

    // ---------------------------------------------------------------------------------------------------- decoding

    /** What the events of one binary payload share. */
    static final class Batch {
        final byte[] payload;
        final SchemaIndex sender;
        final CodecLimits limits;
        private volatile Mapping mapping;

        Batch(byte[] payload, SchemaIndex sender, CodecLimits limits) {
            this.payload = payload;
            this.sender = sender;
            this.limits = limits;
        }

        /** The receiver's column for each of the sender's, computed once per receiving schema. */
        Mapping mapping(SchemaIndex receiver) {
            Mapping m = mapping;
            if (m == null || m.receiver != receiver) {
                m = new Mapping(sender, receiver);
                mapping = m;
            }
            return m;
        }
    }

    static final class Mapping {
        final SchemaIndex receiver;
        /** By sender position: the receiver's column of that name, or null. */
        final ColumnInfo[] columns;
        /** By sender position: whether the receiver's column has the same type (the value needs no conversion). */
        final boolean[] sameType;
        /** By receiver key position: the sender position of that column, or -1. */
        final int[] keySource;

        Mapping(SchemaIndex sender, SchemaIndex receiver) {
            this.receiver = receiver;
            int n = sender.names.length;
            columns = new ColumnInfo[n];
            sameType = new boolean[n];
            for (int i = 0; i < n; i++) {
                columns[i] = receiver.byName.get(sender.names[i]);
                sameType[i] = columns[i] != null && columns[i].column().type() == sender.types[i];
            }
            keySource = new int[receiver.keyColumns.length];
            for (int k = 0; k < keySource.length; k++) {
                keySource[k] = sender.position(receiver.keyColumns[k].column().name());
            }
        }
    }

    static WireBatch decode(byte[] p, TableId topic, CodecLimits limits) {
        ByteSource in = new ByteSource(p, MAGIC.length, p.length);
        int version = in.u8("version");
        if (version != VERSION) {
            throw new Malformed("unsupported binary version " + version + ", this node reads binary version "
                    + VERSION);
        }
        int flags = in.u8("envelope flags");
        if ((flags & ~ENVELOPE_ORIGIN) != 0) {
            throw in.error("unknown envelope flags 0x" + Integer.toHexString(flags));
        }
        String origin = null;
        if ((flags & ENVELOPE_ORIGIN) != 0) {
            origin = origin(in, "origin", limits);
        }
        SchemaIndex sender = new SchemaIndex(readSchema(in, limits));
        TableId table = sender.table;
        if (topic != null && !table.equals(topic)) {
            throw new Malformed("the schema describes " + table + " but the channel is " + topic);
        }
        int count = in.length("event count", limits.maxEvents(), "maxEvents");
        if (count > in.remaining() / 2) { // an event takes at least a length and a header byte
            throw new Malformed("truncated: " + count + " events announced, " + in.remaining() + " bytes left");
        }
        Batch batch = new Batch(p, sender, limits);
        List<WireEvent> events = new ArrayList<>(count);
        for (int i = 0; i < count; i++) {
            try {
                int len = in.length("length", Integer.MAX_VALUE, "");
                if (len > in.remaining()) {
                    throw new Malformed("truncated: needs " + len + " bytes, " + in.remaining() + " left at byte "
                            + in.pos);
                }
                int end = in.pos + len;
                ByteSource h = new ByteSource(p, in.pos, end);
                int header = h.u8("header");
                if ((header & ~EVENT_FLAGS) != 0) {
                    throw h.error("unknown event flags 0x" + Integer.toHexString(header));
                }
                Op op = (header & EVENT_DELETE) != 0 ? Op.DELETE : Op.UPSERT;
                boolean keyGiven = (header & EVENT_KEY) != 0;
                if (op == Op.DELETE && !keyGiven) {
                    throw h.error("a delete needs a key");
                }
                boolean hasHlc = (header & EVENT_HLC) != 0;
                long hlc = 0;
                if (hasHlc) {
                    hlc = h.int64("hlc");
                    if (hlc < 0) {
                        throw h.error("hlc: must not be negative, got " + hlc);
                    }
                }
                long seq = 0;
                if ((header & EVENT_SEQ) != 0) {
                    seq = h.uvarint("seq");
                    if (seq < 0) {
                        throw h.error("seq: must not be negative, got " + Long.toUnsignedString(seq));
                    }
                }
                String eventOrigin = origin;
                if ((header & EVENT_ORIGIN) != 0) {
                    eventOrigin = origin(h, "origin", limits);
                }
                events.add(new WireEvent(table, op, null, null, hasHlc, hlc, eventOrigin, seq, i, batch, h.pos, end,
                        keyGiven));
                in.pos = end;
            } catch (Malformed e) {
                throw new Malformed("events[" + i + "]: " + e.getMessage());
            }
        }
        if (in.remaining() != 0) {
            throw in.error("unexpected data after the last event");
        }
        return new WireBatch(VERSION, origin, Optional.of(sender.schema), events);
    }

    private static String origin(ByteSource in, String what, CodecLimits limits) {
        String s = in.string(what, limits.maxStringBytes());
        if (s.isEmpty()) {
            throw in.error(what + ": must not be empty");
        }
        return s;
    }

    private static TableSchema readSchema(ByteSource in, CodecLimits limits) {
        String tableText = in.string("schema.table", limits.maxStringBytes());
        TableId table;
        try {
            table = TableId.parse(tableText);
        } catch (IllegalArgumentException e) {
            throw new Malformed("schema.table: " + e.getMessage());
        }
        int n = in.length("column count", limits.maxColumns(), "maxColumns");
        List<Column> columns = new ArrayList<>(n);
        for (int i = 0; i < n; i++) {
            String where = "schema.columns[" + i + "]";
            String name = in.string(where + ".name", limits.maxStringBytes());
            int code = in.u8(where + ".type");
            if (code < 1 || code >= BY_CODE.length) {
                throw in.error(where + ".type: unknown type code " + code);
            }
            int nullable = in.u8(where + ".nullable");
            if (nullable > 1) {
                throw in.error(where + ".nullable: expected 0 or 1, got " + nullable);
            }
            try {
                columns.add(new Column(name, BY_CODE[code], nullable == 1));
            } catch (IllegalArgumentException e) {
                throw new Malformed(where + ": " + e.getMessage());
            }
        }
        int k = in.length("key column count", n, "of the column count");
        List<String> primaryKey = new ArrayList<>(k);
        for (int i = 0; i < k; i++) {
            long at = in.uvarint("schema.primaryKey[" + i + "]");
            if (at < 0 || at >= n) {
                throw in.error("schema.primaryKey[" + i + "]: column " + Long.toUnsignedString(at)
                        + " of " + n);
            }
            primaryKey.add(columns.get((int) at).name());
        }
        try {
            return new TableSchema(table, columns, primaryKey);
        } catch (IllegalArgumentException e) {
            throw new Malformed("schema " + e.getMessage());
        }
    }

    /** A value, typed by the sender's column; never null. */
    private static Object readValue(ByteSource in, ColumnType t, CodecLimits limits) {
        switch (t) {
            case STRING:
                return in.string("string", limits.maxStringBytes());
            case INT64:
                return in.zvarint("int64");
            case DOUBLE:
                return Double.longBitsToDouble(in.int64("double"));
            case DECIMAL: {
                long scale = in.zvarint("decimal scale");
                if (Math.abs(scale) > Values.MAX_DECIMAL_SCALE) {
                    throw new InvalidDataException("decimal scale " + scale + " beyond +-" + Values.MAX_DECIMAL_SCALE);
                }
                int n = in.length("decimal length", limits.maxStringBytes(), "maxStringBytes");
                if (n > in.remaining()) {
                    throw new Malformed("truncated: decimal needs " + n + " bytes at byte " + in.pos);
                }
                if (n <= 8) {
                    long u = 0;
                    for (int i = 0; i < n; i++) {
                        u = (u << 8) | (in.buf[in.pos++] & 0xFF);
                    }
                    if (n > 0 && n < 8) {
                        u = (u << (64 - 8 * n)) >> (64 - 8 * n); // sign-extend
                    }
                    return BigDecimal.valueOf(u, (int) scale);
                }
                byte[] a = Arrays.copyOfRange(in.buf, in.pos, in.pos + n);
                in.pos += n;
                return new BigDecimal(new BigInteger(a), (int) scale);
            }
            case BOOLEAN: {
                int b = in.u8("boolean");
                if (b > 1) {
                    throw new InvalidDataException("expected BOOLEAN 0 or 1, got " + b);
                }
                return b == 1;
            }
            case BYTES:
                return Bytes.of(in.bytes("bytes", limits.maxStringBytes()));
            case TIMESTAMP: {
                long seconds = in.zvarint("timestamp seconds");
                long micros = in.uvarint("timestamp microseconds");
                if (micros < 0 || micros > 999_999) {
                    throw new InvalidDataException("expected TIMESTAMP microseconds 0 to 999999, got "
                            + Long.toUnsignedString(micros));
                }
                try {
                    return Instant.ofEpochSecond(seconds, micros * 1000);
                } catch (DateTimeException e) {
                    throw new InvalidDataException("expected TIMESTAMP, got " + seconds + " s beyond its range");
                }
            }
            case DATE: {
                long day = in.zvarint("date");
                try {
                    return LocalDate.ofEpochDay(day);
                } catch (DateTimeException e) {
                    throw new InvalidDataException("expected DATE, got epoch day " + day + " beyond its range");
                }
            }
            case UUID:
                return new UUID(in.int64("uuid"), in.int64("uuid"));
            case JSON: {
                String text = in.string("json", limits.maxStringBytes());
                return new Json(JsonText.isCompact(text) ? text : Values.canonicalJson(text));
            }
            default:
                throw new IllegalStateException("no binary form for " + t);
        }
    }

    /**
     * Converts one binary event against the receiver's schema; see {@link EventCodec#toEvent}.
     *
     * @throws InvalidDataException naming table, key (or event) and column
     */
    static ChangeEvent toEvent(WireEvent e, SchemaIndex ix, long receiveMillis) {
        Batch b = e.binary;
        SchemaIndex s = b.sender;
        Mapping m = b.mapping(ix);
        ByteSource in = new ByteSource(b.payload, e.valuesFrom, e.valuesTo);
        String column = null;
        Object[] keyValues = new Object[ix.keyColumns.length];
        Key key = null;
        try {
            if (e.keyGiven) {
                for (int k = 0; k < s.keyIndex.length; k++) {
                    int at = s.keyIndex[k];
                    column = s.names[at];
                    Object v = readValue(in, s.types[at], b.limits);
                    ColumnInfo ci = m.columns[at];
                    if (ci == null || ci.keyPosition() < 0) {
                        throw new InvalidDataException(ix.table + " event " + e.index() + ": " + column
                                + " is not a key column, the primary key is " + ix.primaryKey);
                    }
                    keyValues[ci.keyPosition()] = m.sameType[at] ? v : convert(v, ci);
                    if (keyValues[ci.keyPosition()] == null) {
                        throw new InvalidDataException(ix.table + " event " + e.index() + ": key column " + column
                                + " is null");
                    }
                }
                for (int k = 0; k < keyValues.length; k++) {
                    if (keyValues[k] == null) {
                        throw new InvalidDataException(ix.table + " event " + e.index() + ": key column "
                                + ix.keyColumns[k].column().name() + " is missing");
                    }
                }
                key = Key.of(keyValues);
            }
            column = null;
            Row row = null;
            if (e.op() == Op.UPSERT) {
                row = row(e, in, ix, m, keyValues, key);
                if (key == null) {
                    key = Key.of(keyValues);
                }
            }
            if (in.remaining() != 0) {
                throw new Malformed(in.remaining() + " bytes after the event's values");
            }
            long hlc = e.hasHlc() ? e.rawHlc() : Version.pack(receiveMillis, 0);
            String origin = e.rawOrigin();
            return new ChangeEvent(e.table(), e.op(), key, row,
                    new Version(hlc, origin != null ? origin : EventCodec.DEFAULT_ORIGIN), e.seq());
        } catch (Malformed ex) {
            throw new InvalidDataException(ix.table + " event " + e.index() + ": "
                    + (column != null ? "column " + column + ": " : "") + ex.getMessage());
        } catch (InvalidDataException ex) {
            if (ex.getMessage().startsWith(ix.table + " ")) {
                throw ex;
            }
            throw new InvalidDataException(ix.table + (key != null ? " key " + key : " event " + e.index())
                    + (column != null ? ": column " + column : "") + ": " + ex.getMessage(), ex);
        }
    }

    private static Row row(WireEvent e, ByteSource in, SchemaIndex ix, Mapping m, Object[] keyValues, Key givenKey) {
        SchemaIndex s = e.binary.sender;
        int n = s.names.length;
        int bitmapBytes = (n + 7) >>> 3;
        if (in.remaining() < 2 * bitmapBytes) {
            throw new Malformed("truncated: the row's bitmaps need " + 2 * bitmapBytes + " bytes");
        }
        int presentAt = in.pos;
        int nullAt = presentAt + bitmapBytes;
        in.pos = nullAt + bitmapBytes;
        byte[] p = in.buf;
        Object[] raw = new Object[n];
        int mentioned = 0;
        for (int i = 0; i < n; i++) {
            if ((p[presentAt + (i >>> 3)] & (1 << (i & 7))) != 0) {
                mentioned++;
                if ((p[nullAt + (i >>> 3)] & (1 << (i & 7))) == 0) {
                    try {
                        raw[i] = readValue(in, s.types[i], e.binary.limits);
                    } catch (InvalidDataException | Malformed ex) {
                        throw new InvalidDataException(ix.table + " event " + e.index() + ": column " + s.names[i]
                                + ": " + ex.getMessage());
                    }
                }
            } else if ((p[nullAt + (i >>> 3)] & (1 << (i & 7))) != 0) {
                throw new Malformed("column " + s.names[i] + " is null but not present");
            }
        }
        for (int i = n; i < 8 * bitmapBytes; i++) {
            if ((p[presentAt + (i >>> 3)] & (1 << (i & 7))) != 0 || (p[nullAt + (i >>> 3)] & (1 << (i & 7))) != 0) {
                throw new Malformed("bitmap bit " + i + " set for a table of " + n + " columns");
            }
        }
        Key key = givenKey;
        if (key == null) {
            for (int k = 0; k < keyValues.length; k++) {
                int at = m.keySource[k];
                String name = ix.keyColumns[k].column().name();
                if (at < 0 || (p[presentAt + (at >>> 3)] & (1 << (at & 7))) == 0) {
                    throw new InvalidDataException(ix.table + " event " + e.index() + ": key column " + name
                            + " is missing (no \"key\" and not in \"row\")");
                }
                Object v = raw[at] == null ? null : m.sameType[at] ? raw[at] : convert(raw[at], m.columns[at]);
                if (v == null) {
                    throw new InvalidDataException(ix.table + " event " + e.index() + ": key column " + name
                            + " is null");
                }
                keyValues[k] = v;
            }
            key = Key.of(keyValues);
        }
        String[] outNames = new String[mentioned + keyValues.length];
        Object[] outValues = new Object[outNames.length];
        int size = 0;
        int keyColumnsInRow = 0;
        for (int i = 0; i < n; i++) {
            if ((p[presentAt + (i >>> 3)] & (1 << (i & 7))) == 0) {
                continue;
            }
            ColumnInfo ci = m.columns[i];
            if (ci == null) {
                throw new InvalidDataException(ix.table + " key " + key + ": unknown column " + s.names[i]);
            }
            Object v;
            try {
                v = raw[i] == null || m.sameType[i] ? raw[i] : convert(raw[i], ci);
            } catch (InvalidDataException ex) {
                throw new InvalidDataException(ix.table + " key " + key + ": column " + ci.column().name() + ": "
                        + ex.getMessage(), ex);
            }
            int keyPosition = ci.keyPosition();
            if (keyPosition >= 0) {
                keyColumnsInRow++;
                if (v == null) {
                    throw new InvalidDataException(ix.table + " key " + key + ": key column " + ci.column().name()
                            + " is null");
                }
                if (givenKey != null && !v.equals(keyValues[keyPosition])) {
                    throw new InvalidDataException(ix.table + " key " + key + ": column " + ci.column().name()
                            + " is " + v + " in \"row\" but " + keyValues[keyPosition] + " in \"key\"");
                }
                v = keyValues[keyPosition];
            } else if (v == null && !ci.column().nullable()) {
                throw new InvalidDataException(ix.table + " key " + key + ": column " + ci.column().name()
                        + " may not be null");
            }
            outNames[size] = ix.names[ci.position()];
            outValues[size++] = v;
        }
        if (keyColumnsInRow < keyValues.length) {
            for (int k = 0; k < keyValues.length; k++) {
                int at = m.keySource[k];
                if (at < 0 || (p[presentAt + (at >>> 3)] & (1 << (at & 7))) == 0) {
                    outNames[size] = ix.keyColumns[k].column().name();
                    outValues[size++] = keyValues[k];
                }
            }
        }
        return Row.of(new PositionalMap(outNames, outValues, size));
    }

    /**
     * A read-only map over parallel arrays, only for {@link Row#of} to copy: one hash map per row instead of two.
     * Keys are distinct by construction.
     */
    private static final class PositionalMap extends AbstractMap<String, Object> {
        private final String[] names;
        private final Object[] values;
        private final int size;

        PositionalMap(String[] names, Object[] values, int size) {
            this.names = names;
            this.values = values;
            this.size = size;
        }

        @Override
        public int size() {
            return size;
        }

        @Override
        public Set<Map.Entry<String, Object>> entrySet() {
            return new AbstractSet<>() {
                @Override
                public int size() {
                    return size;
                }

                @Override
                public Iterator<Map.Entry<String, Object>> iterator() {
                    return new Iterator<>() {
                        private int next;

                        @Override
                        public boolean hasNext() {
                            return next < size;
                        }

                        @Override
                        public Map.Entry<String, Object> next() {
                            if (next >= size) {
                                throw new NoSuchElementException();
                            }
                            int i = next++;
                            return new AbstractMap.SimpleImmutableEntry<>(names[i], values[i]);
                        }
                    };
                }
            };
        }
    }

    /** A value of one type for a column of another: as the JSON form would carry it, read as the column's type. */
    private static Object convert(Object value, ColumnInfo target) {
        return Values.read(target.column().type(), Values.toJsonElement(value));
    }

    // ------------------------------------------------------------------------------------- rendering as JSON

    static JsonObject jsonKey(WireEvent e) {
        ChangeEvent c = toEvent(e, e.binary.sender, 0);
        if (c.op() == Op.UPSERT && !e.keyGiven) {
            return null;
        }
        SchemaIndex s = e.binary.sender;
        JsonObject o = new JsonObject();
        for (int k = 0; k < s.keyIndex.length; k++) {
            o.add(s.primaryKey.get(k), Values.toJsonElement(c.key().get(k)));
        }
        return o;
    }

    static JsonObject jsonRow(WireEvent e) {
        ChangeEvent c = toEvent(e, e.binary.sender, 0);
        if (c.row() == null) {
            return null;
        }
        JsonObject o = new JsonObject();
        for (Map.Entry<String, Object> v : c.row().values().entrySet()) {
            o.add(v.getKey(), Values.toJsonElement(v.getValue()));
        }
        return o;
    }
}
