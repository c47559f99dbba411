package io.mqdb.node;

import static org.assertj.core.api.Assertions.assertThatCode;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.mqdb.config.ChannelConfig;
import io.mqdb.config.Location;
import io.mqdb.spi.Column;
import io.mqdb.spi.ColumnType;
import io.mqdb.spi.MqdbException;
import io.mqdb.spi.TableId;
import io.mqdb.spi.TableSchema;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The runtime's own check of a channel's {@code key:}, for stores that do not honour replica keys themselves. */
class ReplicaKeyCheckTest {
    private static final TableId TABLE = TableId.parse("shop:stock");
    private static final TableSchema SCHEMA = new TableSchema(TABLE, List.of(new Column("sku", ColumnType.STRING,
            false), new Column("wh", ColumnType.INT64, false), Column.of("qty", ColumnType.INT64)),
            List.of("sku", "wh"));

    private static ChannelConfig channel(List<String> key) {
        return new ChannelConfig(TABLE, "s", true, false, 500, Duration.ZERO,
                new Location(Path.of("mqdb.yaml"), 3, "channels[0]"), ChannelConfig.OnError.DEAD_LETTER, key);
    }

    @Test
    void aChannelWithoutKeyOrWithTheTablesOwnKeyPasses() {
        assertThatCode(() -> StoreSet.checkKey(channel(List.of()), SCHEMA)).doesNotThrowAnyException();
        assertThatCode(() -> StoreSet.checkKey(channel(List.of("sku", "wh")), SCHEMA)).doesNotThrowAnyException();
    }

    @Test
    void aKeyOtherThanTheDescribedPrimaryKeyIsRefusedNamingTableAndColumns() {
        assertThatThrownBy(() -> StoreSet.checkKey(channel(List.of("wh", "sku")), SCHEMA))
                .isInstanceOf(MqdbException.class)
                .hasMessage("shop:stock: key [wh, sku] is refused: the table's key is [sku, wh] (key: can only name"
                        + " the primary key of a table that has one; remove it or make it [sku, wh])");
        assertThatThrownBy(() -> StoreSet.checkKey(channel(List.of("qty")), SCHEMA))
                .isInstanceOf(MqdbException.class).hasMessageContaining("key [qty] is refused");
    }
}
