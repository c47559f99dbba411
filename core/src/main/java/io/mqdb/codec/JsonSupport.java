package io.mqdb.codec;

import com.google.gson.JsonArray;
import com.google.gson.JsonElement;
import com.google.gson.JsonNull;
import com.google.gson.JsonObject;
import com.google.gson.JsonPrimitive;
import com.google.gson.Strictness;
import com.google.gson.internal.LazilyParsedNumber;
import com.google.gson.stream.JsonReader;
import com.google.gson.stream.JsonToken;
import com.google.gson.stream.JsonWriter;
import java.io.IOException;
import java.io.StringReader;
import java.io.Writer;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;

/** Strict streaming JSON plumbing shared by the codec classes. */
final class JsonSupport {
    /** Deeper documents are rejected rather than risking the stack on hostile input. */
    static final int MAX_DEPTH = CodecLimits.DEFAULT_MAX_DEPTH;

    private JsonSupport() {
    }

    /** Thrown while parsing; the public methods turn it into an {@link io.mqdb.spi.InvalidDataException}. */
    static final class Malformed extends RuntimeException {
        private static final long serialVersionUID = 1L;

        Malformed(String message) {
            super(message, null, false, false);
        }
    }

    /**
     * @param payload UTF-8 bytes
     * @return a strict reader over them
     * @throws Malformed when the bytes are not UTF-8
     */
    static JsonReader reader(byte[] payload) {
        String text = new String(payload, StandardCharsets.UTF_8);
        // The lenient decode above replaces bad sequences with U+FFFD; only then pay for a strict decode.
        if (text.indexOf('\uFFFD') >= 0) {
            try {
                StandardCharsets.UTF_8.newDecoder()
                        .onMalformedInput(CodingErrorAction.REPORT)
                        .onUnmappableCharacter(CodingErrorAction.REPORT)
                        .decode(ByteBuffer.wrap(payload));
            } catch (CharacterCodingException e) {
                throw new Malformed("not UTF-8 text");
            }
        }
        return reader(text);
    }

    /**
     * Checks, before parsing, that arrays and objects nest at most {@code maxDepth} levels: Gson's reader would grow
     * its stack for whatever nesting a payload has, even for members it skips.
     *
     * @throws Malformed naming the limit
     */
    static void checkNesting(byte[] payload, int maxDepth) {
        int depth = 0;
        boolean inString = false;
        for (int i = 0; i < payload.length; i++) {
            byte b = payload[i];
            if (inString) {
                if (b == '\\') {
                    i++;
                } else if (b == '"') {
                    inString = false;
                }
            } else if (b == '"') {
                inString = true;
            } else if (b == '{' || b == '[') {
                if (++depth > maxDepth) {
                    throw new Malformed("nested deeper than the limit maxDepth (" + maxDepth + " levels) at byte "
                            + i);
                }
            } else if (b == '}' || b == ']') {
                depth--;
            }
        }
    }

    static JsonReader reader(String text) {
        JsonReader r = new JsonReader(new StringReader(text));
        r.setStrictness(Strictness.STRICT);
        return r;
    }

    static JsonWriter writer(Writer out) {
        JsonWriter w = new JsonWriter(out);
        w.setStrictness(Strictness.STRICT);
        w.setSerializeNulls(true);
        w.setHtmlSafe(false);
        return w;
    }

    /** Checks that nothing but white space follows the document. */
    static void expectEnd(JsonReader r) throws IOException {
        if (r.peek() != JsonToken.END_DOCUMENT) {
            throw new Malformed("unexpected data after the JSON document at " + r.getPath());
        }
    }

    /**
     * Reads one value as a tree. Numbers keep their exact text ({@link LazilyParsedNumber}, as Gson's own parser
     * does); duplicate member names are rejected.
     */
    static JsonElement readTree(JsonReader r, int depth) throws IOException {
        return readTree(r, depth, CodecLimits.DEFAULTS);
    }

    /** As {@link #readTree(JsonReader, int)}, within {@code limits} (depth, string length). */
    static JsonElement readTree(JsonReader r, int depth, CodecLimits limits) throws IOException {
        switch (r.peek()) {
            case BEGIN_OBJECT:
                return readObject(r, depth, limits);
            case BEGIN_ARRAY: {
                checkDepth(r, depth, limits.maxDepth());
                JsonArray a = new JsonArray();
                r.beginArray();
                while (r.hasNext()) {
                    a.add(readTree(r, depth + 1, limits));
                }
                r.endArray();
                return a;
            }
            case STRING: {
                String s = r.nextString();
                if (s.length() > limits.maxStringBytes()) {
                    throw new Malformed("a string of " + s.length() + " characters exceeds the limit maxStringBytes ("
                            + limits.maxStringBytes() + ") at " + r.getPath());
                }
                return new JsonPrimitive(s);
            }
            case NUMBER:
                return new JsonPrimitive(new LazilyParsedNumber(r.nextString()));
            case BOOLEAN:
                return r.nextBoolean() ? TRUE : FALSE;
            case NULL:
                r.nextNull();
                return JsonNull.INSTANCE;
            default:
                throw new Malformed("unexpected " + r.peek() + " at " + r.getPath());
        }
    }

    private static final JsonPrimitive TRUE = new JsonPrimitive(true);
    private static final JsonPrimitive FALSE = new JsonPrimitive(false);

    /** Reads an object as a tree; the next token must begin an object. */
    static JsonObject readObject(JsonReader r, int depth) throws IOException {
        return readObject(r, depth, CodecLimits.DEFAULTS);
    }

    /** As {@link #readObject(JsonReader, int)}, within {@code limits}. */
    static JsonObject readObject(JsonReader r, int depth, CodecLimits limits) throws IOException {
        return readObject(r, depth, limits, Integer.MAX_VALUE, "");
    }

    /**
     * As {@link #readObject(JsonReader, int, CodecLimits)}, with at most {@code maxMembers} members (a row's or a
     * key's columns: {@code maxColumns}); one more fails before its value is read.
     */
    static JsonObject readObject(JsonReader r, int depth, CodecLimits limits, int maxMembers, String where)
            throws IOException {
        checkDepth(r, depth, limits.maxDepth());
        JsonObject o = new JsonObject();
        r.beginObject();
        while (r.hasNext()) {
            String name = r.nextName();
            if (o.size() == maxMembers) {
                throw new Malformed(where + ": more columns than the limit maxColumns (" + maxMembers + ")");
            }
            if (o.has(name)) {
                throw new Malformed("duplicate member " + shown(name) + " at " + r.getPath());
            }
            o.add(name, readTree(r, depth + 1, limits));
        }
        r.endObject();
        return o;
    }

    private static void checkDepth(JsonReader r, int depth) {
        checkDepth(r, depth, MAX_DEPTH);
    }

    private static void checkDepth(JsonReader r, int depth, int maxDepth) {
        if (depth >= maxDepth) {
            throw new Malformed("nested deeper than the limit maxDepth (" + maxDepth + " levels) at " + r.getPath());
        }
    }

    /** Copies one value token by token: validates it and drops insignificant white space. */
    static void copy(JsonReader r, JsonWriter w, int depth) throws IOException {
        switch (r.peek()) {
            case BEGIN_OBJECT:
                checkDepth(r, depth);
                r.beginObject();
                w.beginObject();
                while (r.hasNext()) {
                    w.name(r.nextName());
                    copy(r, w, depth + 1);
                }
                r.endObject();
                w.endObject();
                break;
            case BEGIN_ARRAY:
                checkDepth(r, depth);
                r.beginArray();
                w.beginArray();
                while (r.hasNext()) {
                    copy(r, w, depth + 1);
                }
                r.endArray();
                w.endArray();
                break;
            case STRING:
                w.value(r.nextString());
                break;
            case NUMBER:
                w.jsonValue(r.nextString()); // the number's exact text
                break;
            case BOOLEAN:
                w.value(r.nextBoolean());
                break;
            case NULL:
                r.nextNull();
                w.nullValue();
                break;
            default:
                throw new Malformed("unexpected " + r.peek() + " at " + r.getPath());
        }
    }

    /** Gson appends a troubleshooting link to its messages; users need the first line only. */
    static String message(Exception e) {
        String m = String.valueOf(e.getMessage());
        int nl = m.indexOf('\n');
        return nl < 0 ? m : m.substring(0, nl);
    }

    /** Describes a JSON value for an error message: its kind and its text, abbreviated. */
    /** The longest text of a bad value quoted in a reason, in characters. */
    static final int SHOWN_CHARS = 200;

    /**
     * @param text a value from a message, of any length
     * @return it quoted for a reason or a log line: control characters escaped, cut after {@value #SHOWN_CHARS}
     *     characters with the full length said
     */
    static String shown(String text) {
        String cut = text.length() <= SHOWN_CHARS ? text : text.substring(0, SHOWN_CHARS);
        StringBuilder sb = new StringBuilder(cut.length() + 24).append('"');
        for (int i = 0; i < cut.length(); i++) {
            char c = cut.charAt(i);
            if (c == '"' || c == '\\') {
                sb.append('\\').append(c);
            } else if (c < 0x20 || c == 0x7F) {
                sb.append(String.format("\\u%04x", (int) c));
            } else {
                sb.append(c);
            }
        }
        sb.append('"');
        if (cut.length() < text.length()) {
            sb.append("... (").append(text.length()).append(" characters)");
        }
        return sb.toString();
    }

    static String describe(JsonElement e) {
        String kind;
        if (e.isJsonObject()) {
            kind = "object";
        } else if (e.isJsonArray()) {
            kind = "array";
        } else if (e.isJsonNull()) {
            return "null";
        } else {
            JsonPrimitive p = e.getAsJsonPrimitive();
            kind = p.isString() ? "string" : p.isNumber() ? "number" : "boolean";
        }
        String text = e.toString();
        return kind + " " + (text.length() <= 40 ? text : text.substring(0, 37) + "...");
    }

    /** An unsynchronised {@link Writer} into a {@link StringBuilder}; {@code StringWriter} locks on every call. */
    static final class TextBuffer extends Writer {
        final StringBuilder sb;

        TextBuffer(int capacity) {
            sb = new StringBuilder(capacity);
        }

        @Override
        public void write(int c) {
            sb.append((char) c);
        }

        @Override
        public void write(char[] cbuf, int off, int len) {
            sb.append(cbuf, off, len);
        }

        @Override
        public void write(String str, int off, int len) {
            sb.append(str, off, off + len);
        }

        @Override
        public Writer append(CharSequence csq) {
            sb.append(csq);
            return this;
        }

        @Override
        public Writer append(char c) {
            sb.append(c);
            return this;
        }

        @Override
        public void flush() {
        }

        @Override
        public void close() {
        }

        byte[] toUtf8() {
            return sb.toString().getBytes(StandardCharsets.UTF_8);
        }
    }
}
