/**
 * The MQTT transport: one {@link io.mqdb.transport.Transport} per node, implemented on Eclipse Paho v5 in
 * {@code PahoTransport}. Everything Paho-specific stays in this package.
 */
package io.mqdb.transport;
