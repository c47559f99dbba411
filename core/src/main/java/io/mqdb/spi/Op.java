package io.mqdb.spi;

/** What a change does to its row. */
public enum Op {
    /** Insert the row, or update it when its key exists. Inserts and updates are one operation on the wire. */
    UPSERT,
    /** Delete the row with the key, if it exists. */
    DELETE
}
