package io.mqdb.spi;

import java.nio.file.Path;

/**
 * What the runtime offers a store beside its settings. Handed to {@link StoreProvider#open}; immutable, any thread.
 */
public interface StoreContext {

    /** @return the name of the node opening the store, e.g. for a trigger that tags its changes */
    String nodeName();

    /**
     * @return a folder that belongs to this store alone, under the node's data folder; it exists. Embedded stores
     *     keep their files here unless configured otherwise.
     */
    Path dataDir();
}
