package io.mqdb.testkit;

import io.mqdb.spi.CapturePosition;
import io.mqdb.spi.CapturedChange;
import io.mqdb.spi.ChangeCapture;
import io.mqdb.spi.Key;
import io.mqdb.spi.Mutation;
import io.mqdb.spi.Row;
import io.mqdb.spi.ScanPage;
import io.mqdb.spi.Store;
import io.mqdb.spi.TableId;
import io.mqdb.spi.TableSchema;
import io.mqdb.spi.WriteOrigin;
import java.time.Duration;
import java.util.List;
import java.util.Optional;

/**
 * A {@link Store} with a {@link ChangeCapture}, in memory: what {@link InMemoryStoreProvider} opens. It passes the
 * {@link io.mqdb.spi.StoreContract} like the real adapters: tables with schemas that grow, key-ordered scans, one
 * atomic commit per {@code apply}, values checked against the schema ({@link io.mqdb.spi.InvalidDataException}),
 * capture of {@link WriteOrigin#LOCAL} writes with full rows after an acknowledgeable position, never of replicated
 * ones. The data lives in an {@link InMemoryData}, which outlives the store (close and open again: same data) and
 * gives tests their controls (an outage, losing everything).
 *
 * <p>Thread-safe (the data's lock); owns no thread. {@link #close} is idempotent and leaves the data alone.
 */
public final class InMemoryStore implements Store, ChangeCapture {
    private final InMemoryData data;

    /** @param data the data this store reads and writes */
    public InMemoryStore(InMemoryData data) {
        this.data = data;
    }

    /** @return the data behind this store, with its test controls */
    public InMemoryData data() {
        return data;
    }

    @Override
    public String describeTarget() {
        return "memory:" + data.name();
    }

    @Override
    public Optional<ChangeCapture> capture() {
        return Optional.of(this);
    }

    @Override
    public void close() {
        // the data stays, as a database stays when its connection closes
    }

    @Override
    public Optional<TableSchema> describe(TableId table) {
        return data.describe(table);
    }

    @Override
    public TableSchema ensureTable(TableSchema schema) {
        return data.ensureTable(schema);
    }

    @Override
    public void apply(TableId table, List<Mutation> batch, WriteOrigin origin) {
        data.apply(table, batch, origin);
    }

    @Override
    public Optional<Row> get(TableId table, Key key) {
        return data.get(table, key);
    }

    @Override
    public ScanPage scan(TableId table, Key after, int limit) {
        return data.scan(table, after, limit);
    }

    @Override
    public long count(TableId table) {
        return data.count(table);
    }

    @Override
    public void enable(TableId table) {
        data.enable(table);
    }

    @Override
    public CapturePosition start() {
        return data.start();
    }

    @Override
    public CapturePosition current() {
        return data.current();
    }

    @Override
    public List<CapturedChange> poll(CapturePosition after, int maxChanges, Duration wait)
            throws InterruptedException {
        return data.poll(after, maxChanges, wait);
    }

    @Override
    public void acknowledge(CapturePosition upTo) {
        data.acknowledge(upTo);
    }

    @Override
    public String toString() {
        return "InMemoryStore[" + data.name() + "]";
    }
}
