package io.mqdb.spi;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.math.BigDecimal;
import java.time.Instant;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class SpiTypesTest {
    private final TableSchema schema = new TableSchema(TableId.parse("shop:orders"),
            List.of(Column.of("id", ColumnType.INT64), Column.of("note", ColumnType.STRING),
                    Column.of("price", ColumnType.DECIMAL), Column.of("at", ColumnType.TIMESTAMP)),
            List.of("id"));

    @Test
    void tableIdsAreValidatedOnce() {
        assertThat(TableId.parse("shop:orders")).isEqualTo(new TableId("shop", "orders"));
        assertThatThrownBy(() -> TableId.parse("orders")).hasMessageContaining("expected schema:table");
        assertThatThrownBy(() -> TableId.parse("a:b:c")).hasMessageContaining("expected schema:table");
        assertThatThrownBy(() -> TableId.parse("shop:or-ders")).hasMessageContaining("invalid table name");
        assertThatThrownBy(() -> TableId.parse("shop:x; drop table y")).isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void keyColumnsAreNeverNullable() {
        assertThat(schema.column("id").orElseThrow().nullable()).isFalse();
        assertThat(schema.valueColumns()).extracting(Column::name).containsExactly("note", "price", "at");
    }

    @Test
    void validationNormalisesValuesAndKeepsNullApartFromMissing() {
        Map<String, Object> m = new HashMap<>();
        m.put("id", 7);
        m.put("note", null);
        m.put("at", Instant.parse("2024-01-01T00:00:00.123456789Z"));
        Row r = schema.validate(Row.of(m));
        assertThat(r.get("id")).isEqualTo(7L);
        assertThat(r.has("note")).isTrue();
        assertThat(r.get("note")).isNull();
        assertThat(r.has("price")).isFalse();
        assertThat(r.get("at")).isEqualTo(Instant.parse("2024-01-01T00:00:00.123456Z"));
        assertThat(schema.keyOf(r)).isEqualTo(Key.of(7L));
    }

    @Test
    void badValuesNameTheColumn() {
        assertThatThrownBy(() -> schema.validate(Row.of(Map.of("id", 1L, "price", 1.5))))
                .isInstanceOf(InvalidDataException.class).hasMessageContaining("shop:orders.price")
                .hasMessageContaining("DECIMAL");
        assertThatThrownBy(() -> schema.validate(Row.of(Map.of("note", "x"))))
                .isInstanceOf(InvalidDataException.class).hasMessageContaining("key column id");
        assertThatThrownBy(() -> schema.validate(Row.of(Map.of("id", 1L, "nope", "x"))))
                .hasMessageContaining("unknown column nope");
    }

    @Test
    void decimalsKeepTheirScale() {
        assertThat(ColumnType.DECIMAL.normalize(new BigDecimal("1.50"))).isEqualTo(new BigDecimal("1.50"));
    }

    @Test
    void keysOrderColumnByColumn() {
        assertThat(Key.of("a", 2L)).isLessThan(Key.of("a", 10L)).isLessThan(Key.of("b", 1L));
    }

    @Test
    void bytesCompareByContent() {
        assertThat(Bytes.of(new byte[] {1, 2})).isEqualTo(Bytes.fromBase64("AQI="));
    }
}
