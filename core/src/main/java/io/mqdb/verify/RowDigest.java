package io.mqdb.verify;

import com.google.gson.JsonArray;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import io.mqdb.spi.Bytes;
import io.mqdb.spi.Column;
import io.mqdb.spi.Json;
import io.mqdb.spi.Key;
import io.mqdb.spi.Row;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * The digest of a row in a canonical encoding, the same whichever store it was read from: each column of the
 * compared schema, in the schema's order, as its portable value's canonical text ({@code BigDecimal.toString}, so
 * {@code 1.50} and {@code 1.5} differ as they do in every store; {@code Instant.toString}; bytes in Base64; JSON
 * re-serialised with its object members sorted, since PostgreSQL's {@code jsonb} reorders them), a missing column
 * and a null alike. 128 bits of SHA-256.
 *
 * <p>Not thread-safe: one per scanning thread.
 */
final class RowDigest {
    private final List<Column> columns;
    private final MessageDigest sha;

    /** @param columns the columns compared, in order */
    RowDigest(List<Column> columns) {
        this.columns = List.copyOf(columns);
        try {
            this.sha = MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("the JDK has no SHA-256", e);
        }
    }

    /** @return the row's digest: two longs, high then low */
    long[] of(Row row) {
        sha.reset();
        for (Column c : columns) {
            Object v = row.get(c.name());
            byte[] text = v == null ? new byte[0] : canonical(v).getBytes(StandardCharsets.UTF_8);
            sha.update(ByteBuffer.allocate(5).put(v == null ? (byte) 0 : (byte) 1).putInt(text.length).array());
            sha.update(text);
        }
        ByteBuffer d = ByteBuffer.wrap(sha.digest());
        return new long[] {d.getLong(), d.getLong()};
    }

    /** @return a bucket of {@code buckets} (a power of two) for a key, the same in every store */
    static int bucket(Key key, int buckets) {
        StringBuilder b = new StringBuilder();
        for (Object v : key.values()) {
            b.append(canonical(v)).append('\u0000');
        }
        byte[] bytes = b.toString().getBytes(StandardCharsets.UTF_8);
        long h = 0xcbf29ce484222325L; // FNV-1a 64
        for (byte x : bytes) {
            h = (h ^ (x & 0xff)) * 0x100000001b3L;
        }
        h ^= h >>> 33;
        return (int) (h & (buckets - 1));
    }

    /** The canonical text of a portable value. */
    static String canonical(Object v) {
        if (v instanceof Bytes bytes) {
            return bytes.toBase64();
        }
        if (v instanceof byte[] raw) {
            return java.util.Base64.getEncoder().encodeToString(raw);
        }
        if (v instanceof Json json) {
            try {
                return sorted(JsonParser.parseString(json.text())).toString();
            } catch (RuntimeException e) {
                return json.text();
            }
        }
        if (v instanceof java.math.BigDecimal d) {
            return "m:" + d;
        }
        if (v instanceof Long || v instanceof Integer || v instanceof Short) {
            return "n:" + ((Number) v).longValue();
        }
        if (v instanceof Double || v instanceof Float) {
            return "d:" + ((Number) v).doubleValue();
        }
        if (v instanceof String text) {
            return "s:" + text;
        }
        return v.getClass().getSimpleName() + ":" + v;
    }

    private static JsonElement sorted(JsonElement e) {
        if (e.isJsonObject()) {
            Map<String, JsonElement> members = new TreeMap<>();
            for (Map.Entry<String, JsonElement> m : e.getAsJsonObject().entrySet()) {
                members.put(m.getKey(), sorted(m.getValue()));
            }
            JsonObject o = new JsonObject();
            members.forEach(o::add);
            return o;
        }
        if (e.isJsonArray()) {
            JsonArray a = new JsonArray();
            for (JsonElement x : e.getAsJsonArray()) {
                a.add(sorted(x));
            }
            return a;
        }
        return e;
    }
}
