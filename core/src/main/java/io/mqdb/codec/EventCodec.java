package io.mqdb.codec;

import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.stream.JsonReader;
import com.google.gson.stream.JsonToken;
import com.google.gson.stream.JsonWriter;
import io.mqdb.codec.JsonSupport.Malformed;
import io.mqdb.codec.JsonSupport.TextBuffer;
import io.mqdb.codec.SchemaIndex.ColumnInfo;
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
import java.io.IOException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The wire format of change batches and table schemas, specified in {@code docs/wire-format.md}: version 1, JSON
 * ({@link WireForm#JSON}, what plain MQTT clients write), and version 2, binary ({@link WireForm#BINARY}, what nodes
 * publish by default). {@link #decode} reads both.
 *
 * <p>Decoding is two steps so that one bad event does not cost its whole batch: {@link #decode} checks the envelope
 * and the shape of each event (malformed payloads fail as a whole), then {@link #toEvent} converts one event against
 * the table's schema (a bad value fails that event only). Every input is bounded by {@link CodecLimits} before it is
 * read into memory.
 *
 * <p>Encoding is deterministic: the same arguments give the same bytes.
 *
 * <p>Thread-safe; one instance may serve every channel. It caches a column index per table schema.
 */
public final class EventCodec {
    /** The version of the JSON form, the only one plain MQTT clients need. */
    public static final int VERSION = 1;

    /** The version of the binary form. */
    public static final int BINARY_VERSION = BinaryForm.VERSION;

    /** The origin of events that name none: changes a plain MQTT client published. */
    public static final String DEFAULT_ORIGIN = "mqtt";

    private final Map<TableId, SchemaIndex> indexes = new ConcurrentHashMap<>();
    private final WireForm form;
    private final CodecLimits limits;

    /** A codec that publishes the binary form and decodes within {@link CodecLimits#DEFAULTS}. */
    public EventCodec() {
        this(WireForm.BINARY, CodecLimits.DEFAULTS);
    }

    /**
     * @param form the form {@link #encodeBatch(String, TableSchema, List)} writes; {@link WireForm#JSON} for a
     *     cluster that still has nodes of a release that reads only version 1
     * @param limits the bounds of what {@link #decode} accepts
     */
    public EventCodec(WireForm form, CodecLimits limits) {
        this.form = Objects.requireNonNull(form, "form");
        this.limits = Objects.requireNonNull(limits, "limits");
    }

    /** @return the form {@link #encodeBatch(String, TableSchema, List)} writes */
    public WireForm form() {
        return form;
    }

    /** @return the bounds of what {@link #decode} accepts */
    public CodecLimits limits() {
        return limits;
    }

    // ---------------------------------------------------------------------------------------------------- encoding

    /**
     * Encodes a batch of changes of one table in this codec's {@link #form()}, with the schema: what a node
     * publishes. The binary form needs the schema; without one, and for a batch the binary form cannot carry with the
     * meaning JSON would give it (a row naming a column the schema lacks, a value of another type than its column's),
     * the batch is written as JSON, as {@link #encodeBatch(String, TableSchema, boolean, List)} with
     * {@code embedSchema = schema != null} does.
     *
     * @param origin the publishing node, written once in the envelope; events of another origin carry their own
     * @param schema the table's schema, embedded in the payload when not null; without it upserts are written
     *     without {@code key} (receivers derive it from the row) and deletes cannot be written
     * @param events the changes, all of one table
     * @return the payload
     * @throws IllegalArgumentException when events are of different tables (or not the schema's), or a delete is
     *     given without a schema
     * @throws InvalidDataException naming table, key and column when a value has no wire form
     */
    public byte[] encodeBatch(String origin, TableSchema schema, List<ChangeEvent> events) {
        Objects.requireNonNull(events, "events");
        if (form == WireForm.BINARY && schema != null) {
            try {
                return BinaryForm.encode(origin, index(schema), events);
            } catch (BinaryForm.NotRepresentable e) {
                // rare: the JSON form carries it, and receivers judge it as they always did
            }
        }
        return encodeBatch(origin, schema, schema != null, events);
    }

    /**
     * Encodes a batch of changes of one table in the JSON form (version 1), whatever this codec's {@link #form()}:
     * for dead letters, tools and version 1 receivers.
     *
     * @param origin the publishing node, written once in the envelope, or null; events of another origin carry
     *     their own
     * @param schema the table's schema, or null; it names the key columns of each event's {@code key}
     * @param embedSchema whether to embed {@code schema} in the envelope (receivers that have it already can be
     *     spared it)
     * @param events the changes, all of one table
     * @return the payload
     * @throws IllegalArgumentException when events are of different tables (or not the schema's), or a delete is
     *     given without a schema
     * @throws InvalidDataException naming table, key and column when a value has no JSON form
     */
    public byte[] encodeBatch(String origin, TableSchema schema, boolean embedSchema, List<ChangeEvent> events) {
        Objects.requireNonNull(events, "events");
        TableId table = schema != null ? schema.table() : events.isEmpty() ? null : events.get(0).table();
        TextBuffer out = new TextBuffer(64 + 96 * events.size());
        JsonWriter w = JsonSupport.writer(out);
        try {
            w.beginObject();
            w.name("v").value(VERSION);
            if (origin != null) {
                w.name("origin").value(origin);
            }
            if (embedSchema && schema != null) {
                w.name("schema");
                writeSchema(w, schema);
            }
            w.name("events").beginArray();
            for (ChangeEvent e : events) {
                if (!e.table().equals(table)) {
                    throw new IllegalArgumentException("a batch holds the events of one table: got " + e.table()
                            + " in a batch of " + table);
                }
                writeEvent(w, origin, schema, e);
            }
            w.endArray();
            w.endObject();
            w.flush();
        } catch (IOException e) {
            throw new IllegalStateException("writing to memory failed", e); // TextBuffer does not throw
        }
        return out.toUtf8();
    }

    private static void writeEvent(JsonWriter w, String batchOrigin, TableSchema schema, ChangeEvent e)
            throws IOException {
        w.beginObject();
        w.name("op").value(e.op() == Op.UPSERT ? "upsert" : "delete");
        String column = null;
        try {
            if (schema != null) {
                List<String> pk = schema.primaryKey();
                if (e.key().size() != pk.size()) {
                    throw new IllegalArgumentException(e.table() + " key " + e.key() + ": has " + e.key().size()
                            + " values, the primary key " + pk + " has " + pk.size());
                }
                w.name("key").beginObject();
                for (int i = 0; i < pk.size(); i++) {
                    column = pk.get(i);
                    w.name(column);
                    Values.write(w, e.key().get(i));
                }
                w.endObject();
            } else if (e.op() == Op.DELETE) {
                throw new IllegalArgumentException(e.table() + " key " + e.key()
                        + ": encoding a delete needs the table schema to name the key columns");
            }
            if (e.row() != null) {
                w.name("row").beginObject();
                for (Map.Entry<String, Object> c : e.row().values().entrySet()) {
                    column = c.getKey();
                    w.name(column);
                    Values.write(w, c.getValue());
                }
                w.endObject();
            }
        } catch (InvalidDataException ex) {
            throw new InvalidDataException(e.table() + " key " + e.key() + ": column " + column + ": "
                    + ex.getMessage(), ex);
        }
        w.name("hlc").value(e.version().hlc());
        if (!e.origin().equals(batchOrigin)) {
            w.name("origin").value(e.origin());
        }
        if (e.sequence() != 0) {
            w.name("seq").value(e.sequence());
        }
        w.endObject();
    }

    /**
     * @param s a table schema
     * @return its JSON form, as published retained on the schema topic
     */
    public byte[] encodeSchema(TableSchema s) {
        TextBuffer out = new TextBuffer(64 + 48 * s.columns().size());
        JsonWriter w = JsonSupport.writer(out);
        try {
            writeSchema(w, s);
            w.flush();
        } catch (IOException e) {
            throw new IllegalStateException("writing to memory failed", e);
        }
        return out.toUtf8();
    }

    private static void writeSchema(JsonWriter w, TableSchema s) throws IOException {
        w.beginObject();
        w.name("table").value(s.table().toString());
        w.name("columns").beginArray();
        for (Column c : s.columns()) {
            w.beginObject();
            w.name("name").value(c.name());
            w.name("type").value(c.type().name().toLowerCase(Locale.ROOT));
            w.name("nullable").value(c.nullable());
            w.endObject();
        }
        w.endArray();
        w.name("primaryKey").beginArray();
        for (String k : s.primaryKey()) {
            w.value(k);
        }
        w.endArray();
        w.endObject();
    }

    // ---------------------------------------------------------------------------------------------------- decoding

    /**
     * Parses a payload's envelope and checks the shape of its events; values stay undecoded until {@link #toEvent}.
     * Accepts the binary form (starting with {@code MQDB}), the JSON batch form ({@code {"v":1,"events":[...]}}) and
     * the JSON single-event form (the fields of one event at the top level). Unknown JSON members are ignored. Every
     * size is checked against {@link #limits()} before what it sizes is read.
     *
     * @param payload the MQTT payload
     * @param channelFromTopic the table the topic names ({@link Topics#parseChannel}); null when decoding a payload
     *     without its topic, in which case every event needs a {@code channel} (or the envelope one, or a schema)
     * @return the batch
     * @throws InvalidDataException "malformed payload: ..." when the payload is not JSON, has no or another
     *     {@code v}, lacks a required member, has an unknown {@code op}, names another channel than the topic, or
     *     exceeds a limit (the message names it: {@code maxEvents}, ...)
     */
    public WireBatch decode(byte[] payload, TableId channelFromTopic) {
        if (payload == null || payload.length == 0) {
            throw new InvalidDataException("malformed payload: empty payload");
        }
        if (payload.length > limits.maxPayloadBytes()) {
            throw new InvalidDataException("malformed payload: " + payload.length + " bytes exceed the limit "
                    + "maxPayloadBytes (" + limits.maxPayloadBytes() + ")");
        }
        if (BinaryForm.isBinary(payload)) {
            try {
                return BinaryForm.decode(payload, channelFromTopic, limits);
            } catch (Malformed e) {
                throw new InvalidDataException("malformed payload: " + e.getMessage());
            }
        }
        Envelope env = new Envelope(limits);
        try {
            JsonSupport.checkNesting(payload, limits.maxDepth());
            JsonReader r = JsonSupport.reader(payload);
            readEnvelope(r, env);
            JsonSupport.expectEnd(r);
            return env.toBatch(channelFromTopic);
        } catch (Malformed e) {
            throw malformed(payload, e.getMessage(), null);
        } catch (IOException | IllegalStateException | NumberFormatException e) {
            // Gson reports syntax errors as MalformedJsonException and a wrong token type as IllegalStateException.
            throw malformed(payload, JsonSupport.message(e), e);
        }
    }

    private static InvalidDataException malformed(byte[] payload, String detail, Throwable cause) {
        // A payload of another version may well be shaped differently: say so rather than what did not fit.
        Long v = peekVersion(payload);
        if (v != null && v != VERSION) {
            detail = unsupportedVersion(v);
        }
        return new InvalidDataException("malformed payload: " + detail, cause);
    }

    /** @return the top-level {@code v} of a payload that failed to decode, or null when it cannot be found */
    private static Long peekVersion(byte[] payload) {
        try {
            JsonReader r = JsonSupport.reader(payload);
            r.beginObject();
            while (r.hasNext()) {
                if (r.nextName().equals("v") && r.peek() == JsonToken.NUMBER) {
                    return r.nextLong();
                }
                r.skipValue();
            }
        } catch (IOException | RuntimeException e) {
            // not even that much structure: the first error stands
        }
        return null;
    }

    private static String unsupportedVersion(long v) {
        return "unsupported version \"v\":" + v + ", this node reads version " + VERSION;
    }

    private void readEnvelope(JsonReader r, Envelope env) throws IOException {
        if (r.peek() != JsonToken.BEGIN_OBJECT) {
            throw new Malformed("expected a JSON object, got " + r.peek());
        }
        r.beginObject();
        while (r.hasNext()) {
            String name = r.nextName();
            switch (name) {
                case "v":
                    if (r.peek() != JsonToken.NUMBER) { // "v":"1" is not the wire format (docs/wire-format.md)
                        throw new Malformed("v: expected the number " + VERSION + ", got " + r.peek());
                    }
                    env.version = readLong(r, "v");
                    if (env.version != VERSION) {
                        throw new Malformed(unsupportedVersion(env.version));
                    }
                    break;
                case "origin":
                    env.origin = readOrigin(r, "origin");
                    break;
                case "schema":
                    env.schema = readSchema(r, "schema.", limits);
                    break;
                case "events":
                    if (r.peek() != JsonToken.BEGIN_ARRAY) {
                        throw new Malformed("events: expected an array, got " + r.peek());
                    }
                    env.events = new ArrayList<>();
                    r.beginArray();
                    while (r.hasNext()) {
                        if (env.events.size() == limits.maxEvents()) {
                            throw new Malformed("events: more than the limit maxEvents (" + limits.maxEvents()
                                    + ")");
                        }
                        String path = "events[" + env.events.size() + "]";
                        if (r.peek() != JsonToken.BEGIN_OBJECT) {
                            throw new Malformed(path + ": expected an object, got " + r.peek());
                        }
                        EventFields f = new EventFields(path, limits);
                        r.beginObject();
                        while (r.hasNext()) {
                            String field = r.nextName();
                            if (!f.read(r, field)) {
                                r.skipValue();
                            }
                        }
                        r.endObject();
                        env.events.add(f);
                    }
                    r.endArray();
                    break;
                case "channel":
                    env.channel = readChannel(r, "channel");
                    break;
                default:
                    if (!env.single.read(r, name)) {
                        r.skipValue(); // unknown members are ignored: room for additions within version 1
                    }
            }
        }
        r.endObject();
    }

    /** The members of one event as read, before the shape checks. */
    private static final class EventFields {
        final String path;
        final CodecLimits limits;
        boolean any;
        String op;
        JsonObject key;
        JsonObject row;
        Long hlc;
        String origin;
        Long seq;
        TableId channel;

        EventFields(String path, CodecLimits limits) {
            this.path = path;
            this.limits = limits;
        }

        /** @return false when {@code name} is not an event member */
        boolean read(JsonReader r, String name) throws IOException {
            String where = path.isEmpty() ? name : path + "." + name;
            switch (name) {
                case "op":
                    op = readString(r, where);
                    break;
                case "key":
                    key = readObjectOrNull(r, where, limits);
                    break;
                case "row":
                    row = readObjectOrNull(r, where, limits);
                    break;
                case "hlc":
                    hlc = readLong(r, where);
                    if (hlc < 0) {
                        throw new Malformed(where + ": must not be negative, got " + hlc);
                    }
                    break;
                case "origin":
                    origin = readOrigin(r, where);
                    break;
                case "seq":
                    seq = readLong(r, where);
                    if (seq < 0) {
                        throw new Malformed(where + ": must not be negative, got " + seq);
                    }
                    break;
                case "channel":
                    channel = readChannel(r, where);
                    break;
                default:
                    return false;
            }
            any = true;
            return true;
        }

        WireEvent toWireEvent(int index, TableId table, String batchOrigin) {
            String at = path.isEmpty() ? "" : path + ": ";
            if (op == null) {
                throw new Malformed(at + "missing \"op\" (upsert or delete)");
            }
            Op parsed = parseOp(op);
            if (parsed == null) {
                throw new Malformed(at + "unknown op " + JsonSupport.shown(op)
                        + ", expected upsert, delete, insert or update");
            }
            if (parsed == Op.UPSERT && row == null) {
                throw new Malformed(at + "an upsert needs a \"row\"");
            }
            if (parsed == Op.DELETE && key == null && row == null) {
                throw new Malformed(at + "a delete needs a \"key\" (or a \"row\" holding the key columns)");
            }
            String o = origin != null ? origin : batchOrigin;
            return new WireEvent(table, parsed, key, row, hlc == null ? OptionalLong.empty() : OptionalLong.of(hlc),
                    Optional.ofNullable(o), seq == null ? 0 : seq, index);
        }
    }

    private static Op parseOp(String op) {
        switch (op) {
            case "upsert":
            case "insert":
            case "update":
                return Op.UPSERT;
            case "delete":
                return Op.DELETE;
            default:
                String lower = op.toLowerCase(Locale.ROOT);
                return lower.equals(op) ? null : parseOp(lower);
        }
    }

    /** The top-level members as read. */
    private static final class Envelope {
        Long version;
        String origin;
        TableSchema schema;
        TableId channel;
        List<EventFields> events;
        final EventFields single;

        Envelope(CodecLimits limits) {
            single = new EventFields("", limits);
        }

        WireBatch toBatch(TableId topic) {
            if (version == null) {
                throw new Malformed("missing \"v\" (the wire format version, " + VERSION + ")");
            }
            if (topic != null && channel != null && !channel.equals(topic)) {
                throw new Malformed("channel " + channel + " does not match the topic's channel " + topic);
            }
            TableId batchTable = topic != null ? topic : channel != null ? channel
                    : schema != null ? schema.table() : null;
            if (schema != null && batchTable != null && !schema.table().equals(batchTable)) {
                throw new Malformed("the schema describes " + schema.table() + " but the channel is " + batchTable);
            }
            List<EventFields> fields;
            if (events != null) {
                if (single.any) {
                    throw new Malformed("event members (op, key, row, ...) at the top level next to \"events\"");
                }
                fields = events;
            } else if (single.any) {
                fields = List.of(single);
            } else {
                throw new Malformed("no \"events\" array and no \"op\": nothing to apply");
            }
            List<WireEvent> out = new ArrayList<>(fields.size());
            for (int i = 0; i < fields.size(); i++) {
                EventFields f = fields.get(i);
                TableId table = batchTable;
                if (f.channel != null) {
                    if (batchTable != null && !f.channel.equals(batchTable)) {
                        throw new Malformed((f.path.isEmpty() ? "" : f.path + ": ") + "channel " + f.channel
                                + " does not match the " + (topic != null ? "topic's" : "batch's") + " channel "
                                + batchTable);
                    }
                    table = f.channel;
                }
                if (table == null) {
                    throw new Malformed((f.path.isEmpty() ? "" : f.path + ": ")
                            + "no channel: not given by the topic, the event or the envelope");
                }
                out.add(f.toWireEvent(i, table, origin));
            }
            return new WireBatch(VERSION, origin, Optional.ofNullable(schema), out);
        }
    }

    private static String readString(JsonReader r, String where) throws IOException {
        if (r.peek() != JsonToken.STRING) {
            throw new Malformed(where + ": expected a string, got " + r.peek());
        }
        return r.nextString();
    }

    private static String readOrigin(JsonReader r, String where) throws IOException {
        String s = readString(r, where);
        if (s.isEmpty()) {
            throw new Malformed(where + ": must not be empty");
        }
        return s;
    }

    private static TableId readChannel(JsonReader r, String where) throws IOException {
        String s = readString(r, where);
        try {
            return TableId.parse(s);
        } catch (IllegalArgumentException e) {
            throw new Malformed(where + ": " + e.getMessage());
        }
    }

    /** An integer, also accepted as a string: JavaScript cannot hold a 64-bit clock reading in a number. */
    private static long readLong(JsonReader r, String where) throws IOException {
        JsonToken t = r.peek();
        if (t != JsonToken.NUMBER && t != JsonToken.STRING) {
            throw new Malformed(where + ": expected an integer, got " + t);
        }
        String text = r.nextString();
        try {
            return Values.parseInt64(text);
        } catch (IllegalArgumentException e) {
            throw new Malformed(where + ": expected an integer, got " + JsonSupport.shown(text));
        }
    }

    /** A JSON null counts as absent. */
    private static JsonObject readObjectOrNull(JsonReader r, String where, CodecLimits limits) throws IOException {
        JsonToken t = r.peek();
        if (t == JsonToken.NULL) {
            r.nextNull();
            return null;
        }
        if (t != JsonToken.BEGIN_OBJECT) {
            throw new Malformed(where + ": expected an object, got " + t);
        }
        return JsonSupport.readObject(r, 1, limits, limits.maxColumns(), where);
    }

    /**
     * Parses a retained schema message.
     *
     * @param payload the payload of {@link #encodeSchema}
     * @return the schema
     * @throws InvalidDataException "malformed schema: ..." when it is not a valid schema
     */
    public TableSchema decodeSchema(byte[] payload) {
        try {
            if (payload == null || payload.length == 0) {
                throw new Malformed("empty payload");
            }
            if (payload.length > limits.maxPayloadBytes()) {
                throw new Malformed(payload.length + " bytes exceed the limit maxPayloadBytes ("
                        + limits.maxPayloadBytes() + ")");
            }
            JsonSupport.checkNesting(payload, limits.maxDepth());
            JsonReader r = JsonSupport.reader(payload);
            TableSchema s = readSchema(r, "", limits);
            JsonSupport.expectEnd(r);
            return s;
        } catch (Malformed e) {
            throw new InvalidDataException("malformed schema: " + e.getMessage());
        } catch (IOException | IllegalStateException | NumberFormatException e) {
            throw new InvalidDataException("malformed schema: " + JsonSupport.message(e), e);
        }
    }

    private static TableSchema readSchema(JsonReader r, String path, CodecLimits limits) throws IOException {
        if (r.peek() != JsonToken.BEGIN_OBJECT) {
            throw new Malformed(path + "expected an object, got " + r.peek());
        }
        TableId table = null;
        List<Column> columns = null;
        List<String> primaryKey = null;
        r.beginObject();
        while (r.hasNext()) {
            String name = r.nextName();
            switch (name) {
                case "table":
                    table = readChannel(r, path + "table");
                    break;
                case "columns":
                    columns = new ArrayList<>();
                    r.beginArray();
                    while (r.hasNext()) {
                        if (columns.size() == limits.maxColumns()) {
                            throw new Malformed(path + "columns: more than the limit maxColumns ("
                                    + limits.maxColumns() + ")");
                        }
                        columns.add(readColumn(r, path + "columns[" + columns.size() + "]"));
                    }
                    r.endArray();
                    break;
                case "primaryKey":
                    primaryKey = new ArrayList<>();
                    r.beginArray();
                    while (r.hasNext()) {
                        if (primaryKey.size() == limits.maxColumns()) {
                            throw new Malformed(path + "primaryKey: more than the limit maxColumns ("
                                    + limits.maxColumns() + ")");
                        }
                        primaryKey.add(readString(r, path + "primaryKey[" + primaryKey.size() + "]"));
                    }
                    r.endArray();
                    break;
                default:
                    r.skipValue();
            }
        }
        r.endObject();
        if (table == null || columns == null || primaryKey == null) {
            throw new Malformed(path + "needs \"table\", \"columns\" and \"primaryKey\"");
        }
        try {
            return new TableSchema(table, columns, primaryKey);
        } catch (IllegalArgumentException e) {
            throw new Malformed(path.isEmpty() ? e.getMessage() : path + " " + e.getMessage());
        }
    }

    private static Column readColumn(JsonReader r, String path) throws IOException {
        if (r.peek() != JsonToken.BEGIN_OBJECT) {
            throw new Malformed(path + ": expected an object, got " + r.peek());
        }
        String name = null;
        ColumnType type = null;
        boolean nullable = true;
        r.beginObject();
        while (r.hasNext()) {
            switch (r.nextName()) {
                case "name":
                    name = readString(r, path + ".name");
                    break;
                case "type":
                    try {
                        type = ColumnType.parse(readString(r, path + ".type"));
                    } catch (IllegalArgumentException e) {
                        throw new Malformed(path + ".type: " + e.getMessage());
                    }
                    break;
                case "nullable":
                    if (r.peek() != JsonToken.BOOLEAN) {
                        throw new Malformed(path + ".nullable: expected true or false, got " + r.peek());
                    }
                    nullable = r.nextBoolean();
                    break;
                default:
                    r.skipValue();
            }
        }
        r.endObject();
        if (name == null || type == null) {
            throw new Malformed(path + ": needs \"name\" and \"type\"");
        }
        try {
            return new Column(name, type, nullable);
        } catch (IllegalArgumentException e) {
            throw new Malformed(path + ": " + e.getMessage());
        }
    }

    // ---------------------------------------------------------------------------------------------------- typing

    /**
     * Converts one decoded event to a typed change, checking it against the table's schema.
     *
     * <p>The key comes from {@code key}, else from the key columns of {@code row}. An upsert's row gets the key
     * columns from {@code key} when it lacks them. A delete's {@code row}, if any, only supplies the key. Without
     * {@code hlc} the version is {@code Version.pack(receiveMillis, 0)}; without an origin it is
     * {@value #DEFAULT_ORIGIN}.
     *
     * @param e a decoded event
     * @param schema the schema of {@code e.table()}
     * @param receiveMillis when the payload arrived, epoch milliseconds; the clock of events without {@code hlc}
     * @return the change
     * @throws InvalidDataException naming the table, the key and the column, when a column is unknown, a value has
     *     the wrong type, a key column is missing or null, a non-nullable column is null, or {@code key} and
     *     {@code row} disagree
     */
    public ChangeEvent toEvent(WireEvent e, TableSchema schema, long receiveMillis) {
        if (!schema.table().equals(e.table())) {
            throw new InvalidDataException(e.table() + " event " + e.index() + ": given the schema of "
                    + schema.table());
        }
        SchemaIndex ix = index(schema);
        if (e.binary != null) {
            return BinaryForm.toEvent(e, ix, receiveMillis);
        }
        Object[] keyValues = e.jsonKey() != null ? keyFromKeyObject(ix, e) : keyFromRow(ix, e);
        Key key = Key.of(keyValues);
        Row row = null;
        if (e.op() == Op.UPSERT) {
            row = typedRow(ix, e, keyValues, key);
        }
        long hlc = e.hlc().isPresent() ? e.hlc().getAsLong() : Version.pack(receiveMillis, 0);
        Version version = new Version(hlc, e.origin().orElse(DEFAULT_ORIGIN));
        return new ChangeEvent(e.table(), e.op(), key, row, version, e.seq());
    }

    /**
     * The one rule for the NUL character (U+0000) in text, on every store alike: a received event holding one is
     * refused (the applier dead-letters it). PostgreSQL can store it in neither {@code text} nor {@code jsonb} (and
     * failed the whole batch), while Redis, MapDB, MariaDB and SQLite kept it, so the same event made replicas
     * differ. Checked in string and JSON values (raw, or as the JSON escape: a backslash, then {@code u0000}) and in
     * key values. The codec itself carries NULs faithfully; the rule is the applier's.
     *
     * @return the event
     * @throws InvalidDataException naming the column, when a value holds a NUL
     */
    public static ChangeEvent requireNoNul(ChangeEvent ev) {
        for (Object v : ev.key().values()) {
            checkNul(ev, "key", v);
        }
        if (ev.row() != null) {
            for (Map.Entry<String, Object> c : ev.row().values().entrySet()) {
                checkNul(ev, c.getKey(), c.getValue());
            }
        }
        return ev;
    }

    private static void checkNul(ChangeEvent ev, String column, Object v) {
        boolean nul = v instanceof String s ? s.indexOf('\u0000') >= 0
                : v instanceof Json j && (j.text().indexOf('\u0000') >= 0 || j.text().contains("\\u0000"));
        if (nul) {
            throw new InvalidDataException(ev.table() + " event " + ev.sequence() + ": column " + column
                    + " holds a NUL character (U+0000), which mqdb refuses on every store (PostgreSQL cannot store it)");
        }
    }

    private static Object[] keyFromKeyObject(SchemaIndex ix, WireEvent e) {
        JsonObject k = e.jsonKey();
        Object[] values = new Object[ix.keyColumns.length];
        for (Map.Entry<String, JsonElement> m : k.entrySet()) {
            ColumnInfo ci = ix.byName.get(m.getKey());
            if (ci == null || ci.keyPosition() < 0) {
                throw new InvalidDataException(ix.table + " key " + k + ": " + m.getKey() + " is not a key column,"
                        + " the primary key is " + ix.primaryKey);
            }
            values[ci.keyPosition()] = keyValue(ix, ci, m.getValue(), k);
        }
        for (int i = 0; i < values.length; i++) {
            if (values[i] == null) {
                throw new InvalidDataException(ix.table + " key " + k + ": key column "
                        + ix.keyColumns[i].column().name() + " is missing");
            }
        }
        return values;
    }

    private static Object[] keyFromRow(SchemaIndex ix, WireEvent e) {
        JsonObject row = e.jsonRow();
        Object[] values = new Object[ix.keyColumns.length];
        for (int i = 0; i < values.length; i++) {
            ColumnInfo ci = ix.keyColumns[i];
            JsonElement v = row.get(ci.column().name());
            if (v == null) {
                throw new InvalidDataException(ix.table + " event " + e.index() + ": key column "
                        + ci.column().name() + " is missing (no \"key\" and not in \"row\")");
            }
            values[i] = keyValue(ix, ci, v, row);
        }
        return values;
    }

    private static Object keyValue(SchemaIndex ix, ColumnInfo ci, JsonElement v, JsonObject where) {
        Object value;
        try {
            value = Values.read(ci.column().type(), v);
        } catch (InvalidDataException ex) {
            throw new InvalidDataException(ix.table + " key " + abbreviate(where) + ": column "
                    + ci.column().name() + ": " + ex.getMessage(), ex);
        }
        if (value == null) {
            throw new InvalidDataException(ix.table + " key " + abbreviate(where) + ": key column "
                    + ci.column().name() + " is null");
        }
        return value;
    }

    private static Row typedRow(SchemaIndex ix, WireEvent e, Object[] keyValues, Key key) {
        JsonObject json = e.jsonRow();
        Map<String, Object> values = new LinkedHashMap<>(Math.max(16, (json.size() + keyValues.length) * 2));
        boolean keyGiven = e.jsonKey() != null;
        int keyColumnsInRow = 0;
        for (Map.Entry<String, JsonElement> m : json.entrySet()) {
            String name = m.getKey();
            ColumnInfo ci = ix.byName.get(name);
            if (ci == null) {
                throw new InvalidDataException(ix.table + " key " + key + ": unknown column " + name);
            }
            Object value;
            if (ci.keyPosition() >= 0) {
                keyColumnsInRow++;
                if (keyGiven) {
                    value = keyValue(ix, ci, m.getValue(), json);
                    if (!value.equals(keyValues[ci.keyPosition()])) {
                        throw new InvalidDataException(ix.table + " key " + key + ": column " + name
                                + " is " + value + " in \"row\" but " + keyValues[ci.keyPosition()] + " in \"key\"");
                    }
                } else {
                    value = keyValues[ci.keyPosition()]; // converted already
                }
            } else {
                try {
                    value = Values.read(ci.column().type(), m.getValue());
                } catch (InvalidDataException ex) {
                    throw new InvalidDataException(ix.table + " key " + key + ": column " + name + ": "
                            + ex.getMessage(), ex);
                }
                if (value == null && !ci.column().nullable()) {
                    throw new InvalidDataException(ix.table + " key " + key + ": column " + name
                            + " may not be null");
                }
            }
            values.put(name, value);
        }
        if (keyColumnsInRow < keyValues.length) {
            for (ColumnInfo ci : ix.keyColumns) {
                values.putIfAbsent(ci.column().name(), keyValues[ci.keyPosition()]);
            }
        }
        return Row.of(values);
    }

    private static String abbreviate(JsonObject o) {
        String s = o.toString();
        return s.length() <= 60 ? s : s.substring(0, 57) + "...";
    }

    private SchemaIndex index(TableSchema schema) {
        SchemaIndex ix = indexes.get(schema.table());
        if (ix == null || ix.schema != schema) {
            ix = new SchemaIndex(schema);
            indexes.put(schema.table(), ix);
        }
        return ix;
    }
}
