package io.mqdb.node.runtime;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;

class TokenBucketTest {
    @Test
    void aBurstThenTheRate() {
        TokenBucket b = new TokenBucket(10, 3, 0);
        assertThat(b.tryTake(0)).isTrue();
        assertThat(b.tryTake(0)).isTrue();
        assertThat(b.tryTake(0)).isTrue();
        assertThat(b.tryTake(0)).as("the burst is spent").isFalse();
        assertThat(b.tryTake(99_000_000L)).as("not yet a tenth of a second").isFalse();
        assertThat(b.tryTake(100_000_000L)).isTrue();
        assertThat(b.tryTake(100_000_000L)).isFalse();
        assertThat(b.tryTake(100_000_000_000L)).as("refilled").isTrue();
        int taken = 1;
        while (b.tryTake(100_000_000_000L)) {
            taken++;
        }
        assertThat(taken).as("never more than the burst, however long it waited").isEqualTo(3);
    }

    @Test
    void aClockGoingBackDoesNotRefill() {
        TokenBucket b = new TokenBucket(1, 1, 1_000_000_000L);
        assertThat(b.tryTake(1_000_000_000L)).isTrue();
        assertThat(b.tryTake(0)).isFalse();
    }

    @Test
    void rateAndBurstMustBePositive() {
        assertThatThrownBy(() -> new TokenBucket(0, 1, 0)).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> new TokenBucket(1, 0, 0)).isInstanceOf(IllegalArgumentException.class);
    }
}
