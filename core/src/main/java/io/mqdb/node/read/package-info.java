/**
 * Reads over MQTT: {@link io.mqdb.node.read.ReadServer} answers the MQTT 5 read requests of the channels a node
 * serves with {@code reads: true} from its store and version index ({@code docs/reads.md}). The asking side is
 * {@code mqdb get} ({@code io.mqdb.cli.GetCommand}) or any MQTT 5 client.
 */
package io.mqdb.node.read;
