package io.mqdb.codec;

import com.google.gson.JsonObject;
import io.mqdb.spi.Op;
import io.mqdb.spi.TableId;
import java.util.Objects;
import java.util.Optional;
import java.util.OptionalLong;

/**
 * One event of a {@link WireBatch}, checked for shape but not yet against the table's schema: its op, version and
 * sequence number are read, its values not yet. {@link EventCodec#toEvent} converts it; a bad value fails there, for
 * this event only.
 *
 * <p>An event of the JSON form holds its {@code key} and {@code row} objects; numbers keep their exact JSON text
 * ({@link com.google.gson.JsonPrimitive#getAsString()}), so decimals convert without passing through {@code double}.
 * An event of the binary form holds a slice of the payload; {@link #key()} and {@link #row()} render it as JSON on
 * demand (for schema inference and tools; the runtime never needs them). Immutable; any thread.
 */
public final class WireEvent {
    private final TableId table;
    private final Op op;
    private final JsonObject key;
    private final JsonObject row;
    private final long hlc;
    private final boolean hasHlc;
    private final String origin;
    private final long seq;
    private final int index;
    /** The binary form: the payload's batch, the event's values section, and whether the values start with a key. */
    final BinaryForm.Batch binary;
    final int valuesFrom;
    final int valuesTo;
    final boolean keyGiven;

    /**
     * An event of the JSON form.
     *
     * @param table the table, from the topic (or the event's {@code channel} field when decoded without a topic)
     * @param op the operation; {@code insert} and {@code update} on the wire are {@link Op#UPSERT}
     * @param key the {@code key} object, or null when the key is to be derived from {@code row} via the schema
     * @param row the {@code row} object; never null for an upsert; for a delete null, or a row holding the key
     *     columns
     * @param hlc the version's clock reading, empty when the publisher sent none (a plain MQTT client)
     * @param origin the event's origin, else the envelope's; empty when the payload names neither
     * @param seq the origin's sequence number, 0 when absent
     * @param index the event's position in its batch, from 0; for error messages and dead letters
     */
    public WireEvent(TableId table, Op op, JsonObject key, JsonObject row, OptionalLong hlc, Optional<String> origin,
            long seq, int index) {
        this(table, op, key, row, hlc.isPresent(), hlc.orElse(0), origin.orElse(null), seq, index, null, 0, 0,
                false);
        if (op == Op.UPSERT && row == null) {
            throw new IllegalArgumentException(table + " event " + index + ": an upsert needs a row");
        }
        if (op == Op.DELETE && key == null && row == null) {
            throw new IllegalArgumentException(table + " event " + index + ": a delete needs a key or a row");
        }
    }

    WireEvent(TableId table, Op op, JsonObject key, JsonObject row, boolean hasHlc, long hlc, String origin, long seq,
            int index, BinaryForm.Batch binary, int valuesFrom, int valuesTo, boolean keyGiven) {
        this.table = Objects.requireNonNull(table, "table");
        this.op = Objects.requireNonNull(op, "op");
        this.key = key;
        this.row = row;
        this.hasHlc = hasHlc;
        this.hlc = hlc;
        this.origin = origin;
        this.seq = seq;
        this.index = index;
        this.binary = binary;
        this.valuesFrom = valuesFrom;
        this.valuesTo = valuesTo;
        this.keyGiven = keyGiven;
    }

    /** @return the table */
    public TableId table() {
        return table;
    }

    /** @return upsert or delete */
    public Op op() {
        return op;
    }

    /**
     * @return the {@code key} object, or null when the key is to be derived from the row; for the binary form the key
     *     rendered as JSON (decoded against the batch's schema), null for an upsert whose row holds the key
     * @throws io.mqdb.spi.InvalidDataException when a binary event's values cannot be decoded
     */
    public JsonObject key() {
        return binary == null ? key : BinaryForm.jsonKey(this);
    }

    /**
     * @return the {@code row} object, or null (a delete); for the binary form the row rendered as JSON
     * @throws io.mqdb.spi.InvalidDataException when a binary event's values cannot be decoded
     */
    public JsonObject row() {
        return binary == null ? row : BinaryForm.jsonRow(this);
    }

    /** @return the version's clock reading, empty when the publisher sent none */
    public OptionalLong hlc() {
        return hasHlc ? OptionalLong.of(hlc) : OptionalLong.empty();
    }

    boolean hasHlc() {
        return hasHlc;
    }

    long rawHlc() {
        return hlc;
    }

    /** @return the event's origin, else the envelope's; empty when the payload names neither */
    public Optional<String> origin() {
        return Optional.ofNullable(origin);
    }

    String rawOrigin() {
        return origin;
    }

    /** @return the origin's sequence number, 0 when absent */
    public long seq() {
        return seq;
    }

    /** @return the event's position in its batch, from 0 */
    public int index() {
        return index;
    }

    JsonObject jsonKey() {
        return key;
    }

    JsonObject jsonRow() {
        return row;
    }

    @Override
    public String toString() {
        return "WireEvent[" + table + " #" + index + " " + op + (hasHlc ? " hlc " + hlc : "")
                + (origin != null ? " from " + origin : "") + (seq != 0 ? " seq " + seq : "")
                + (binary != null ? " binary " + (valuesTo - valuesFrom) + " B" : " key " + key + " row " + row)
                + "]";
    }
}
