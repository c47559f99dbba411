package io.mqdb.adapter.jdbc;

import com.github.shyiko.mysql.binlog.BinaryLogClient;
import com.github.shyiko.mysql.binlog.event.Event;
import com.github.shyiko.mysql.binlog.event.TableMapEventData;
import com.github.shyiko.mysql.binlog.event.TableMapEventMetadata;
import com.github.shyiko.mysql.binlog.event.deserialization.EventDeserializer;
import com.github.shyiko.mysql.binlog.network.SSLMode;
import com.github.shyiko.mysql.binlog.network.ServerException;
import io.mqdb.spi.CapturePosition;
import io.mqdb.spi.CapturedChange;
import io.mqdb.spi.ChangeCapture;
import io.mqdb.spi.MqdbException;
import io.mqdb.spi.RetriableException;
import io.mqdb.spi.TableId;
import java.io.IOException;
import java.net.Socket;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Change capture from the MariaDB/MySQL binary log ({@code capture: log} on the {@code mariadb} dialect): mqdb
 * connects as a replica (mysql-binlog-connector-java's {@link BinaryLogClient}, server id {@code binlog-server-id})
 * and decodes the row events of the enabled tables ({@link BinlogDecoder}).
 *
 * <h2>Server and user</h2>
 * {@link #enable} and {@link #start} check that the server runs with {@code log_bin} on, {@code binlog_format = ROW}
 * and {@code binlog_row_image = FULL}, and that the user holds {@code REPLICATION SLAVE} and
 * {@code REPLICATION CLIENT} (MariaDB 10.5+: {@code BINLOG MONITOR}); otherwise they throw, naming the setting or the
 * grant. With {@code binlog_row_metadata = FULL} (MariaDB 10.5+, MySQL 8.0.1+) the column names come from the table
 * map events; otherwise from {@code information_schema.COLUMNS} when a table map is first seen or changes.
 *
 * <h2>Objects</h2>
 * Two small tables in the url's database: {@value #STATE_TABLE} (one row per {@code binlog-server-id}: the
 * acknowledged position and the position a restart may resume from) and {@value #ORIGIN_TABLE} (the echo marker,
 * below). {@code mqdb uninstall} drops both. Nothing is installed on the captured tables.
 *
 * <h2>Positions</h2>
 * See {@link BinlogDecoder.Pos}: on MariaDB a GTID state, elsewhere a binlog file and offset, plus, inside a
 * transaction, which one and the change's index in it. The first {@link #enable} records the position of that moment
 * in the state table: every transaction committed after it is streamed, and the initial load, which reads the rows
 * afterwards, sees every transaction committed before it. On MariaDB the position is read inside
 * {@code START TRANSACTION WITH CONSISTENT SNAPSHOT} ({@code binlog_snapshot_file}/{@code _position}, then
 * {@code BINLOG_GTID_POS}), so it lies exactly between the transactions visible to InnoDB and those that are not: no
 * transaction is both missed by the stream and invisible to the load. Changes made during the load may come twice.
 *
 * <h2>Acknowledging</h2>
 * {@link #acknowledge} writes the position to the state table; {@link #start} returns it. Nothing else moves it,
 * except that, when everything returned was acknowledged and the stream is between transactions, the position after
 * the transactions that carried no change (other tables, echo-suppressed writes) is saved as where a restart from the
 * acknowledged position may resume (at most every {@code heartbeat-interval}), so that a quiet capture on a busy
 * server does not fall behind the server's binlog retention (transactions that wrote only the state table do not
 * count, so an idle capture writes nothing).
 *
 * <h2>Retention</h2>
 * The server keeps no binlog for a replica. Before each stream the GTID state is compared with the one the oldest
 * binlog file starts at ({@link #purged}), and the server refuses a purged position (error 1236); both end in a
 * non-retriable {@link MqdbException} saying so, never in a stream that silently skips the purged part.
 *
 * <h2>Echo suppression</h2>
 * A replicated write transaction first upserts its connection's row of {@value #ORIGIN_TABLE}
 * ({@link #ORIGIN_MARK}); the row event is in the transaction's binlog events, and the decoder drops every change of
 * a transaction that has one. A marker table rather than a session variable: the binlog carries rows, not session
 * state, and MariaDB's annotate events (the statement text) depend on {@code binlog_annotate_row_events} and on how
 * the driver sends statements, while a row write is in the binlog whatever the settings, on MariaDB and MySQL alike,
 * and rolls back with its transaction. One row per connection id, so concurrent replicated writers never wait for
 * each other's marker.
 *
 * <h2>Threads</h2>
 * {@link #enable} is called on the runtime's start-up or capture thread; {@link #start}, {@link #current},
 * {@link #poll} and {@link #acknowledge} on the store's capture thread only, never concurrently. The binlog client
 * reads the server on a thread of its own, {@code mqdb-binlog-<target>}, which {@link #poll} starts when it opens a
 * stream and which only hands events to a bounded queue (full: it waits, and the server's socket fills); decoding,
 * table lookups and positions stay on the capture thread. The reader ends when its stream is closed: when a poll
 * reopens the stream from another position, when the stream fails (the next poll throws a
 * {@link RetriableException}, and the runtime's backoff polls again, which reconnects), and in {@link #close}, which
 * {@link JdbcStore#close} calls on the shutdown thread after the capture thread stopped; idempotent. The server sends
 * a heartbeat every {@code heartbeat-interval}; a socket silent for three of them plus 10 s is taken as broken. The
 * library's keep-alive thread is off; its java.util.logging records go to SLF4J. {@code InterruptedException} from
 * the wait in {@link #poll} propagates; the stream stays open for the next poll or {@link #close}.
 */
final class BinlogCapture implements ChangeCapture, AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(BinlogCapture.class);
    static final String STATE_TABLE = "mqdb_binlog_state";
    static final String ORIGIN_TABLE = "mqdb_binlog_origin";
    private static final int QUEUE_EVENTS = 10_000;
    /** The library logs through java.util.logging: its records go to SLF4J instead (kept here, so never collected). */
    private static final java.util.logging.Logger LIBRARY_LOG = toSlf4j("com.github.shyiko.mysql.binlog");

    private static java.util.logging.Logger toSlf4j(String name) {
        java.util.logging.Logger jul = java.util.logging.Logger.getLogger(name);
        Logger target = LoggerFactory.getLogger(name);
        jul.setUseParentHandlers(false);
        jul.setLevel(target.isDebugEnabled() ? java.util.logging.Level.FINE : java.util.logging.Level.INFO);
        jul.addHandler(new java.util.logging.Handler() {
            @Override
            public void publish(java.util.logging.LogRecord r) {
                String msg = r.getMessage();
                int level = r.getLevel().intValue();
                if (level >= java.util.logging.Level.SEVERE.intValue()) {
                    target.error(msg, r.getThrown());
                } else if (level >= java.util.logging.Level.WARNING.intValue()) {
                    target.warn(msg, r.getThrown());
                } else if (level >= java.util.logging.Level.INFO.intValue()) {
                    target.debug(msg, r.getThrown()); // "Connected to ..." on every stream: mqdb logs its own
                } else {
                    target.trace(msg, r.getThrown());
                }
            }

            @Override
            public void flush() {
            }

            @Override
            public void close() {
            }
        });
        return jul;
    }

    /** Marks a replicated transaction by a write to its connection's row of the marker table. */
    static final OriginMark ORIGIN_MARK = c -> {
        String upsert = "INSERT INTO " + ORIGIN_TABLE + " (conn, n) VALUES (CONNECTION_ID(), 1)"
                + " ON DUPLICATE KEY UPDATE n = n + 1";
        try (PreparedStatement ps = c.prepareStatement(upsert)) {
            ps.execute();
        } catch (SQLException e) {
            if (e.getErrorCode() != 1146) { // no such table: a store that subscribes before it ever captured
                throw e;
            }
            try (PreparedStatement ps = c.prepareStatement(createOrigin())) {
                ps.execute(); // commits implicitly: nothing was written in this transaction yet
            }
            try (PreparedStatement ps = c.prepareStatement(upsert)) {
                ps.execute();
            }
        }
    };

    private final JdbcStore store;
    private final String host;
    private final int port;
    private final String user;
    private final String password;
    private final SSLMode sslMode;
    private final long serverId;
    private final long heartbeatMs;
    /** SQL database and table to the enabled table; written on the enabling thread, read on the capture thread. */
    private final Map<String, TableId> enabled = new ConcurrentHashMap<>();
    private volatile String database;
    private volatile Boolean mariaDb;
    private volatile boolean checked;

    // ---- capture thread only
    private Stream stream;
    private BinlogDecoder decoder;
    private CapturePosition lastReturned;
    /** The acknowledged position as in the state table, and where a restart from it resumes. */
    private CapturePosition confirmed;
    private CapturePosition resume;
    private long lastQuietSaveNanos;
    private boolean announced;
    private volatile boolean closed;

    /**
     * @param store the store, for its pool and table descriptions
     * @param url the store's JDBC URL: the binlog connection goes to its first host and port
     * @param user the user, or null
     * @param password the password, or null
     * @param serverId the replica server id ({@code binlog-server-id})
     * @param heartbeat how often the server sends a heartbeat, and how often a quiet position may be saved
     */
    BinlogCapture(JdbcStore store, String url, String user, String password, long serverId, Duration heartbeat) {
        this.store = store;
        String rest = url.substring(url.indexOf("://") + 3);
        int end = rest.length();
        for (char ch : new char[] {'/', '?', ','}) {
            int i = rest.indexOf(ch);
            if (i >= 0 && i < end) {
                end = i;
            }
        }
        String hostPort = rest.substring(0, end);
        if (hostPort.contains("@")) {
            hostPort = hostPort.substring(hostPort.lastIndexOf('@') + 1);
        }
        int colon = hostPort.lastIndexOf(':');
        boolean hasPort = colon > 0 && !hostPort.endsWith("]");
        this.host = hasPort ? hostPort.substring(0, colon) : (hostPort.isEmpty() ? "localhost" : hostPort);
        this.port = hasPort ? Integer.parseInt(hostPort.substring(colon + 1)) : 3306;
        this.user = user == null ? "" : user;
        this.password = password == null ? "" : password;
        String ssl = parameter(url, "sslMode");
        this.sslMode = ssl == null ? SSLMode.PREFERRED : switch (ssl.toLowerCase(Locale.ROOT)) {
            case "disable" -> SSLMode.DISABLED;
            case "verify-ca" -> SSLMode.VERIFY_CA;
            case "verify-full" -> SSLMode.VERIFY_IDENTITY;
            default -> SSLMode.REQUIRED;
        };
        this.serverId = serverId;
        this.heartbeatMs = heartbeat.toMillis();
    }

    private static String parameter(String url, String name) {
        int q = url.indexOf('?');
        if (q < 0) {
            return null;
        }
        for (String kv : url.substring(q + 1).split("&")) {
            int eq = kv.indexOf('=');
            if (eq > 0 && kv.substring(0, eq).equalsIgnoreCase(name)) {
                return kv.substring(eq + 1);
            }
        }
        return null;
    }

    private static String createState() {
        return "CREATE TABLE IF NOT EXISTS " + STATE_TABLE + " (server_id bigint NOT NULL PRIMARY KEY,"
                + " acked longtext NOT NULL, resume longtext NOT NULL,"
                + " updated datetime(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6)) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4";
    }

    private static String createOrigin() {
        return "CREATE TABLE IF NOT EXISTS " + ORIGIN_TABLE + " (conn bigint NOT NULL PRIMARY KEY,"
                + " n bigint NOT NULL) ENGINE=InnoDB";
    }

    // ------------------------------------------------------------------ checks

    /** Checks the server's binlog settings and the user's grants once per capture; throws naming what is missing. */
    private void checkServer(Connection c) throws SQLException {
        if (checked) {
            return;
        }
        String db = first(c, "SELECT DATABASE()");
        if (db == null) {
            throw new MqdbException(store.describeTarget() + ": capture: log on MariaDB/MySQL needs a database in the"
                    + " url (jdbc:mariadb://host/DATABASE), where it keeps " + STATE_TABLE + " and " + ORIGIN_TABLE);
        }
        database = db;
        mariaDb = String.valueOf(first(c, "SELECT VERSION()")).contains("MariaDB");
        List<String> problems = new ArrayList<>();
        try (PreparedStatement ps = c.prepareStatement("SELECT @@GLOBAL.log_bin, @@GLOBAL.binlog_format,"
                + " @@GLOBAL.binlog_row_image");
             ResultSet rs = ps.executeQuery()) {
            rs.next();
            String logBin = String.valueOf(rs.getString(1));
            if (!logBin.equals("1") && !logBin.equalsIgnoreCase("ON")) {
                problems.add("log_bin is OFF (start the server with --log-bin)");
            }
            if (!"ROW".equalsIgnoreCase(rs.getString(2))) {
                problems.add("binlog_format is " + rs.getString(2) + ", needs ROW (binlog_format=ROW in the server's"
                        + " configuration, or SET GLOBAL binlog_format = 'ROW')");
            }
            if (!"FULL".equalsIgnoreCase(rs.getString(3))) {
                problems.add("binlog_row_image is " + rs.getString(3) + ", needs FULL (binlog_row_image=FULL)");
            }
        }
        if (mariaDb) {
            String compress = first(c, "SELECT @@GLOBAL.log_bin_compress");
            if ("1".equals(compress) || "ON".equalsIgnoreCase(compress)) {
                problems.add("log_bin_compress is ON, needs OFF (the binlog reader cannot read compressed events)");
            }
        }
        Set<String> privileges = new HashSet<>();
        try (PreparedStatement ps = c.prepareStatement("SELECT PRIVILEGE_TYPE FROM information_schema.USER_PRIVILEGES");
             ResultSet rs = ps.executeQuery()) {
            while (rs.next()) {
                privileges.add(rs.getString(1).toUpperCase(Locale.ROOT));
            }
        }
        if (!privileges.contains("REPLICATION SLAVE")) {
            problems.add("the user lacks REPLICATION SLAVE (GRANT REPLICATION SLAVE ON *.* TO <user>)");
        }
        if (!privileges.contains("REPLICATION CLIENT") && !privileges.contains("BINLOG MONITOR")) {
            problems.add("the user lacks REPLICATION CLIENT (GRANT REPLICATION CLIENT ON *.* TO <user>; MariaDB 10.5+:"
                    + " BINLOG MONITOR)");
        }
        if (!problems.isEmpty()) {
            throw new MqdbException(store.describeTarget() + ": capture: log on MariaDB/MySQL: "
                    + String.join("; ", problems));
        }
        try (PreparedStatement ps = c.prepareStatement(createState())) {
            ps.execute();
        }
        try (PreparedStatement ps = c.prepareStatement(createOrigin())) {
            ps.execute();
        }
        checked = true;
    }

    private static String first(Connection c, String sql, Object... params) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement(sql)) {
            for (int i = 0; i < params.length; i++) {
                ps.setObject(i + 1, params[i]);
            }
            try (ResultSet rs = ps.executeQuery()) {
                return rs.next() ? rs.getString(1) : null;
            }
        }
    }

    // ------------------------------------------------------------------ enable, start, current

    @Override
    public void enable(TableId table) {
        store.describeTable(table).orElseThrow(() -> new MqdbException(store.describeTarget()
                + ": cannot capture " + table + ": no such table"));
        store.withConnection("enable log capture of " + table, c -> {
            checkServer(c);
            ensureState(c);
            return null;
        });
        enabled.put(store.sqlSchema(table) + "\u0000" + table.table(), table);
    }

    /** Records the current position as acknowledged when this server id has no row yet: the load starts there. */
    private void ensureState(Connection c) throws SQLException {
        if (first(c, "SELECT acked FROM " + STATE_TABLE + " WHERE server_id = ?", serverId) != null) {
            return;
        }
        String at = position(c).encode().token();
        try (PreparedStatement ps = c.prepareStatement("INSERT IGNORE INTO " + STATE_TABLE
                + " (server_id, acked, resume) VALUES (?, ?, ?)")) {
            ps.setLong(1, serverId);
            ps.setString(2, at);
            ps.setString(3, at);
            if (ps.executeUpdate() > 0) {
                LOG.info("{}: binlog capture (server id {}) starts at {}", store.describeTarget(), serverId, at);
            }
        }
    }

    /**
     * The binlog position between the transactions committed so far and those to come. MariaDB: the snapshot's
     * binlog position, which InnoDB keeps consistent with what the snapshot sees, as a GTID state.
     */
    private BinlogDecoder.Pos position(Connection c) throws SQLException {
        if (Boolean.TRUE.equals(mariaDb)) {
            String file;
            long offset;
            boolean auto = c.getAutoCommit();
            c.setAutoCommit(false);
            try {
                try (PreparedStatement ps = c.prepareStatement("START TRANSACTION WITH CONSISTENT SNAPSHOT")) {
                    ps.execute();
                }
                file = status(c, "binlog_snapshot_file");
                offset = Long.parseLong(status(c, "binlog_snapshot_position"));
                c.commit();
            } finally {
                c.setAutoCommit(auto);
            }
            String gtid = first(c, "SELECT BINLOG_GTID_POS(?, ?)", file, offset);
            if (gtid == null) { // never seen; "" would mean every binlog from the first
                throw new RetriableException(store.describeTarget() + ": BINLOG_GTID_POS(" + file + ", " + offset
                        + ") gave no GTID state");
            }
            return new BinlogDecoder.Pos('g', gtid, null, 0);
        }
        boolean v84 = false;
        try (PreparedStatement ps = c.prepareStatement("SHOW MASTER STATUS"); ResultSet rs = ps.executeQuery()) {
            if (rs.next()) {
                return new BinlogDecoder.Pos('f', rs.getString(1) + "@" + rs.getLong(2), null, 0);
            }
        } catch (SQLException e) {
            v84 = true; // MySQL 8.4 renamed it
        }
        if (v84) {
            try (PreparedStatement ps = c.prepareStatement("SHOW BINARY LOG STATUS"); ResultSet rs = ps.executeQuery()) {
                if (rs.next()) {
                    return new BinlogDecoder.Pos('f', rs.getString(1) + "@" + rs.getLong(2), null, 0);
                }
            }
        }
        throw new MqdbException(store.describeTarget() + ": capture: log: the server reports no binlog position"
                + " (is log_bin on?)");
    }

    private static String status(Connection c, String name) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("SHOW STATUS LIKE '" + name + "'");
             ResultSet rs = ps.executeQuery()) {
            if (!rs.next()) {
                throw new SQLException("status variable " + name + " missing");
            }
            return rs.getString(2);
        }
    }

    /** The acknowledged position of this server id; recorded now when there is none yet. */
    @Override
    public CapturePosition start() {
        return store.withConnection("read binlog capture state", c -> {
            checkServer(c);
            ensureState(c);
            readState(c);
            return confirmed;
        });
    }

    private void readState(Connection c) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("SELECT acked, resume FROM " + STATE_TABLE
                + " WHERE server_id = ?")) {
            ps.setLong(1, serverId);
            try (ResultSet rs = ps.executeQuery()) {
                if (rs.next()) {
                    confirmed = new CapturePosition(rs.getString(1));
                    resume = new CapturePosition(rs.getString(2));
                }
            }
        }
    }

    @Override
    public CapturePosition current() {
        return store.withConnection("read the binlog position", c -> {
            checkServer(c);
            return position(c).encode();
        });
    }

    // ------------------------------------------------------------------ poll

    @Override
    public List<CapturedChange> poll(CapturePosition after, int maxChanges, Duration wait)
            throws InterruptedException {
        BinlogDecoder.Pos.parse(after);
        int max = Math.max(1, maxChanges);
        long deadline = System.nanoTime() + wait.toNanos();
        try {
            if (stream == null || !after.equals(lastReturned)) {
                restartStream(after);
            }
            return read(after, max, deadline);
        } catch (RuntimeException e) {
            closeStream(); // the decoder may be half-way through an event: the next poll starts afresh
            throw e;
        }
    }

    private List<CapturedChange> read(CapturePosition after, int max, long deadline) throws InterruptedException {
        while (true) {
            Stream s = stream;
            Event e;
            while (decoder.ready() <= max && (e = s.events.poll()) != null) {
                decoder.accept(e);
            }
            if (decoder.ready() > 0) {
                List<CapturedChange> out = decoder.take(max);
                awaitVisible(decoder.takenFile(), decoder.takenEnd());
                lastReturned = out.get(out.size() - 1).position();
                return out;
            }
            if (s.ended && s.events.isEmpty()) {
                Exception failure = s.failure;
                closeStream();
                if (failure instanceof ServerException se && se.getErrorCode() == 1236) {
                    MqdbException m = purgedError(after, se.getMessage());
                    m.initCause(se);
                    throw m;
                }
                throw new RetriableException(store.describeTarget() + ": binlog stream (server id " + serverId
                        + ") ended: " + (failure == null ? "closed by the server" : failure.getMessage()), failure);
            }
            idleDuties();
            long left = deadline - System.nanoTime();
            if (left <= 0) {
                return List.of();
            }
            e = s.events.poll(Math.min(left, 100_000_000L), TimeUnit.NANOSECONDS);
            if (e != null) {
                decoder.accept(e);
            }
        }
    }

    private MqdbException purgedError(CapturePosition after, String why) {
        return new MqdbException(store.describeTarget() + ": capture: log cannot resume from " + after + ": the server"
                + " no longer has that part of the binlog (" + why + "; see binlog_expire_logs_seconds). Stop the node,"
                + " `mqdb uninstall` the capture and start with a fresh data dir, so that the initial load runs again");
    }

    /**
     * Whether resuming from a GTID state would skip purged transactions: MariaDB itself refuses a state older than its
     * binlogs in the domains the state names, but starts a domain the state does not name at the oldest binlog.
     *
     * @param requested the state to resume from
     * @param oldest the GTID state at the start of the oldest binlog file
     * @return the first GTID of {@code oldest} whose domain's earlier transactions the stream would miss, or null
     */
    static String purged(String requested, String oldest) {
        Map<Long, Long> want = new java.util.HashMap<>();
        for (String g : requested.split(",")) {
            if (!g.isBlank()) {
                String[] f = g.trim().split("-");
                want.put(Long.parseLong(f[0]), Long.parseLong(f[2]));
            }
        }
        for (String g : oldest.split(",")) {
            if (g.isBlank()) {
                continue;
            }
            String[] f = g.trim().split("-");
            Long have = want.get(Long.parseLong(f[0]));
            if (have == null || have < Long.parseLong(f[2])) {
                return g.trim();
            }
        }
        return null;
    }

    /**
     * Waits until the transactions of the changes about to be returned are visible to readers of the store. MariaDB
     * writes a transaction to the binlog, and may send it to replicas, just before InnoDB commits it; the runtime
     * re-reads some captured keys from the store (two-way tables), which must not see the row from before. A
     * consistent snapshot's binlog position ({@code binlog_snapshot_file}/{@code _position}) is past every
     * transaction it sees: once it is past the last change's, all are visible. Usually at once; MariaDB only.
     */
    private void awaitVisible(String file, long end) throws InterruptedException {
        if (file == null || end <= 0 || !Boolean.TRUE.equals(mariaDb)) {
            return;
        }
        long deadline = System.nanoTime() + 10_000_000_000L;
        while (true) {
            String[] at = store.withConnection("read the binlog snapshot position", c -> {
                boolean auto = c.getAutoCommit();
                c.setAutoCommit(false);
                try {
                    try (PreparedStatement ps = c.prepareStatement("START TRANSACTION WITH CONSISTENT SNAPSHOT")) {
                        ps.execute();
                    }
                    String[] r = {status(c, "binlog_snapshot_file"), status(c, "binlog_snapshot_position")};
                    c.commit();
                    return r;
                } finally {
                    c.setAutoCommit(auto);
                }
            });
            int cmp = at[0].compareTo(file);
            if (cmp > 0 || cmp == 0 && Long.parseLong(at[1]) >= end) {
                return;
            }
            if (System.nanoTime() > deadline) {
                throw new RetriableException(store.describeTarget() + ": a transaction ending at " + file + ":" + end
                        + " in the binlog is not visible after 10 s (the snapshot is at " + at[0] + ":" + at[1] + ")");
            }
            Thread.sleep(1);
        }
    }

    /** Opens a stream that delivers what follows {@code after}; from its quiet successor when it is the acked one. */
    private void restartStream(CapturePosition after) {
        closeStream();
        if (confirmed == null || !checked) {
            store.withConnection("read binlog capture state", c -> {
                checkServer(c); // also learns the url's database, where the echo marker table is
                if (confirmed == null) {
                    readState(c);
                }
                return null;
            });
        }
        CapturePosition from = after.equals(confirmed) && resume != null ? resume : after;
        BinlogDecoder.Pos pos = BinlogDecoder.Pos.parse(from);
        if (pos.mode() == 'g') {
            String oldest = store.withConnection("read the oldest binlog's GTID state", c -> {
                String file = first(c, "SHOW BINARY LOGS");
                return file == null ? null : first(c, "SELECT BINLOG_GTID_POS(?, 4)", file);
            });
            String missing = oldest == null ? null : purged(pos.coords(), oldest);
            if (missing != null) {
                throw purgedError(after, "the oldest binlog starts at " + oldest + ", after " + missing);
            }
        }
        BinaryLogClient client = new BinaryLogClient(host, port, user, password);
        client.setServerId(serverId);
        client.setKeepAlive(false); // no thread of the library's own; a dead socket is found by its read timeout
        client.setHeartbeatInterval(heartbeatMs);
        client.setSSLMode(sslMode);
        String name = "mqdb-binlog-" + store.describeTarget();
        client.setThreadFactory(r -> {
            Thread t = new Thread(r, name + "-connect");
            t.setDaemon(true);
            return t;
        });
        EventDeserializer deserializer = new EventDeserializer();
        deserializer.setCompatibilityMode(EventDeserializer.CompatibilityMode.DATE_AND_TIME_AS_LONG_MICRO,
                EventDeserializer.CompatibilityMode.CHAR_AND_BINARY_AS_BYTE_ARRAY);
        client.setEventDeserializer(deserializer);
        if (pos.mode() == 'g') {
            client.setGtidSet(pos.coords());
        } else {
            client.setBinlogFilename(pos.file());
            client.setBinlogPosition(pos.offset());
        }
        Stream s = new Stream(client, name, (int) Math.min(Integer.MAX_VALUE, 3 * heartbeatMs + 10_000));
        decoder = new BinlogDecoder(new Resolver(), pos, store.describeTarget());
        stream = s;
        lastReturned = after;
        s.thread.start();
        if (announced) {
            LOG.debug("{}: binlog stream (server id {}) from {}", store.describeTarget(), serverId, from);
        } else {
            announced = true;
            LOG.info("{}: reading the binlog of {}:{} as replica server id {} from {}", store.describeTarget(), host,
                    port, serverId, from);
        }
    }

    /**
     * One binlog connection and the thread reading it into a bounded queue. It is stopped by closing its socket
     * (which this class makes, so the library's {@code disconnect()}, which waits for the reader and clears the
     * caller's interrupt flag, is never called from the capture thread) and interrupting the reader, in case it
     * waits for room in the queue.
     */
    private static final class Stream implements BinaryLogClient.EventListener, BinaryLogClient.LifecycleListener {
        final BinaryLogClient client;
        final BlockingQueue<Event> events = new ArrayBlockingQueue<>(QUEUE_EVENTS);
        final Thread thread;
        volatile Socket socket;
        volatile Exception failure;
        volatile boolean ended;

        Stream(BinaryLogClient client, String name, int readTimeoutMs) {
            this.client = client;
            client.setSocketFactory(() -> {
                if (failure != null) {
                    throw new java.net.SocketException("stream closed by mqdb");
                }
                Socket s = new Socket();
                s.setSoTimeout(readTimeoutMs); // the server sends heartbeats: silence means a lost connection
                s.setTcpNoDelay(true);
                socket = s;
                return s;
            });
            client.registerEventListener(this);
            client.registerLifecycleListener(this);
            this.thread = new Thread(this::run, name);
            thread.setDaemon(true);
        }

        private void run() {
            try {
                client.connect(); // reads until the stream ends
            } catch (IOException | RuntimeException e) {
                if (failure == null) {
                    failure = e;
                }
            } finally {
                ended = true;
            }
        }

        @Override
        public void onEvent(Event event) {
            if (failure != null) {
                closeSocket(); // stopped while it connected
                return; // after a failure nothing may reach the decoder: the stream is reopened before it
            }
            try {
                events.put(event);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt(); // stopping: the socket is closed, connect() returns
                failure = e;
            }
        }

        @Override
        public void onConnect(BinaryLogClient c) {
            if (failure != null) {
                closeSocket(); // stopped while it connected
            }
        }

        @Override
        public void onCommunicationFailure(BinaryLogClient c, Exception ex) {
            if (failure == null) {
                failure = ex;
            }
        }

        /** The library would skip an event it cannot read: end the stream instead, so nothing is lost. */
        @Override
        public void onEventDeserializationFailure(BinaryLogClient c, Exception ex) {
            if (failure == null) {
                failure = ex;
            }
            closeSocket();
        }

        @Override
        public void onDisconnect(BinaryLogClient c) {
        }

        void closeSocket() {
            Socket s = socket;
            if (s != null) {
                try {
                    s.close();
                } catch (IOException e) {
                    LOG.debug("closing a binlog connection: {}", e.getMessage());
                }
            }
        }

        /** Ends the reader: closes the socket, wakes the reader if it waits for room in the queue. */
        void stop() {
            if (failure == null) {
                failure = new IOException("stream closed by mqdb");
            }
            closeSocket();
            thread.interrupt();
        }
    }

    /** Resolves table maps to the enabled tables and their column names. */
    private final class Resolver implements BinlogDecoder.Tables {
        @Override
        public BinlogDecoder.Mapped resolve(TableMapEventData map) {
            TableId id = enabled.get(map.getDatabase() + "\u0000" + map.getTable());
            if (id == null) {
                return null;
            }
            TableMapEventMetadata meta = map.getEventMetadata();
            List<String> names = meta != null && meta.getColumnNames() != null && !meta.getColumnNames().isEmpty()
                    ? meta.getColumnNames() : columnNames(map.getDatabase(), map.getTable());
            int logged = map.getColumnTypes().length;
            if (names.size() > logged) {
                names = names.subList(0, logged); // columns added at the end since the event was logged
            } else if (names.size() < logged) {
                throw new RetriableException(store.describeTarget() + ": " + id + ": the binlog has " + logged
                        + " columns, the table now " + names.size() + " (a column dropped since; without"
                        + " binlog_row_metadata = FULL capture: log cannot tell which)");
            }
            JdbcTable t = store.table(id);
            for (String n : names) {
                if (TableId.isIdentifier(n) && t.schema().column(n).isEmpty()) {
                    t = store.describeTable(id).orElse(t); // a column added since it was described
                    break;
                }
            }
            return new BinlogDecoder.Mapped(t, List.copyOf(names), labels(map.getDatabase(), map.getTable(), t));
        }

        /** The labels of the table's ENUM and SET columns, from their definition. */
        private Map<String, List<String>> labels(String db, String table, JdbcTable t) {
            if (t.columns().stream().map(col -> t.sqlType(col.name()))
                    .noneMatch(type -> type.startsWith("enum") || type.startsWith("set"))) {
                return Map.of();
            }
            return store.withConnection("read the ENUM and SET labels of " + db + "." + table, c -> {
                Map<String, List<String>> out = new java.util.HashMap<>();
                try (PreparedStatement ps = c.prepareStatement("SELECT COLUMN_NAME, COLUMN_TYPE FROM"
                        + " information_schema.COLUMNS WHERE TABLE_SCHEMA = ? AND TABLE_NAME = ?"
                        + " AND DATA_TYPE IN ('enum', 'set')")) {
                    ps.setString(1, db);
                    ps.setString(2, table);
                    try (ResultSet rs = ps.executeQuery()) {
                        while (rs.next()) {
                            out.put(rs.getString(1), quoted(rs.getString(2)));
                        }
                    }
                }
                return out;
            });
        }

        @Override
        public boolean isOriginMarker(String db, String table) {
            return ORIGIN_TABLE.equals(table) && db.equals(database);
        }

        @Override
        public boolean isOwnState(String db, String table) {
            return STATE_TABLE.equals(table) && db.equals(database);
        }

        @Override
        public boolean isCaptured(String db, String table) {
            return enabled.containsKey(db + "\u0000" + table);
        }

        private List<String> columnNames(String db, String table) {
            return store.withConnection("read the columns of " + db + "." + table, c -> {
                List<String> out = new ArrayList<>();
                try (PreparedStatement ps = c.prepareStatement("SELECT COLUMN_NAME FROM information_schema.COLUMNS"
                        + " WHERE TABLE_SCHEMA = ? AND TABLE_NAME = ? ORDER BY ORDINAL_POSITION")) {
                    ps.setString(1, db);
                    ps.setString(2, table);
                    try (ResultSet rs = ps.executeQuery()) {
                        while (rs.next()) {
                            out.add(rs.getString(1));
                        }
                    }
                }
                return out;
            });
        }
    }

    /** The quoted strings of a definition such as {@code enum('a','it''s')}, unquoted. */
    static List<String> quoted(String definition) {
        List<String> out = new ArrayList<>();
        StringBuilder cur = null;
        for (int i = 0; i < definition.length(); i++) {
            char ch = definition.charAt(i);
            if (cur == null) {
                if (ch == '\'') {
                    cur = new StringBuilder();
                }
            } else if (ch == '\'' && i + 1 < definition.length() && definition.charAt(i + 1) == '\'') {
                cur.append('\'');
                i++;
            } else if (ch == '\'') {
                out.add(cur.toString());
                cur = null;
            } else {
                cur.append(ch);
            }
        }
        return out;
    }

    /**
     * When everything returned is acknowledged and the stream is between transactions: saves the position after the
     * transactions since that carried no change as where a restart from the acknowledged position resumes.
     */
    private void idleDuties() {
        BinlogDecoder.Pos quiet = decoder.quiet();
        long now = System.nanoTime();
        if (quiet == null || confirmed == null || !confirmed.equals(lastReturned) || !decoder.idle()
                || now - lastQuietSaveNanos < heartbeatMs * 1_000_000L) {
            return;
        }
        CapturePosition q = quiet.encode();
        if (q.equals(resume)) {
            return;
        }
        lastQuietSaveNanos = now;
        CapturePosition acked = confirmed;
        int n = store.withConnection("save the binlog position", c -> {
            try (PreparedStatement ps = c.prepareStatement("UPDATE " + STATE_TABLE + " SET resume = ?,"
                    + " updated = CURRENT_TIMESTAMP(6) WHERE server_id = ? AND acked = ?")) {
                ps.setString(1, q.token());
                ps.setLong(2, serverId);
                ps.setString(3, acked.token());
                return ps.executeUpdate();
            }
        });
        if (n > 0) {
            resume = q;
        }
    }

    // ------------------------------------------------------------------ acknowledge

    @Override
    public void acknowledge(CapturePosition upTo) {
        BinlogDecoder.Pos.parse(upTo);
        if (upTo.equals(confirmed)) {
            return;
        }
        store.withConnection("acknowledge binlog position", c -> {
            try (PreparedStatement ps = c.prepareStatement("INSERT INTO " + STATE_TABLE
                    + " (server_id, acked, resume) VALUES (?, ?, ?) ON DUPLICATE KEY UPDATE acked = VALUES(acked),"
                    + " resume = VALUES(resume), updated = CURRENT_TIMESTAMP(6)")) {
                ps.setLong(1, serverId);
                ps.setString(2, upTo.token());
                ps.setString(3, upTo.token());
                ps.executeUpdate();
            }
            return null;
        });
        confirmed = upTo;
        resume = upTo;
    }

    // ------------------------------------------------------------------ close, uninstall

    private void closeStream() {
        Stream s = stream;
        stream = null;
        decoder = null;
        lastReturned = null;
        if (s == null) {
            return;
        }
        s.stop();
        try {
            s.thread.join(5_000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        if (s.thread.isAlive()) {
            LOG.warn("{}: the binlog reader {} did not stop within 5 s", store.describeTarget(), s.thread.getName());
        }
    }

    @Override
    public void close() {
        if (closed) {
            return;
        }
        closed = true;
        closeStream();
    }

    /** @return the tables of {@code capture: log} that exist in the url's database, as installed() lines */
    static List<String> installed(Connection c) throws SQLException {
        List<String> out = new ArrayList<>();
        for (String t : List.of(STATE_TABLE, ORIGIN_TABLE)) {
            if (first(c, "SELECT 1 FROM information_schema.TABLES WHERE TABLE_SCHEMA = DATABASE()"
                    + " AND TABLE_NAME = ?", t) != null) {
                out.add("table " + t + " (capture: log)");
            }
        }
        return out;
    }

    /** Drops the state and marker tables (the positions of every binlog server id of this database); idempotent. */
    static void uninstall(Connection c) throws SQLException {
        if (first(c, "SELECT DATABASE()") == null) {
            return;
        }
        for (String t : List.of(STATE_TABLE, ORIGIN_TABLE)) {
            try (PreparedStatement ps = c.prepareStatement("DROP TABLE IF EXISTS " + t)) {
                ps.execute();
            }
        }
    }
}
