package io.mqdb.adapter.jdbc;

import io.mqdb.spi.CapturePosition;
import io.mqdb.spi.CapturedChange;
import io.mqdb.spi.ChangeCapture;
import io.mqdb.spi.MqdbException;
import io.mqdb.spi.RetriableException;
import io.mqdb.spi.TableId;
import java.nio.ByteBuffer;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import org.postgresql.PGConnection;
import org.postgresql.PGProperty;
import org.postgresql.replication.LogSequenceNumber;
import org.postgresql.replication.PGReplicationStream;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Change capture from PostgreSQL's write-ahead log ({@code capture: log}): logical decoding with the built-in
 * {@code pgoutput} plugin (protocol 1, {@code messages 'true'}) through PgJDBC's replication API, from a replication
 * slot and a publication that this capture creates.
 *
 * <h2>Objects</h2>
 * {@link #enable} creates the publication when missing, adds the table to it, then creates the logical replication
 * slot when missing (the publication first: a slot whose stream starts before its publication existed fails to
 * decode). The runtime enables every published table before it starts their initial loads, so the slot exists before
 * the first row is read: every change committed after the slot's consistent point is streamed, and the initial load
 * reads the rows as they are when each page is read, so a change made during the load may arrive twice (harmless:
 * upserts are idempotent and the runtime's versions order them), never not at all.
 *
 * <h2>Positions</h2>
 * {@code l:C:K:F}: C the LSN of the commit record of the change's transaction, K the change's index in it (two per
 * row message, so that a key change's delete and upsert have their own), F the LSN the slot may be confirmed up to
 * when this change is acknowledged: C itself inside a transaction (the server then sends that transaction again
 * after a restart, and the changes up to K are skipped), the transaction's end LSN at its last change. Positions are
 * ordered by (C, K); a transaction is always read whole and in commit order, though one poll may end inside it.
 *
 * <h2>Flushing</h2>
 * The slot's confirmed flush LSN moves only to the F of a position the runtime {@link #acknowledge acknowledged}, or,
 * when every change this capture returned has been acknowledged and nothing is buffered, to the end of what followed
 * that carried no change (heartbeats, echo-suppressed transactions, transactions of other tables). Standby status
 * updates go to the server at least every 10 s from {@link #poll}; the server's {@code wal_sender_timeout} (60 s by
 * default) must exceed the longest pause between two polls.
 *
 * <h2>Echo suppression</h2>
 * A replicated write transaction starts with {@code pg_logical_emit_message(true, 'mqdb-origin', '')}
 * ({@link #ORIGIN_MARK}); the decoder drops every change of a transaction that carries it. One extra statement per
 * replicated transaction, none for local ones; needs no superuser (replication origins would on PostgreSQL 15).
 *
 * <h2>Threads</h2>
 * {@link #enable} is called on the runtime's start-up or capture thread; {@link #start}, {@link #current},
 * {@link #poll} and {@link #acknowledge} on the store's capture thread only, never concurrently; the replication
 * connection and its {@link LogDecoder} (the messages-to-changes rules, one per stream) belong to that thread.
 * {@link #close} is called by {@link JdbcStore#close} on the shutdown thread after the capture thread stopped;
 * idempotent. No thread of its own: heartbeats and the WAL check run inside {@link #poll}.
 */
final class LogCapture implements ChangeCapture, AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(LogCapture.class);
    static final String ORIGIN_PREFIX = "mqdb-origin";
    static final String HEARTBEAT_PREFIX = "mqdb-heartbeat";
    private static final String PREFIX = "l:";

    /** Marks a replicated transaction with a transactional logical message, which the decoder drops it by. */
    static final OriginMark ORIGIN_MARK = c -> {
        try (PreparedStatement ps = c.prepareStatement("SELECT pg_logical_emit_message(true, ?, '')")) {
            ps.setString(1, ORIGIN_PREFIX);
            ps.execute();
        }
    };

    /**
     * The names this capture creates and {@code mqdb uninstall} removes.
     *
     * @param slot the logical replication slot, lower-case letters, digits and {@code _}
     * @param publication the publication, an identifier
     */
    record Names(String slot, String publication) {
    }

    private final JdbcStore store;
    private final String url;
    private final Properties connectProps;
    private final Names names;
    private final long heartbeatNanos;
    private final long walWarnBytes;
    /** SQL schema and table to the enabled table; written on the enabling thread, read on the capture thread. */
    private final Map<String, TableId> enabled = new ConcurrentHashMap<>();
    private final IdleWait idle;

    // ---- capture thread only
    private Connection replication;
    private PGReplicationStream stream;
    /** Decodes the current stream; a new one per stream. */
    private LogDecoder decoder;
    private Pos lastReturned;
    private Pos lastAcked;
    private long lastFlushed;
    private long lastActivityNanos = System.nanoTime();
    private long lastHeartbeatNanos = System.nanoTime();
    private long lastWalCheckNanos;
    private boolean walWarned;
    private volatile boolean closed;

    /** An ordered, resumable position; see the class comment. */
    record Pos(long commitLsn, long index, long flushLsn) implements Comparable<Pos> {
        static Pos parse(CapturePosition p) {
            String t = p.token();
            String[] f = t.startsWith(PREFIX) ? t.substring(PREFIX.length()).split(":") : new String[0];
            if (f.length != 3) {
                throw new MqdbException("capture: log cannot resume from position \"" + t + "\" (written by another"
                        + " capture mode?): to switch a publishing store to capture: log, stop the node, `mqdb"
                        + " uninstall` the old capture and start with a fresh data dir, so that the initial load runs"
                        + " again");
            }
            return new Pos(Long.parseUnsignedLong(f[0]), Long.parseLong(f[1]), Long.parseUnsignedLong(f[2]));
        }

        CapturePosition encode() {
            return new CapturePosition(PREFIX + Long.toUnsignedString(commitLsn) + ":" + index + ":"
                    + Long.toUnsignedString(flushLsn));
        }

        @Override
        public int compareTo(Pos o) {
            int c = Long.compareUnsigned(commitLsn, o.commitLsn);
            return c != 0 ? c : Long.compare(index, o.index);
        }
    }

    /**
     * @param store the store, for its pool, dialect and table descriptions
     * @param url the store's JDBC URL; the replication connection is opened to it
     * @param user the user, or null
     * @param password the password, or null
     * @param names the slot and publication
     * @param heartbeat how long the stream may be idle before a heartbeat message is written, also how often the
     *     slot's retained WAL is checked
     * @param walWarnBytes the retained WAL above which a warning is logged
     */
    LogCapture(JdbcStore store, String url, String user, String password, Names names, Duration heartbeat,
               long walWarnBytes) {
        this.store = store;
        this.url = url;
        this.names = names;
        this.heartbeatNanos = heartbeat.toNanos();
        this.walWarnBytes = walWarnBytes;
        this.idle = new IdleWait(200);
        Properties p = new Properties();
        if (user != null) {
            PGProperty.USER.set(p, user);
        }
        if (password != null) {
            PGProperty.PASSWORD.set(p, password);
        }
        PGProperty.REPLICATION.set(p, "database");
        PGProperty.ASSUME_MIN_SERVER_VERSION.set(p, "10");
        PGProperty.PREFER_QUERY_MODE.set(p, "simple");
        // pgoutput prints values with the walsender's settings; PgText reads hex bytea (DateStyle ISO is PgJDBC's)
        PGProperty.OPTIONS.set(p, "-c bytea_output=hex");
        this.connectProps = p;
    }

    // ------------------------------------------------------------------ enable, start, current

    @Override
    public void enable(TableId table) {
        JdbcTable t = store.describeTable(table).orElseThrow(() -> new MqdbException(store.describeTarget()
                + ": cannot capture " + table + ": no such table"));
        String schema = store.sqlSchema(table);
        store.withConnection("enable log capture of " + table, c -> {
            checkReplicaIdentity(c, table, t, schema);
            ensurePublication(c);
            if (!inPublication(c, schema, table.table())) {
                try (PreparedStatement ps = c.prepareStatement("ALTER PUBLICATION " + quote(names.publication())
                        + " ADD TABLE " + t.sqlName())) {
                    ps.execute();
                } catch (SQLException e) {
                    if (!inPublication(c, schema, table.table())) { // else a concurrent enable added it
                        throw e;
                    }
                }
            }
            ensureSlot(c);
            return null;
        });
        enabled.put(schema + "\u0000" + table.table(), table);
    }

    /**
     * Refuses a table whose updates and deletes would not carry its key: without a replica identity PostgreSQL
     * even refuses those statements once the table is in a publication.
     */
    private void checkReplicaIdentity(Connection c, TableId id, JdbcTable t, String schema) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("SELECT c.relreplident, EXISTS (SELECT 1 FROM pg_index i"
                + " WHERE i.indrelid = c.oid AND i.indisprimary) FROM pg_class c JOIN pg_namespace n"
                + " ON n.oid = c.relnamespace WHERE n.nspname = ? AND c.relname = ?")) {
            ps.setString(1, schema);
            ps.setString(2, id.table());
            try (ResultSet rs = ps.executeQuery()) {
                if (!rs.next()) {
                    throw new MqdbException(store.describeTarget() + ": cannot capture " + id + ": no such table");
                }
                String identity = rs.getString(1);
                boolean primary = rs.getBoolean(2);
                if (identity.equals("n") || (identity.equals("d") && !primary)) {
                    throw new MqdbException(store.describeTarget() + ": capture: log cannot capture " + id
                            + ": its updates and deletes would not carry a key (replica identity "
                            + (identity.equals("n") ? "nothing" : "default without a primary key") + "); run ALTER"
                            + " TABLE " + t.sqlName() + " REPLICA IDENTITY USING INDEX <the unique index of key "
                            + t.schema().primaryKey() + "> (or FULL)");
                }
            }
        }
    }

    private void ensurePublication(Connection c) throws SQLException {
        if (exists(c, "SELECT 1 FROM pg_publication WHERE pubname = ?", names.publication())) {
            return;
        }
        try (PreparedStatement ps = c.prepareStatement("CREATE PUBLICATION " + quote(names.publication()))) {
            ps.execute();
            LOG.info("{}: created publication {}", store.describeTarget(), names.publication());
        } catch (SQLException e) {
            if (!exists(c, "SELECT 1 FROM pg_publication WHERE pubname = ?", names.publication())) {
                throw e;
            }
        }
    }

    private boolean inPublication(Connection c, String schema, String table) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("SELECT 1 FROM pg_publication_tables WHERE pubname = ?"
                + " AND schemaname = ? AND tablename = ?")) {
            ps.setString(1, names.publication());
            ps.setString(2, schema);
            ps.setString(3, table);
            try (ResultSet rs = ps.executeQuery()) {
                return rs.next();
            }
        }
    }

    /** Creates the slot when missing; waits, as PostgreSQL does, for the transactions running now to end. */
    private void ensureSlot(Connection c) throws SQLException {
        String q = "SELECT 1 FROM pg_replication_slots WHERE slot_name = ?";
        if (exists(c, q, names.slot())) {
            return;
        }
        ensurePublication(c);
        try {
            String at = first(c, "SELECT lsn::text FROM pg_create_logical_replication_slot(?, 'pgoutput')",
                    names.slot());
            LOG.info("{}: created logical replication slot {} at {}", store.describeTarget(), names.slot(), at);
        } catch (SQLException e) {
            if (!exists(c, q, names.slot())) {
                if ("55000".equals(e.getSQLState())) {
                    throw new MqdbException(store.describeTarget() + ": capture: log needs wal_level = logical on"
                            + " the server (and max_replication_slots, max_wal_senders above 0): " + e.getMessage(),
                            e);
                }
                throw e;
            }
        }
    }

    private static boolean exists(Connection c, String sql, String name) throws SQLException {
        return first(c, sql, name) != null;
    }

    /** @return the first column of the first row of a query with one text parameter (or none), as text; or null */
    private static String first(Connection c, String sql, String param) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement(sql)) {
            if (param != null) {
                ps.setString(1, param);
            }
            try (ResultSet rs = ps.executeQuery()) {
                return rs.next() ? String.valueOf(rs.getString(1)) : null;
            }
        }
    }

    /** The slot's confirmed flush LSN, or what this capture flushed when the server has not recorded it yet. */
    @Override
    public CapturePosition start() {
        long cf = store.withConnection("read replication slot " + names.slot(), c -> {
            ensureSlot(c);
            return LogSequenceNumber.valueOf(first(c, "SELECT confirmed_flush_lsn::text FROM pg_replication_slots"
                    + " WHERE slot_name = ?", names.slot())).asLong();
        });
        checkRetainedWal(true);
        long from = Long.compareUnsigned(cf, lastFlushed) >= 0 ? cf : lastFlushed;
        return new Pos(from, 0, from).encode();
    }

    /** Every transaction committed so far has a commit record below the current WAL insert position. */
    @Override
    public CapturePosition current() {
        long lsn = store.withConnection("read the WAL position", c -> {
            ensureSlot(c);
            return LogSequenceNumber.valueOf(first(c, "SELECT pg_current_wal_insert_lsn()::text", null)).asLong();
        });
        return new Pos(lsn, 0, lsn).encode();
    }

    // ------------------------------------------------------------------ poll

    @Override
    public List<CapturedChange> poll(CapturePosition after, int maxChanges, Duration wait)
            throws InterruptedException {
        Pos from = Pos.parse(after);
        int max = Math.max(1, maxChanges);
        long deadline = System.nanoTime() + wait.toNanos();
        try {
            if (stream == null || lastReturned == null || from.compareTo(lastReturned) != 0) {
                restartStream(from);
            }
            while (true) {
                read(max);
                if (decoder.emittable() > 0) {
                    idle.busy();
                    lastActivityNanos = System.nanoTime();
                    List<CapturedChange> out = decoder.take(max);
                    lastReturned = Pos.parse(out.get(out.size() - 1).position());
                    return out;
                }
                idleDuties();
                long left = deadline - System.nanoTime();
                if (left <= 0) {
                    return List.of();
                }
                idle.sleep(left);
            }
        } catch (SQLException e) {
            closeReplication();
            throw new RetriableException(store.describeTarget() + ": replication slot " + names.slot() + ": "
                    + e.getMessage(), e);
        }
    }

    /**
     * (Re)opens the stream from the slot's confirmed flush LSN, skipping what is at or below {@code from}. A stream
     * is never restarted on the connection that ran the last one (PgJDBC's connection delivered nothing after a
     * second {@code START_REPLICATION}): a new connection, waiting up to 10 s for the old walsender to let go of the
     * slot.
     */
    private void restartStream(Pos from) throws SQLException, InterruptedException {
        closeReplication();
        long deadline = System.nanoTime() + 10_000_000_000L;
        while (true) {
            try {
                stream = openStream();
                break;
            } catch (SQLException e) {
                closeReplication();
                if (!"55006".equals(e.getSQLState()) || System.nanoTime() > deadline) { // 55006: slot active
                    throw e;
                }
                Thread.sleep(50);
            }
        }
        if (lastFlushed != 0) {
            stream.setFlushedLSN(LogSequenceNumber.valueOf(lastFlushed));
            stream.setAppliedLSN(LogSequenceNumber.valueOf(lastFlushed));
        }
        decoder = new LogDecoder(this::resolve, from, store.describeTarget());
        lastReturned = from;
    }

    private PGReplicationStream openStream() throws SQLException {
        replication = new org.postgresql.Driver().connect(url, connectProps);
        if (replication == null) {
            throw new MqdbException(store.describeTarget() + ": the PostgreSQL driver refused the url");
        }
        return replication.unwrap(PGConnection.class).getReplicationAPI().replicationStream().logical()
                .withSlotName(names.slot())
                .withSlotOption("proto_version", "1")
                .withSlotOption("publication_names", names.publication())
                .withSlotOption("messages", "true")
                .withStartPosition(LogSequenceNumber.INVALID_LSN) // the server starts at the confirmed flush LSN
                .withStatusInterval(10, TimeUnit.SECONDS)
                .withAutomaticFlush(false)
                .start();
    }

    /** Reads what the server has sent, until more than {@code max} changes are buffered or nothing is left. */
    private void read(int max) throws SQLException {
        while (decoder.buffered() <= max) {
            ByteBuffer buf = stream.readPending();
            if (buf == null) {
                return;
            }
            if (!buf.hasArray()) {
                ByteBuffer copy = ByteBuffer.allocate(buf.remaining());
                copy.put(buf).flip();
                buf = copy;
            }
            decoder.accept(PgOutput.decode(buf));
        }
    }

    /** When nothing arrived: flush what carried no change, write a heartbeat, check the retained WAL. */
    private void idleDuties() throws SQLException {
        boolean allAcked = decoder.idle() && lastAcked != null && lastReturned != null
                && lastAcked.compareTo(lastReturned) >= 0;
        if (allAcked && Long.compareUnsigned(decoder.quietLsn(), lastFlushed) > 0) {
            flush(decoder.quietLsn());
        }
        long now = System.nanoTime();
        if (now - lastActivityNanos >= heartbeatNanos && now - lastHeartbeatNanos >= heartbeatNanos) {
            lastHeartbeatNanos = now;
            store.withConnection("write a heartbeat for slot " + names.slot(), c -> {
                try (PreparedStatement ps = c.prepareStatement("SELECT pg_logical_emit_message(false, ?, '')")) {
                    ps.setString(1, HEARTBEAT_PREFIX);
                    ps.execute();
                }
                return null;
            });
        }
        checkRetainedWal(false);
    }

    /**
     * Logs a warning when the WAL the slot holds passes {@code slot-wal-warn-mb}, once per crossing, and when it is
     * back below. At most every heartbeat interval unless forced.
     */
    private void checkRetainedWal(boolean force) {
        long now = System.nanoTime();
        if (!force && now - lastWalCheckNanos < heartbeatNanos) {
            return;
        }
        lastWalCheckNanos = now;
        String text = store.withConnection("read replication slot " + names.slot(), c -> first(c,
                "SELECT COALESCE(pg_wal_lsn_diff(pg_current_wal_lsn(), restart_lsn)::bigint, 0) FROM"
                        + " pg_replication_slots WHERE slot_name = ?", names.slot()));
        if (text == null) {
            return;
        }
        long retained = Long.parseLong(text);
        if (retained >= walWarnBytes && !walWarned) {
            walWarned = true;
            LOG.warn("{}: replication slot {} holds {} MB of WAL (slot-wal-warn-mb {}): the capture is behind or"
                    + " stopped; the server keeps this WAL until mqdb catches up or `mqdb uninstall` drops the slot",
                    store.describeTarget(), names.slot(), retained / (1024 * 1024), walWarnBytes / (1024 * 1024));
        } else if (retained < walWarnBytes && walWarned) {
            walWarned = false;
            LOG.info("{}: replication slot {} holds {} MB of WAL again, below slot-wal-warn-mb", store.describeTarget(),
                    names.slot(), retained / (1024 * 1024));
        }
    }

    // ------------------------------------------------------------------ acknowledge

    @Override
    public void acknowledge(CapturePosition upTo) {
        Pos p = Pos.parse(upTo);
        if (lastAcked == null || p.compareTo(lastAcked) > 0) {
            lastAcked = p;
        }
        if (Long.compareUnsigned(p.flushLsn(), lastFlushed) <= 0) {
            return;
        }
        try {
            flush(p.flushLsn());
        } catch (SQLException e) {
            closeReplication();
            throw new RetriableException(store.describeTarget() + ": replication slot " + names.slot()
                    + ": could not confirm " + LogSequenceNumber.valueOf(p.flushLsn()) + ": " + e.getMessage(), e);
        }
    }

    /** Confirms the slot up to {@code lsn}: by the stream when open, else {@code pg_replication_slot_advance}. */
    private void flush(long lsn) throws SQLException {
        LogSequenceNumber l = LogSequenceNumber.valueOf(lsn);
        if (stream != null) {
            stream.setFlushedLSN(l);
            stream.setAppliedLSN(l);
            stream.forceUpdateStatus();
        } else {
            store.withConnection("advance replication slot " + names.slot(), c -> {
                try (PreparedStatement ps = c.prepareStatement("SELECT pg_replication_slot_advance(?,"
                        + " CAST(? AS pg_lsn))")) {
                    ps.setString(1, names.slot());
                    ps.setString(2, l.asString());
                    ps.execute();
                }
                return null;
            });
        }
        lastFlushed = lsn;
    }

    // ------------------------------------------------------------------ close, uninstall

    /** Ends the stream and its connection, quietly: a broken one is replaced by the next poll. */
    /** The enabled table a relation is, described; null when it is not enabled. */
    private JdbcTable resolve(PgOutput.Relation r) {
        TableId id = enabled.get(r.namespace() + "\u0000" + r.name());
        if (id == null) {
            return null;
        }
        JdbcTable t = store.table(id);
        for (PgOutput.RelationColumn col : r.columns()) {
            if (TableId.isIdentifier(col.name()) && t.schema().column(col.name()).isEmpty()) {
                return store.describeTable(id).orElse(t); // a column added since it was described
            }
        }
        return t;
    }

    private void closeReplication() {
        try (Connection c = replication; PGReplicationStream st = stream) {
            LOG.trace("closing replication stream {} of {}", st, c);
        } catch (SQLException e) {
            LOG.debug("{}: closing the replication connection: {}", store.describeTarget(), e.getMessage());
        } finally {
            stream = null;
            replication = null;
        }
    }

    @Override
    public void close() {
        if (closed) {
            return;
        }
        closed = true;
        closeReplication();
    }

    /** @return the slot and publication that exist, as {@link io.mqdb.spi.CaptureInstallation#installed()} lines */
    static List<String> installed(Connection c, Names names) throws SQLException {
        List<String> out = new ArrayList<>();
        if (exists(c, "SELECT 1 FROM pg_replication_slots WHERE slot_name = ?", names.slot())) {
            out.add("replication slot " + names.slot());
        }
        if (exists(c, "SELECT 1 FROM pg_publication WHERE pubname = ?", names.publication())) {
            out.add("publication " + quote(names.publication()));
        }
        return out;
    }

    /** Drops the slot (refused by the server while a node streams from it) and the publication; idempotent. */
    static void uninstall(Connection c, Names names) throws SQLException {
        if (exists(c, "SELECT 1 FROM pg_replication_slots WHERE slot_name = ?", names.slot())) {
            try (PreparedStatement ps = c.prepareStatement("SELECT pg_drop_replication_slot(?)")) {
                ps.setString(1, names.slot());
                ps.execute();
            }
        }
        try (PreparedStatement ps = c.prepareStatement("DROP PUBLICATION IF EXISTS " + quote(names.publication()))) {
            ps.execute();
        }
    }

    private static String quote(String identifier) {
        TableId.requireIdentifier("publication", identifier);
        return '"' + identifier + '"';
    }

    /** @return whether a slot name is one PostgreSQL accepts: lower-case letters, digits and {@code _}, ≤ 63 */
    static boolean isSlotName(String name) {
        return name.matches("[a-z0-9_]{1,63}");
    }
}
