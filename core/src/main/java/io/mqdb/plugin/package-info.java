/**
 * Finding store adapters: on the class path and in isolated {@code plugins/<name>/} folders.
 *
 * <p>{@link io.mqdb.plugin.PluginRegistry#load} runs once at start-up. It finds every
 * {@link io.mqdb.spi.StoreProvider} with {@link java.util.ServiceLoader}, on the application's class path and in each
 * plugin folder, where all the folder's jars share one {@link io.mqdb.plugin.PluginClassLoader}. That loader is
 * child-first, like Kafka Connect's: an adapter brings its own driver and libraries, in the versions it was built
 * with, and never sees another adapter's. Only the JDK, {@code io.mqdb.spi} and SLF4J come from the application, so
 * a plugin's provider is a {@code StoreProvider} the runtime can call and its logs go where the node's go.
 *
 * <p>Calls into an adapter go through {@link io.mqdb.plugin.LoadedProvider#call}, which makes the adapter's loader the
 * thread's context class loader for the duration of the call (JDBC drivers, Netty and friends look there).
 */
package io.mqdb.plugin;
