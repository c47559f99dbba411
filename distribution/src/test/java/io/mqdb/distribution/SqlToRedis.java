package io.mqdb.distribution;

import java.io.StringReader;
import java.math.BigDecimal;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Instant;
import java.time.LocalDate;
import java.time.LocalDateTime;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import org.postgresql.PGConnection;
import org.slf4j.LoggerFactory;
import redis.clients.jedis.Jedis;
import redis.clients.jedis.Pipeline;
import redis.clients.jedis.Response;
import redis.clients.jedis.params.ScanParams;
import redis.clients.jedis.resps.ScanResult;

/**
 * Test support for the PostgreSQL → Redis end-to-end tests and the benchmark: the legacy table {@code shop.orders},
 * bulk loading with COPY, SQL clients writing a stream of changes, and the comparison of PostgreSQL with Redis by the
 * documented key pattern ({@code order:{id}}) and field encoding ({@code docs/adapters/redis.md}, "Type mapping").
 */
public final class SqlToRedis {
    /** The key pattern the tests configure for {@code shop:orders}. */
    public static final String KEY_PREFIX = "order:";
    static final String CREATE_TABLE = """
            CREATE SCHEMA IF NOT EXISTS shop;
            CREATE TABLE shop.orders (
                id        bigint PRIMARY KEY,
                customer  text NOT NULL,
                qty       integer NOT NULL,
                price     numeric(12,2),
                paid      boolean NOT NULL DEFAULT false,
                placed_at timestamp(6) NOT NULL,
                ship_date date,
                ref       uuid,
                score     double precision,
                note      text,
                meta      jsonb
            )""";
    public static final String COLUMNS = "id, customer, qty, price, paid, placed_at, ship_date, ref, score, note, meta";
    private static final LocalDateTime EPOCH = LocalDateTime.of(2024, 2, 29, 12, 0);
    private static final DateTimeFormatter SECONDS = DateTimeFormatter.ofPattern("uuuu-MM-dd'T'HH:mm:ss'Z'");
    private static final DateTimeFormatter MICROS = DateTimeFormatter.ofPattern("uuuu-MM-dd'T'HH:mm:ss.SSSSSS'Z'");
    private static final String[] NOTES = {"", "plain", "comma, \"quoted\"", "naïve café", "emoji 🙂 ok",
        "back\\slash", "colon:in:text", "tab\there"};

    private SqlToRedis() {
    }

    /** The default logback configuration logs at DEBUG (HiveMQ is chatty): keep tests at INFO. */
    public static void quietLogs() {
        var root = (ch.qos.logback.classic.Logger) LoggerFactory.getLogger(org.slf4j.Logger.ROOT_LOGGER_NAME);
        root.setLevel(ch.qos.logback.classic.Level.INFO);
        ((ch.qos.logback.classic.Logger) LoggerFactory.getLogger("com.hivemq"))
                .setLevel(ch.qos.logback.classic.Level.WARN);
        ((ch.qos.logback.classic.Logger) LoggerFactory.getLogger("com.zaxxer.hikari"))
                .setLevel(ch.qos.logback.classic.Level.WARN);
    }

    /** Drops and creates {@code shop.orders}. */
    public static void createTable(Connection c) throws SQLException {
        try (Statement st = c.createStatement()) {
            st.execute("DROP SCHEMA IF EXISTS shop CASCADE");
            st.execute("DROP TABLE IF EXISTS mqdb_changelog");
            st.execute(CREATE_TABLE);
        }
    }

    /** Inserts rows {@code from..to} (inclusive) with COPY, in chunks of 50,000. */
    public static void copyRows(Connection c, long from, long to) throws SQLException {
        var copy = c.unwrap(PGConnection.class).getCopyAPI();
        for (long start = from; start <= to; start += 50_000) {
            long end = Math.min(to, start + 49_999);
            StringBuilder csv = new StringBuilder((int) (end - start + 1) * 160);
            for (long id = start; id <= end; id++) {
                Object[] v = values(id, new Random(id));
                for (int i = 0; i < v.length; i++) {
                    if (i > 0) {
                        csv.append(',');
                    }
                    if (v[i] != null) {
                        String s = v[i].toString();
                        csv.append('"').append(s.replace("\"", "\"\"")).append('"');
                    }
                }
                csv.append('\n');
            }
            try {
                copy.copyIn("COPY shop.orders (" + COLUMNS + ") FROM STDIN (FORMAT csv)",
                        new StringReader(csv.toString()));
            } catch (java.io.IOException e) {
                throw new SQLException(e);
            }
        }
    }

    /** The column values of a generated row, in {@link #COLUMNS} order; nulls for some optional columns. */
    public static Object[] values(long id, Random r) {
        return new Object[] {
            id,
            "customer " + (id % 997),
            1 + r.nextInt(50),
            r.nextInt(7) == 0 ? null : BigDecimal.valueOf(r.nextInt(1_000_000), 2),
            r.nextBoolean(),
            EPOCH.plusNanos(id * 1_234_567_000L + (r.nextInt(3) == 0 ? 0 : r.nextInt(1_000_000) * 1000L)),
            r.nextInt(5) == 0 ? null : LocalDate.of(2024, 1, 1).plusDays(r.nextInt(400)),
            r.nextInt(3) == 0 ? null : new UUID(r.nextLong(), r.nextLong()),
            r.nextInt(4) == 0 ? null : (r.nextInt(10) == 0 ? r.nextDouble() * 1e300 : r.nextInt(10_000) / 100.0),
            r.nextInt(4) == 0 ? null : NOTES[r.nextInt(NOTES.length)] + " " + id,
            r.nextInt(3) == 0 ? null : "{\"lines\": [" + r.nextInt(9) + ", 2.50], \"gift\": " + r.nextBoolean() + "}"
        };
    }

    /** The Redis hash PostgreSQL's current row should be, by the documented type mapping. */
    static Map<String, String> expectedHash(ResultSet rs) throws SQLException {
        Map<String, String> h = new TreeMap<>();
        h.put("id", Long.toString(rs.getLong("id")));
        h.put("customer", rs.getString("customer"));
        h.put("qty", Long.toString(rs.getLong("qty")));
        BigDecimal price = rs.getBigDecimal("price");
        if (price != null) {
            h.put("price", price.toPlainString());
        }
        h.put("paid", Boolean.toString(rs.getBoolean("paid")));
        Instant at = rs.getObject("placed_at", LocalDateTime.class).toInstant(ZoneOffset.UTC);
        h.put("placed_at", timestamp(at));
        LocalDate ship = rs.getObject("ship_date", LocalDate.class);
        if (ship != null) {
            h.put("ship_date", ship.toString());
        }
        UUID ref = rs.getObject("ref", UUID.class);
        if (ref != null) {
            h.put("ref", ref.toString());
        }
        double score = rs.getDouble("score");
        if (!rs.wasNull()) {
            h.put("score", Double.toString(score));
        }
        String note = rs.getString("note");
        if (note != null) {
            h.put("note", note);
        }
        String meta = rs.getString("meta");
        if (meta != null) {
            h.put("meta", compactJson(meta));
        }
        return h;
    }

    /**
     * JSON field text: the document as it travels (docs/wire-format.md: embedded, compact), so PostgreSQL's jsonb
     * text {@code {"a": [1, 2.50]}} becomes {@code {"a":[1,2.50]}}; member order and number text are kept.
     */
    static String compactJson(String text) {
        return com.google.gson.JsonParser.parseString(text).toString();
    }

    /** TIMESTAMP field text: ISO-8601 UTC, seconds always, six fraction digits when the microseconds are not zero. */
    static String timestamp(Instant at) {
        var t = at.atOffset(ZoneOffset.UTC);
        return (t.getNano() == 0 ? SECONDS : MICROS).format(t);
    }

    /** @return every row of {@code shop.orders} as the Redis key and hash it should have */
    static Map<String, Map<String, String>> sqlMirror(Connection c) throws SQLException {
        Map<String, Map<String, String>> out = new HashMap<>();
        try (Statement st = c.createStatement()) {
            st.setFetchSize(10_000);
            c.setAutoCommit(false);
            try (ResultSet rs = st.executeQuery("SELECT " + COLUMNS + " FROM shop.orders")) {
                while (rs.next()) {
                    out.put(KEY_PREFIX + rs.getLong("id"), expectedHash(rs));
                }
            } finally {
                c.commit();
                c.setAutoCommit(true);
            }
        }
        return out;
    }

    /** @return every key in the Redis database */
    static Set<String> allKeys(Jedis jedis) {
        Set<String> keys = new TreeSet<>();
        String cursor = ScanParams.SCAN_POINTER_START;
        ScanParams params = new ScanParams().count(5000);
        do {
            ScanResult<String> page = jedis.scan(cursor, params);
            keys.addAll(page.getResult());
            cursor = page.getCursor();
        } while (!cursor.equals(ScanParams.SCAN_POINTER_START));
        return keys;
    }

    /** @return the hashes of the given keys (HGETALL, pipelined); an absent key maps to an empty map */
    static Map<String, Map<String, String>> hashes(Jedis jedis, Iterable<String> keys) {
        Map<String, Response<Map<String, String>>> responses = new LinkedHashMap<>();
        Pipeline p = jedis.pipelined();
        int n = 0;
        for (String k : keys) {
            responses.put(k, p.hgetAll(k));
            if (++n % 2000 == 0) {
                p.sync();
            }
        }
        p.sync();
        Map<String, Map<String, String>> out = new HashMap<>();
        responses.forEach((k, r) -> out.put(k, new TreeMap<>(r.get())));
        return out;
    }

    /** The result of comparing PostgreSQL with Redis. */
    record Comparison(int rowsChecked, List<String> mismatches) {
        String summary() {
            return rowsChecked + " rows checked, mismatches = " + mismatches.size()
                    + (mismatches.isEmpty() ? "" : ", first: " + mismatches.subList(0, Math.min(5, mismatches.size())));
        }
    }

    /**
     * Compares every row of PostgreSQL with Redis: each row's key exists with exactly the expected fields, and Redis
     * holds no other key than the rows, the key index and the catalog of {@code shop:orders}, and the subscriber's
     * marker.
     */
    static Comparison compareAll(Connection c, Jedis jedis) throws SQLException {
        Map<String, Map<String, String>> expected = sqlMirror(c);
        Set<String> keys = allKeys(jedis);
        List<String> mismatches = new ArrayList<>();
        Set<String> extra = new TreeSet<>(keys);
        extra.removeAll(expected.keySet());
        extra.remove("mqdb:idx:shop:orders");
        extra.remove("mqdb:schema:shop:orders");
        // the subscriber's marker (table shop:mqdb_incarnation: its row, key index and catalog), how it notices that
        // Redis lost its data
        extra.removeIf(k -> k.contains("mqdb_incarnation"));
        for (String k : extra) {
            mismatches.add("extra key " + k);
        }
        Map<String, Map<String, String>> actual = hashes(jedis, expected.keySet());
        expected.forEach((k, want) -> {
            Map<String, String> got = actual.get(k);
            if (!want.equals(got)) {
                mismatches.add(k + ": expected " + want + " but Redis has " + got);
            }
        });
        long indexed = jedis.zcard("mqdb:idx:shop:orders");
        if (indexed != expected.size()) {
            mismatches.add("key index holds " + indexed + " members for " + expected.size() + " rows");
        }
        return new Comparison(expected.size(), mismatches);
    }

    /**
     * A plain SQL client writing a stream of inserts, updates (some setting columns to null), deletes, primary-key
     * changes and small multi-statement transactions, on the ids of its own parity (so two writers never deadlock).
     * Records for each id the {@link System#nanoTime()} at which its last change started.
     */
    static final class Writer implements java.util.concurrent.Callable<Long> {
        private final Connection c;
        private final int parity;
        private final long maxOps;
        private final AtomicLong nextId;
        private final List<Long> ids = new ArrayList<>();
        private final Random r;
        private final Map<Long, Long> touched;
        final AtomicLong done = new AtomicLong();
        volatile boolean stop;

        /**
         * @param c its own connection (auto-commit)
         * @param parity 0 or 1: the writer touches ids with {@code id % 2 == parity}
         * @param existing the ids 1..existing that exist now
         * @param firstNewId where inserted ids start (above every existing id)
         * @param maxOps how many operations to run (or until {@link #stop})
         * @param touched id → start time of its last change, shared by the writers
         */
        Writer(Connection c, int parity, long existing, long firstNewId, long maxOps, Map<Long, Long> touched) {
            this.c = c;
            this.parity = parity;
            this.maxOps = maxOps;
            this.nextId = new AtomicLong(firstNewId + (firstNewId % 2 == parity ? 0 : 1));
            for (long id = 2 - parity; id <= existing; id += 2) {
                ids.add(id);
            }
            this.r = new Random(42 + parity);
            this.touched = touched;
        }

        static Map<Long, Long> touchLog() {
            return new ConcurrentHashMap<>();
        }

        @Override
        public Long call() throws SQLException {
            try (PreparedStatement insert = c.prepareStatement("INSERT INTO shop.orders (" + COLUMNS
                    + ") VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?::jsonb)");
                 PreparedStatement update = c.prepareStatement("UPDATE shop.orders SET qty = qty + 1, price = ?,"
                         + " note = ?, paid = NOT paid, placed_at = ?, meta = ?::jsonb WHERE id = ?");
                 PreparedStatement delete = c.prepareStatement("DELETE FROM shop.orders WHERE id = ?");
                 PreparedStatement rekey = c.prepareStatement("UPDATE shop.orders SET id = ? WHERE id = ?")) {
                while (!stop && done.get() < maxOps) {
                    int dice = r.nextInt(100);
                    if (dice < 5 && ids.size() > 3) {
                        c.setAutoCommit(false);
                        for (int i = 0; i < 3; i++) {
                            update(update);
                        }
                        insert(insert);
                        c.commit();
                        c.setAutoCommit(true);
                    } else if (dice < 40 || ids.isEmpty()) {
                        insert(insert);
                    } else if (dice < 75) {
                        update(update);
                    } else if (dice < 95) {
                        long id = take();
                        mark(id);
                        delete.setLong(1, id);
                        delete.executeUpdate();
                    } else {
                        long old = take();
                        long id = nextId.getAndAdd(2);
                        mark(old);
                        mark(id);
                        rekey.setLong(1, id);
                        rekey.setLong(2, old);
                        rekey.executeUpdate();
                        ids.add(id);
                    }
                    done.incrementAndGet();
                }
            } finally {
                c.close();
            }
            return done.get();
        }

        private void mark(long id) {
            touched.put(id, System.nanoTime());
        }

        private long take() {
            int i = r.nextInt(ids.size());
            long id = ids.get(i);
            ids.set(i, ids.get(ids.size() - 1));
            ids.remove(ids.size() - 1);
            return id;
        }

        private void insert(PreparedStatement ps) throws SQLException {
            long id = nextId.getAndAdd(2);
            mark(id);
            Object[] v = values(id, r);
            for (int i = 0; i < v.length; i++) {
                ps.setObject(i + 1, v[i]);
            }
            ps.executeUpdate();
            ids.add(id);
        }

        private void update(PreparedStatement ps) throws SQLException {
            long id = ids.get(r.nextInt(ids.size()));
            mark(id);
            ps.setBigDecimal(1, r.nextInt(3) == 0 ? null : BigDecimal.valueOf(r.nextInt(100_000), 2));
            ps.setString(2, r.nextInt(3) == 0 ? null : "updated " + NOTES[r.nextInt(NOTES.length)]);
            ps.setObject(3, LocalDateTime.now(ZoneOffset.UTC));
            ps.setString(4, r.nextInt(2) == 0 ? null : "{\"updated\": " + r.nextInt(1000) + "}");
            ps.setLong(5, id);
            ps.executeUpdate();
        }
    }

    /** Writes a config file and returns its path. */
    static Path write(Path file, String yaml) throws java.io.IOException {
        Files.writeString(file, yaml);
        return file;
    }
}
