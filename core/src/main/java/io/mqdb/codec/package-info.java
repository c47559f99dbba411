/**
 * The wire format: change batches and table schemas ({@link io.mqdb.codec.EventCodec}, {@code docs/wire-format.md})
 * and the MQTT topic layout ({@link io.mqdb.codec.Topics}, {@code docs/topics.md}).
 *
 * <p>Batches travel in two forms, both read by every node: JSON (version 1), what plain MQTT clients publish, and
 * binary (version 2, {@link io.mqdb.codec.WireForm#BINARY}), what nodes publish by default: the schema once, rows
 * positional and typed. Decoding is bounded by {@link io.mqdb.codec.CodecLimits} and split in two steps, envelope
 * ({@link io.mqdb.codec.EventCodec#decode}) and event ({@link io.mqdb.codec.EventCodec#toEvent}), so a bad value
 * costs only its event.
 *
 * <p>Both forms are part of mqdb's public contract: plain MQTT clients and third-party programs write them and other
 * nodes, possibly of another release, read them. Changes within version 1 only add optional members, which readers
 * ignore; version 2 has no optional parts beyond its flag bits, so any change to it is a new version. The classes
 * {@code EventCodec}, {@code WireBatch}, {@code WireEvent}, {@code WireForm}, {@code CodecLimits},
 * {@code SchemaInference} and {@code Topics} are the stable API; the rest is internal.
 */
package io.mqdb.codec;
