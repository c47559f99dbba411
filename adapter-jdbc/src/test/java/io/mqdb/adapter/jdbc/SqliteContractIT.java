package io.mqdb.adapter.jdbc;

import io.mqdb.spi.Store;
import io.mqdb.spi.StoreContract;
import io.mqdb.spi.StoreLimit;
import java.nio.file.Path;
import java.util.EnumSet;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.io.TempDir;

/** The shared store contract against a SQLite file in a fresh folder per case, trigger capture. */
class SqliteContractIT extends StoreContract {
    @TempDir
    Path dir;

    @Override
    protected Store openStore() {
        return new JdbcStoreProvider().open(TestStoreConfig.of(Map.of("url", SqliteStoreIT.url(dir))),
                TestStoreConfig.context(dir));
    }

    @Override
    protected boolean supportsCapture() {
        return true;
    }

    /** A SQLite REAL keeps neither {@code -0.0} nor NaN (read back as 0.0 and NULL); infinities it keeps. */
    @Override
    protected Set<StoreLimit> limits() {
        return EnumSet.of(StoreLimit.DOUBLE_NEGATIVE_ZERO, StoreLimit.DOUBLE_NAN_AND_INFINITY,
                StoreLimit.CAPTURE_READS_ROWS_WHEN_POLLED);
    }
}
