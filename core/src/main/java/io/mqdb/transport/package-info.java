/**
 * The MQTT transport: one {@link io.mqdb.transport.Transport} per node, built by
 * {@link io.mqdb.transport.Transports#open} on the HiveMQ MQTT client ({@code HiveMqTransport}, the default) or on
 * Eclipse Paho v5 ({@code PahoTransport}), as {@code broker.client} says. Both pass the same contract tests. With
 * {@code broker.mode: mirror} and several brokers, {@link io.mqdb.transport.MirrorTransport} holds one of them per
 * broker, all connected at once.
 * Everything client-specific stays in this package; the {@code Transport} interface is internal to mqdb (free to
 * change).
 */
package io.mqdb.transport;
