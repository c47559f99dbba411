package io.mqdb.adapter.redis;

import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import io.mqdb.spi.AtomicWrites;
import io.mqdb.spi.AtomicWrites.TableBatch;
import io.mqdb.spi.ChangeCapture;
import io.mqdb.spi.Column;
import io.mqdb.spi.InvalidDataException;
import io.mqdb.spi.Key;
import io.mqdb.spi.MqdbException;
import io.mqdb.spi.Mutation;
import io.mqdb.spi.RetriableException;
import io.mqdb.spi.Row;
import io.mqdb.spi.ScanPage;
import io.mqdb.spi.Store;
import io.mqdb.spi.TableId;
import io.mqdb.spi.TableSchema;
import io.mqdb.spi.WriteOrigin;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import redis.clients.jedis.AbstractPipeline;
import redis.clients.jedis.AbstractTransaction;
import redis.clients.jedis.PipeliningBase;
import redis.clients.jedis.Response;
import redis.clients.jedis.UnifiedJedis;
import redis.clients.jedis.exceptions.JedisDataException;
import redis.clients.jedis.exceptions.JedisException;

/**
 * A Redis (standalone or Cluster) holding replicated tables: one key per row (a hash, or a JSON string), a sorted-set
 * key index per table for ordered scans and counts, and a catalog hash per table. See {@code docs/adapters/redis.md}.
 *
 * <p>Thread-safe: the Jedis client pools its connections, each call borrows its own, and the schema cache is a
 * concurrent map. The store starts no thread of its own (Jedis' cluster pipeline uses short-lived worker threads
 * inside {@code sync()}, which end before the call returns).
 */
final class RedisStore implements Store {
    /**
     * Partial upsert of a JSON row, atomically: KEYS[1] the row; ARGV[1] the number n of columns to set, then n
     * name/value pairs, then the names of the columns to clear. Values stay JSON strings, so Lua's doubles never
     * touch them.
     */
    static final String JSON_MERGE_SCRIPT = """
            local cur = redis.call('GET', KEYS[1])
            local doc = {}
            if cur then doc = cjson.decode(cur) end
            local n = tonumber(ARGV[1])
            for i = 2, 2 * n, 2 do doc[ARGV[i]] = ARGV[i + 1] end
            for i = 2 * n + 2, #ARGV do doc[ARGV[i]] = nil end
            redis.call('SET', KEYS[1], cjson.encode(doc))
            return 1
            """;

    /** Drops an index member whose row is gone (expired), only if it is still gone: KEYS row, index; ARGV member. */
    static final String PRUNE_SCRIPT = """
            if redis.call('EXISTS', KEYS[1]) == 0 then return redis.call('ZREM', KEYS[2], ARGV[1]) end
            return 0
            """;

    private final RedisSettings settings;
    private final UnifiedJedis jedis;
    private final String target;
    private final Map<TableId, TableInfo> tables = new ConcurrentHashMap<>();
    private volatile boolean closed;

    /**
     * What the store knows about one table, derived once from its catalog entry. {@code catalogArgs} are the
     * {@link Catalog#CAS_SCRIPT} arguments that create the catalog entry only where it is missing.
     */
    private record TableInfo(TableSchema schema, KeyPattern pattern, List<Column> keyColumns, String indexKey,
                             String catalogKey, List<String> catalogArgs) {
        static TableInfo of(TableSchema schema, KeyPattern pattern, RedisSettings.Format format) {
            pattern.check(schema);
            return new TableInfo(schema, pattern, schema.keyColumns(), Catalog.indexKey(schema.table()),
                    Catalog.key(schema.table()), List.of("", Catalog.columns(schema), Catalog.primaryKey(schema),
                            format.name().toLowerCase(java.util.Locale.ROOT), pattern.toString()));
        }

        String redisKey(Key key) {
            return pattern.render(schema, key);
        }
    }

    RedisStore(RedisSettings settings, UnifiedJedis jedis) {
        this.settings = settings;
        this.jedis = jedis;
        this.target = settings.target();
    }

    /** Upserts may carry an expiry (a channel's {@code transform.ttl}): {@code PEXPIREAT}, or {@code PERSIST}. */
    @Override
    public boolean expiresRows() {
        return true;
    }

    /** A channel's {@code transform.key} is a table's key pattern, as {@code key-patterns} would give it. */
    @Override
    public boolean takesKeyPatterns() {
        return true;
    }

    @Override
    public boolean removesRowsByItself() {
        return settings.ttl() != null; // rows expire: a missing one is no sign of a lost store
    }

    @Override
    public String describeTarget() {
        return target;
    }

    /**
     * Redis has no change feed that sees other clients' writes reliably (keyspace notifications are fire-and-forget
     * and lost while no one listens), so this store offers none; see {@code docs/adapters/redis.md}.
     */
    @Override
    public Optional<ChangeCapture> capture() {
        return Optional.empty();
    }

    // ---- catalog

    @Override
    public Optional<TableSchema> describe(TableId table) {
        return load(table).map(TableInfo::schema);
    }

    private Optional<TableInfo> load(TableId table) {
        Map<String, String> fields = call("describe " + table, () -> jedis.hgetAll(Catalog.key(table)));
        if (fields.isEmpty()) {
            // Keep a cached entry: a server that restarted without persistence lost the catalog, and the next
            // write restores it from the cache (see queue) instead of dead-lettering events for a "missing" table.
            return Optional.empty();
        }
        TableInfo info = TableInfo.of(Catalog.decode(table, fields), settings.keyPattern(table), settings.format());
        tables.put(table, info);
        return Optional.of(info);
    }

    private TableInfo info(TableId table) {
        TableInfo info = tables.get(table);
        return info != null ? info : load(table).orElseThrow(() -> new InvalidDataException(
                "redis " + target + ": table " + table + " does not exist (no " + Catalog.key(table) + ")"));
    }

    @Override
    public TableSchema ensureTable(TableSchema schema) {
        TableId table = schema.table();
        KeyPattern pattern = settings.keyPattern(table);
        String catalogKey = Catalog.key(table);
        for (int attempt = 0; attempt < 50; attempt++) {
            Map<String, String> fields = call("describe " + table, () -> jedis.hgetAll(catalogKey));
            TableSchema wanted;
            String expected;
            if (fields.isEmpty()) {
                wanted = schema;
                expected = "";
            } else {
                TableSchema existing = Catalog.decode(table, fields);
                if (!existing.primaryKey().equals(schema.primaryKey())) {
                    throw new InvalidDataException(table + ": the table has primary key " + existing.primaryKey()
                            + " in " + target + ", not " + schema.primaryKey());
                }
                List<Column> missing = existing.missingColumns(schema);
                if (missing.isEmpty()) {
                    TableInfo info = TableInfo.of(existing, pattern, settings.format());
                    tables.put(table, info);
                    return existing;
                }
                List<Column> columns = new ArrayList<>(existing.columns());
                for (Column c : missing) {
                    columns.add(new Column(c.name(), c.type(), true));
                }
                wanted = new TableSchema(table, columns, existing.primaryKey());
                expected = fields.getOrDefault("columns", "");
            }
            TableInfo info = TableInfo.of(wanted, pattern, settings.format());
            Object done = call("ensure " + table, () -> jedis.eval(Catalog.CAS_SCRIPT, List.of(catalogKey),
                    List.of(expected, Catalog.columns(wanted), Catalog.primaryKey(wanted),
                            settings.format().name().toLowerCase(java.util.Locale.ROOT), pattern.toString())));
            if (Long.valueOf(1).equals(done)) {
                tables.put(table, info);
                return wanted;
            }
            // another node changed the catalog between our read and write: read again
        }
        throw new RetriableException("redis " + target + ": " + table + ": catalog kept changing under ensureTable");
    }

    // ---- writes

    @Override
    public void apply(TableId table, List<Mutation> batch, WriteOrigin origin) {
        TableInfo info = info(table);
        int size = settings.pipelineSize();
        for (int from = 0; from < batch.size(); from += size) {
            List<Mutation> chunk = batch.subList(from, Math.min(batch.size(), from + size));
            List<Prepared> prepared;
            try {
                prepared = prepare(info, chunk);
            } catch (InvalidDataException e) {
                // another node may have added a column since we cached the schema: look once more
                info = load(table).orElseThrow(() -> e);
                prepared = prepare(info, chunk);
            }
            write(info, prepared);
        }
    }

    /** One validated mutation: the Redis key, the index member, and for an upsert the fields to set and clear. */
    private record Prepared(String redisKey, String member, Map<String, String> set, List<String> clear,
                            boolean complete, java.time.Instant expiresAt) {
        boolean isDelete() {
            return set == null;
        }
    }

    private List<Prepared> prepare(TableInfo info, List<Mutation> chunk) {
        TableSchema schema = info.schema();
        List<Prepared> out = new ArrayList<>(chunk.size());
        for (Mutation m : chunk) {
            if (m instanceof Mutation.Upsert u) {
                Row row = schema.validate(u.row());
                Key key = schema.keyOf(row);
                Map<String, String> set = new LinkedHashMap<>();
                List<String> clear = new ArrayList<>(0);
                for (Map.Entry<String, Object> e : row.values().entrySet()) {
                    if (e.getValue() == null) {
                        clear.add(e.getKey());
                    } else {
                        set.put(e.getKey(), FieldCodec.encode(schema.column(e.getKey()).orElseThrow().type(),
                                e.getValue()));
                    }
                }
                out.add(new Prepared(info.redisKey(key), IndexCodec.encode(key, info.keyColumns()), set, clear,
                        row.size() == schema.columns().size(), u.expiresAt()));
            } else {
                Key key = schema.validate(((Mutation.Delete) m).key());
                out.add(new Prepared(info.redisKey(key), IndexCodec.encode(key, info.keyColumns()), null, null,
                        false, null));
            }
        }
        return out;
    }

    private void write(TableInfo info, List<Prepared> chunk) {
        writeAll(List.of(Map.entry(info, chunk)), chunk.size() + " writes on " + info.schema().table(),
                !settings.cluster());
    }

    /**
     * One {@code MULTI}/{@code EXEC} for the batches of every table (standalone Redis only, see
     * {@link #atomicWrites()}): other clients see all of them or none, and with the append-only file a crash in the
     * middle of the transaction is cut back to before it when the server starts again. Like any Redis transaction it
     * does not roll back a command that fails at run time (a wrong type on a damaged key); that one throws here.
     */
    private void applyInOneTransaction(List<TableBatch> batches, WriteOrigin origin) {
        List<Map.Entry<TableInfo, List<Prepared>>> all = new ArrayList<>(batches.size());
        int writes = 0;
        for (TableBatch b : batches) {
            TableInfo info = info(b.table());
            List<Prepared> prepared;
            try {
                prepared = prepare(info, b.mutations());
            } catch (InvalidDataException e) {
                info = load(b.table()).orElseThrow(() -> e);
                prepared = prepare(info, b.mutations());
            }
            all.add(Map.entry(info, prepared));
            writes += prepared.size();
        }
        writeAll(all, writes + " writes on " + batches.size() + " table(s) in one MULTI/EXEC", true);
    }

    /**
     * Standalone only: a cluster cannot run one transaction over keys of several slots. (The store itself is no
     * {@code AtomicWrites}, so a cluster store cannot be taken for one.)
     */
    @Override
    public Optional<AtomicWrites> atomicWrites() {
        return settings.cluster() ? Optional.empty() : Optional.of(this::applyInOneTransaction);
    }

    private void writeAll(List<Map.Entry<TableInfo, List<Prepared>>> chunks, String what, boolean transaction) {
        int n = chunks.stream().mapToInt(c -> c.getValue().size()).sum();
        List<Response<?>> responses = new ArrayList<>(n * 2 + 2);
        List<String> labels = new ArrayList<>(n * 2 + 2);
        call(what, () -> {
            if (!transaction) {
                // a cluster cannot run MULTI across slots; the pipeline is split per node and synced with each
                try (AbstractPipeline p = jedis.pipelined()) {
                    chunks.forEach(c -> queue(c.getKey(), c.getValue(), p, responses, labels));
                    p.sync();
                }
            } else {
                // one MULTI/EXEC: readers see rows and key index change together
                try (AbstractTransaction tx = jedis.multi()) {
                    chunks.forEach(c -> queue(c.getKey(), c.getValue(), tx, responses, labels));
                    tx.exec();
                }
            }
            return null;
        });
        for (int i = 0; i < responses.size(); i++) {
            try {
                responses.get(i).get();
            } catch (JedisDataException e) {
                throw map(what + ": " + labels.get(i), e);
            }
        }
    }

    private void queue(TableInfo info, List<Prepared> chunk, PipeliningBase p, List<Response<?>> responses,
                       List<String> labels) {
        // Re-create the catalog entry if the server lost it (a restart without persistence, a flush): without it
        // describe() reports no table and a new reader cannot scan the rows written from now on. A no-op otherwise.
        responses.add(p.eval(Catalog.CAS_SCRIPT, List.of(info.catalogKey()), info.catalogArgs()));
        labels.add(info.catalogKey());
        Map<String, Boolean> index = new LinkedHashMap<>();
        long ttlMs = settings.ttl() == null ? 0 : settings.ttl().toMillis();
        for (Prepared w : chunk) {
            index.put(w.member(), !w.isDelete());
            labels.add(w.redisKey());
            if (w.isDelete()) {
                responses.add(p.del(w.redisKey()));
                continue;
            }
            if (settings.format() == RedisSettings.Format.HASH) {
                if (!w.clear().isEmpty()) {
                    responses.add(p.hdel(w.redisKey(), w.clear().toArray(new String[0])));
                    labels.add(w.redisKey());
                }
                responses.add(p.hset(w.redisKey(), w.set()));
            } else if (w.complete()) {
                responses.add(p.set(w.redisKey(), toJson(w.set())));
            } else {
                List<String> args = new ArrayList<>(2 + 2 * w.set().size() + w.clear().size());
                args.add(Integer.toString(w.set().size()));
                w.set().forEach((k, v) -> {
                    args.add(k);
                    args.add(v);
                });
                args.addAll(w.clear());
                responses.add(p.eval(JSON_MERGE_SCRIPT, List.of(w.redisKey()), args));
            }
            if (Mutation.Upsert.NEVER_EXPIRES.equals(w.expiresAt())) {
                responses.add(p.persist(w.redisKey()));
                labels.add(w.redisKey());
            } else if (w.expiresAt() != null) {
                // An instant already past removes the row at once (Redis deletes a key whose expiry is past).
                responses.add(p.pexpireAt(w.redisKey(), w.expiresAt().toEpochMilli()));
                labels.add(w.redisKey());
            } else if (ttlMs > 0) {
                responses.add(p.pexpire(w.redisKey(), ttlMs));
                labels.add(w.redisKey());
            }
        }
        Map<String, Double> add = new HashMap<>();
        List<String> remove = new ArrayList<>();
        index.forEach((member, present) -> {
            if (present) {
                add.put(member, 0.0);
            } else {
                remove.add(member);
            }
        });
        if (!add.isEmpty()) {
            responses.add(p.zadd(info.indexKey(), add));
            labels.add(info.indexKey());
        }
        if (!remove.isEmpty()) {
            responses.add(p.zrem(info.indexKey(), remove.toArray(new String[0])));
            labels.add(info.indexKey());
        }
    }

    private static String toJson(Map<String, String> fields) {
        JsonObject o = new JsonObject();
        fields.forEach(o::addProperty);
        return o.toString();
    }

    // ---- reads

    @Override
    public Optional<Row> get(TableId table, Key key) {
        TableInfo info = tables.get(table);
        if (info == null) {
            Optional<TableInfo> loaded = load(table);
            if (loaded.isEmpty()) {
                return Optional.empty();
            }
            info = loaded.get();
        }
        Key k = info.schema().validate(key);
        String redisKey = info.redisKey(k);
        if (settings.format() == RedisSettings.Format.HASH) {
            Map<String, String> h = call("get " + redisKey, () -> jedis.hgetAll(redisKey));
            return h.isEmpty() ? Optional.empty() : Optional.of(decodeHash(info, k, redisKey, h));
        }
        String doc = call("get " + redisKey, () -> jedis.get(redisKey));
        return doc == null ? Optional.empty() : Optional.of(decodeJson(info, k, redisKey, doc));
    }

    // ZRANGEBYLEX is deprecated in Jedis 8 for ZRANGE ... BYLEX, which needs Redis 6.2; this adapter supports 6.0.
    @SuppressWarnings("deprecation")
    @Override
    public ScanPage scan(TableId table, Key after, int limit) {
        if (limit < 1) {
            throw new IllegalArgumentException("limit must be at least 1, got " + limit);
        }
        Optional<TableInfo> maybe = Optional.ofNullable(tables.get(table)).or(() -> load(table));
        if (maybe.isEmpty()) {
            return new ScanPage(List.of(), Optional.empty());
        }
        TableInfo info = maybe.get();
        String min = after == null ? "-" : "(" + IndexCodec.encode(info.schema().validate(after), info.keyColumns());
        String what = "scan " + table;
        List<String> members = call(what, () -> jedis.zrangeByLex(info.indexKey(), min, "+", 0, limit));
        if (members.isEmpty()) {
            return new ScanPage(List.of(), Optional.empty());
        }
        List<Key> keys = new ArrayList<>(members.size());
        List<String> redisKeys = new ArrayList<>(members.size());
        for (String m : members) {
            Key k = IndexCodec.decode(m, info.keyColumns());
            keys.add(k);
            redisKeys.add(info.redisKey(k));
        }
        List<Response<?>> responses = new ArrayList<>(members.size());
        call(what, () -> {
            try (AbstractPipeline p = jedis.pipelined()) {
                for (String rk : redisKeys) {
                    responses.add(settings.format() == RedisSettings.Format.HASH ? p.hgetAll(rk) : p.get(rk));
                }
                p.sync();
            }
            return null;
        });
        List<Row> rows = new ArrayList<>(members.size());
        for (int i = 0; i < responses.size(); i++) {
            Object value;
            try {
                value = responses.get(i).get();
            } catch (JedisDataException e) {
                throw map(what + ": " + redisKeys.get(i), e);
            }
            if (value == null || (value instanceof Map<?, ?> h && h.isEmpty())) {
                prune(info, redisKeys.get(i), members.get(i));
                continue;
            }
            rows.add(value instanceof String doc ? decodeJson(info, keys.get(i), redisKeys.get(i), doc)
                    : decodeHash(info, keys.get(i), redisKeys.get(i), castMap(value)));
        }
        Optional<Key> next = members.size() < limit ? Optional.empty() : Optional.of(keys.get(keys.size() - 1));
        return new ScanPage(rows, next);
    }

    /**
     * An index member without its row: the row expired (ttl) or a failed batch left it half-written. On a standalone
     * server it is dropped atomically if the row is still missing; in a cluster the row and the index live in
     * different slots, so it is only skipped (documented).
     */
    private void prune(TableInfo info, String redisKey, String member) {
        if (!settings.cluster()) {
            call("prune " + redisKey, () -> jedis.eval(PRUNE_SCRIPT, List.of(redisKey, info.indexKey()),
                    List.of(member)));
        }
    }

    @SuppressWarnings("unchecked")
    private static Map<String, String> castMap(Object value) {
        return (Map<String, String>) value;
    }

    @Override
    public long count(TableId table) {
        return call("count " + table, () -> jedis.zcard(Catalog.indexKey(table)));
    }

    private Row decodeHash(TableInfo info, Key key, String redisKey, Map<String, String> fields) {
        Map<String, Object> values = new LinkedHashMap<>();
        List<String> pk = info.schema().primaryKey();
        for (Column c : info.schema().columns()) {
            int k = pk.indexOf(c.name());
            if (k >= 0) {
                values.put(c.name(), key.get(k));
            } else {
                String text = fields.get(c.name());
                values.put(c.name(), text == null ? null : FieldCodec.decode(c.type(), text, redisKey, c.name()));
            }
        }
        return Row.of(values);
    }

    private Row decodeJson(TableInfo info, Key key, String redisKey, String doc) {
        JsonObject o;
        try {
            o = JsonParser.parseString(doc).getAsJsonObject();
        } catch (RuntimeException e) {
            throw new InvalidDataException(redisKey + ": not a JSON object: " + e.getMessage(), e);
        }
        Map<String, String> fields = new HashMap<>();
        for (Map.Entry<String, JsonElement> e : o.entrySet()) {
            JsonElement v = e.getValue();
            if (v != null && !v.isJsonNull()) {
                // members written by mqdb are strings; accept numbers, booleans and nested JSON written by hand
                fields.put(e.getKey(), v.isJsonPrimitive() ? v.getAsString() : v.toString());
            }
        }
        return decodeHash(info, key, redisKey, fields);
    }

    // ---- errors and lifecycle

    /** Runs one Redis call, mapping Jedis' exceptions to the SPI's. */
    private <T> T call(String what, java.util.function.Supplier<T> action) {
        if (closed) {
            throw new MqdbException("redis " + target + ": the store is closed");
        }
        try {
            return action.get();
        } catch (JedisException e) {
            throw map(what, e);
        }
    }

    /**
     * Connection trouble, timeouts, a cluster in failover, a server loading or busy, authentication: retriable.
     * A data error (WRONGTYPE, a script error on a damaged row): invalid data, dead-lettered by the runtime.
     */
    RuntimeException map(String what, JedisException e) {
        String message = "redis " + target + ": " + what + ": " + e.getMessage();
        if (!(e instanceof JedisDataException) || e instanceof redis.clients.jedis.exceptions.JedisBusyException
                || e instanceof redis.clients.jedis.exceptions.JedisRedirectionException) {
            return new RetriableException(message, e);
        }
        String m = e.getMessage() == null ? "" : e.getMessage();
        for (String transient_ : List.of("LOADING", "BUSY", "TRYAGAIN", "CLUSTERDOWN", "MASTERDOWN", "READONLY",
                "OOM", "NOREPLICAS", "NOAUTH", "WRONGPASS", "NOPERM", "MOVED", "ASK", "EXECABORT")) {
            if (m.startsWith(transient_)) {
                return new RetriableException(message, e);
            }
        }
        return new InvalidDataException(message, e);
    }

    @Override
    public void close() {
        if (closed) {
            return;
        }
        closed = true;
        jedis.close();
    }
}
