package io.mqdb.adapter.mapdb;

import static org.assertj.core.api.Assertions.assertThat;

import io.mqdb.spi.Bytes;
import io.mqdb.spi.Column;
import io.mqdb.spi.ColumnType;
import io.mqdb.spi.Json;
import io.mqdb.spi.Key;
import java.math.BigDecimal;
import java.math.BigInteger;
import java.time.Instant;
import java.time.LocalDate;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import java.util.UUID;
import org.junit.jupiter.api.Test;

/** The key encoding sorts, as unsigned bytes, exactly like {@link Key#compareTo}. */
class KeyCodecTest {
    private final Random random = new Random(42);

    @Test
    void byteOrderIsKeyOrderForEveryKeyType() {
        for (ColumnType type : ColumnType.values()) {
            List<Column> columns = List.of(new Column("a", type, false), new Column("b", ColumnType.INT64, false));
            List<Key> keys = new ArrayList<>();
            for (int i = 0; i < 400; i++) {
                keys.add(Key.of(value(type), (long) random.nextInt(3) - 1));
            }
            for (Key x : keys) {
                for (Key y : keys.subList(0, 60)) {
                    int expected = Integer.signum(x.compareTo(y));
                    int actual = Integer.signum(Arrays.compareUnsigned(KeyCodec.encode(columns, x),
                            KeyCodec.encode(columns, y)));
                    assertThat(actual).as("%s: %s vs %s", type, x, y).isEqualTo(expected);
                }
            }
        }
    }

    private Object value(ColumnType type) {
        return switch (type) {
            case STRING -> string();
            case JSON -> new Json(string());
            case INT64 -> random.nextBoolean() ? random.nextLong() : (long) random.nextInt(5) - 2;
            case DOUBLE -> pick(0.0, -0.0, Double.NaN, Double.POSITIVE_INFINITY, Double.NEGATIVE_INFINITY,
                    Double.MIN_VALUE, -Double.MIN_VALUE, random.nextGaussian() * 1e6, random.nextDouble());
            case DECIMAL -> {
                BigDecimal d = new BigDecimal(new BigInteger(random.nextInt(80), random), random.nextInt(20) - 5);
                yield random.nextBoolean() ? d.negate() : d;
            }
            case BOOLEAN -> random.nextBoolean();
            case BYTES -> {
                byte[] b = new byte[random.nextInt(5)];
                for (int i = 0; i < b.length; i++) {
                    b[i] = (byte) (int) pick(0, 1, 0xFF, 0x7F, 0x80);
                }
                yield Bytes.of(b);
            }
            case TIMESTAMP -> Instant.ofEpochSecond(random.nextInt(2_000_000) - 1_000_000L, random.nextInt(3) * 1000L);
            case DATE -> LocalDate.ofEpochDay(random.nextInt(100_000) - 50_000L);
            case UUID -> new UUID(pick(0L, -1L, Long.MIN_VALUE, random.nextLong()), pick(0L, -1L, random.nextLong()));
        };
    }

    private String string() {
        char[] alphabet = {'a', 'b', '\u0000', '\u007e', '\u007f', '\u0080', 'é', '\u407e', '\u407f', '\uffff',
            '\ud83d', '\ude00', '\ue000'};
        StringBuilder sb = new StringBuilder();
        int n = random.nextInt(4);
        for (int i = 0; i < n; i++) {
            sb.append(alphabet[random.nextInt(alphabet.length)]);
        }
        return sb.toString();
    }

    @SafeVarargs
    private <T> T pick(T... options) {
        return options[random.nextInt(options.length)];
    }
}
