/**
 * The publisher's durable queue: {@link io.mqdb.queue.DurableQueue}, a crash-safe FIFO of encoded MQTT messages in
 * a folder of append-only, checksummed segment files, with back-pressure towards capture and a window of delivered
 * messages kept for resends. See {@code docs/queue.md} for its guarantees and format.
 */
package io.mqdb.queue;
