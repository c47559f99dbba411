/**
 * The test kit's in-memory parts, for fast node-level tests of the runtime's rules: an MQTT broker and its transports
 * ({@link io.mqdb.testkit.InMemoryBroker}, with controls to drop, duplicate, hold and reorder messages and to cut
 * clients off), a store with change capture ({@link io.mqdb.testkit.InMemoryStoreProvider}, type {@code memory},
 * with an injectable outage), and {@link io.mqdb.testkit.TestCluster}, which starts nodes on them. What they model
 * and where they differ from real servers: {@code docs/testing.md}. Test code, free to change.
 */
package io.mqdb.testkit;
