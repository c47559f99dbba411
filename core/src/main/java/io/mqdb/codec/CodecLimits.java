package io.mqdb.codec;

/**
 * Bounds on what {@link EventCodec#decode} accepts, checked before the data they bound is read into memory, so a
 * hostile or broken payload fails with a message naming the limit instead of exhausting the heap or the stack. The
 * defaults ({@link #DEFAULTS}) are documented in {@code docs/wire-format.md}, "Limits".
 *
 * @param maxPayloadBytes the largest payload decoded, in bytes
 * @param maxEvents the most events one payload may hold
 * @param maxColumns the most columns of a schema (embedded or retained) and of one row
 * @param maxStringBytes the longest single value: a string, base64 or JSON text in the JSON form (characters), a
 *     string, byte string, JSON document or decimal magnitude in the binary form (bytes)
 * @param maxDepth the deepest nesting of JSON arrays and objects, envelope included
 */
public record CodecLimits(int maxPayloadBytes, int maxEvents, int maxColumns, int maxStringBytes, int maxDepth) {
    /** 32 MiB: a 100,000-event batch (the largest {@code batch-size}) of 300-byte rows fits. */
    public static final int DEFAULT_MAX_PAYLOAD_BYTES = 32 << 20;
    /** The largest {@code batch-size} a channel may have. */
    public static final int DEFAULT_MAX_EVENTS = 100_000;
    /** PostgreSQL's column limit, the highest of the supported stores. */
    public static final int DEFAULT_MAX_COLUMNS = 1_600;
    /** 16 MiB. */
    public static final int DEFAULT_MAX_STRING_BYTES = 16 << 20;
    /** Nesting deeper than this is refused rather than risking the stack. */
    public static final int DEFAULT_MAX_DEPTH = 128;

    /** The defaults above. */
    public static final CodecLimits DEFAULTS = new CodecLimits(DEFAULT_MAX_PAYLOAD_BYTES, DEFAULT_MAX_EVENTS,
            DEFAULT_MAX_COLUMNS, DEFAULT_MAX_STRING_BYTES, DEFAULT_MAX_DEPTH);

    /** Checks that every limit is positive. */
    public CodecLimits {
        positive("maxPayloadBytes", maxPayloadBytes);
        positive("maxEvents", maxEvents);
        positive("maxColumns", maxColumns);
        positive("maxStringBytes", maxStringBytes);
        positive("maxDepth", maxDepth);
    }

    private static void positive(String name, int value) {
        if (value < 1) {
            throw new IllegalArgumentException("codec limit " + name + " must be at least 1, got " + value);
        }
    }
}
