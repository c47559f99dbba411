package io.mqdb.node;

import io.mqdb.spi.AtomicWrites.TableBatch;
import io.mqdb.spi.Bytes;
import io.mqdb.spi.Column;
import io.mqdb.spi.ColumnType;
import io.mqdb.spi.InvalidDataException;
import io.mqdb.spi.Key;
import io.mqdb.spi.Mutation;
import io.mqdb.spi.Row;
import io.mqdb.spi.TableAccess;
import io.mqdb.spi.TableId;
import io.mqdb.spi.TableSchema;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * Where a {@link StoreQueue} keeps its data in a store, and the rows and writes it uses; pure, any thread.
 *
 * <ul>
 *   <li>{@code mqdb_queue:q_<name>}: one row per entry, primary key {@code seq} (INT64, 1, 2, 3, ... in put order),
 *   and {@code payload} (BYTES). One row per key, so a take is a read and a delete of one key in every store (in
 *   Cassandra one partition per entry: a take never reads past the tombstones of earlier takes).</li>
 *   <li>{@code mqdb_queue:queue_ends}: the counters, primary key ({@code queue_name}, {@code counter_name}), value
 *   {@code counter_value} (INT64): {@code head} is the seq the next take returns, {@code tail} the seq the next put
 *   gets; the queue holds the entries {@code head <= seq < tail}. Two rows per queue, so a put and a take never write
 *   the same row.</li>
 * </ul>
 * The schema {@value #SCHEMA} is a SQL schema (a database on MariaDB, a keyspace on Cassandra, a key prefix on Redis);
 * a JDBC store's {@code schema-map} can point it elsewhere.
 */
final class StoreQueueTables {
    /** The schema of every queue's tables. */
    static final String SCHEMA = "mqdb_queue";
    /** The most characters of a queue name: Cassandra's table names stop at 48, and entries get a prefix. */
    static final int MAX_NAME = 46;
    static final String SEQ = "seq";
    static final String PAYLOAD = "payload";
    static final String HEAD = "head";
    static final String TAIL = "tail";
    private static final String QUEUE = "queue_name";
    private static final String COUNTER = "counter_name";
    private static final String VALUE = "counter_value";
    private static final TableId ENDS = new TableId(SCHEMA, "queue_ends");

    private final String name;
    private final TableId entries;

    /**
     * @param name the queue's name: a letter or underscore, then letters, digits or underscores, at most
     *     {@value #MAX_NAME} characters
     * @throws IllegalArgumentException when the name breaks that rule
     */
    StoreQueueTables(String name) {
        TableId.requireIdentifier("queue", name);
        if (name.length() > MAX_NAME) {
            throw new IllegalArgumentException("invalid queue name \"" + name + "\": at most " + MAX_NAME
                    + " characters");
        }
        this.name = name;
        this.entries = new TableId(SCHEMA, "q_" + name);
    }

    String name() {
        return name;
    }

    TableId entries() {
        return entries;
    }

    TableId ends() {
        return ENDS;
    }

    /** Creates both tables where missing; idempotent. */
    void ensure(TableAccess store) {
        store.ensureTable(new TableSchema(entries, List.of(new Column(SEQ, ColumnType.INT64, false),
                new Column(PAYLOAD, ColumnType.BYTES, false)), List.of(SEQ)));
        store.ensureTable(new TableSchema(ENDS, List.of(new Column(QUEUE, ColumnType.STRING, false),
                new Column(COUNTER, ColumnType.STRING, false), new Column(VALUE, ColumnType.INT64, false)),
                List.of(QUEUE, COUNTER)));
    }

    /**
     * @param store the store
     * @param counter {@link #HEAD} or {@link #TAIL}
     * @return the stored counter, or empty when the queue never wrote it
     */
    Optional<Long> readCounter(TableAccess store, String counter) {
        return store.get(ENDS, Key.of(name, counter)).map(r -> (Long) r.get(VALUE));
    }

    /**
     * @param store the store
     * @param seq an entry's seq
     * @return its payload, or empty when there is no such entry
     */
    Optional<byte[]> readEntry(TableAccess store, long seq) {
        return store.get(entries, Key.of(seq)).map(r -> {
            Object payload = r.get(PAYLOAD);
            if (!(payload instanceof Bytes b)) {
                throw new InvalidDataException(entries + ": entry " + seq + " has no payload");
            }
            return b.toArray();
        });
    }

    /** @return the writes of a put of entries from {@code first} on: the entries, then the tail counter */
    List<TableBatch> put(long first, List<byte[]> payloads) {
        List<Mutation> rows = new ArrayList<>(payloads.size());
        long seq = first;
        for (byte[] p : payloads) {
            rows.add(Mutation.Upsert.of(Row.builder().set(SEQ, seq++).set(PAYLOAD, Bytes.of(p)).build()));
        }
        return List.of(new TableBatch(entries, rows), counter(TAIL, seq));
    }

    /** @return the writes of a take: the entry's delete, then the head counter */
    List<TableBatch> take(long seq) {
        return List.of(new TableBatch(entries, List.of(Mutation.Delete.of(Key.of(seq)))), counter(HEAD, seq + 1));
    }

    private TableBatch counter(String counter, long value) {
        return new TableBatch(ENDS, List.of(Mutation.Upsert.of(Row.builder().set(QUEUE, name).set(COUNTER, counter)
                .set(VALUE, value).build())));
    }
}
