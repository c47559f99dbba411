package io.mqdb.codec;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.mqdb.spi.ChangeEvent;
import io.mqdb.spi.Column;
import io.mqdb.spi.ColumnType;
import io.mqdb.spi.InvalidDataException;
import io.mqdb.spi.Json;
import io.mqdb.spi.TableId;
import io.mqdb.spi.TableSchema;
import java.math.BigDecimal;
import java.nio.charset.StandardCharsets;
import java.util.List;
import org.junit.jupiter.api.Test;

class SchemaInferenceTest {
    static final TableId T = new TableId("iot", "readings");
    final EventCodec codec = new EventCodec();

    WireEvent first(String json) {
        return codec.decode(json.getBytes(StandardCharsets.UTF_8), T).events().get(0);
    }

    @Test
    void typesFollowTheJsonValues() {
        WireEvent e = first("{\"v\":1,\"op\":\"upsert\",\"row\":{\"id\":\"s-1\",\"count\":3,\"temp\":21.5,"
                + "\"big\":123456789012345678901234,\"ok\":true,\"tags\":[\"a\"],\"meta\":{\"x\":1},\"note\":null}}");
        TableSchema s = SchemaInference.infer(T, e);
        assertThat(s.primaryKey()).containsExactly("id");
        assertThat(s.columns()).containsExactly(
                new Column("id", ColumnType.STRING, false),
                new Column("count", ColumnType.INT64, true),
                new Column("temp", ColumnType.DOUBLE, true),
                new Column("big", ColumnType.DECIMAL, true),
                new Column("ok", ColumnType.BOOLEAN, true),
                new Column("tags", ColumnType.JSON, true),
                new Column("meta", ColumnType.JSON, true),
                new Column("note", ColumnType.STRING, true));
        ChangeEvent typed = codec.toEvent(e, s, 5);
        assertThat(typed.row().get("big")).isEqualTo(new BigDecimal("123456789012345678901234"));
        assertThat(typed.row().get("tags")).isEqualTo(new Json("[\"a\"]"));
    }

    @Test
    void keyObjectNamesTheKeyColumns() {
        TableSchema s = SchemaInference.infer(T, first(
                "{\"v\":1,\"op\":\"upsert\",\"key\":{\"site\":\"x\",\"n\":1},\"row\":{\"value\":2.0,\"n\":1}}"));
        assertThat(s.primaryKey()).containsExactly("site", "n");
        assertThat(s.columns()).extracting(Column::name).containsExactly("site", "n", "value");
        assertThat(s.column("n")).contains(new Column("n", ColumnType.INT64, false));
    }

    @Test
    void deleteInfersKeyColumnsOnly() {
        TableSchema s = SchemaInference.infer(T, first("{\"v\":1,\"op\":\"delete\",\"key\":{\"id\":4}}"));
        assertThat(s.columns()).containsExactly(new Column("id", ColumnType.INT64, false));
    }

    @Test
    void withoutKeyOrIdThereIsNoSchema() {
        assertThatThrownBy(() -> SchemaInference.infer(T, first("{\"v\":1,\"op\":\"upsert\",\"row\":{\"x\":1}}")))
                .isInstanceOf(InvalidDataException.class).hasMessageContainingAll("iot:readings", "\"id\"");
        assertThatThrownBy(() -> SchemaInference.infer(T, first("{\"v\":1,\"op\":\"upsert\",\"row\":{\"id\":null}}")))
                .isInstanceOf(InvalidDataException.class).hasMessageContaining("key column id is null");
        assertThatThrownBy(() -> SchemaInference.infer(T,
                first("{\"v\":1,\"op\":\"upsert\",\"row\":{\"id\":1,\"bad name\":1}}")))
                .isInstanceOf(InvalidDataException.class).hasMessageContaining("invalid column name \"bad name\"");
    }
}
