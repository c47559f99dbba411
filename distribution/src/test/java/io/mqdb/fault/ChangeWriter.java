package io.mqdb.fault;

import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Random;
import java.util.Set;
import java.util.concurrent.Callable;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.LockSupport;

/**
 * A plain SQL client writing a known sequence of changes to one PostgreSQL table (from a seeded {@link Random}, so a
 * failing run can be replayed): inserts, updates and deletes over a fixed key space. Every update increments the
 * row's {@code counter} and {@code version}, so a change applied twice or lost shows in the final values.
 *
 * <p>Table: {@code (id bigint primary key, val text, counter bigint not null, version bigint not null)}.
 */
final class ChangeWriter implements Callable<Long> {
    private final String url;
    private final String user;
    private final String password;
    private final String table;
    private final Random random;
    private final long firstKey;
    private final long keySpace;
    private final long maxChanges;
    private final int changesPerCommit;
    private final int perSecond;
    private final boolean updatesOnly;
    private final String tag;
    private final Set<Long> live = new HashSet<>();
    private final List<Long> liveList = new ArrayList<>();
    final AtomicLong done = new AtomicLong();
    final AtomicLong inserts = new AtomicLong();
    final AtomicLong updates = new AtomicLong();
    final AtomicLong deletes = new AtomicLong();
    volatile boolean stop;

    /**
     * @param url the database
     * @param table {@code schema.table}
     * @param seed the random sequence
     * @param firstKey the lowest id
     * @param keySpace how many ids, from {@code firstKey}
     * @param maxChanges stop after this many changes (or at {@link #stop})
     * @param changesPerCommit changes per transaction; 1 is auto-commit
     * @param perSecond pace, 0 for as fast as the database goes
     * @param updatesOnly only update the rows that exist at the start (for writers sharing keys)
     * @param tag written into {@code val}, to tell writers apart
     */
    ChangeWriter(String url, String user, String password, String table, long seed, long firstKey, long keySpace,
            long maxChanges, int changesPerCommit, int perSecond, boolean updatesOnly, String tag) {
        this.url = url;
        this.user = user;
        this.password = password;
        this.table = table;
        this.random = new Random(seed);
        this.firstKey = firstKey;
        this.keySpace = keySpace;
        this.maxChanges = maxChanges;
        this.changesPerCommit = changesPerCommit;
        this.perSecond = perSecond;
        this.updatesOnly = updatesOnly;
        this.tag = tag;
    }

    /** Creates {@code schema.table} afresh, with rows {@code 1..rows}. */
    static void createTable(Connection c, String schema, String table, long rows) throws SQLException {
        try (Statement st = c.createStatement()) {
            st.execute("DROP SCHEMA IF EXISTS " + schema + " CASCADE");
            st.execute("DROP TABLE IF EXISTS public.mqdb_changelog");
            st.execute("CREATE SCHEMA " + schema);
            st.execute("CREATE TABLE " + schema + "." + table
                    + " (id bigint PRIMARY KEY, val text, counter bigint NOT NULL, version bigint NOT NULL)");
            if (rows > 0) {
                st.execute("INSERT INTO " + schema + "." + table
                        + " SELECT g, 'initial ' || g, 0, 1 FROM generate_series(1, " + rows + ") g");
            }
        }
    }

    @Override
    public Long call() throws SQLException {
        try (Connection c = DriverManager.getConnection(url, user, password);
             PreparedStatement insert = c.prepareStatement("INSERT INTO " + table
                     + " (id, val, counter, version) VALUES (?, ?, 0, 1)");
             PreparedStatement update = c.prepareStatement("UPDATE " + table
                     + " SET val = ?, counter = counter + 1, version = version + 1 WHERE id = ?");
             PreparedStatement delete = c.prepareStatement("DELETE FROM " + table + " WHERE id = ?")) {
            loadLive(c);
            c.setAutoCommit(changesPerCommit == 1);
            long started = System.nanoTime();
            while (!stop && done.get() < maxChanges) {
                for (int i = 0; i < changesPerCommit; i++) {
                    change(insert, update, delete);
                }
                if (changesPerCommit > 1) {
                    c.commit();
                }
                done.addAndGet(changesPerCommit);
                if (perSecond > 0) {
                    // pacing, not waiting: the writer's n-th change is due n/perSecond seconds after the start
                    long due = started + TimeUnit.SECONDS.toNanos(done.get()) / perSecond;
                    LockSupport.parkNanos(due - System.nanoTime());
                }
            }
        }
        return done.get();
    }

    private void loadLive(Connection c) throws SQLException {
        try (Statement st = c.createStatement();
             var rs = st.executeQuery("SELECT id FROM " + table + " WHERE id >= " + firstKey + " AND id < "
                     + (firstKey + keySpace))) {
            while (rs.next()) {
                live.add(rs.getLong(1));
                liveList.add(rs.getLong(1));
            }
        }
    }

    private void change(PreparedStatement insert, PreparedStatement update, PreparedStatement delete)
            throws SQLException {
        long n = done.get();
        if (updatesOnly) {
            long id = liveList.get(random.nextInt(liveList.size()));
            update.setString(1, tag + " " + n);
            update.setLong(2, id);
            update.executeUpdate();
            updates.incrementAndGet();
            return;
        }
        long id = firstKey + (long) (random.nextDouble() * keySpace);
        if (!live.contains(id)) {
            insert.setLong(1, id);
            insert.setString(2, tag + " inserted " + n);
            insert.executeUpdate();
            live.add(id);
            inserts.incrementAndGet();
        } else if (random.nextInt(100) < 80) {
            update.setString(1, tag + " updated " + n);
            update.setLong(2, id);
            update.executeUpdate();
            updates.incrementAndGet();
        } else {
            delete.setLong(1, id);
            delete.executeUpdate();
            live.remove(id);
            deletes.incrementAndGet();
        }
    }

    /** @return e.g. {@code 50000 changes (21000 inserts, 23000 updates, 6000 deletes)} */
    String summary() {
        return "%d changes (%d inserts, %d updates, %d deletes)".formatted(done.get(), inserts.get(), updates.get(),
                deletes.get());
    }
}
