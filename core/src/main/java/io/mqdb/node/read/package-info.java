/**
 * Reads over MQTT: {@link io.mqdb.node.read.ReadServer} answers the MQTT 5 read requests of the channels a node
 * serves with {@code reads: true} from its store and version index ({@code docs/reads.md}). The asking side is
 * {@link io.mqdb.node.read.RemoteReader} ({@code mqdb get}, and the embedding API through {@link
 * io.mqdb.node.read.RemoteTable}) or any MQTT 5 client.
 */
package io.mqdb.node.read;
