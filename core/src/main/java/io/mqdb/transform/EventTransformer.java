package io.mqdb.transform;

import io.mqdb.spi.ChangeEvent;
import io.mqdb.spi.Key;
import io.mqdb.spi.Op;
import io.mqdb.spi.Row;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;

/**
 * Runs one channel's {@link ChannelTransform} over the events of an apply batch, in order, before the store write.
 *
 * <p>The filter and the computed columns need the row's full state, and an update may carry only some columns (a
 * plain MQTT writer's {@code {"id":1,"status":"paid"}}; mqdb's own captures normally send whole rows). When an upsert
 * lacks a column some expression reads, the missing columns come from what the target holds for the row after the
 * batch's earlier events: the batch's own earlier event for the key if there is one, else the target's row, read
 * back once ({@link TargetReader}) and mapped to source names. Columns the target does not keep (excluded ones) and
 * rows the target does not have (filtered out, or never written) cannot be found: such an event is dead-lettered with
 * the reason ({@link ChannelTransform#apply}). So a partial update can move a row out of a filter, and into it only
 * when it carries every column the transform reads.
 *
 * <h2>Threads</h2>
 * One per channel, used by its apply thread only; {@link #batchDone()} after each batch.
 */
public final class EventTransformer {
    /** Reads what the target holds for a key, in target columns; retried by the caller as store reads are. */
    @FunctionalInterface
    public interface TargetReader {
        /**
         * @param key the row's key
         * @return the target's row, or empty when it has none
         * @throws InterruptedException when the apply thread is stopped while the read is retried
         */
        Optional<Row> read(Key key) throws InterruptedException;
    }

    private static final Row ABSENT = Row.of(Map.of());

    private final ChannelTransform transform;
    private final TargetReader reader;
    /** What the target holds for the keys of the batch so far, in source columns ({@link #ABSENT}: nothing). */
    private final Map<Key, Row> batchState = new HashMap<>();
    private long readBacks;

    /**
     * @param transform the channel's transform
     * @param reader reads the target's row of a key, for updates that lack a column the transform reads
     */
    public EventTransformer(ChannelTransform transform, TargetReader reader) {
        this.transform = transform;
        this.reader = reader;
    }

    /**
     * @param event a received change, in source columns
     * @return what to apply
     * @throws io.mqdb.spi.InvalidDataException when the transform cannot be applied (dead-letter the event)
     * @throws InterruptedException when stopped while reading the target
     */
    public ChannelTransform.Outcome transform(ChangeEvent event) throws InterruptedException {
        if (event.op() == Op.DELETE) {
            batchState.put(event.key(), ABSENT);
            return transform.apply(event, null);
        }
        Row row = event.row();
        Row held = batchState.get(event.key());
        if (held == null && !row.values().keySet().containsAll(transform.columnsRead())) {
            readBacks++;
            held = reader.read(event.key()).map(transform::sourceColumnsOf).orElse(ABSENT);
        }
        Row full = held == null ? row : held.merge(row);
        ChannelTransform.Outcome outcome = transform.apply(event, full);
        if (outcome.event().op() == Op.DELETE) {
            batchState.put(event.key(), ABSENT);
        } else {
            Map<String, Object> kept = new LinkedHashMap<>();
            full.values().forEach((c, v) -> {
                if (transform.kept(c)) {
                    kept.put(c, v);
                }
            });
            batchState.put(event.key(), Row.of(kept));
        }
        return outcome;
    }

    /** Forgets the batch's rows: the next batch reads the target again. */
    public void batchDone() {
        batchState.clear();
    }

    /** @return how many rows were read back from the target so far (partial updates) */
    public long readBacks() {
        return readBacks;
    }
}
