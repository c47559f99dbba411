package io.mqdb.codec;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.mqdb.spi.Column;
import io.mqdb.spi.ColumnType;
import io.mqdb.spi.InvalidDataException;
import io.mqdb.spi.TableId;
import io.mqdb.spi.TableSchema;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class SchemaCodecTest {
    final EventCodec codec = new EventCodec();

    @Test
    void schemaRoundTripsWithEveryType() {
        List<Column> columns = new ArrayList<>();
        columns.add(new Column("id", ColumnType.UUID, false));
        for (ColumnType t : ColumnType.values()) {
            columns.add(new Column("c_" + t.name().toLowerCase(), t, t.ordinal() % 2 == 0));
        }
        TableSchema s = new TableSchema(new TableId("shop", "everything"), columns, List.of("id", "c_int64"));
        assertThat(codec.decodeSchema(codec.encodeSchema(s))).isEqualTo(s);
    }

    @Test
    void schemaJsonIsTheDocumentedShape() {
        TableSchema s = new TableSchema(new TableId("shop", "orders"), List.of(
                new Column("id", ColumnType.INT64, false), Column.of("price", ColumnType.DECIMAL)), List.of("id"));
        assertThat(new String(codec.encodeSchema(s), StandardCharsets.UTF_8)).isEqualTo(
                "{\"table\":\"shop:orders\",\"columns\":[{\"name\":\"id\",\"type\":\"int64\",\"nullable\":false},"
                        + "{\"name\":\"price\",\"type\":\"decimal\",\"nullable\":true}],\"primaryKey\":[\"id\"]}");
    }

    @Test
    void nullableDefaultsToTrueAndTypesIgnoreCase() {
        TableSchema s = codec.decodeSchema(("{\"table\":\"a:b\",\"columns\":[{\"name\":\"k\",\"type\":\"STRING\"},"
                + "{\"name\":\"v\",\"type\":\"Json\"}],\"primaryKey\":[\"k\"]}").getBytes(StandardCharsets.UTF_8));
        assertThat(s.columns()).containsExactly(new Column("k", ColumnType.STRING, false),
                new Column("v", ColumnType.JSON, true));
    }

    @Test
    void badSchemasAreMalformed() {
        assertBad("{\"table\":\"a:b\",\"columns\":[{\"name\":\"k\",\"type\":\"text\"}],\"primaryKey\":[\"k\"]}",
                "columns[0].type", "unknown column type \"text\"");
        assertBad("{\"table\":\"a:b\",\"columns\":[{\"name\":\"k\",\"type\":\"string\"}],\"primaryKey\":[\"x\"]}",
                "primary key column x is not a column");
        assertBad("{\"table\":\"ab\",\"columns\":[],\"primaryKey\":[]}", "table", "expected schema:table");
        assertBad("{\"table\":\"a:b\",\"columns\":[{\"name\":\"k\",\"type\":\"string\"}]}", "needs");
        assertBad("{\"table\":\"a:b\",\"columns\":[{\"name\":\"1k\",\"type\":\"string\"}],\"primaryKey\":[\"1k\"]}",
                "invalid column name");
        assertBad("{", "");
        assertBad("", "empty payload");
    }

    private void assertBad(String json, String... fragments) {
        assertThatThrownBy(() -> codec.decodeSchema(json.getBytes(StandardCharsets.UTF_8)))
                .isInstanceOf(InvalidDataException.class)
                .hasMessageStartingWith("malformed schema: ")
                .hasMessageContainingAll(fragments);
    }
}
