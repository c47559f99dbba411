/**
 * The wire format: the versioned JSON of change batches and table schemas ({@link io.mqdb.codec.EventCodec},
 * {@code docs/wire-format.md}) and the MQTT topic layout ({@link io.mqdb.codec.Topics}, {@code docs/topics.md}).
 *
 * <p>The JSON is part of mqdb's public contract: plain MQTT clients publish it and other nodes, possibly of another
 * release, read it. Changes within version 1 only add optional members, which readers ignore.
 */
package io.mqdb.codec;
