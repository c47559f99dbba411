package io.mqdb.spi;

import java.util.Objects;

/**
 * One change read from a store's change capture.
 *
 * @param table the table that changed
 * @param op upsert (insert or update) or delete
 * @param key the changed row's key
 * @param row for an upsert, the full row after the change; for a delete, null
 * @param position the position just after this change: handing it to {@link ChangeCapture#poll} returns the changes
 *     that follow this one
 */
public record CapturedChange(TableId table, Op op, Key key, Row row, CapturePosition position) {
    /** Checks that upserts carry a row and deletes do not. */
    public CapturedChange {
        Objects.requireNonNull(table, "table");
        Objects.requireNonNull(op, "op");
        Objects.requireNonNull(key, "key");
        Objects.requireNonNull(position, "position");
        if ((op == Op.UPSERT) != (row != null)) {
            throw new IllegalArgumentException(table + " " + key + ": upserts carry a row, deletes do not");
        }
    }
}
