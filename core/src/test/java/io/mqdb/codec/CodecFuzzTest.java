package io.mqdb.codec;

import static org.assertj.core.api.Assertions.assertThat;

import io.mqdb.spi.ChangeEvent;
import io.mqdb.spi.InvalidDataException;
import io.mqdb.spi.Key;
import io.mqdb.spi.Op;
import io.mqdb.spi.Row;
import io.mqdb.spi.TableSchema;
import io.mqdb.spi.Version;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * A mutation fuzzer for the decoder: valid payloads of both wire forms and schema messages, damaged at random (bits
 * flipped, bytes overwritten with boundary values, inserted, removed or repeated, lengths cut, numbers swapped for
 * extreme ones), then decoded and converted event by event. The only exception allowed is the documented
 * {@link InvalidDataException}; anything else (or a hang, bounded by the test's timeout) fails with the seed and the
 * input in hex, so it can be replayed. {@code -Dfuzz.seed=N} replays a run, {@code -Dfuzz.inputs=N} sizes it
 * (default 100,000 inputs in all, a few seconds).
 */
public class CodecFuzzTest {
    private static final long SEED = Long.getLong("fuzz.seed", System.nanoTime());
    private static final int INPUTS = Integer.getInteger("fuzz.inputs", 100_000);
    private static final TableSchema SCHEMA = EventCodecTest.SCHEMA;

    private final EventCodec binary = new EventCodec();
    private final EventCodec json = new EventCodec(WireForm.JSON, CodecLimits.DEFAULTS);

    private List<byte[]> seeds() {
        List<ChangeEvent> events = new ArrayList<>();
        for (int i = 1; i <= 4; i++) {
            events.add(BinaryFormTest.full(i, "node-a", 40 + i));
        }
        events.add(new ChangeEvent(EventCodecTest.ORDERS, Op.DELETE, Key.of(9L), null,
                new Version(EventCodecTest.HLC, "node-b"), 7));
        events.add(new ChangeEvent(EventCodecTest.ORDERS, Op.UPSERT, Key.of(10L), Row.of(Map.of("id", 10L)),
                new Version(0, "node-a"), 0));
        List<byte[]> out = new ArrayList<>();
        for (EventCodec c : List.of(binary, json)) {
            out.add(c.encodeBatch("node-a", SCHEMA, events));
            out.add(c.encodeBatch("node-a", SCHEMA, false, events.subList(0, 2)));
            out.add(c.encodeBatch(null, SCHEMA, events.subList(4, 6)));
        }
        out.add(binary.encodeSchema(SCHEMA));
        return out;
    }

    @Test
    void damagedPayloadsFailOnlyWithTheDocumentedException() {
        Random random = new Random(SEED);
        List<byte[]> seeds = seeds();
        int decoded = 0;
        int refused = 0;
        long t0 = System.nanoTime();
        for (int i = 0; i < INPUTS; i++) {
            byte[] input = mutate(seeds.get(random.nextInt(seeds.size())), random);
            try {
                if (random.nextInt(8) == 0) {
                    binary.decodeSchema(input);
                } else {
                    WireBatch b = binary.decode(input, EventCodecTest.ORDERS);
                    TableSchema s = b.schema().orElse(SCHEMA);
                    for (WireEvent e : b.events()) {
                        try {
                            binary.toEvent(e, s, 0);
                        } catch (InvalidDataException bad) {
                            refused++; // one bad event: the rest of the batch still converts
                        }
                    }
                }
                decoded++;
            } catch (InvalidDataException expected) {
                refused++;
            } catch (RuntimeException | StackOverflowError | OutOfMemoryError e) {
                throw new AssertionError("input " + i + " of seed " + SEED + " threw " + e + "; input: "
                        + HexFormat.of().formatHex(input) + " (" + new String(input, StandardCharsets.ISO_8859_1)
                        + ")", e);
            }
        }
        long ms = (System.nanoTime() - t0) / 1_000_000;
        System.out.printf("CodecFuzzTest: %d damaged inputs (seed %d) in %d ms: %d decoded, %d refused with "
                + "InvalidDataException, 0 other exceptions%n", INPUTS, SEED, ms, decoded, refused);
        assertThat(refused).as("the mutations reach the decoder's checks").isPositive();
        assertThat(decoded).as("and some inputs stay decodable").isPositive();
    }

    private static final byte[] BOUNDARY = {0, 1, 0x7F, (byte) 0x80, (byte) 0xFF, (byte) 0xFE, '{', '}', '[', ']',
        '"', ':', ',', '\\', '-', '9', 'e', 0x3F};
    private static final String[] NUMBERS = {"9223372036854775807", "-9223372036854775808", "1e999", "-0", "0.0",
        "99999999999999999999999999", "\"1\"", "null", "true", "[]", "{}", "1.5"};

    /** One to four random damages of a copy of {@code seed}. */
    public static byte[] mutate(byte[] seed, Random r) {
        byte[] b = seed.clone();
        int damages = 1 + r.nextInt(4);
        for (int d = 0; d < damages; d++) {
            if (b.length == 0) {
                b = new byte[] {(byte) r.nextInt(256)};
                continue;
            }
            int at = r.nextInt(b.length);
            switch (r.nextInt(8)) {
                case 0 -> b[at] ^= (byte) (1 << r.nextInt(8));
                case 1 -> b[at] = BOUNDARY[r.nextInt(BOUNDARY.length)];
                case 2 -> b = splice(b, at, at, new byte[] {(byte) r.nextInt(256)});
                case 3 -> b = splice(b, at, Math.min(b.length, at + 1 + r.nextInt(8)), new byte[0]);
                case 4 -> b = java.util.Arrays.copyOf(b, at); // cut short
                case 5 -> { // repeat a slice
                    int end = Math.min(b.length, at + 1 + r.nextInt(32));
                    b = splice(b, end, end, java.util.Arrays.copyOfRange(b, at, end));
                }
                case 6 -> { // a varint-looking run of continuation bytes
                    byte[] run = new byte[1 + r.nextInt(12)];
                    java.util.Arrays.fill(run, (byte) 0xFF);
                    b = splice(b, at, Math.min(b.length, at + 1), run);
                }
                default -> { // a JSON number or token swapped in
                    byte[] n = NUMBERS[r.nextInt(NUMBERS.length)].getBytes(StandardCharsets.US_ASCII);
                    b = splice(b, at, Math.min(b.length, at + 1 + r.nextInt(3)), n);
                }
            }
        }
        return b;
    }

    private static byte[] splice(byte[] b, int from, int to, byte[] insert) {
        byte[] out = new byte[b.length - (to - from) + insert.length];
        System.arraycopy(b, 0, out, 0, from);
        System.arraycopy(insert, 0, out, from, insert.length);
        System.arraycopy(b, to, out, from + insert.length, b.length - to);
        return out;
    }
}
