/**
 * The node's YAML configuration, read once at start-up into typed, immutable records.
 *
 * <p>The runtime calls {@link io.mqdb.config.ConfigLoader#load} on its start-up thread. Loading is phase 1: it
 * checks everything the core itself understands (node, broker, channels, store names and types) and reports every
 * problem at once in one {@link io.mqdb.config.ConfigException}, each with file, line and key path. Store settings
 * are kept raw ({@link io.mqdb.config.RawSetting}) because only the adapter knows them; phase 2,
 * {@link io.mqdb.config.StoreSettings#validate}, checks them against the provider's declared
 * {@link io.mqdb.spi.Setting}s once the provider has been found.
 *
 * <p>The format is documented in {@code docs/configuration.md}. Every type here is immutable and safe to share
 * between threads.
 */
package io.mqdb.config;
