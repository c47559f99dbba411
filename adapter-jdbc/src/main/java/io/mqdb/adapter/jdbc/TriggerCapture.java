package io.mqdb.adapter.jdbc;

import io.mqdb.spi.CapturePosition;
import io.mqdb.spi.CapturedChange;
import io.mqdb.spi.ChangeCapture;
import io.mqdb.spi.Column;
import io.mqdb.spi.Key;
import io.mqdb.spi.MqdbException;
import io.mqdb.spi.Op;
import io.mqdb.spi.Row;
import io.mqdb.spi.TableId;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Change capture with database triggers: each enabled table gets row triggers that append (table, op, key) to a
 * change-log table; {@link #poll} reads the log in order and then the rows by key, so an upsert publishes the latest
 * committed state of the row and a key that no longer exists publishes a delete.
 *
 * <h2>No gaps</h2>
 * Change-log ids are handed out before commit, so id 10 may become visible after id 11.
 * <ul>
 *   <li>PostgreSQL ({@link TriggerSupport.Ordering#TRANSACTION_ID}): each log row records its transaction id; a row is
 *   read only once its transaction id is below the xmin of the reading snapshot, when every transaction that could
 *   add rows before it has ended. Rows are ordered by (transaction id, id); the position is that pair,
 *   {@code x:XID:ID}. Exact: nothing is waited for beyond the oldest running writer.</li>
 *   <li>Elsewhere ({@link TriggerSupport.Ordering#GAP_TIMEOUT}): the position is a watermark W (every id up to W is
 *   handled) plus the ids above W already published, {@code g:W:ranges}. A missing id holds the watermark back until
 *   it appears or {@code gap-timeout} has passed since it was first seen, when it is taken for a rolled-back id.</li>
 * </ul>
 * <h2>Installing</h2>
 * {@link #enable} installs a table's triggers all or not at all: in one transaction where DDL is transactional
 * (PostgreSQL, SQLite); on MariaDB/MySQL, where each {@code CREATE TRIGGER} commits, one at a time, dropping those it
 * made when a later one fails.
 *
 * <p>Because the published row is read at poll time, publishing order between transactions does not matter for the
 * final state: the last event published for a key always reflects its latest committed state.
 */
final class TriggerCapture implements ChangeCapture {
    private static final Logger LOG = LoggerFactory.getLogger(TriggerCapture.class);
    private final JdbcStore store;
    private final TriggerSupport support;
    private final String changelogName;
    /** The sleep after an empty poll; capture thread only. */
    private final IdleWait idle;
    private final long gapTimeoutNanos;
    private volatile String changelog;
    /** Gap start id to the time it was first seen (nanoTime); capture thread only. */
    private final TreeMap<Long, Long> gapSince = new TreeMap<>();

    TriggerCapture(JdbcStore store, TriggerSupport support, String changelogName, Duration pollInterval,
                   Duration gapTimeout) {
        this.store = store;
        this.support = support;
        this.changelogName = changelogName;
        this.idle = new IdleWait(Math.max(1, pollInterval.toMillis()));
        this.gapTimeoutNanos = gapTimeout.toNanos();
    }

    String changelog() {
        String cl = changelog;
        if (cl == null) {
            cl = store.withConnection("resolve change log", c -> support.changelog(c, changelogName));
            changelog = cl;
        }
        return cl;
    }

    /** Installs the change log when missing; idempotent. */
    void installChangelog() {
        store.execute("create change log", support.createChangelog(changelog()));
    }

    @Override
    public void enable(TableId table) {
        JdbcTable t = store.describeTable(table).orElseThrow(() -> new MqdbException(store.describeTarget()
                + ": cannot capture " + table + ": no such table"));
        for (Column k : t.schema().keyColumns()) {
            if (!KeyText.capturable(k.type())) {
                throw new MqdbException(store.describeTarget() + ": cannot capture " + table + ": key column "
                        + k.name() + " has type " + k.type() + ", which the capture triggers cannot record");
            }
        }
        installChangelog();
        List<String> creates = support.createTriggers(t, table, changelog());
        if (support.transactionalDdl()) {
            store.execute("install capture triggers on " + table, creates);
        } else {
            installOneByOne(table, creates, support.dropTriggers(t, table));
        }
    }

    /**
     * All or nothing without transactional DDL: makes the triggers one at a time; when one fails, drops again those
     * this call added (a trigger that existed before, from an earlier enable, stays), then rethrows.
     */
    private void installOneByOne(TableId table, List<String> creates, List<String> drops) {
        String what = "install capture triggers on " + table;
        Set<String> before = new HashSet<>();
        for (TriggerSupport.Installed i : store.withConnection(what, c -> support.installed(c, changelog()))) {
            before.add(i.drop());
        }
        int made = 0;
        try {
            for (String create : creates) {
                store.execute(what, List.of(create));
                made++;
            }
        } catch (RuntimeException e) {
            for (int i = made - 1; i >= 0; i--) {
                if (!before.contains(drops.get(i))) {
                    try {
                        store.execute("undo " + what, List.of(drops.get(i)));
                    } catch (RuntimeException undo) {
                        e.addSuppressed(undo);
                    }
                }
            }
            LOG.warn("{}: installing the capture triggers of {} failed after {} of {}; dropped the ones made: {}",
                    store.describeTarget(), table, made, creates.size(), e.getMessage());
            throw e;
        }
    }

    @Override
    public CapturePosition start() {
        // The change log exists from the start, even while no published table exists yet: polls read it, and a
        // missing one failed the publisher ("relation mqdb_changelog does not exist") until a table appeared.
        installChangelog();
        if (support.ordering() == TriggerSupport.Ordering.TRANSACTION_ID) {
            return new CapturePosition("x:0:0");
        }
        long w = store.withConnection("read change log", c -> {
            try (PreparedStatement ps = c.prepareStatement("SELECT MAX(id) FROM " + changelog()
                    + " WHERE op = 'A'"); ResultSet rs = ps.executeQuery()) {
                rs.next();
                return rs.getLong(1);
            }
        });
        return new CapturePosition("g:" + w);
    }

    @Override
    public CapturePosition current() {
        installChangelog();
        if (support.ordering() == TriggerSupport.Ordering.TRANSACTION_ID) {
            long xmin = store.withConnection("read snapshot", c -> {
                try (PreparedStatement ps = c.prepareStatement(
                        "SELECT pg_snapshot_xmin(pg_current_snapshot())::text"); ResultSet rs = ps.executeQuery()) {
                    rs.next();
                    return Long.parseLong(rs.getString(1));
                }
            });
            return new CapturePosition("x:" + (xmin - 1) + ":" + Long.MAX_VALUE);
        }
        long w0 = Long.parseLong(start().token().substring(2));
        return store.withConnection("read change log", c -> {
            long w = w0;
            IdRanges seen = new IdRanges();
            try (PreparedStatement ps = c.prepareStatement("SELECT id FROM " + changelog()
                    + " WHERE id > ? ORDER BY id")) {
                ps.setLong(1, w0);
                try (ResultSet rs = ps.executeQuery()) {
                    boolean gap = false;
                    while (rs.next()) {
                        long id = rs.getLong(1);
                        if (!gap && id == w + 1) {
                            w = id;
                        } else {
                            gap = true;
                            seen.add(id);
                        }
                    }
                }
            }
            return gapPosition(w, seen);
        });
    }

    private static CapturePosition gapPosition(long w, IdRanges seen) {
        return new CapturePosition(seen.isEmpty() ? "g:" + w : "g:" + w + ":" + seen.encode());
    }

    @Override
    public List<CapturedChange> poll(CapturePosition after, int maxChanges, Duration wait)
            throws InterruptedException {
        long deadline = System.nanoTime() + wait.toNanos();
        while (true) {
            List<CapturedChange> out = pollOnce(after, Math.max(1, maxChanges));
            if (!out.isEmpty()) {
                idle.busy();
                return out;
            }
            long left = deadline - System.nanoTime();
            if (left <= 0) {
                return out;
            }
            idle.sleep(left);
        }
    }

    /** One change-log entry and the position just after it. */
    private record Entry(TableId table, String pk, CapturePosition position) {
    }

    private List<CapturedChange> pollOnce(CapturePosition after, int maxChanges) {
        String token = after.token();
        List<Entry> entries = token.startsWith("x:") ? readByXid(token, maxChanges) : readByGap(token, maxChanges);
        if (entries.isEmpty()) {
            return List.of();
        }
        // the last entry per key wins: the row is read once, as it is now
        Map<String, Entry> last = new LinkedHashMap<>();
        for (Entry e : entries) {
            String k = e.table() + "\u0000" + e.pk();
            last.remove(k);
            last.put(k, e);
        }
        List<Entry> kept = new ArrayList<>(last.values()); // in the order of each key's last entry
        return store.withConnection("read captured rows", c -> readChanges(c, kept));
    }

    private List<CapturedChange> readChanges(Connection c, List<Entry> kept) throws SQLException {
        Map<TableId, List<Key>> keysByTable = new LinkedHashMap<>();
        Map<Entry, Key> keyOf = new HashMap<>();
        Map<TableId, JdbcTable> tables = new HashMap<>();
        for (Entry e : kept) {
            JdbcTable t = tables.computeIfAbsent(e.table(), store::table);
            Key k = KeyText.parse(e.pk(), t.schema());
            keyOf.put(e, k);
            keysByTable.computeIfAbsent(e.table(), x -> new ArrayList<>()).add(k);
        }
        Map<TableId, Map<Key, Row>> rows = new HashMap<>();
        for (Map.Entry<TableId, List<Key>> e : keysByTable.entrySet()) {
            rows.put(e.getKey(), store.readRows(c, tables.get(e.getKey()), e.getValue()));
        }
        List<CapturedChange> out = new ArrayList<>(kept.size());
        for (Entry e : kept) {
            Key k = keyOf.get(e);
            Row row = rows.get(e.table()).get(k);
            out.add(new CapturedChange(e.table(), row == null ? Op.DELETE : Op.UPSERT, k, row, e.position()));
        }
        return out;
    }

    private List<Entry> readByXid(String token, int maxChanges) {
        String[] p = token.split(":");
        long xid = Long.parseLong(p[1]);
        long id = Long.parseLong(p[2]);
        return store.withConnection("read change log", c -> {
            List<Entry> out = new ArrayList<>();
            // the text column needs its own name: a bare "xid" in ORDER BY would sort by it, as text
            try (PreparedStatement ps = c.prepareStatement("SELECT id, tbl, pk, xid::text AS xid_text FROM " + changelog()
                    + " WHERE (xid, id) > (CAST(CAST(? AS text) AS xid8), ?)"
                    + " AND xid < pg_snapshot_xmin(pg_current_snapshot()) ORDER BY xid, id LIMIT ?")) {
                ps.setString(1, Long.toString(xid));
                ps.setLong(2, id);
                ps.setInt(3, maxChanges);
                try (ResultSet rs = ps.executeQuery()) {
                    while (rs.next()) {
                        out.add(new Entry(TableId.parse(rs.getString(2)), rs.getString(3),
                                new CapturePosition("x:" + rs.getString(4) + ":" + rs.getLong(1))));
                    }
                }
            }
            return out;
        });
    }

    private List<Entry> readByGap(String token, int maxChanges) {
        String[] p = token.split(":", 3);
        long w = Long.parseLong(p[1]);
        IdRanges published = IdRanges.decode(p.length > 2 ? p[2] : "");
        long limit = maxChanges + published.size();
        record Log(long id, String tbl, String op, String pk) {
        }
        List<Log> logs = store.withConnection("read change log", c -> {
            List<Log> out = new ArrayList<>();
            try (PreparedStatement ps = c.prepareStatement("SELECT id, tbl, op, pk FROM " + changelog()
                    + " WHERE id > ? ORDER BY id LIMIT ?")) {
                ps.setLong(1, w);
                ps.setLong(2, Math.min(limit, Integer.MAX_VALUE));
                try (ResultSet rs = ps.executeQuery()) {
                    while (rs.next()) {
                        out.add(new Log(rs.getLong(1), rs.getString(2), rs.getString(3), rs.getString(4)));
                    }
                }
            }
            return out;
        });
        long now = System.nanoTime();
        long cur = w;
        boolean blocked = false;
        IdRanges seen = published.copy();
        List<Entry> out = new ArrayList<>();
        for (Log l : logs) {
            if (!blocked && l.id() > cur + 1) {
                long since = gapSince.computeIfAbsent(cur + 1, x -> now);
                if (now - since >= gapTimeoutNanos) {
                    cur = l.id() - 1; // taken for rolled back
                } else {
                    blocked = true;
                }
            }
            boolean already = published.contains(l.id()) || "A".equals(l.op());
            if (blocked) {
                seen.add(l.id());
            } else {
                cur = l.id();
                seen.removeUpTo(cur);
            }
            if (!already && out.size() < maxChanges) {
                out.add(new Entry(TableId.parse(l.tbl()), l.pk(), gapPosition(cur, seen.copy())));
            }
        }
        gapSince.headMap(cur, true).clear();
        return out;
    }

    @Override
    public void acknowledge(CapturePosition upTo) {
        String token = upTo.token();
        if (token.startsWith("x:")) {
            String[] p = token.split(":");
            store.withConnection("prune change log", c -> {
                try (PreparedStatement ps = c.prepareStatement("DELETE FROM " + changelog()
                        + " WHERE (xid, id) <= (CAST(CAST(? AS text) AS xid8), ?)")) {
                    ps.setString(1, p[1]);
                    ps.setLong(2, Long.parseLong(p[2]));
                    return ps.executeUpdate();
                }
            });
            return;
        }
        long w = Long.parseLong(token.split(":", 3)[1]);
        // keep the highest acknowledged row as a marker ('A'), so start() knows where acknowledged changes end
        store.inTransaction("prune change log", c -> {
            long marker;
            try (PreparedStatement ps = c.prepareStatement("SELECT MAX(id) FROM " + changelog() + " WHERE id <= ?")) {
                ps.setLong(1, w);
                try (ResultSet rs = ps.executeQuery()) {
                    rs.next();
                    marker = rs.getLong(1);
                    if (rs.wasNull()) {
                        return null;
                    }
                }
            }
            try (PreparedStatement ps = c.prepareStatement("UPDATE " + changelog() + " SET op = 'A' WHERE id = ?")) {
                ps.setLong(1, marker);
                ps.executeUpdate();
            }
            try (PreparedStatement ps = c.prepareStatement("DELETE FROM " + changelog() + " WHERE id < ?")) {
                ps.setLong(1, marker);
                ps.executeUpdate();
            }
            return null;
        });
    }
}
