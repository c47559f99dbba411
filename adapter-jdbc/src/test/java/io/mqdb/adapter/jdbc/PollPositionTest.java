package io.mqdb.adapter.jdbc;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.mqdb.spi.CapturePosition;
import io.mqdb.spi.Key;
import io.mqdb.spi.MqdbException;
import io.mqdb.spi.TableId;
import java.util.TreeMap;
import org.junit.jupiter.api.Test;

class PollPositionTest {
    private static final TableId ORDERS = TableId.parse("shop:orders");
    private static final TableId CUSTOMERS = TableId.parse("shop:customers");

    @Test
    void bothModesSurviveATextRoundTrip() {
        PollPosition p = new PollPosition();
        IdRanges published = new IdRanges();
        published.add(12);
        published.add(13);
        published.add(20);
        p.put(ORDERS, new PollPosition.Incrementing(-3, published));
        PollPosition.Timestamp ts = new PollPosition.Timestamp(Long.MIN_VALUE, new TreeMap<>());
        ts.add(1_000_000, PollPosition.keyHash(Key.of(1L)), 5_000_000);
        ts.add(1_000_000, PollPosition.keyHash(Key.of(2L)), 5_000_000);
        ts.add(3_000_000, PollPosition.keyHash(Key.of(1L)), 5_000_000);
        p.put(CUSTOMERS, ts);

        CapturePosition text = p.encode();
        assertThat(text.token()).startsWith("poll:").contains("shop:orders=-3+12-13,20");
        PollPosition back = PollPosition.decode(text);
        assertThat(back.encode()).isEqualTo(text);
        assertThat(back.incrementing(ORDERS).published.contains(20)).isTrue();
        assertThat(back.timestamp(CUSTOMERS).contains(1_000_000, PollPosition.keyHash(Key.of(2L)))).isTrue();
        assertThat(back.timestamp(CUSTOMERS).contains(3_000_000, PollPosition.keyHash(Key.of(2L)))).isFalse();
    }

    @Test
    void timestampStateForgetsWhatFallsOutOfTheLookBack() {
        PollPosition.Timestamp ts = new PollPosition.Timestamp(Long.MIN_VALUE, new TreeMap<>());
        ts.add(1_000_000, PollPosition.keyHash(Key.of(1L)), 5_000_000);
        ts.add(6_000_000, PollPosition.keyHash(Key.of(2L)), 5_000_000);
        assertThat(ts.size()).isEqualTo(1);
        assertThat(ts.maxMicros).isEqualTo(6_000_000);
    }

    @Test
    void theEarlierIncrementingTokenStillReads() {
        PollPosition p = PollPosition.decode(new CapturePosition("p:shop:customers=7,shop:orders=42"));
        assertThat(p.incrementing(ORDERS).watermark).isEqualTo(42);
        assertThat(p.incrementing(CUSTOMERS).watermark).isEqualTo(7);
        assertThat(PollPosition.decode(new CapturePosition("p:")).encode().token()).isEqualTo("poll:");
    }

    @Test
    void anUnreadableTokenSaysWhichOne() {
        assertThatThrownBy(() -> PollPosition.decode(new CapturePosition("g:12")))
                .isInstanceOf(MqdbException.class).hasMessageContaining("\"g:12\"");
    }
}
