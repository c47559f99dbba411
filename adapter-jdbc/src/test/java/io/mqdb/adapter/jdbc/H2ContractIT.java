package io.mqdb.adapter.jdbc;

import io.mqdb.spi.Store;
import io.mqdb.spi.StoreContract;
import io.mqdb.spi.StoreLimit;
import java.nio.file.Path;
import java.util.EnumSet;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.io.TempDir;

/**
 * The shared store contract against an H2 file in a fresh folder per case. H2 has no trigger capture, so the store is
 * opened with {@code capture: none} and the contract's capture cases check that it offers none.
 */
class H2ContractIT extends StoreContract {
    @TempDir
    Path dir;

    @Override
    protected Store openStore() {
        return new JdbcStoreProvider().open(TestStoreConfig.of(Map.of("url", H2StoreIT.url(dir), "username", "sa",
                "password", "", "capture", "none")), TestStoreConfig.context(dir));
    }

    @Override
    protected boolean supportsCapture() {
        return false;
    }

    /** H2 turns {@code -0.0} into {@code 0.0} on storing it. */
    @Override
    protected Set<StoreLimit> limits() {
        return EnumSet.of(StoreLimit.DOUBLE_NEGATIVE_ZERO);
    }
}
