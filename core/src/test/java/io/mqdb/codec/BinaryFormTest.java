package io.mqdb.codec;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

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
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.time.LocalDate;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.UUID;
import org.junit.jupiter.api.Test;

/** The binary form (wire format version 2): round trips, the documented example, limits, hostile input. */
class BinaryFormTest {
    static final TableId ORDERS = EventCodecTest.ORDERS;
    static final TableSchema SCHEMA = EventCodecTest.SCHEMA;
    static final long HLC = EventCodecTest.HLC;

    final EventCodec codec = new EventCodec();

    static ChangeEvent full(long id, String origin, long seq) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("id", id);
        m.put("item", "pen " + id);
        m.put("price", new BigDecimal("-12345678901234567890.000001"));
        m.put("at", Instant.parse("2024-05-01T10:00:00.123456Z"));
        m.put("ratio", -0.0);
        m.put("paid", true);
        m.put("blob", Bytes.of(new byte[] {0, -1, 127, -128}));
        m.put("day", LocalDate.of(-44, 3, 15));
        m.put("ref", UUID.fromString("3f2b8c1e-6a4d-4e0b-9c51-0d2f3a4b5c6d"));
        m.put("doc", new Json("{\"tags\":[\"a\",1.50,null,true],\"n\":{}}"));
        m.put("note", "grüße 🌍 \u0000 \"quoted\"");
        return new ChangeEvent(ORDERS, Op.UPSERT, Key.of(id), Row.of(m), new Version(HLC + id, origin), seq);
    }

    List<ChangeEvent> decodeAll(byte[] payload, TableSchema schema) {
        List<ChangeEvent> out = new ArrayList<>();
        for (WireEvent e : codec.decode(payload, ORDERS).events()) {
            out.add(codec.toEvent(e, schema, 0));
        }
        return out;
    }

    @Test
    void mixedBatchRoundTripsExactlyWithOriginsSequencesAndVersions() {
        List<ChangeEvent> in = List.of(full(1, "node-a", 41),
                new ChangeEvent(ORDERS, Op.DELETE, Key.of(2L), null, new Version(HLC, "node-b"), 7),
                full(3, "mqtt", 0),
                new ChangeEvent(ORDERS, Op.UPSERT, Key.of(4L), Row.of(Map.of("id", 4L, "note", "")),
                        new Version(0, "node-a"), Long.MAX_VALUE));
        byte[] payload = codec.encodeBatch("node-a", SCHEMA, in);
        assertThat(BinaryForm.isBinary(payload)).isTrue();
        WireBatch b = codec.decode(payload, ORDERS);
        assertThat(b.version()).isEqualTo(2);
        assertThat(b.schema()).contains(SCHEMA);
        assertThat(b.events()).extracting(WireEvent::seq).containsExactly(41L, 7L, 0L, Long.MAX_VALUE);
        assertThat(decodeAll(payload, SCHEMA)).containsExactlyElementsOf(in);
        // without an envelope origin every event carries its own
        assertThat(decodeAll(codec.encodeBatch(null, SCHEMA, in), SCHEMA)).containsExactlyElementsOf(in);
    }

    @Test
    void aThirdOfTheBytesOfJson() {
        List<ChangeEvent> in = new ArrayList<>();
        for (long id = 1; id <= 100; id++) {
            in.add(full(id, "node-a", id));
        }
        int binary = codec.encodeBatch("node-a", SCHEMA, in).length;
        int json = codec.encodeBatch("node-a", SCHEMA, true, in).length;
        assertThat(binary).isLessThan(json / 2);
    }

    @Test
    void edgeValuesOfEveryTypeRoundTrip() {
        Object[][] cases = {
            {"price", new BigDecimal("0")}, {"price", new BigDecimal("0.00")}, {"price", new BigDecimal("1E+3")},
            {"price", new BigDecimal("-1")}, {"price", new BigDecimal("127")}, {"price", new BigDecimal("128")},
            {"price", new BigDecimal("-129")}, {"price", new BigDecimal(BigInteger.valueOf(Long.MIN_VALUE), 3)},
            {"price", new BigDecimal(BigInteger.valueOf(Long.MAX_VALUE).multiply(BigInteger.TEN), 20000)},
            {"at", Instant.parse("-0001-01-01T00:00:00Z")}, {"at", Instant.parse("+10000-01-01T00:00:00.000001Z")},
            {"at", Instant.ofEpochSecond(-1, 999_999_000)}, {"ratio", Double.NaN}, {"ratio", Double.MAX_VALUE},
            {"ratio", Double.NEGATIVE_INFINITY}, {"ratio", Double.MIN_VALUE}, {"blob", Bytes.of(new byte[0])},
            {"blob", Bytes.of(new byte[70_000])}, {"item", ""}, {"item", "x".repeat(20_000)},
            {"item", "\uD83C\uDF0D".repeat(50)}, {"day", LocalDate.MIN}, {"day", LocalDate.MAX},
            {"doc", new Json("3")}, {"doc", new Json("\"text\"")}, {"doc", new Json("[]")},
            {"doc", new Json("{\"a\":\"\\u0041\\n\"}")}, {"paid", false},
            {"ref", new UUID(Long.MIN_VALUE, -1)}};
        for (Object[] c : cases) {
            Map<String, Object> m = new LinkedHashMap<>();
            m.put((String) c[0], c[1]);
            ChangeEvent e = EventCodecTest.upsert(9, m);
            ChangeEvent viaJson = codec.toEvent(codec.decode(codec.encodeBatch("n", SCHEMA, true, List.of(e)), ORDERS)
                    .events().get(0), SCHEMA, 0);
            ChangeEvent viaBinary = decodeAll(codec.encodeBatch("n", SCHEMA, List.of(e)), SCHEMA).get(0);
            assertThat(viaBinary).as("%s %s", c[0], c[1]).isEqualTo(viaJson);
            if (!(c[1] instanceof Json)) {
                assertThat(viaBinary.row().get((String) c[0])).as("%s", c[1]).isEqualTo(c[1]);
            }
        }
    }

    @Test
    void jsonValuesAreSentCompactAsJsonWouldCarryThem() {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("doc", new Json(" { \"a\" : [ 1 , 2.50 ] } "));
        ChangeEvent back = decodeAll(codec.encodeBatch("n", SCHEMA, List.of(EventCodecTest.upsert(1, m))), SCHEMA)
                .get(0);
        assertThat(back.row().get("doc")).isEqualTo(new Json("{\"a\":[1,2.50]}"));
        assertThatThrownBy(() -> codec.encodeBatch("n", SCHEMA, List.of(EventCodecTest.upsert(3,
                Map.of("doc", new Json("{x")))))).isInstanceOf(InvalidDataException.class)
                .hasMessageContainingAll("shop:orders key 3", "column doc", "not a JSON document");
    }

    @Test
    void nullsMissingColumnsAndPartialRowsStayDistinct() {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("item", null);
        m.put("doc", null);
        ChangeEvent e = EventCodecTest.upsert(5, m);
        ChangeEvent back = decodeAll(codec.encodeBatch("n", SCHEMA, List.of(e)), SCHEMA).get(0);
        assertThat(back).isEqualTo(e);
        assertThat(back.row().values()).containsOnlyKeys("id", "item", "doc");
        // a row without its key column: the key travels on its own
        ChangeEvent noKeyInRow = new ChangeEvent(ORDERS, Op.UPSERT, Key.of(6L), Row.of(Map.of("note", "n")),
                new Version(HLC, "a"), 1);
        assertThat(decodeAll(codec.encodeBatch("n", SCHEMA, List.of(noKeyInRow)), SCHEMA).get(0).row().values())
                .containsEntry("id", 6L).containsEntry("note", "n");
    }

    @Test
    void compositeKeysInKeyOrderAndAReceiverThatOrdersColumnsOtherwise() {
        TableSchema sender = new TableSchema(ORDERS, List.of(Column.of("region", ColumnType.STRING),
                Column.of("n", ColumnType.INT64), Column.of("v", ColumnType.INT64)), List.of("n", "region"));
        TableSchema receiver = new TableSchema(ORDERS, List.of(Column.of("v", ColumnType.DECIMAL),
                Column.of("n", ColumnType.INT64), Column.of("region", ColumnType.STRING),
                Column.of("extra", ColumnType.STRING)), List.of("n", "region"));
        ChangeEvent up = new ChangeEvent(ORDERS, Op.UPSERT, Key.of(3L, "eu"),
                Row.of(Map.of("region", "eu", "n", 3L, "v", 12L)), new Version(HLC, "a"), 1);
        ChangeEvent del = new ChangeEvent(ORDERS, Op.DELETE, Key.of(4L, "us"), null, new Version(HLC, "a"), 2);
        List<ChangeEvent> back = decodeAll(codec.encodeBatch("a", sender, List.of(up, del)), receiver);
        assertThat(back.get(0).key()).isEqualTo(Key.of(3L, "eu"));
        assertThat(back.get(0).row().get("v")).as("converted as JSON would").isEqualTo(new BigDecimal("12"));
        assertThat(back.get(1)).isEqualTo(del);
    }

    @Test
    void aBadEventFailsAloneAgainstTheReceiversSchema() {
        TableSchema receiver = new TableSchema(ORDERS, List.of(new Column("id", ColumnType.INT64, false),
                Column.of("item", ColumnType.BOOLEAN), new Column("note", ColumnType.STRING, false)), List.of("id"));
        ChangeEvent good = EventCodecTest.upsert(1, Map.of("note", "ok"));
        ChangeEvent badType = EventCodecTest.upsert(2, Map.of("item", "pen", "note", "x"));
        ChangeEvent unknown = EventCodecTest.upsert(3, Map.of("price", BigDecimal.ONE, "note", "x"));
        Map<String, Object> nullNote = new LinkedHashMap<>();
        nullNote.put("note", null);
        ChangeEvent notNull = EventCodecTest.upsert(4, nullNote);
        WireBatch b = codec.decode(codec.encodeBatch("n", SCHEMA, List.of(good, badType, unknown, notNull)),
                ORDERS);
        assertThat(codec.toEvent(b.events().get(0), receiver, 0)).isEqualTo(good);
        assertThatThrownBy(() -> codec.toEvent(b.events().get(1), receiver, 0))
                .isInstanceOf(InvalidDataException.class)
                .hasMessageContainingAll("shop:orders key 2", "column item", "expected BOOLEAN");
        assertThatThrownBy(() -> codec.toEvent(b.events().get(2), receiver, 0))
                .isInstanceOf(InvalidDataException.class).hasMessage("shop:orders key 3: unknown column price");
        assertThatThrownBy(() -> codec.toEvent(b.events().get(3), receiver, 0))
                .isInstanceOf(InvalidDataException.class).hasMessage("shop:orders key 4: column note may not be null");
    }

    @Test
    void rowsTheSchemaCannotTypeAreWrittenAsJson() {
        ChangeEvent unknownColumn = EventCodecTest.upsert(1, Map.of("colour", "red"));
        byte[] p = codec.encodeBatch("n", SCHEMA, List.of(unknownColumn));
        assertThat(BinaryForm.isBinary(p)).isFalse();
        assertThatThrownBy(() -> codec.toEvent(codec.decode(p, ORDERS).events().get(0), SCHEMA, 0))
                .hasMessageContaining("unknown column colour");
        ChangeEvent intForInt64 = EventCodecTest.upsert(2, Map.of("item", 5L));
        assertThat(BinaryForm.isBinary(codec.encodeBatch("n", SCHEMA, List.of(intForInt64)))).isFalse();
        assertThat(BinaryForm.isBinary(codec.encodeBatch("n", null, List.of(EventCodecTest.upsert(3, Map.of())))))
                .as("no schema, no binary").isFalse();
    }

    @Test
    void largeEventsTakeALongerLengthPrefix() {
        ChangeEvent big = EventCodecTest.upsert(1, Map.of("item", "y".repeat(100_000), "note", "z"));
        ChangeEvent small = EventCodecTest.upsert(2, Map.of("note", "z"));
        assertThat(decodeAll(codec.encodeBatch("n", SCHEMA, List.of(big, small, big)), SCHEMA))
                .containsExactly(big, small, big);
    }

    @Test
    void keyAndRowRenderAsJsonForTools() {
        WireEvent e = codec.decode(codec.encodeBatch("n", SCHEMA, List.of(EventCodecTest.upsert(7,
                Map.of("price", new BigDecimal("1.50"), "note", "x")), EventCodecTest.delete(8))), ORDERS)
                .events().get(0);
        assertThat(e.row().toString()).isEqualTo("{\"id\":7,\"price\":\"1.50\",\"note\":\"x\"}");
        assertThat(e.key()).isNull();
        WireEvent d = codec.decode(codec.encodeBatch("n", SCHEMA, List.of(EventCodecTest.delete(8))), ORDERS)
                .events().get(0);
        assertThat(d.key().toString()).isEqualTo("{\"id\":8}");
        assertThat(d.row()).isNull();
    }

    /** The example of docs/wire-format.md, "Binary form", byte for byte. */
    @Test
    void documentedExampleIsWhatTheEncoderWrites() {
        TableSchema s = new TableSchema(ORDERS, List.of(new Column("id", ColumnType.INT64, false),
                Column.of("item", ColumnType.STRING), Column.of("price", ColumnType.DECIMAL)), List.of("id"));
        Map<String, Object> row = new LinkedHashMap<>();
        row.put("id", 7L);
        row.put("item", "pen");
        row.put("price", null);
        ChangeEvent up = new ChangeEvent(ORDERS, Op.UPSERT, Key.of(7L), Row.of(row),
                new Version(112365246881660928L, "node-a"), 42);
        ChangeEvent del = new ChangeEvent(ORDERS, Op.DELETE, Key.of(8L), null,
                new Version(112365246881660929L, "node-b"), 43);
        byte[] p = codec.encodeBatch("node-a", s, List.of(up, del));
        String hex = "4d514442" + "02" + "01" + "066e6f64652d61" // magic, version, flags, origin "node-a"
                + "0b73686f703a6f7264657273" + "03" // table "shop:orders", 3 columns
                + "02696402" + "00" + "046974656d" + "01" + "01" + "057072696365" + "04" + "01" // id, item, price
                + "0100" // 1 key column: column 0
                + "02" // 2 events
                + "9100" + "06" + "018f3398c17b0000" + "2a" + "07" + "04" + "0e" + "0370656e" // upsert 7
                + "9200" + "1f" + "018f3398c17b0001" + "2b" + "066e6f64652d62" + "10"; // delete 8 by node-b
        assertThat(HexFormat.of().formatHex(p)).isEqualTo(hex);
        assertThat(decodeAll(p, s)).containsExactly(up, del);
    }

    @Test
    void decimalBytesAreAsDocumented() {
        String[][] cases = {{"1.50", "04020096"}, {"-1", "0001ff"}, {"0", "0000"}, {"1E+3", "050101"}};
        for (String[] c : cases) {
            ByteSink s = new ByteSink(8);
            BinaryForm.writeDecimal(s, new BigDecimal(c[0]));
            assertThat(HexFormat.of().formatHex(s.toArray())).as(c[0]).isEqualTo(c[1]);
        }
    }

    // ------------------------------------------------------------------------------------------ hostile input

    static void assertMalformed(EventCodec codec, byte[] payload, String... fragments) {
        assertThatThrownBy(() -> codec.decode(payload, ORDERS)).isInstanceOf(InvalidDataException.class)
                .hasMessageStartingWith("malformed payload: ").hasMessageContainingAll(fragments);
    }

    byte[] sample() {
        return codec.encodeBatch("node-a", SCHEMA, List.of(full(1, "node-a", 1), EventCodecTest.delete(2),
                full(3, "node-c", 0)));
    }

    @Test
    void everyTruncationFailsCleanly() {
        byte[] p = sample();
        for (int n = 0; n < p.length; n++) {
            assertFailsCleanly(Arrays.copyOf(p, n), "truncated to " + n);
        }
    }

    @Test
    void randomCorruptionFailsCleanlyOrDecodes() {
        long seed = System.nanoTime();
        System.out.println("BinaryFormTest.randomCorruptionFailsCleanlyOrDecodes seed " + seed);
        Random random = new Random(seed);
        byte[] p = sample();
        for (int round = 0; round < 20_000; round++) {
            byte[] q = p.clone();
            for (int flips = 1 + random.nextInt(3); flips > 0; flips--) {
                q[4 + random.nextInt(q.length - 4)] = (byte) random.nextInt(256);
            }
            assertFailsCleanly(q, "seed " + seed + " round " + round);
        }
    }

    /** Decoding either works or throws InvalidDataException, never anything else, and never OOM. */
    void assertFailsCleanly(byte[] payload, String what) {
        WireBatch b;
        try {
            b = codec.decode(payload, ORDERS);
        } catch (InvalidDataException expected) {
            assertThat(expected.getMessage()).as(what).startsWith("malformed payload: ");
            return;
        } catch (RuntimeException | Error e) {
            throw new AssertionError(what + ": decode threw " + e, e);
        }
        for (WireEvent e : b.events()) {
            try {
                codec.toEvent(e, SCHEMA, 0);
            } catch (InvalidDataException expected) {
                assertThat(expected.getMessage()).as(what).startsWith("shop:orders ");
            } catch (RuntimeException | Error ex) {
                throw new AssertionError(what + ": toEvent threw " + ex, ex);
            }
        }
    }

    @Test
    void hugeCountsAndLengthsNameTheirLimit() {
        byte[] head = Arrays.copyOf(sample(), 5);
        ByteSink s = new ByteSink(64);
        s.put(head);
        s.put(0);
        s.uvarint(Long.MAX_VALUE); // the table name's length
        assertMalformed(codec, s.toArray(), "exceeds the limit maxStringBytes");

        ByteSink cols = new ByteSink(64);
        cols.put(head);
        cols.put(0);
        cols.string("shop:orders");
        cols.uvarint(1_000_000);
        assertMalformed(codec, cols.toArray(), "column count of 1000000 exceeds the limit maxColumns (1600)");

        byte[] schemaSection = BinaryForm.schemaSection(new SchemaIndex(SCHEMA));
        ByteSink events = new ByteSink(64);
        events.put(head);
        events.put(0);
        events.put(schemaSection);
        events.uvarint(1_000_000_000);
        assertMalformed(codec, events.toArray(), "event count of 1000000000 exceeds the limit maxEvents (100000)");

        ByteSink many = new ByteSink(64);
        many.put(head);
        many.put(0);
        many.put(schemaSection);
        many.uvarint(90_000); // within the limit, but not there
        assertMalformed(codec, many.toArray(), "truncated", "90000 events");

        assertMalformed(new EventCodec(WireForm.BINARY, new CodecLimits(100, 2, 20, 100, 8)), sample(),
                "exceed the limit maxPayloadBytes (100)");
        EventCodec tight = new EventCodec(WireForm.BINARY, new CodecLimits(1000, 2, 20, 11, 8));
        byte[] three = codec.encodeBatch("n", SCHEMA, List.of(EventCodecTest.delete(1), EventCodecTest.delete(2),
                EventCodecTest.delete(3)));
        assertMalformed(tight, three, "event count of 3 exceeds the limit maxEvents (2)");
        byte[] longItem = codec.encodeBatch("n", SCHEMA, List.of(EventCodecTest.upsert(1,
                Map.of("item", "x".repeat(12), "note", "y"))));
        assertThatThrownBy(() -> tight.toEvent(tight.decode(longItem, ORDERS).events().get(0), SCHEMA, 0))
                .isInstanceOf(InvalidDataException.class)
                .hasMessageContainingAll("shop:orders event 0", "column item", "exceeds the limit maxStringBytes (11)");
    }

    @Test
    void envelopeErrorsAreMalformed() {
        byte[] p = sample();
        byte[] v3 = p.clone();
        v3[4] = 3;
        assertMalformed(codec, v3, "unsupported binary version 3");
        byte[] flags = p.clone();
        flags[5] = (byte) 0x80;
        assertMalformed(codec, flags, "unknown envelope flags 0x80");
        byte[] trailing = Arrays.copyOf(p, p.length + 1);
        assertMalformed(codec, trailing, "unexpected data after the last event");
        assertThatThrownBy(() -> codec.decode(p, new TableId("shop", "users")))
                .hasMessageContaining("the schema describes shop:orders but the channel is shop:users");
        assertMalformed(codec, "MQDB".getBytes(StandardCharsets.US_ASCII), "truncated");
    }

    @Test
    void invalidUtf8InAStringFailsItsEvent() {
        byte[] p = codec.encodeBatch("n", SCHEMA, List.of(EventCodecTest.upsert(1, Map.of("note", "abcd"))));
        int at = indexOf(p, "abcd".getBytes(StandardCharsets.US_ASCII));
        p[at + 1] = (byte) 0xC3;
        WireEvent e = codec.decode(p, ORDERS).events().get(0);
        assertThatThrownBy(() -> codec.toEvent(e, SCHEMA, 0)).isInstanceOf(InvalidDataException.class)
                .hasMessageContainingAll("shop:orders event 0", "column note", "not UTF-8");
    }

    static int indexOf(byte[] haystack, byte[] needle) {
        outer:
        for (int i = 0; i + needle.length <= haystack.length; i++) {
            for (int j = 0; j < needle.length; j++) {
                if (haystack[i + j] != needle[j]) {
                    continue outer;
                }
            }
            return i;
        }
        throw new AssertionError("not found");
    }
}
