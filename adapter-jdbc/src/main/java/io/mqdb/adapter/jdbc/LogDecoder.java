package io.mqdb.adapter.jdbc;

import io.mqdb.spi.CapturedChange;
import io.mqdb.spi.Column;
import io.mqdb.spi.Key;
import io.mqdb.spi.MqdbException;
import io.mqdb.spi.Op;
import io.mqdb.spi.Row;
import io.mqdb.spi.TableId;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Turns the messages of one {@code pgoutput} stream into captured changes with their positions (see
 * {@link LogCapture} for what a position means): a transaction's changes in order, a key change as a delete of the old
 * key then an upsert, nothing of a transaction marked with the {@code mqdb-origin} message, nothing at or below the
 * position the stream resumes after, and TOASTed values an update left unchanged left out of the row. A change is
 * handed out only once the message after it is known, so that its position says whether it ends its transaction.
 *
 * <p>No I/O: the stream's bytes are decoded by {@link PgOutput}, tables are resolved by the {@link Tables} given.
 * Not thread-safe: one per stream, on the capture thread.
 */
final class LogDecoder {
    private static final Logger LOG = LoggerFactory.getLogger(LogDecoder.class);

    /** Which tables are captured. */
    @FunctionalInterface
    interface Tables {
        /** @return the table a relation is, described, when it is captured; null when it is not */
        JdbcTable resolve(PgOutput.Relation relation);
    }

    private final Tables tables;
    /** The position the stream delivers after: changes at or below it are skipped. */
    private final LogCapture.Pos skipUpTo;
    private final String target;
    private final Map<Integer, PgOutput.Relation> relations = new HashMap<>();
    private final ArrayDeque<Pending> pending = new ArrayDeque<>();
    private final Set<Integer> truncateWarned = new HashSet<>();
    private long quietLsn;
    private Tx tx;

    /**
     * @param tables resolves relations to captured tables
     * @param skipUpTo changes at or below it are dropped, or null for none
     * @param target the store, for log lines
     */
    LogDecoder(Tables tables, LogCapture.Pos skipUpTo, String target) {
        this.tables = tables;
        this.skipUpTo = skipUpTo;
        this.target = target;
    }

    /** The transaction being decoded. */
    private static final class Tx {
        final long commitLsn;
        long index;
        boolean replicated;
        int changes;

        Tx(long commitLsn) {
            this.commitLsn = commitLsn;
        }
    }

    /** A decoded change not yet taken; {@code endLsn} set at its transaction's commit when it is the last. */
    private static final class Pending {
        final TableId table;
        final Op op;
        final Key key;
        final Row row;
        final long commitLsn;
        final long index;
        long endLsn;

        Pending(TableId table, Op op, Key key, Row row, long commitLsn, long index) {
            this.table = table;
            this.op = op;
            this.key = key;
            this.row = row;
            this.commitLsn = commitLsn;
            this.index = index;
        }

        CapturedChange change() {
            LogCapture.Pos p = new LogCapture.Pos(commitLsn, index, endLsn != 0 ? endLsn : commitLsn);
            return new CapturedChange(table, op, key, row, p.encode());
        }
    }

    /** Takes the next message of the stream. */
    void accept(PgOutput.Message m) {
        if (m instanceof PgOutput.Begin b) {
            tx = new Tx(b.finalLsn());
        } else if (m instanceof PgOutput.Commit c) {
            if (tx != null && tx.changes > 0) {
                pending.peekLast().endLsn = c.endLsn();
            } else if (Long.compareUnsigned(c.endLsn(), quietLsn) > 0) {
                quietLsn = c.endLsn();
            }
            tx = null;
        } else if (m instanceof PgOutput.Relation r) {
            relations.put(r.oid(), r);
        } else if (m instanceof PgOutput.LogicalMessage lm) {
            if (lm.transactional() && tx != null && lm.prefix().equals(LogCapture.ORIGIN_PREFIX)) {
                tx.replicated = true;
            } else if (!lm.transactional() && tx == null && Long.compareUnsigned(lm.lsn(), quietLsn) > 0) {
                quietLsn = lm.lsn(); // every transaction committed before it was sent before it
            }
        } else if (m instanceof PgOutput.Insert i) {
            change(i.relation(), null, i.row(), false);
        } else if (m instanceof PgOutput.Update u) {
            change(u.relation(), u.old(), u.row(), false);
        } else if (m instanceof PgOutput.Delete d) {
            change(d.relation(), d.old(), null, true);
        } else if (m instanceof PgOutput.Truncate t) {
            for (int oid : t.relations()) {
                JdbcTable table = tableOf(relations.get(oid));
                if (table != null && truncateWarned.add(oid)) {
                    LOG.warn("{}: {} was truncated; capture: log does not publish TRUNCATE (the subscribers keep"
                            + " their rows)", target, table.schema().table());
                }
            }
        } else {
            LOG.debug("pgoutput: {}", m); // Type, Origin: nothing to do
        }
    }

    private JdbcTable tableOf(PgOutput.Relation r) {
        return r == null ? null : tables.resolve(r);
    }

    /** One row message: at most a delete of the old key (a key change) and an upsert or delete. */
    private void change(int relation, PgOutput.Tuple old, PgOutput.Tuple row, boolean delete) {
        if (tx == null) {
            throw new MqdbException("pgoutput: a change outside a transaction");
        }
        tx.index += 2;
        PgOutput.Relation r = relations.get(relation);
        if (r == null) {
            throw new MqdbException("pgoutput: a change of relation " + relation + " before its description");
        }
        if (tx.replicated) {
            return;
        }
        JdbcTable t = tableOf(r);
        if (t == null) {
            return;
        }
        TableId id = t.schema().table();
        Key oldKey = old == null ? null : keyOf(t, r, old);
        if (delete) {
            add(id, Op.DELETE, oldKey, null, tx.index);
            return;
        }
        Row values = rowOf(t, r, row);
        Key key = t.schema().keyOf(values);
        if (oldKey != null && !oldKey.equals(key)) {
            add(id, Op.DELETE, oldKey, null, tx.index - 1);
        }
        add(id, Op.UPSERT, key, values, tx.index);
    }

    private void add(TableId id, Op op, Key key, Row row, long index) {
        if (skipUpTo != null && new LogCapture.Pos(tx.commitLsn, index, 0).compareTo(skipUpTo) <= 0) {
            return;
        }
        pending.add(new Pending(id, op, key, row, tx.commitLsn, index));
        tx.changes++;
    }

    /** The row of a new tuple: every described column, except TOASTed values the update left unchanged. */
    private static Row rowOf(JdbcTable t, PgOutput.Relation r, PgOutput.Tuple tuple) {
        Map<String, Object> values = new LinkedHashMap<>();
        int n = Math.min(r.columns().size(), tuple.values().size());
        for (int i = 0; i < n; i++) {
            String name = r.columns().get(i).name();
            Optional<Column> col = TableId.isIdentifier(name) ? t.schema().column(name) : Optional.empty();
            PgOutput.Value v = tuple.values().get(i);
            if (col.isEmpty() || v.kind() == PgOutput.ValueKind.UNCHANGED_TOAST) {
                continue;
            }
            values.put(name, v.kind() == PgOutput.ValueKind.NULL ? null
                    : PgText.parse(col.get(), t.sqlType(name), v.text()));
        }
        return Row.of(values);
    }

    /** The key of an old tuple (the key columns, or the whole old row under replica identity full). */
    private static Key keyOf(JdbcTable t, PgOutput.Relation r, PgOutput.Tuple tuple) {
        Map<String, Integer> position = new HashMap<>();
        for (int i = 0; i < r.columns().size(); i++) {
            position.put(r.columns().get(i).name(), i);
        }
        List<Object> key = new ArrayList<>();
        for (Column k : t.schema().keyColumns()) {
            Integer i = position.get(k.name());
            PgOutput.Value v = i == null || i >= tuple.values().size() ? null : tuple.values().get(i);
            if (v == null || v.kind() != PgOutput.ValueKind.TEXT) {
                throw new MqdbException(t.sqlName() + ": a change without its key column " + k.name()
                        + " (is the replica identity the key " + t.schema().primaryKey() + "?)");
            }
            key.add(PgText.parse(k, t.sqlType(k.name()), v.text()));
        }
        return Key.of(key.toArray());
    }

    /** Buffered changes whose successor is known, so that their position says whether they end a transaction. */
    int emittable() {
        int n = pending.size();
        if (n > 0 && pending.peekLast().endLsn == 0) {
            n--; // the last may not be its transaction's last yet
        }
        return n;
    }

    /**
     * @param max the most to take, at least 1
     * @return the oldest emittable changes, at most {@code max}, in order
     */
    List<CapturedChange> take(int max) {
        int n = Math.min(max, emittable());
        List<CapturedChange> out = new ArrayList<>(n);
        for (int i = 0; i < n; i++) {
            out.add(pending.poll().change());
        }
        return out;
    }

    /** @return the changes decoded and not taken yet */
    int buffered() {
        return pending.size();
    }

    /** @return whether nothing is buffered and no transaction is open: the stream is between transactions */
    boolean idle() {
        return pending.isEmpty() && tx == null;
    }

    /**
     * @return the end of the latest stretch of the stream that carried no change (heartbeats, echo-suppressed and
     *     skipped transactions): the slot may be confirmed up to it once every change taken before was acknowledged
     */
    long quietLsn() {
        return quietLsn;
    }
}
