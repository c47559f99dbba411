package io.mqdb.adapter.redis;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.gson.JsonParser;
import io.mqdb.spi.Row;
import io.mqdb.spi.TableId;
import io.mqdb.spi.WriteOrigin;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The shared cases against one standalone Redis, rows stored as JSON strings. */
class RedisStandaloneJsonIT extends RedisStandaloneHashIT {

    @Override
    protected Map<String, Object> formatSettings() {
        return Map.of(RedisSettings.FORMAT, "json");
    }

    @Override
    protected Map<String, String> storedFields(TableId t, String pk) {
        String doc = raw().get(t.schema() + ":" + t.table() + ":" + pk);
        Map<String, String> out = new LinkedHashMap<>();
        JsonParser.parseString(doc).getAsJsonObject().entrySet()
                .forEach(e -> out.put(e.getKey(), e.getValue().getAsString()));
        return out;
    }

    /** A full row is one SET, which replaces a key of any type; a partial row goes through the merge script. */
    @Override
    @Test
    void aKeyOfAnotherRedisTypeIsInvalidData() {
        TableId t = newTable("wrongtype");
        store.ensureTable(orders(t));
        raw().rpush("it:" + t.table() + ":5", "not a row");
        org.assertj.core.api.Assertions.assertThatThrownBy(() -> store.upsert(t,
                List.of(Row.builder().set("id", 5L).set("qty", 1L).build()), WriteOrigin.REPLICATED))
                .isInstanceOf(io.mqdb.spi.InvalidDataException.class).hasMessageContaining("WRONGTYPE");
        store.upsert(t, List.of(order(5, "x", 1, "1")), WriteOrigin.REPLICATED);
        assertThat(store.get(t, io.mqdb.spi.Key.of(5L))).contains(order(5, "x", 1, "1"));
    }

    @Test
    void rowsAreJsonObjectsOfStrings() {
        TableId t = newTable("jsondoc");
        store.ensureTable(orders(t));
        store.upsert(t, List.of(order(1, "a \"b\"/c", 3, "1.50")), WriteOrigin.REPLICATED);
        store.upsert(t, List.of(Row.builder().set("id", 1L).set("qty", 9_007_199_254_740_993L).build()),
                WriteOrigin.REPLICATED);
        assertThat(storedFields(t, "1")).containsExactlyInAnyOrderEntriesOf(Map.of("id", "1", "name", "a \"b\"/c",
                "qty", "9007199254740993", "price", "1.50"));
    }
}
