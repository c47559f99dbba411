package io.mqdb.codec;

/** The two forms of a change batch on the wire ({@code docs/wire-format.md}); {@link EventCodec#decode} reads both. */
public enum WireForm {
    /**
     * Version 1: a JSON object per event, naming every column. What plain MQTT clients write; nodes write it for dead
     * letters and when told to (for receivers of releases that read only version 1).
     */
    JSON,
    /**
     * Version 2: binary, the schema once per batch and every row positional with typed values. What nodes publish by
     * default: about a third of the bytes of {@link #JSON} and several times cheaper to encode and decode.
     */
    BINARY
}
