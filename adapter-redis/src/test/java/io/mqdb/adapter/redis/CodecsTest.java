package io.mqdb.adapter.redis;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.mqdb.spi.Column;
import io.mqdb.spi.ColumnType;
import io.mqdb.spi.Key;
import io.mqdb.spi.TableId;
import io.mqdb.spi.TableSchema;
import java.math.BigDecimal;
import java.time.Instant;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Pure checks of the field text, the key index member and the key pattern. */
class CodecsTest {

    @Test
    void fieldTextIsTheDocumentedForm() {
        assertThat(FieldCodec.encode(ColumnType.TIMESTAMP, Instant.parse("2024-02-29T12:34:56Z")))
                .isEqualTo("2024-02-29T12:34:56Z");
        assertThat(FieldCodec.encode(ColumnType.TIMESTAMP, Instant.parse("2024-02-29T12:34:56.12Z")))
                .isEqualTo("2024-02-29T12:34:56.120000Z");
        assertThat(FieldCodec.encode(ColumnType.DECIMAL, new BigDecimal("1.50"))).isEqualTo("1.50");
        assertThat(FieldCodec.decode(ColumnType.DECIMAL, FieldCodec.encode(ColumnType.DECIMAL,
                new BigDecimal("1E+3")))).isEqualTo(new BigDecimal("1E+3"));
        assertThat(FieldCodec.encode(ColumnType.DOUBLE, Double.NaN)).isEqualTo("NaN");
        assertThatThrownBy(() -> FieldCodec.decode(ColumnType.BOOLEAN, "yes"))
                .isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void indexMembersSortLikeKeysAndDecodeBack() {
        List<Column> cols = List.of(new Column("a", ColumnType.STRING, false), new Column("b", ColumnType.INT64,
                false));
        List<Key> keys = List.of(Key.of("", Long.MIN_VALUE), Key.of("", -1L), Key.of("a", 5L), Key.of("a\0", 0L),
                Key.of("a\0\1", 0L), Key.of("ab", -9L), Key.of("b", 0L));
        for (int i = 0; i < keys.size(); i++) {
            String m = IndexCodec.encode(keys.get(i), cols);
            assertThat(IndexCodec.decode(m, cols)).isEqualTo(keys.get(i));
            if (i > 0) {
                assertThat(compareBytes(IndexCodec.encode(keys.get(i - 1), cols), m)).isNegative();
            }
        }
    }

    private static int compareBytes(String a, String b) {
        return java.util.Arrays.compareUnsigned(a.getBytes(java.nio.charset.StandardCharsets.UTF_8),
                b.getBytes(java.nio.charset.StandardCharsets.UTF_8));
    }

    @Test
    void keyPatternsEscapeSeparatorsAndRejectMisfits() {
        TableSchema s = new TableSchema(new TableId("shop", "lines"), List.of(Column.of("o", ColumnType.STRING),
                Column.of("n", ColumnType.INT64), Column.of("v", ColumnType.STRING)), List.of("o", "n"));
        assertThat(KeyPattern.parse(KeyPattern.DEFAULT).render(s, Key.of("a:b\\c", 3L)))
                .isEqualTo("shop:lines:a\\:b\\\\c:3");
        assertThat(KeyPattern.parse("line:{{{o}}}:{n}").render(s, Key.of("x", 1L))).isEqualTo("line:{x}:1");
        assertThatThrownBy(() -> KeyPattern.parse("line:{o}").check(s)).hasMessageContaining("every primary-key");
        assertThatThrownBy(() -> KeyPattern.parse("static")).hasMessageContaining("no key placeholder");
        assertThatThrownBy(() -> KeyPattern.parse("a}b")).hasMessageContaining("lone }");
    }
}
