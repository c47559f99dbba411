package io.mqdb.signing;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.mqdb.signing.Freshness.Verdict;
import io.mqdb.spi.Version;
import org.junit.jupiter.api.Test;

class FreshnessTest {
    private static final long NOW = 1_780_000_000_000L;

    @Test
    void aReadingIsAcceptedOncePerSigner() {
        Freshness f = new Freshness(60_000);
        long at = Version.pack(NOW, 3);
        assertThat(f.accept("b", at, NOW)).isEqualTo(Verdict.FRESH);
        assertThat(f.accept("b", at, NOW + 1_000)).isEqualTo(Verdict.REPLAYED);
        assertThat(f.accept("c", at, NOW)).as("another signer's reading of the same value").isEqualTo(Verdict.FRESH);
        assertThat(f.accept("b", at + 1, NOW)).isEqualTo(Verdict.FRESH);
    }

    @Test
    void aReadingFartherThanTheWindowEitherSideOrMissingIsStale() {
        Freshness f = new Freshness(60_000);
        assertThat(f.accept("b", 0, NOW)).isEqualTo(Verdict.STALE);
        assertThat(f.accept("b", -5, NOW)).isEqualTo(Verdict.STALE);
        assertThat(f.accept("b", Version.pack(NOW - 60_001, 0), NOW)).isEqualTo(Verdict.STALE);
        assertThat(f.accept("b", Version.pack(NOW + 60_001, 0), NOW)).isEqualTo(Verdict.STALE);
        assertThat(f.accept("b", Version.pack(NOW - 60_000, 0), NOW)).isEqualTo(Verdict.FRESH);
        assertThat(f.accept("b", Long.MAX_VALUE, NOW)).isEqualTo(Verdict.STALE);
    }

    @Test
    void aReplayAfterItsReadingAgedOutIsStaleNotFresh() {
        Freshness f = new Freshness(1_000);
        long at = Version.pack(NOW, 0);
        assertThat(f.accept("b", at, NOW)).isEqualTo(Verdict.FRESH);
        // Later requests prune the old reading; the old one is then refused for its age.
        assertThat(f.accept("b", Version.pack(NOW + 5_000, 0), NOW + 5_000)).isEqualTo(Verdict.FRESH);
        assertThat(f.accept("b", at, NOW + 5_000)).isEqualTo(Verdict.STALE);
    }

    @Test
    void memoryIsBoundedPerSignerAndInSigners() {
        Freshness f = new Freshness(60_000);
        long base = Version.pack(NOW, 0);
        for (int i = 0; i < Freshness.MAX_PER_SIGNER; i++) {
            assertThat(f.accept("b", base + i, NOW)).isEqualTo(Verdict.FRESH);
        }
        assertThat(f.accept("b", base + Freshness.MAX_PER_SIGNER, NOW)).isEqualTo(Verdict.FULL);
        // Once the window moved past them, b may ask again.
        assertThat(f.accept("b", Version.pack(NOW + 61_000, 0), NOW + 61_000)).isEqualTo(Verdict.FRESH);

        Freshness g = new Freshness(60_000);
        for (int i = 0; i < Freshness.MAX_SIGNERS; i++) {
            assertThat(g.accept("n" + i, base, NOW)).isEqualTo(Verdict.FRESH);
        }
        assertThat(g.accept("one-too-many", base, NOW)).isEqualTo(Verdict.FULL);
        assertThat(g.accept("one-too-many", Version.pack(NOW + 61_000, 0), NOW + 61_000))
                .as("signers whose readings all aged out are forgotten").isEqualTo(Verdict.FRESH);
    }

    @Test
    void theWindowMustBePositive() {
        assertThatThrownBy(() -> new Freshness(0)).isInstanceOf(IllegalArgumentException.class);
    }
}
