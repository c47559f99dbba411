package io.mqdb.spi;

import java.util.List;

/**
 * The entry point of an adapter: a named factory of stores, found with {@link java.util.ServiceLoader} through
 * {@code META-INF/services/io.mqdb.spi.StoreProvider}. It must have a public no-argument constructor and no state.
 *
 * <p>Called by the runtime on its start-up thread, with the adapter's class loader as the thread's context class
 * loader.
 */
public interface StoreProvider {

    /**
     * @return the type that selects this provider in config ({@code type: mapdb}); lower case, unique among the
     *     installed adapters
     */
    String type();

    /**
     * @return every setting a store of this type accepts, besides {@code type}; the runtime rejects any other key
     */
    List<Setting> settings();

    /**
     * Opens a store: connects, checks the settings against the real store, and returns it ready for use.
     *
     * @param config the store's checked settings
     * @param context the node's offer to the store
     * @return the open store; the caller closes it
     * @throws MqdbException with a message naming the setting ({@link StoreConfig#where}) when the store cannot be
     *     opened; {@link RetriableException} when it is merely unreachable now
     */
    Store open(StoreConfig config, StoreContext context);
}
