package io.mqdb.codec;

import com.google.gson.JsonObject;
import io.mqdb.spi.Op;
import io.mqdb.spi.TableId;
import java.util.Objects;
import java.util.Optional;
import java.util.OptionalLong;

/**
 * One event of a {@link WireBatch}, checked for shape but not yet against the table's schema. Numbers in
 * {@code key} and {@code row} keep their exact JSON text ({@link com.google.gson.JsonPrimitive#getAsString()}), so
 * decimals convert without passing through {@code double}.
 *
 * @param table the table, from the topic (or the event's {@code channel} field when decoded without a topic)
 * @param op the operation; {@code insert} and {@code update} on the wire are {@link Op#UPSERT}
 * @param key the {@code key} object, or null when the key is to be derived from {@code row} via the schema
 * @param row the {@code row} object; never null for an upsert; for a delete null, or a row holding the key columns
 * @param hlc the version's clock reading, empty when the publisher sent none (a plain MQTT client)
 * @param origin the event's origin, else the envelope's; empty when the payload names neither
 * @param seq the origin's sequence number, 0 when absent
 * @param index the event's position in its batch, from 0; for error messages and dead letters
 */
public record WireEvent(TableId table, Op op, JsonObject key, JsonObject row, OptionalLong hlc, Optional<String> origin,
        long seq, int index) {
    /** Checks the shape an event has after {@link EventCodec#decode}. */
    public WireEvent {
        Objects.requireNonNull(table, "table");
        Objects.requireNonNull(op, "op");
        Objects.requireNonNull(hlc, "hlc");
        Objects.requireNonNull(origin, "origin");
        if (op == Op.UPSERT && row == null) {
            throw new IllegalArgumentException(table + " event " + index + ": an upsert needs a row");
        }
        if (op == Op.DELETE && key == null && row == null) {
            throw new IllegalArgumentException(table + " event " + index + ": a delete needs a key or a row");
        }
    }
}
