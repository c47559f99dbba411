package io.mqdb.node;

import io.mqdb.node.publish.ChannelPublisher;
import io.mqdb.spi.Key;
import io.mqdb.spi.MqdbException;
import io.mqdb.spi.Mutation;
import io.mqdb.spi.Row;
import io.mqdb.spi.ScanPage;
import io.mqdb.spi.Store;
import io.mqdb.spi.TableId;
import io.mqdb.spi.TableSchema;
import io.mqdb.spi.WriteOrigin;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.Supplier;

/**
 * The embedding API's handle on one table of a running node: an application reads and writes it, and when the node
 * publishes the table, its writes are captured and published like any other local change (the edge-device use).
 *
 * <p>Thread-safe; any application thread. Values must be of the portable Java types ({@link
 * io.mqdb.spi.ColumnType}); rows are checked against the table's schema before they are written.
 */
public final class LocalTable {
    private final TableId table;
    private final Store store;
    private final ClassLoader loader;
    private final ChannelPublisher publisher;

    LocalTable(TableId table, Store store, ClassLoader loader, ChannelPublisher publisher) {
        this.table = table;
        this.store = store;
        this.loader = loader;
        this.publisher = publisher;
    }

    /** @return the table's name */
    public TableId id() {
        return table;
    }

    /** @return the table's schema, or empty when the table does not exist yet */
    public Optional<TableSchema> schema() {
        return call(() -> store.describe(table));
    }

    /**
     * Creates the table (or adds missing columns); when the node publishes it, returns once its changes are
     * captured, so every write after this call is published.
     *
     * @param schema the schema; its table must be this table
     * @return the table's schema after the call
     * @throws InterruptedException when interrupted while waiting for capture to start
     */
    public TableSchema ensure(TableSchema schema) throws InterruptedException {
        if (!schema.table().equals(table)) {
            throw new IllegalArgumentException("schema of " + schema.table() + " given for " + table);
        }
        TableSchema result = call(() -> store.ensureTable(schema));
        if (publisher != null) {
            try {
                publisher.requestEnable(table).get(60, TimeUnit.SECONDS);
            } catch (ExecutionException | TimeoutException e) {
                throw new MqdbException(table + ": capture did not start: " + e.getMessage(), e);
            }
        }
        return result;
    }

    /**
     * Inserts or updates rows in one commit.
     *
     * @param rows rows holding at least every key column; columns they do not mention keep their value
     */
    public void upsert(List<Row> rows) {
        TableSchema s = requireSchema();
        List<Mutation> batch = rows.stream().map(r -> (Mutation) Mutation.Upsert.of(s.validate(r))).toList();
        write(batch);
    }

    /** @param row a row holding at least every key column */
    public void upsert(Row row) {
        upsert(List.of(row));
    }

    /** @param keys the keys of the rows to delete, in one commit */
    public void delete(List<Key> keys) {
        TableSchema s = requireSchema();
        List<Mutation> batch = keys.stream().map(k -> (Mutation) Mutation.Delete.of(s.validate(k))).toList();
        write(batch);
    }

    /** @param key the key of the row to delete */
    public void delete(Key key) {
        delete(List.of(key));
    }

    /**
     * @param key a key
     * @return the row, or empty
     */
    public Optional<Row> get(Key key) {
        TableSchema s = requireSchema();
        return call(() -> store.get(table, s.validate(key)));
    }

    /**
     * @param after the previous page's cursor, or null to start
     * @param limit the most rows
     * @return a page of rows in key order
     */
    public ScanPage scan(Key after, int limit) {
        return call(() -> store.scan(table, after, limit));
    }

    /** @return the number of rows */
    public long count() {
        return call(() -> store.count(table));
    }

    /**
     * Commits a batch as a local write; a store with change capture captures it, for one without, the batch is handed
     * to the publisher once committed.
     */
    private void write(List<Mutation> batch) {
        if (publisher == null || publisher.capturesItself()) {
            call(() -> {
                store.apply(table, batch, WriteOrigin.LOCAL);
                return null;
            });
            return;
        }
        call(() -> {
            try {
                publisher.writeLocal(table, batch);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new MqdbException(table + ": interrupted while writing; the write may be stored but not "
                        + "published", e);
            }
            return null;
        });
    }

    private TableSchema requireSchema() {
        return schema().orElseThrow(() -> new MqdbException("table " + table + " does not exist in "
                + store.describeTarget() + "; create it with ensure(schema)"));
    }

    private <T> T call(Supplier<T> action) {
        Thread t = Thread.currentThread();
        ClassLoader previous = t.getContextClassLoader();
        t.setContextClassLoader(loader);
        try {
            return action.get();
        } finally {
            t.setContextClassLoader(previous);
        }
    }
}
