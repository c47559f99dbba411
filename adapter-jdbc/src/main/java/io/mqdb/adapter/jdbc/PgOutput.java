package io.mqdb.adapter.jdbc;

import io.mqdb.spi.MqdbException;
import java.nio.BufferUnderflowException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/**
 * The messages of PostgreSQL's {@code pgoutput} logical decoding plugin, protocol version 1 (PostgreSQL 10 and later,
 * "Logical Replication Message Formats" in the PostgreSQL manual), and their decoder. Pure: no I/O, any thread.
 *
 * <p>Every length read from a message is checked against the bytes that remain before anything is allocated, so a
 * malformed message fails with a {@link MqdbException} naming the message type, never with an
 * {@link OutOfMemoryError}.
 */
final class PgOutput {
    private PgOutput() {
    }

    /** One decoded message. */
    sealed interface Message permits Begin, Commit, Relation, Insert, Update, Delete, Truncate, LogicalMessage,
            TypeInfo, Origin {
    }

    /** {@code B}: a transaction begins; {@code finalLsn} is the LSN of its commit record. */
    record Begin(long finalLsn, long commitMicros, int xid) implements Message {
    }

    /** {@code C}: the transaction ends; {@code endLsn} is the LSN just after its commit record. */
    record Commit(long commitLsn, long endLsn, long commitMicros) implements Message {
    }

    /** One column of a {@link Relation}. */
    record RelationColumn(boolean key, String name, int typeOid, int typeModifier) {
    }

    /** {@code R}: the description of a table, sent before the first change to it in a session and after DDL. */
    record Relation(int oid, String namespace, String name, char replicaIdentity, List<RelationColumn> columns)
            implements Message {
    }

    /** The kinds of value in a {@link Tuple}. */
    enum ValueKind { NULL, UNCHANGED_TOAST, TEXT }

    /** One column's value: its kind and, for {@link ValueKind#TEXT}, the text. */
    record Value(ValueKind kind, String text) {
        static final Value NULL = new Value(ValueKind.NULL, null);
        static final Value UNCHANGED = new Value(ValueKind.UNCHANGED_TOAST, null);
    }

    /** The values of a row, in the order of the {@link Relation}'s columns. */
    record Tuple(List<Value> values) {
    }

    /** {@code I}: a row inserted. */
    record Insert(int relation, Tuple row) implements Message {
    }

    /**
     * {@code U}: a row updated. {@code oldKind} is {@code 'K'} (the old key: the key changed), {@code 'O'} (the old
     * row: replica identity full) or {@code 0} (no old tuple: the key is unchanged).
     */
    record Update(int relation, char oldKind, Tuple old, Tuple row) implements Message {
    }

    /** {@code D}: a row deleted; {@code oldKind} {@code 'K'} (key) or {@code 'O'} (whole row). */
    record Delete(int relation, char oldKind, Tuple old) implements Message {
    }

    /** {@code T}: tables truncated. */
    record Truncate(List<Integer> relations, int options) implements Message {
    }

    /** {@code M}: a message written with {@code pg_logical_emit_message}. */
    record LogicalMessage(boolean transactional, long lsn, String prefix, byte[] content) implements Message {
    }

    /** {@code Y}: a data type's name, sent for types outside {@code pg_catalog}. */
    record TypeInfo(int oid, String namespace, String name) implements Message {
    }

    /** {@code O}: the replication origin of the transaction. */
    record Origin(long lsn, String name) implements Message {
    }

    /**
     * Decodes one message.
     *
     * @param buffer the message, from its position to its limit (consumed)
     * @return the message
     * @throws MqdbException when the message is malformed or of an unknown type
     */
    static Message decode(ByteBuffer buffer) {
        if (!buffer.hasRemaining()) {
            throw new MqdbException("pgoutput: empty message");
        }
        char type = (char) buffer.get();
        try {
            return switch (type) {
                case 'B' -> new Begin(buffer.getLong(), buffer.getLong(), buffer.getInt());
                case 'C' -> {
                    buffer.get(); // flags, unused
                    yield new Commit(buffer.getLong(), buffer.getLong(), buffer.getLong());
                }
                case 'R' -> relation(buffer);
                case 'I' -> {
                    int rel = buffer.getInt();
                    expect(buffer, 'N', type);
                    yield new Insert(rel, tuple(buffer));
                }
                case 'U' -> {
                    int rel = buffer.getInt();
                    char kind = (char) buffer.get();
                    Tuple old = null;
                    char oldKind = 0;
                    if (kind == 'K' || kind == 'O') {
                        oldKind = kind;
                        old = tuple(buffer);
                        kind = (char) buffer.get();
                    }
                    if (kind != 'N') {
                        throw new MqdbException("pgoutput: update without a new tuple (got '" + kind + "')");
                    }
                    yield new Update(rel, oldKind, old, tuple(buffer));
                }
                case 'D' -> {
                    int rel = buffer.getInt();
                    char kind = (char) buffer.get();
                    if (kind != 'K' && kind != 'O') {
                        throw new MqdbException("pgoutput: delete without an old key or row (got '" + kind + "')");
                    }
                    yield new Delete(rel, kind, tuple(buffer));
                }
                case 'T' -> {
                    int n = buffer.getInt();
                    int options = buffer.get();
                    checkCount(n, 4, buffer, type);
                    List<Integer> rels = new ArrayList<>(n);
                    for (int i = 0; i < n; i++) {
                        rels.add(buffer.getInt());
                    }
                    yield new Truncate(rels, options);
                }
                case 'M' -> {
                    boolean transactional = (buffer.get() & 1) != 0;
                    long lsn = buffer.getLong();
                    String prefix = string(buffer);
                    int len = buffer.getInt();
                    checkCount(len, 1, buffer, type);
                    byte[] content = new byte[len];
                    buffer.get(content);
                    yield new LogicalMessage(transactional, lsn, prefix, content);
                }
                case 'Y' -> new TypeInfo(buffer.getInt(), string(buffer), string(buffer));
                case 'O' -> new Origin(buffer.getLong(), string(buffer));
                default -> throw new MqdbException("pgoutput: unknown message type '" + type + "' (protocol 1 has B, C,"
                        + " R, I, U, D, T, M, Y, O)");
            };
        } catch (BufferUnderflowException e) {
            throw new MqdbException("pgoutput: message '" + type + "' is truncated", e);
        }
    }

    private static Relation relation(ByteBuffer buffer) {
        int oid = buffer.getInt();
        String namespace = string(buffer);
        String name = string(buffer);
        char identity = (char) buffer.get();
        int n = Short.toUnsignedInt(buffer.getShort());
        checkCount(n, 10, buffer, 'R'); // flags, a name of at least its NUL, type oid, modifier
        List<RelationColumn> columns = new ArrayList<>(n);
        for (int i = 0; i < n; i++) {
            boolean key = (buffer.get() & 1) != 0;
            columns.add(new RelationColumn(key, string(buffer), buffer.getInt(), buffer.getInt()));
        }
        return new Relation(oid, namespace, name, identity, List.copyOf(columns));
    }

    private static Tuple tuple(ByteBuffer buffer) {
        int n = Short.toUnsignedInt(buffer.getShort());
        checkCount(n, 1, buffer, 'N');
        List<Value> values = new ArrayList<>(n);
        for (int i = 0; i < n; i++) {
            char kind = (char) buffer.get();
            switch (kind) {
                case 'n' -> values.add(Value.NULL);
                case 'u' -> values.add(Value.UNCHANGED);
                case 't' -> {
                    int len = buffer.getInt();
                    checkCount(len, 1, buffer, 't');
                    values.add(new Value(ValueKind.TEXT, new String(buffer.array(),
                            buffer.arrayOffset() + buffer.position(), len, StandardCharsets.UTF_8)));
                    buffer.position(buffer.position() + len);
                }
                default -> throw new MqdbException("pgoutput: unknown column kind '" + kind + "' (binary values"
                        + " are not requested)");
            }
        }
        return new Tuple(values);
    }

    private static void expect(ByteBuffer buffer, char wanted, char type) {
        char got = (char) buffer.get();
        if (got != wanted) {
            throw new MqdbException("pgoutput: message '" + type + "': expected '" + wanted + "', got '" + got + "'");
        }
    }

    /** Refuses a count of items of at least {@code minBytes} each that the remaining bytes cannot hold. */
    private static void checkCount(long count, int minBytes, ByteBuffer buffer, char what) {
        if (count < 0 || count * minBytes > buffer.remaining()) {
            throw new MqdbException("pgoutput: '" + what + "' announces " + count + " items, " + buffer.remaining()
                    + " bytes remain");
        }
    }

    /** A NUL-terminated UTF-8 string. */
    private static String string(ByteBuffer buffer) {
        int start = buffer.position();
        int end = start;
        while (end < buffer.limit() && buffer.get(end) != 0) {
            end++;
        }
        if (end >= buffer.limit()) {
            throw new MqdbException("pgoutput: unterminated string");
        }
        String s = new String(buffer.array(), buffer.arrayOffset() + start, end - start, StandardCharsets.UTF_8);
        buffer.position(end + 1);
        return s;
    }
}
