package io.mqdb.testing;

import io.mqdb.spi.StoreContext;
import java.nio.file.Path;

/**
 * A {@link StoreContext} for tests.
 *
 * @param nodeName the node's name
 * @param dataDir the store's data folder; must exist
 */
public record TestStoreContext(String nodeName, Path dataDir) implements StoreContext {
}
