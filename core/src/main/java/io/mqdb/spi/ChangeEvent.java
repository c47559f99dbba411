package io.mqdb.spi;

import java.util.Objects;

/**
 * One change of one row, as it travels between nodes. The wire format ({@code docs/wire-format.md}) encodes exactly
 * these fields.
 *
 * @param table the table, which is also the channel
 * @param op upsert or delete
 * @param key the row's primary key
 * @param row for {@link Op#UPSERT} the columns to set (key columns included); for {@link Op#DELETE} null
 * @param version the change's version; its origin is the node or client that made the change
 * @param sequence the origin's sequence number for this channel, counting from 1 without gaps; 0 when the origin
 *     does not number its changes (a plain MQTT client)
 */
public record ChangeEvent(TableId table, Op op, Key key, Row row, Version version, long sequence) {
    /** Checks that upserts carry a row and deletes do not. */
    public ChangeEvent {
        Objects.requireNonNull(table, "table");
        Objects.requireNonNull(op, "op");
        Objects.requireNonNull(key, "key");
        Objects.requireNonNull(version, "version");
        if (op == Op.UPSERT && row == null) {
            throw new IllegalArgumentException(table + " " + key + ": an upsert needs a row");
        }
        if (op == Op.DELETE && row != null) {
            throw new IllegalArgumentException(table + " " + key + ": a delete carries no row");
        }
    }

    /** @return the origin of the change, the tie-break of its version */
    public String origin() {
        return version.origin();
    }

    /** @return the change as a store mutation */
    public Mutation toMutation() {
        return op == Op.UPSERT ? new Mutation.Upsert(row, version) : new Mutation.Delete(key, version);
    }
}
