/**
 * The storage SPI: everything an adapter needs and nothing else.
 *
 * <p>An adapter implements {@link io.mqdb.spi.StoreProvider} and lists it in
 * {@code META-INF/services/io.mqdb.spi.StoreProvider}. The runtime finds it with {@link java.util.ServiceLoader},
 * either on the class path or in a {@code plugins/<name>/} folder loaded by its own class loader, validates the
 * store's settings against {@link io.mqdb.spi.StoreProvider#settings()}, then calls
 * {@link io.mqdb.spi.StoreProvider#open}. Optional abilities are separate interfaces: change capture is reached
 * through {@link io.mqdb.spi.Store#capture()}, and a store that installs objects in its database for capture
 * implements {@link io.mqdb.spi.CaptureInstallation} so {@code mqdb uninstall} can list and remove them; writes to
 * several tables in one commit are reached through {@link io.mqdb.spi.Store#atomicWrites()}.
 *
 * <h2>Threads</h2>
 * The runtime owns every thread. It calls a {@link io.mqdb.spi.Store} from several threads at once: one apply
 * thread per subscribed channel, one capture thread per store, and any application thread through the embedding
 * API. A store must therefore be thread-safe. A store never starts a thread that {@link io.mqdb.spi.Store#close()}
 * does not stop.
 *
 * <p>This package imports nothing else of mqdb's core; it is the only package adapters may import.
 */
package io.mqdb.spi;
