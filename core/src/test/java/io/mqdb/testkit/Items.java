package io.mqdb.testkit;

import io.mqdb.spi.Column;
import io.mqdb.spi.ColumnType;
import io.mqdb.spi.Row;
import io.mqdb.spi.TableId;
import io.mqdb.spi.TableSchema;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/** The table the rule tests replicate, {@code shop:items (id int64 key, name string)}, and its rows. */
public final class Items {
    /** The channel name. */
    public static final String CHANNEL = "shop:items";
    /** The table. */
    public static final TableId TABLE = TableId.parse(CHANNEL);
    /** Its schema. */
    public static final TableSchema SCHEMA = new TableSchema(TABLE, List.of(new Column("id", ColumnType.INT64, false),
            Column.of("name", ColumnType.STRING)), List.of("id"));
    /** The channel's topic. */
    public static final String TOPIC = "mqdb/" + TestCluster.CLUSTER + "/ch/shop/items";

    private Items() {
    }

    /**
     * @param id the key
     * @param name the name
     * @return a row
     */
    public static Row item(long id, String name) {
        return Row.builder().set("id", id).set("name", name).build();
    }

    /**
     * @param data a store's data
     * @return its {@code shop:items} rows as id to name, for short assertions
     */
    public static Map<Long, String> names(InMemoryData data) {
        Map<Long, String> out = new TreeMap<>();
        for (Row r : data.rows(TABLE)) {
            out.put((Long) r.get("id"), (String) r.get("name"));
        }
        return out;
    }
}
