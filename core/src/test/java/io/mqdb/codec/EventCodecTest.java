package io.mqdb.codec;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.google.gson.JsonParser;
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
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.time.LocalDate;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;
import org.junit.jupiter.api.Test;

class EventCodecTest {
    static final TableId ORDERS = new TableId("shop", "orders");
    static final TableSchema SCHEMA = new TableSchema(ORDERS, List.of(
            new Column("id", ColumnType.INT64, false),
            Column.of("item", ColumnType.STRING),
            Column.of("price", ColumnType.DECIMAL),
            Column.of("at", ColumnType.TIMESTAMP),
            Column.of("ratio", ColumnType.DOUBLE),
            Column.of("paid", ColumnType.BOOLEAN),
            Column.of("blob", ColumnType.BYTES),
            Column.of("day", ColumnType.DATE),
            Column.of("ref", ColumnType.UUID),
            Column.of("doc", ColumnType.JSON),
            new Column("note", ColumnType.STRING, false)), List.of("id"));
    static final long HLC = Version.pack(1_714_557_600_123L, 3);

    final EventCodec codec = new EventCodec();

    static ChangeEvent upsert(long id, Map<String, Object> values) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("id", id);
        m.putAll(values);
        return new ChangeEvent(ORDERS, Op.UPSERT, Key.of(id), Row.of(m), new Version(HLC, "node-a"), id);
    }

    static ChangeEvent delete(long id) {
        return new ChangeEvent(ORDERS, Op.DELETE, Key.of(id), null, new Version(HLC + 1, "node-a"), id);
    }

    /** Through both forms: the binary one nodes publish by default and JSON; both must give the same event. */
    ChangeEvent roundTrip(ChangeEvent e) {
        byte[] binary = codec.encodeBatch("node-a", SCHEMA, List.of(e));
        assertThat(BinaryForm.isBinary(binary)).as("the default form is binary").isTrue();
        WireBatch b = codec.decode(binary, ORDERS);
        assertThat(b.events()).hasSize(1);
        ChangeEvent viaBinary = codec.toEvent(b.events().get(0), SCHEMA, 0);
        WireBatch j = codec.decode(codec.encodeBatch("node-a", SCHEMA, true, List.of(e)), ORDERS);
        ChangeEvent viaJson = codec.toEvent(j.events().get(0), SCHEMA, 0);
        assertThat(viaBinary).isEqualTo(viaJson);
        assertThat(viaBinary.row() == null ? null : List.copyOf(viaBinary.row().values().keySet()))
                .as("columns in the same order").isEqualTo(viaJson.row() == null ? null
                        : List.copyOf(viaJson.row().values().keySet()));
        return viaBinary;
    }

    Object roundTripValue(String column, Object value) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put(column, value);
        ChangeEvent back = roundTrip(upsert(1, m));
        assertThat(back.row().has(column)).isTrue();
        return back.row().get(column);
    }

    ChangeEvent decodeOne(String json, TableSchema schema) {
        WireBatch b = codec.decode(json.getBytes(StandardCharsets.UTF_8), schema.table());
        assertThat(b.events()).hasSize(1);
        return codec.toEvent(b.events().get(0), schema, 1_000L);
    }

    // ------------------------------------------------------------------------------------------ value round trips

    @Test
    void decimalsKeepScaleSignAndSize() {
        for (String d : List.of("0", "1.50", "-1.50", "1.0000000000", "-0.0000000001", "12345678901234567890123456789.123",
                "100", "0.00")) {
            assertThat(roundTripValue("price", new BigDecimal(d))).isEqualTo(new BigDecimal(d))
                    .extracting(v -> ((BigDecimal) v).scale()).isEqualTo(new BigDecimal(d).scale());
        }
        BigDecimal negativeScale = new BigDecimal("1E+3");
        assertThat(roundTripValue("price", negativeScale)).isEqualTo(negativeScale);
    }

    @Test
    void decimalsAcceptJsonNumbersByTheirExactText() {
        ChangeEvent e = decodeOne("{\"v\":1,\"op\":\"upsert\",\"row\":{\"id\":1,\"price\":0.10000000000000000001}}",
                SCHEMA);
        assertThat(e.row().get("price")).isEqualTo(new BigDecimal("0.10000000000000000001"));
        e = decodeOne("{\"v\":1,\"op\":\"upsert\",\"row\":{\"id\":1,\"price\":1.50}}", SCHEMA);
        assertThat(e.row().get("price")).isEqualTo(new BigDecimal("1.50"));
    }

    @Test
    void timestampsKeepMicrosAndWriteSixDigits() {
        for (String t : List.of("2024-05-01T10:00:00Z", "2024-05-01T10:00:00.123456Z", "2024-05-01T10:00:00.000001Z",
                "1969-12-31T23:59:59.999999Z", "1900-01-01T00:00:00.5Z", "0001-01-01T00:00:00Z",
                "+10000-01-01T00:00:00Z")) {
            assertThat(roundTripValue("at", Instant.parse(t))).isEqualTo(Instant.parse(t));
        }
        byte[] payload = codec.encodeBatch("node-a", SCHEMA, true,
                List.of(upsert(1, Map.of("at", Instant.parse("2024-05-01T10:00:00.123Z")))));
        assertThat(new String(payload, StandardCharsets.UTF_8)).contains("\"at\":\"2024-05-01T10:00:00.123000Z\"");
        payload = codec.encodeBatch("node-a", SCHEMA, true,
                List.of(upsert(1, Map.of("at", Instant.parse("2024-05-01T10:00:00Z")))));
        assertThat(new String(payload, StandardCharsets.UTF_8)).contains("\"at\":\"2024-05-01T10:00:00Z\"");
    }

    @Test
    void timestampsAcceptOffsetsEpochMillisAndTruncateNanos() {
        assertThat(decodeOne("{\"v\":1,\"op\":\"upsert\",\"row\":{\"id\":1,\"at\":\"2024-05-01T12:00:00.5+02:00\"}}",
                SCHEMA).row().get("at")).isEqualTo(Instant.parse("2024-05-01T10:00:00.5Z"));
        assertThat(decodeOne("{\"v\":1,\"op\":\"upsert\",\"row\":{\"id\":1,\"at\":1714557600123}}",
                SCHEMA).row().get("at")).isEqualTo(Instant.parse("2024-05-01T10:00:00.123Z"));
        assertThat(decodeOne("{\"v\":1,\"op\":\"upsert\",\"row\":{\"id\":1,\"at\":\"2024-05-01T10:00:00.123456789Z\"}}",
                SCHEMA).row().get("at")).isEqualTo(Instant.parse("2024-05-01T10:00:00.123456Z"));
    }

    @Test
    void everyOtherTypeRoundTripsExactly() {
        assertThat(roundTripValue("item", "päñ ✓ 日本 😀 \"quoted\" \\ \n\t\u0000 \u2028")).isEqualTo(
                "päñ ✓ 日本 😀 \"quoted\" \\ \n\t\u0000 \u2028");
        assertThat(roundTripValue("item", "")).isEqualTo("");
        ChangeEvent extreme = upsert(Long.MAX_VALUE, Map.of());
        assertThat(roundTrip(extreme)).isEqualTo(extreme);
        extreme = new ChangeEvent(ORDERS, Op.UPSERT, Key.of(Long.MIN_VALUE), Row.of(Map.of("id", Long.MIN_VALUE)),
                new Version(0, "node-a"), 1);
        assertThat(roundTrip(extreme)).isEqualTo(extreme);
        for (double d : new double[] {0.1, -0.0, 1e300, Double.MIN_VALUE, Double.NaN, Double.POSITIVE_INFINITY,
                Double.NEGATIVE_INFINITY}) {
            assertThat(roundTripValue("ratio", d)).isEqualTo(d);
        }
        assertThat(roundTripValue("paid", true)).isEqualTo(true);
        assertThat(roundTripValue("paid", false)).isEqualTo(false);
        assertThat(roundTripValue("blob", Bytes.of(new byte[0]))).isEqualTo(Bytes.of(new byte[0]));
        assertThat(roundTripValue("blob", Bytes.of(new byte[] {0, -1, 127, -128})))
                .isEqualTo(Bytes.of(new byte[] {0, -1, 127, -128}));
        assertThat(roundTripValue("day", LocalDate.of(1969, 2, 28))).isEqualTo(LocalDate.of(1969, 2, 28));
        UUID u = UUID.randomUUID();
        assertThat(roundTripValue("ref", u)).isEqualTo(u);
        for (String doc : List.of("{\"a\":[1,2.50,{\"b\":null}],\"c\":\"é😀\",\"d\":true}", "[]", "{}", "\"text\"",
                "42", "1.0E+2", "false")) {
            assertThat(roundTripValue("doc", new Json(doc))).isEqualTo(new Json(doc));
        }
    }

    @Test
    void jsonTextIsWrittenCompactly() {
        assertThat(roundTripValue("doc", new Json(" { \"a\" : [ 1 , 2 ] } "))).isEqualTo(new Json("{\"a\":[1,2]}"));
    }

    @Test
    void nullAndMissingColumnsStayDistinct() {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("item", null);
        ChangeEvent back = roundTrip(upsert(1, m));
        assertThat(back.row().has("item")).isTrue();
        assertThat(back.row().get("item")).isNull();
        assertThat(back.row().has("price")).isFalse();
        assertThat(back.row().size()).isEqualTo(2);
    }

    @Test
    void wholeEventsRoundTrip() {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("item", "pen");
        m.put("price", new BigDecimal("1.50"));
        m.put("at", Instant.parse("2024-05-01T10:00:00.123456Z"));
        m.put("doc", new Json("{\"x\":[1]}"));
        m.put("note", "n");
        ChangeEvent up = upsert(7, m);
        assertThat(roundTrip(up)).isEqualTo(up);
        ChangeEvent del = delete(8);
        assertThat(roundTrip(del)).isEqualTo(del);
    }

    // ---------------------------------------------------------------------------------------------- batch forms

    @Test
    void batchWithMixedOpsKeepsOrderVersionsAndOrigins() {
        ChangeEvent a = upsert(1, Map.of("item", "a"));
        ChangeEvent b = delete(2);
        ChangeEvent c = new ChangeEvent(ORDERS, Op.UPSERT, Key.of(3L), Row.of(Map.of("id", 3L)),
                new Version(HLC + 9, "node-b"), 0);
        for (boolean json : List.of(false, true)) {
            byte[] payload = json ? codec.encodeBatch("node-a", SCHEMA, true, List.of(a, b, c))
                    : codec.encodeBatch("node-a", SCHEMA, List.of(a, b, c));
            WireBatch batch = codec.decode(payload, ORDERS);
            assertThat(batch.version()).isEqualTo(json ? 1 : 2);
            assertThat(batch.origin()).isEqualTo("node-a");
            assertThat(batch.schema()).contains(SCHEMA);
            assertThat(batch.events()).extracting(WireEvent::index).containsExactly(0, 1, 2);
            assertThat(batch.events()).extracting(WireEvent::op).containsExactly(Op.UPSERT, Op.DELETE, Op.UPSERT);
            assertThat(batch.events()).extracting(WireEvent::origin).containsExactly(Optional.of("node-a"),
                    Optional.of("node-a"), Optional.of("node-b"));
            assertThat(batch.events()).extracting(WireEvent::seq).containsExactly(1L, 2L, 0L);
            List<ChangeEvent> back = new ArrayList<>();
            for (WireEvent w : batch.events()) {
                back.add(codec.toEvent(w, SCHEMA, 0));
            }
            assertThat(back).containsExactly(a, b, c);
        }
    }

    @Test
    void encodingIsDeterministicAndCompact() {
        ChangeEvent a = upsert(7, Map.of("item", "pen"));
        byte[] one = codec.encodeBatch("node-a", null, List.of(a));
        byte[] two = new EventCodec().encodeBatch("node-a", null, List.of(a));
        assertThat(one).isEqualTo(two);
        assertThat(new String(one, StandardCharsets.UTF_8)).isEqualTo(
                "{\"v\":1,\"origin\":\"node-a\",\"events\":[{\"op\":\"upsert\",\"row\":{\"id\":7,\"item\":\"pen\"},"
                        + "\"hlc\":" + HLC + ",\"seq\":7}]}");
        String withSchema = new String(codec.encodeBatch("node-a", SCHEMA, false, List.of(delete(8))),
                StandardCharsets.UTF_8);
        assertThat(withSchema).isEqualTo("{\"v\":1,\"origin\":\"node-a\",\"events\":[{\"op\":\"delete\","
                + "\"key\":{\"id\":8},\"hlc\":" + (HLC + 1) + ",\"seq\":8}]}");
    }

    @Test
    void upsertWithoutSchemaDerivesKeyFromRowOnReceipt() {
        ChangeEvent a = upsert(7, Map.of("item", "pen"));
        WireBatch b = codec.decode(codec.encodeBatch("node-a", null, List.of(a)), ORDERS);
        assertThat(b.schema()).isEmpty();
        assertThat(codec.toEvent(b.events().get(0), SCHEMA, 0)).isEqualTo(a);
    }

    @Test
    void deleteWithoutSchemaCannotBeEncoded() {
        assertThatThrownBy(() -> codec.encodeBatch("node-a", null, List.of(delete(1))))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("needs the table schema");
    }

    @Test
    void batchOfTwoTablesIsRefused() {
        ChangeEvent other = new ChangeEvent(new TableId("shop", "users"), Op.DELETE, Key.of(1L), null,
                new Version(1, "x"), 0);
        assertThatThrownBy(() -> codec.encodeBatch("node-a", SCHEMA, List.of(delete(1), other)))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("shop:users");
    }

    @Test
    void singleEventFormFromAPlainClient() {
        WireBatch b = codec.decode("{\"v\":1,\"op\":\"insert\",\"row\":{\"id\":7,\"item\":\"pen\",\"price\":\"1.50\"}}"
                .getBytes(StandardCharsets.UTF_8), ORDERS);
        assertThat(b.origin()).isNull();
        assertThat(b.events()).hasSize(1);
        WireEvent w = b.events().get(0);
        assertThat(w.hlc()).isEmpty();
        assertThat(w.seq()).isZero();
        ChangeEvent e = codec.toEvent(w, SCHEMA, 1_714_557_600_000L);
        assertThat(e.op()).isEqualTo(Op.UPSERT);
        assertThat(e.key()).isEqualTo(Key.of(7L));
        assertThat(e.row().values()).containsExactly(Map.entry("id", 7L), Map.entry("item", "pen"),
                Map.entry("price", new BigDecimal("1.50")));
        assertThat(e.version()).isEqualTo(new Version(Version.pack(1_714_557_600_000L, 0), "mqtt"));
        assertThat(e.sequence()).isZero();
    }

    @Test
    void missingEventOriginFallsBackToTheEnvelopes() {
        ChangeEvent e = decodeOne("{\"v\":1,\"origin\":\"sensor-9\",\"op\":\"update\",\"row\":{\"id\":1},\"hlc\":99}",
                SCHEMA);
        assertThat(e.version()).isEqualTo(new Version(99, "sensor-9"));
    }

    @Test
    void deleteViaRowDropsTheRow() {
        ChangeEvent e = decodeOne("{\"v\":1,\"op\":\"delete\",\"row\":{\"id\":\"8\",\"item\":\"ignored\"}}", SCHEMA);
        assertThat(e.op()).isEqualTo(Op.DELETE);
        assertThat(e.key()).isEqualTo(Key.of(8L));
        assertThat(e.row()).isNull();
    }

    @Test
    void upsertRowGetsKeyColumnsFromKey() {
        ChangeEvent e = decodeOne("{\"v\":1,\"op\":\"upsert\",\"key\":{\"id\":5},\"row\":{\"item\":\"cup\"}}", SCHEMA);
        assertThat(e.row().values()).containsEntry("id", 5L).containsEntry("item", "cup");
    }

    @Test
    void compositeKeysInKeyOrder() {
        TableSchema s = new TableSchema(ORDERS, List.of(Column.of("a", ColumnType.STRING),
                Column.of("b", ColumnType.INT64), Column.of("c", ColumnType.STRING)), List.of("b", "a"));
        ChangeEvent e = decodeOne("{\"v\":1,\"op\":\"delete\",\"key\":{\"a\":\"x\",\"b\":2}}", s);
        assertThat(e.key()).isEqualTo(Key.of(2L, "x"));
        ChangeEvent up = new ChangeEvent(ORDERS, Op.UPSERT, Key.of(2L, "x"),
                Row.of(Map.of("a", "x", "b", 2L)), new Version(5, "n"), 1);
        WireBatch b = codec.decode(codec.encodeBatch("n", s, List.of(up)), ORDERS);
        assertThat(codec.toEvent(b.events().get(0), s, 0)).isEqualTo(up);
    }

    @Test
    void lenientNumbersForInt64() {
        assertThat(decodeOne("{\"v\":1,\"op\":\"delete\",\"key\":{\"id\":\"9007199254740993\"}}", SCHEMA).key())
                .isEqualTo(Key.of(9007199254740993L));
        assertThat(decodeOne("{\"v\":1,\"op\":\"delete\",\"key\":{\"id\":7.0}}", SCHEMA).key()).isEqualTo(Key.of(7L));
        assertThat(decodeOne("{\"v\":1,\"op\":\"delete\",\"key\":{\"id\":1e3}}", SCHEMA).key())
                .isEqualTo(Key.of(1000L));
        assertThat(decodeOne("{\"v\":1,\"op\":\"delete\",\"key\":{\"id\":1},\"hlc\":\"123\",\"seq\":\"4\"}", SCHEMA)
                .version().hlc()).isEqualTo(123L);
    }

    @Test
    void unknownEnvelopeMembersAreIgnored() {
        ChangeEvent e = decodeOne("{\"v\":1,\"future\":{\"x\":[1]},\"events\":[{\"op\":\"delete\",\"key\":{\"id\":1},"
                + "\"extra\":true}]}", SCHEMA);
        assertThat(e.key()).isEqualTo(Key.of(1L));
    }

    @Test
    void channelMayBeRepeatedWhenItMatches() {
        ChangeEvent e = decodeOne("{\"v\":1,\"channel\":\"shop:orders\",\"op\":\"delete\",\"key\":{\"id\":1}}", SCHEMA);
        assertThat(e.table()).isEqualTo(ORDERS);
        WireBatch b = codec.decode("{\"v\":1,\"events\":[{\"channel\":\"shop:orders\",\"op\":\"delete\",\"key\":{\"id\":1}}]}"
                .getBytes(StandardCharsets.UTF_8), null);
        assertThat(b.events().get(0).table()).isEqualTo(ORDERS);
        assertThatThrownBy(() -> codec.decode("{\"v\":1,\"op\":\"delete\",\"key\":{\"id\":1}}"
                .getBytes(StandardCharsets.UTF_8), null))
                .isInstanceOf(InvalidDataException.class).hasMessageContaining("no channel");
    }

    @Test
    void documentedExamplesDecode() {
        TableSchema s = new TableSchema(ORDERS, List.of(new Column("id", ColumnType.INT64, false),
                Column.of("item", ColumnType.STRING), Column.of("price", ColumnType.DECIMAL),
                Column.of("at", ColumnType.TIMESTAMP)), List.of("id"));
        // docs/wire-format.md, the mosquitto_pub examples
        ChangeEvent up = decodeOne("{\"v\":1,\"op\":\"upsert\",\"row\":{\"id\":7,\"item\":\"pen\",\"price\":\"1.50\","
                + "\"at\":\"2024-05-01T10:00:00.123456Z\"}}", s);
        assertThat(up.row().get("at")).isEqualTo(Instant.parse("2024-05-01T10:00:00.123456Z"));
        ChangeEvent del = decodeOne("{\"v\":1,\"op\":\"delete\",\"key\":{\"id\":8}}", s);
        assertThat(del.key()).isEqualTo(Key.of(8L));
        // docs/wire-format.md, the batch envelope: byte for byte what the encoder writes
        String batch = "{\"v\":1,\"origin\":\"node-a\",\"schema\":{\"table\":\"shop:orders\",\"columns\":["
                + "{\"name\":\"id\",\"type\":\"int64\",\"nullable\":false},{\"name\":\"item\",\"type\":\"string\","
                + "\"nullable\":true},{\"name\":\"price\",\"type\":\"decimal\",\"nullable\":true},{\"name\":\"at\","
                + "\"type\":\"timestamp\",\"nullable\":true}],\"primaryKey\":[\"id\"]},\"events\":[{\"op\":\"upsert\","
                + "\"key\":{\"id\":7},\"row\":{\"id\":7,\"item\":\"pen\",\"price\":\"1.50\","
                + "\"at\":\"2024-05-01T10:00:00.123456Z\"},\"hlc\":112365246881660928,\"seq\":42},{\"op\":\"delete\","
                + "\"key\":{\"id\":8},\"hlc\":112365246881660929,\"seq\":43}]}";
        WireBatch b = codec.decode(batch.getBytes(StandardCharsets.UTF_8), ORDERS);
        assertThat(b.schema()).contains(s);
        List<ChangeEvent> events = List.of(codec.toEvent(b.events().get(0), s, 0), codec.toEvent(b.events().get(1), s, 0));
        assertThat(events.get(0).version()).isEqualTo(new Version(Version.pack(1_714_557_600_123L, 0), "node-a"));
        assertThat(new String(codec.encodeBatch("node-a", s, true, events), StandardCharsets.UTF_8)).isEqualTo(batch);
        // the JSON form on request, for version 1 receivers
        assertThat(new String(new EventCodec(WireForm.JSON, CodecLimits.DEFAULTS).encodeBatch("node-a", s, events),
                StandardCharsets.UTF_8)).isEqualTo(batch);
    }

    // ------------------------------------------------------------------------------------------ malformed input

    static void assertMalformed(EventCodec codec, String payload, String... fragments) {
        assertThatThrownBy(() -> codec.decode(payload.getBytes(StandardCharsets.UTF_8), ORDERS))
                .isInstanceOf(InvalidDataException.class)
                .hasMessageStartingWith("malformed payload: ")
                .hasMessageContainingAll(fragments);
    }

    @Test
    void malformedPayloadsAreRejectedAsAWhole() {
        assertMalformed(codec, "{\"v\":1,\"op\":\"upsert\",\"row\":{\"id\":1}", "");
        assertMalformed(codec, "not json", "");
        assertMalformed(codec, "", "empty payload");
        assertMalformed(codec, "[1]", "expected a JSON object");
        assertMalformed(codec, "{\"v\":1,\"op\":\"delete\",\"key\":{\"id\":1}} trailing", "");
        assertMalformed(codec, "{\"op\":\"upsert\",\"row\":{\"id\":1}}", "missing \"v\"");
        assertMalformed(codec, "{\"v\":2,\"op\":\"upsert\",\"row\":{\"id\":1}}", "unsupported version", "2");
        assertMalformed(codec, "{\"events\":{\"weird\":1},\"v\":2}", "unsupported version");
        assertMalformed(codec, "{\"v\":\"one\",\"op\":\"upsert\",\"row\":{\"id\":1}}", "v: expected the number 1");
        assertMalformed(codec, "{\"v\":1,\"op\":\"merge\",\"row\":{\"id\":1}}", "unknown op \"merge\"");
        assertMalformed(codec, "{\"v\":1,\"events\":[{\"op\":\"delete\",\"key\":{\"id\":1}},{\"row\":{}}]}",
                "events[1]", "missing \"op\"");
        assertMalformed(codec, "{\"v\":1,\"op\":\"upsert\",\"key\":{\"id\":1}}", "upsert needs a \"row\"");
        assertMalformed(codec, "{\"v\":1,\"op\":\"delete\"}", "delete needs a \"key\"");
        assertMalformed(codec, "{\"v\":1,\"op\":\"delete\",\"key\":{\"id\":1},\"channel\":\"shop:users\"}",
                "shop:users", "shop:orders");
        assertMalformed(codec, "{\"v\":1,\"events\":[{\"op\":\"delete\",\"key\":{\"id\":1},\"channel\":\"shop:users\"}]}",
                "events[0]", "shop:users", "does not match");
        assertMalformed(codec, "{\"v\":1,\"op\":\"delete\",\"key\":{\"id\":1,\"id\":2}}", "duplicate member \"id\"");
        assertMalformed(codec, "{\"v\":1,\"op\":\"delete\",\"key\":[1]}", "key: expected an object");
        assertMalformed(codec, "{\"v\":1,\"op\":\"delete\",\"key\":{\"id\":NaN}}", "");
        assertMalformed(codec, "{\"v\":1}", "nothing to apply");
        assertMalformed(codec, "{\"v\":1,\"op\":\"delete\",\"key\":{\"id\":1},\"events\":[]}", "next to \"events\"");
        assertMalformed(codec, "{\"v\":1,\"schema\":{\"table\":\"shop:users\",\"columns\":[{\"name\":\"id\",\"type\":"
                + "\"int64\"}],\"primaryKey\":[\"id\"]},\"events\":[]}", "schema describes shop:users");
        assertMalformed(codec, "{\"v\":1,\"op\":\"delete\",\"key\":" + "[".repeat(500) + "]".repeat(500) + "}", "");
    }

    @Test
    void jsonPayloadsAreBoundedByTheLimitsTheyNameBeforeTheyAreRead() {
        EventCodec tight = new EventCodec(WireForm.JSON, new CodecLimits(400, 2, 2, 8, 6));
        assertMalformed(tight, "{\"v\":1,\"op\":\"delete\",\"key\":{\"id\":1},\"pad\":\"" + "x".repeat(400) + "\"}",
                "bytes exceed the limit maxPayloadBytes (400)");
        assertMalformed(tight, "{\"v\":1,\"events\":[{\"op\":\"delete\",\"key\":{\"id\":1}},{\"op\":\"delete\","
                + "\"key\":{\"id\":2}},{\"op\":\"delete\",\"key\":{\"id\":3}}]}",
                "events: more than the limit maxEvents (2)");
        assertMalformed(tight, "{\"v\":1,\"schema\":{\"table\":\"shop:orders\",\"columns\":[{\"name\":\"a\","
                + "\"type\":\"int64\"},{\"name\":\"b\",\"type\":\"int64\"},{\"name\":\"c\",\"type\":\"int64\"}],"
                + "\"primaryKey\":[\"a\"]},\"events\":[]}", "limit maxColumns (2)");
        assertMalformed(tight, "{\"v\":1,\"op\":\"upsert\",\"row\":{\"id\":1,\"a\":2,\"b\":3}}",
                "row: more columns than the limit maxColumns (2)");
        assertMalformed(tight, "{\"v\":1,\"op\":\"delete\",\"key\":{\"id\":1,\"a\":2,\"b\":3}}",
                "key: more columns than the limit maxColumns (2)");
        assertMalformed(tight, "{\"v\":1,\"op\":\"upsert\",\"row\":{\"id\":1,\"item\":\"123456789\"}}",
                "a string of 9 characters exceeds the limit maxStringBytes (8)");
        assertMalformed(tight, "{\"v\":1,\"op\":\"upsert\",\"x\":[[[[[[1]]]]]],\"row\":{\"id\":1}}",
                "nested deeper than the limit maxDepth (6 levels)");
        // a hostile depth in a member nobody reads is refused before Gson grows its stack for it
        assertMalformed(codec, "{\"v\":1,\"skip\":" + "[".repeat(100_000) + "]".repeat(100_000) + "}",
                "limit maxDepth (128 levels)");
        assertThat(tight.limits().maxEvents()).isEqualTo(2);
        assertThatThrownBy(() -> new CodecLimits(0, 1, 1, 1, 1)).hasMessageContaining("maxPayloadBytes");
    }

    @Test
    void invalidUtf8IsMalformed() {
        byte[] bad = "{\"v\":1,\"op\":\"delete\",\"key\":{\"id\":\"x\"}}".getBytes(StandardCharsets.UTF_8);
        bad[bad.length - 5] = (byte) 0xC3; // a lead byte without its continuation
        assertThatThrownBy(() -> codec.decode(bad, ORDERS)).isInstanceOf(InvalidDataException.class)
                .hasMessage("malformed payload: not UTF-8 text");
        // a genuine U+FFFD is fine
        ChangeEvent e = decodeOne("{\"v\":1,\"op\":\"upsert\",\"row\":{\"id\":1,\"item\":\"\uFFFD\"}}", SCHEMA);
        assertThat(e.row().get("item")).isEqualTo("\uFFFD");
    }

    static void assertInvalidEvent(EventCodec codec, String payload, String... fragments) {
        WireBatch b = codec.decode(payload.getBytes(StandardCharsets.UTF_8), ORDERS);
        assertThatThrownBy(() -> codec.toEvent(b.events().get(0), SCHEMA, 0))
                .isInstanceOf(InvalidDataException.class)
                .hasMessageStartingWith("shop:orders ")
                .hasMessageContainingAll(fragments);
    }

    @Test
    void badValuesNameTableKeyAndColumn() {
        assertInvalidEvent(codec, "{\"v\":1,\"op\":\"upsert\",\"row\":{\"id\":7,\"price\":true}}",
                "key 7", "column price", "expected DECIMAL, got boolean true");
        assertInvalidEvent(codec, "{\"v\":1,\"op\":\"upsert\",\"row\":{\"id\":7,\"colour\":\"red\"}}",
                "key 7", "unknown column colour");
        assertInvalidEvent(codec, "{\"v\":1,\"op\":\"upsert\",\"row\":{\"item\":\"pen\"}}",
                "key column id is missing");
        assertInvalidEvent(codec, "{\"v\":1,\"op\":\"delete\",\"key\":{\"sku\":1}}", "sku is not a key column");
        assertInvalidEvent(codec, "{\"v\":1,\"op\":\"delete\",\"key\":{}}", "key column id is missing");
        assertInvalidEvent(codec, "{\"v\":1,\"op\":\"delete\",\"key\":{\"id\":null}}", "key column id is null");
        assertInvalidEvent(codec, "{\"v\":1,\"op\":\"delete\",\"key\":{\"id\":\"abc\"}}",
                "key {\"id\":\"abc\"}", "column id", "expected INT64, got string \"abc\"");
        assertInvalidEvent(codec, "{\"v\":1,\"op\":\"upsert\",\"row\":{\"id\":7,\"note\":null}}",
                "key 7", "column note may not be null");
        assertInvalidEvent(codec, "{\"v\":1,\"op\":\"upsert\",\"key\":{\"id\":7},\"row\":{\"id\":8}}",
                "column id is 8 in \"row\" but 7 in \"key\"");
        assertInvalidEvent(codec, "{\"v\":1,\"op\":\"upsert\",\"row\":{\"id\":92233720368547758070}}",
                "expected INT64", "not a 64-bit integer");
        assertInvalidEvent(codec, "{\"v\":1,\"op\":\"upsert\",\"row\":{\"id\":1.5}}", "expected INT64");
        assertInvalidEvent(codec, "{\"v\":1,\"op\":\"upsert\",\"row\":{\"id\":1,\"item\":5}}",
                "column item", "expected STRING, got number 5");
        assertInvalidEvent(codec, "{\"v\":1,\"op\":\"upsert\",\"row\":{\"id\":1,\"price\":\"1,50\"}}",
                "expected DECIMAL");
        assertInvalidEvent(codec, "{\"v\":1,\"op\":\"upsert\",\"row\":{\"id\":1,\"price\":\"1e999999999\"}}",
                "expected DECIMAL", "scale");
        assertInvalidEvent(codec, "{\"v\":1,\"op\":\"upsert\",\"row\":{\"id\":1,\"ratio\":\"1d\"}}",
                "expected DOUBLE");
        assertInvalidEvent(codec, "{\"v\":1,\"op\":\"upsert\",\"row\":{\"id\":1,\"ratio\":1e400}}",
                "expected DOUBLE", "beyond the range");
        assertInvalidEvent(codec, "{\"v\":1,\"op\":\"upsert\",\"row\":{\"id\":1,\"at\":\"2024-05-01T10:00:00\"}}",
                "expected TIMESTAMP");
        assertInvalidEvent(codec, "{\"v\":1,\"op\":\"upsert\",\"row\":{\"id\":1,\"at\":\"2024-02-30T10:00:00Z\"}}",
                "expected TIMESTAMP");
        assertInvalidEvent(codec, "{\"v\":1,\"op\":\"upsert\",\"row\":{\"id\":1,\"day\":\"2024-13-01\"}}",
                "expected DATE");
        assertInvalidEvent(codec, "{\"v\":1,\"op\":\"upsert\",\"row\":{\"id\":1,\"ref\":\"1-2-3-4-5\"}}",
                "expected UUID");
        assertInvalidEvent(codec, "{\"v\":1,\"op\":\"upsert\",\"row\":{\"id\":1,\"blob\":\"***\"}}",
                "expected BYTES");
        assertInvalidEvent(codec, "{\"v\":1,\"op\":\"upsert\",\"row\":{\"id\":1,\"paid\":\"yes\"}}",
                "expected BOOLEAN");
        assertInvalidEvent(codec, "{\"v\":1,\"op\":\"upsert\",\"row\":{\"id\":1,\"item\":{\"a\":1}}}",
                "expected STRING, got object");
    }

    @Test
    void invalidJsonColumnTextIsRefusedOnEncode() {
        assertThatThrownBy(() -> codec.encodeBatch("node-a", SCHEMA, List.of(upsert(3, Map.of("doc", new Json("{x"))))))
                .isInstanceOf(InvalidDataException.class)
                .hasMessageContainingAll("shop:orders key 3", "column doc", "not a JSON document");
    }

    @Test
    void toEventRefusesTheSchemaOfAnotherTable() {
        WireBatch b = codec.decode("{\"v\":1,\"op\":\"delete\",\"key\":{\"id\":1}}".getBytes(StandardCharsets.UTF_8),
                ORDERS);
        TableSchema users = new TableSchema(new TableId("shop", "users"), List.of(Column.of("id", ColumnType.INT64)),
                List.of("id"));
        assertThatThrownBy(() -> codec.toEvent(b.events().get(0), users, 0))
                .isInstanceOf(InvalidDataException.class).hasMessageContaining("shop:users");
    }

    @Test
    void decodedNumbersKeepTheirText() {
        WireBatch b = codec.decode("{\"v\":1,\"op\":\"upsert\",\"row\":{\"id\":1,\"price\":1.50}}"
                .getBytes(StandardCharsets.UTF_8), ORDERS);
        assertThat(b.events().get(0).row()).isEqualTo(JsonParser.parseString("{\"id\":1,\"price\":1.50}"));
        assertThat(b.events().get(0).row().get("price").getAsString()).isEqualTo("1.50");
    }

    @Test
    void theVersionMustBeANumberAndBadValuesAreQuotedShortInReasons() {
        assertThatThrownBy(() -> codec.decode("{\"v\":\"1\",\"op\":\"delete\",\"key\":{\"id\":1}}"
                .getBytes(StandardCharsets.UTF_8), ORDERS)).isInstanceOf(InvalidDataException.class)
                .hasMessageContaining("v: expected the number 1, got STRING");
        String longOp = "x".repeat(100_000) + "\\u0000"; // a NUL, escaped in the JSON text
        assertThatThrownBy(() -> codec.decode(("{\"v\":1,\"op\":\"" + longOp + "\",\"key\":{\"id\":1}}")
                .getBytes(StandardCharsets.UTF_8), ORDERS)).isInstanceOf(InvalidDataException.class)
                .satisfies(e -> assertThat(e.getMessage()).contains("unknown op \"" + "x".repeat(200) + "\"... (100001 "
                        + "characters)").hasSizeLessThan(400));
        assertThatThrownBy(() -> codec.decode(("{\"v\":1,\"events\":[{\"op\":\"delete\",\"key\":{\"id\":1},"
                + "\"hlc\":\"12\\u0001" + "9".repeat(5000) + "\"}]}").getBytes(StandardCharsets.UTF_8), ORDERS))
                .isInstanceOf(InvalidDataException.class)
                .satisfies(e -> assertThat(e.getMessage()).contains("got \"12\\u0001").contains("(5003 characters)")
                        .hasSizeLessThan(400));
    }

    ChangeEvent nulChecked(String json) {
        return EventCodec.requireNoNul(decodeOne(json, SCHEMA));
    }

    @Test
    void aNulCharacterInTextIsRefusedByTheApplierRuleInBothFormsAndInJsonValues() {
        ChangeEvent withNul = upsert(1, Map.of("item", "a\u0000b", "note", "n"));
        WireBatch binary = codec.decode(codec.encodeBatch("node-a", SCHEMA, List.of(withNul)), ORDERS);
        assertThat(codec.toEvent(binary.events().get(0), SCHEMA, 0).row().get("item")).as("carried faithfully")
                .isEqualTo("a\u0000b");
        assertThatThrownBy(() -> EventCodec.requireNoNul(codec.toEvent(binary.events().get(0), SCHEMA, 0)))
                .isInstanceOf(InvalidDataException.class).hasMessageContaining("column item holds a NUL character");
        assertThatThrownBy(() -> nulChecked("{\"v\":1,\"op\":\"upsert\",\"row\":{\"id\":2,\"note\":\"x\\u0000\"}}"))
                .isInstanceOf(InvalidDataException.class).hasMessageContaining("column note holds a NUL character");
        assertThatThrownBy(() -> nulChecked("{\"v\":1,\"op\":\"upsert\",\"row\":{\"id\":3,\"note\":\"n\","
                + "\"doc\":{\"a\":\"\\u0000\"}}}"))
                .isInstanceOf(InvalidDataException.class).hasMessageContaining("column doc holds a NUL character");
        assertThat(nulChecked("{\"v\":1,\"op\":\"upsert\",\"row\":{\"id\":4,\"note\":\"no NUL \\u0001\"}}")
                .row().get("note")).isEqualTo("no NUL \u0001");
    }
}
