package io.mqdb.adapter.redis;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.mqdb.spi.KeyPatternSource;
import io.mqdb.spi.MqdbException;
import io.mqdb.spi.TableId;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** A channel's {@code transform.key} as a table's key pattern: taken, refused when bad or given twice. */
class RedisSettingsTest {
    private static final TableId ORDERS = TableId.parse("shop:orders");
    private static final String WHERE = "mqdb.yaml:14: channels[0].transform.key";
    private final RedisStoreProvider provider = new RedisStoreProvider();

    @Test
    void aChannelsKeyPatternIsItsTables() {
        RedisSettings s = RedisSettings.from(TestStoreConfig.of(provider, Map.of()),
                Map.of(ORDERS, new KeyPatternSource("order:{id}", WHERE)));
        assertThat(s.keyPattern(ORDERS).toString()).isEqualTo("order:{id}");
        assertThat(s.keyPattern(TableId.parse("shop:items")).toString()).isEqualTo(KeyPattern.DEFAULT);
    }

    @Test
    void aBadOrDoubledChannelKeyPatternIsRefusedWithItsLine() {
        assertThatThrownBy(() -> RedisSettings.from(TestStoreConfig.of(provider, Map.of()),
                Map.of(ORDERS, new KeyPatternSource("order:{id", WHERE)))).isInstanceOf(MqdbException.class)
                .hasMessageContaining(WHERE + ": key pattern \"order:{id\": unclosed {");
        assertThatThrownBy(() -> RedisSettings.from(TestStoreConfig.of(provider,
                Map.of("key-patterns", Map.of("shop:orders", "o:{id}"))),
                Map.of(ORDERS, new KeyPatternSource("order:{id}", WHERE)))).isInstanceOf(MqdbException.class)
                .hasMessageContaining(WHERE + ": shop:orders also has a key pattern in ");
    }
}
