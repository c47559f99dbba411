package io.mqdb.adapter.cassandra;

import com.datastax.oss.driver.api.core.AllNodesFailedException;
import com.datastax.oss.driver.api.core.ConsistencyLevel;
import com.datastax.oss.driver.api.core.CqlIdentifier;
import com.datastax.oss.driver.api.core.CqlSession;
import com.datastax.oss.driver.api.core.CqlSessionBuilder;
import com.datastax.oss.driver.api.core.DefaultConsistencyLevel;
import com.datastax.oss.driver.api.core.auth.AuthenticationException;
import com.datastax.oss.driver.api.core.config.DefaultDriverOption;
import com.datastax.oss.driver.api.core.config.DriverConfigLoader;
import com.datastax.oss.driver.api.core.cql.AsyncResultSet;
import com.datastax.oss.driver.api.core.cql.BatchStatement;
import com.datastax.oss.driver.api.core.cql.BatchStatementBuilder;
import com.datastax.oss.driver.api.core.cql.BoundStatementBuilder;
import com.datastax.oss.driver.api.core.cql.DefaultBatchType;
import com.datastax.oss.driver.api.core.cql.PreparedStatement;
import com.datastax.oss.driver.api.core.cql.ResultSet;
import com.datastax.oss.driver.api.core.cql.SimpleStatement;
import com.datastax.oss.driver.api.core.cql.Statement;
import com.datastax.oss.driver.api.core.metadata.TokenMap;
import com.datastax.oss.driver.api.core.metadata.token.Token;
import com.datastax.oss.driver.api.core.ssl.ProgrammaticSslEngineFactory;
import io.mqdb.spi.AtomicWrites;
import io.mqdb.spi.ChangeCapture;
import io.mqdb.spi.Column;
import io.mqdb.spi.ColumnType;
import io.mqdb.spi.InvalidDataException;
import io.mqdb.spi.Key;
import io.mqdb.spi.MqdbException;
import io.mqdb.spi.Mutation;
import io.mqdb.spi.Row;
import io.mqdb.spi.ScanPage;
import io.mqdb.spi.Store;
import io.mqdb.spi.StoreConfig;
import io.mqdb.spi.TableId;
import io.mqdb.spi.TableSchema;
import io.mqdb.spi.Version;
import io.mqdb.spi.WriteOrigin;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyStore;
import java.security.cert.Certificate;
import java.security.cert.CertificateFactory;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Semaphore;
import java.util.concurrent.atomic.AtomicReference;
import javax.net.ssl.SSLContext;
import javax.net.ssl.TrustManagerFactory;

/**
 * A store on a Cassandra cluster: each mqdb schema is a keyspace, each table a CQL table whose primary key is the
 * portable one (all of it the partition key unless {@code clustering-columns} says otherwise), plus one catalog table
 * {@code mqdb_schema} per keyspace that keeps the portable types. Thread-safe: the driver's session is.
 *
 * <p>The driver's threads (Netty I/O, its timer and admin executor) are stopped by {@link #close()}.
 */
final class CassandraStore implements Store, AtomicWrites {
    private static final Duration SCHEMA_TIMEOUT = Duration.ofSeconds(60);

    private final CqlSession session;
    private final String target;
    private final ConsistencyLevel readConsistency;
    private final ConsistencyLevel writeConsistency;
    private final Semaphore inFlight;
    private final int maxConcurrency;
    private final String replication;
    private final Map<TableId, List<String>> clusteringColumns;
    private final Map<TableId, CqlTable> tables = new ConcurrentHashMap<>();
    private final Set<String> keyspacesEnsured = ConcurrentHashMap.newKeySet();
    private final Catalog catalog;
    private volatile boolean closed;

    private CassandraStore(CqlSession session, String target, StoreConfig config) {
        this.session = session;
        this.target = target;
        this.readConsistency = consistency(config, CassandraSettings.READ_CONSISTENCY);
        this.writeConsistency = consistency(config, CassandraSettings.WRITE_CONSISTENCY);
        this.maxConcurrency = config.intValue(CassandraSettings.MAX_CONCURRENCY);
        this.inFlight = new Semaphore(maxConcurrency);
        this.replication = replication(config);
        this.clusteringColumns = clustering(config);
        this.catalog = new Catalog(readConsistency, writeConsistency);
    }

    /** Connects; called by the provider on the runtime's start-up thread. */
    static CassandraStore open(StoreConfig config) {
        List<InetSocketAddress> points = new ArrayList<>();
        for (String cp : config.list(CassandraSettings.CONTACT_POINTS)) {
            int colon = cp.lastIndexOf(':');
            try {
                points.add(colon < 0 ? InetSocketAddress.createUnresolved(cp, 9042)
                        : InetSocketAddress.createUnresolved(cp.substring(0, colon),
                        Integer.parseInt(cp.substring(colon + 1))));
            } catch (NumberFormatException e) {
                throw new MqdbException(config.where(CassandraSettings.CONTACT_POINTS) + ": expected host:port, got \""
                        + cp + "\"");
            }
        }
        if (points.isEmpty()) {
            throw new MqdbException(config.where(CassandraSettings.CONTACT_POINTS) + ": at least one host:port");
        }
        if (config.intValue(CassandraSettings.MAX_CONCURRENCY) < 1) {
            throw new MqdbException(config.where(CassandraSettings.MAX_CONCURRENCY) + ": at least 1");
        }
        consistency(config, CassandraSettings.READ_CONSISTENCY);
        consistency(config, CassandraSettings.WRITE_CONSISTENCY);
        clustering(config);
        String target = "cassandra://" + String.join(",", config.list(CassandraSettings.CONTACT_POINTS))
                + " (" + config.string(CassandraSettings.LOCAL_DATACENTER).orElse("?") + ")";
        ClassLoader loader = CassandraStore.class.getClassLoader();
        DriverConfigLoader driverConfig = DriverConfigLoader.programmaticBuilder(loader)
                .withDuration(DefaultDriverOption.REQUEST_TIMEOUT, config.duration(CassandraSettings.REQUEST_TIMEOUT))
                // Unversioned writes take the coordinator's time; versioned ones say USING TIMESTAMP.
                .withString(DefaultDriverOption.TIMESTAMP_GENERATOR_CLASS, "ServerSideTimestampGenerator")
                .withDuration(DefaultDriverOption.CONNECTION_INIT_QUERY_TIMEOUT, Duration.ofSeconds(10))
                .withDuration(DefaultDriverOption.METADATA_SCHEMA_REQUEST_TIMEOUT, SCHEMA_TIMEOUT)
                .withDuration(DefaultDriverOption.CONTROL_CONNECTION_AGREEMENT_TIMEOUT, SCHEMA_TIMEOUT)
                .withInt(DefaultDriverOption.CONNECTION_MAX_REQUESTS,
                        Math.max(1024, config.intValue(CassandraSettings.MAX_CONCURRENCY)))
                .build();
        CqlSessionBuilder builder = CqlSession.builder().withConfigLoader(driverConfig).withClassLoader(loader)
                .addContactPoints(points)
                .withLocalDatacenter(config.string(CassandraSettings.LOCAL_DATACENTER).orElseThrow());
        Optional<String> user = config.string(CassandraSettings.USERNAME);
        if (user.isPresent()) {
            builder.withAuthCredentials(user.get(), config.string(CassandraSettings.PASSWORD).orElseThrow(() ->
                    new MqdbException(config.where(CassandraSettings.PASSWORD) + ": required with username")));
        }
        if (config.bool(CassandraSettings.TLS)) {
            builder.withSslEngineFactory(new ProgrammaticSslEngineFactory(
                    sslContext(config.path(CassandraSettings.CA_FILE), config.where(CassandraSettings.CA_FILE)),
                    null, true));
        }
        CqlSession session;
        try {
            session = builder.build();
        } catch (AllNodesFailedException e) {
            boolean refused = e.getAllErrors().values().stream().flatMap(List::stream)
                    .anyMatch(x -> x instanceof AuthenticationException);
            if (refused) {
                throw new MqdbException(target + ": authentication refused; check "
                        + config.where(CassandraSettings.USERNAME) + " and " + config.where(CassandraSettings.PASSWORD),
                        e);
            }
            throw Errors.translate(target + ": cannot connect", e);
        } catch (RuntimeException e) {
            throw Errors.translate(target + ": cannot connect", e);
        }
        return new CassandraStore(session, target, config);
    }

    private static SSLContext sslContext(Optional<Path> caFile, String where) {
        try {
            if (caFile.isEmpty()) {
                return SSLContext.getDefault();
            }
            KeyStore trust = KeyStore.getInstance(KeyStore.getDefaultType());
            trust.load(null, null);
            try (InputStream in = Files.newInputStream(caFile.get())) {
                int i = 0;
                for (Certificate c : CertificateFactory.getInstance("X.509").generateCertificates(in)) {
                    trust.setCertificateEntry("ca-" + i++, c);
                }
            }
            TrustManagerFactory tmf = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
            tmf.init(trust);
            SSLContext ctx = SSLContext.getInstance("TLS");
            ctx.init(null, tmf.getTrustManagers(), null);
            return ctx;
        } catch (IOException | GeneralSecurityException e) {
            throw new MqdbException(where + ": cannot read the CA certificates: " + e.getMessage(), e);
        }
    }

    private static ConsistencyLevel consistency(StoreConfig config, String key) {
        String v = config.string(key).orElseThrow();
        try {
            return DefaultConsistencyLevel.valueOf(v.toUpperCase(Locale.ROOT));
        } catch (IllegalArgumentException e) {
            throw new MqdbException(config.where(key) + ": unknown consistency level \"" + v + "\", expected one of "
                    + List.of(DefaultConsistencyLevel.values()));
        }
    }

    private static String replication(StoreConfig config) {
        Map<String, String> map = config.map(CassandraSettings.KEYSPACE_REPLICATION);
        if (!map.containsKey("class")) {
            throw new MqdbException(config.where(CassandraSettings.KEYSPACE_REPLICATION) + ": needs a class");
        }
        StringBuilder sb = new StringBuilder("{");
        for (Map.Entry<String, String> e : map.entrySet()) {
            if (sb.length() > 1) {
                sb.append(", ");
            }
            sb.append(literal(e.getKey())).append(": ").append(literal(e.getValue()));
        }
        return sb.append('}').toString();
    }

    private static Map<TableId, List<String>> clustering(StoreConfig config) {
        Map<TableId, List<String>> out = new HashMap<>();
        for (Map.Entry<String, String> e : config.map(CassandraSettings.CLUSTERING_COLUMNS).entrySet()) {
            try {
                TableId t = TableId.parse(e.getKey());
                List<String> columns = new ArrayList<>();
                for (String c : e.getValue().split(",")) {
                    TableId.requireIdentifier("column", c.trim());
                    columns.add(c.trim());
                }
                out.put(t, List.copyOf(columns));
            } catch (IllegalArgumentException ex) {
                throw new MqdbException(config.where(CassandraSettings.CLUSTERING_COLUMNS) + ": " + ex.getMessage());
            }
        }
        return Map.copyOf(out);
    }

    /** @return a CQL string literal */
    static String literal(String s) {
        return "'" + s.replace("'", "''") + "'";
    }

    /** @return a quoted CQL identifier, case kept */
    static String id(String name) {
        return CqlIdentifier.fromInternal(name).asCql(false);
    }

    static String qualified(TableId t) {
        return id(t.schema()) + "." + id(t.table());
    }

    @Override
    public String describeTarget() {
        return target;
    }

    @Override
    public Optional<ChangeCapture> capture() {
        return Optional.empty();
    }

    // ---------------------------------------------------------------- schema

    @Override
    public Optional<TableSchema> describe(TableId table) {
        return load(table).map(CqlTable::schema);
    }

    /** Reads the table's shape from system_schema and its portable types from the catalog, and caches it. */
    private Optional<CqlTable> load(TableId table) {
        List<com.datastax.oss.driver.api.core.cql.Row> cols = execute(
                SimpleStatement.newInstance("SELECT column_name, kind, position, type FROM system_schema.columns"
                        + " WHERE keyspace_name = ? AND table_name = ?", table.schema(), table.table())
                        .setConsistencyLevel(DefaultConsistencyLevel.ONE), "describe " + table).all();
        if (cols.isEmpty() || Catalog.TABLE.equals(table.table())) {
            tables.remove(table);
            return Optional.empty();
        }
        Map<String, String> cqlTypes = new LinkedHashMap<>();
        Map<Integer, String> partition = new java.util.TreeMap<>();
        Map<Integer, String> clusteringKey = new java.util.TreeMap<>();
        for (com.datastax.oss.driver.api.core.cql.Row r : cols) {
            String name = r.getString("column_name");
            cqlTypes.put(name, r.getString("type"));
            switch (r.getString("kind")) {
                case "partition_key" -> partition.put(r.getInt("position"), name);
                case "clustering" -> clusteringKey.put(r.getInt("position"), name);
                default -> { }
            }
        }
        Optional<TableSchema> recorded = catalog.read(table, this::execute);
        List<Column> columns = new ArrayList<>();
        Set<String> seen = new java.util.HashSet<>();
        if (recorded.isPresent()) {
            for (Column c : recorded.get().columns()) {
                if (cqlTypes.containsKey(c.name())) {
                    columns.add(c);
                    seen.add(c.name());
                }
            }
        }
        List<String> keys = new ArrayList<>(partition.values());
        keys.addAll(clusteringKey.values());
        for (Map.Entry<String, String> e : cqlTypes.entrySet()) {
            if (!seen.contains(e.getKey())) {
                ColumnType t = CqlTypes.portableType(e.getValue()).orElseThrow(() -> new MqdbException(target + ": "
                        + table + "." + e.getKey() + " has CQL type " + e.getValue() + ", which has no portable type"));
                columns.add(new Column(e.getKey(), t, !keys.contains(e.getKey())));
            }
        }
        List<String> primaryKey = recorded.map(TableSchema::primaryKey)
                .filter(pk -> Set.copyOf(pk).equals(Set.copyOf(keys))).orElse(keys);
        TableSchema schema = new TableSchema(table, columns, primaryKey);
        CqlTable t = new CqlTable(schema, List.copyOf(partition.values()), List.copyOf(clusteringKey.values()));
        tables.put(table, t);
        return Optional.of(t);
    }

    @Override
    public TableSchema ensureTable(TableSchema schema) {
        TableId table = schema.table();
        if (Catalog.TABLE.equals(table.table())) {
            throw new InvalidDataException(target + ": " + Catalog.TABLE + " is mqdb's catalog, not a table name");
        }
        Optional<CqlTable> existing = load(table);
        if (existing.isEmpty()) {
            keyspacesEnsured.remove(table.schema()); // it may have been dropped with the keyspace
        }
        ensureKeyspace(table.schema());
        if (existing.isPresent() && !existing.get().schema().primaryKey().equals(schema.primaryKey())) {
            throw new InvalidDataException(target + ": " + table + " has primary key "
                    + existing.get().schema().primaryKey() + ", not " + schema.primaryKey());
        }
        if (existing.isEmpty()) {
            create(schema);
        } else {
            TableSchema have = existing.get().schema();
            List<Column> missing = have.missingColumns(schema);
            for (Column c : missing) {
                try {
                    ddl("ALTER TABLE " + qualified(table) + " ADD " + id(c.name()) + " "
                            + CqlTypes.cqlType(c.type()), "add column " + c.name() + " to " + table);
                } catch (InvalidDataException e) {
                    // Another node may have added it meanwhile; the reload below tells.
                }
            }
            if (!missing.isEmpty()) {
                List<Column> grown = new ArrayList<>(have.columns());
                for (Column c : missing) {
                    grown.add(Column.of(c.name(), c.type()));
                }
                catalog.write(new TableSchema(table, grown, have.primaryKey()), this::execute);
            }
        }
        return load(table).orElseThrow(() -> new MqdbException(target + ": " + table + " vanished after creation"))
                .schema();
    }

    private void create(TableSchema schema) {
        TableId table = schema.table();
        List<String> clustering = clusteringColumns.getOrDefault(table, List.of());
        List<String> partition = new ArrayList<>(schema.primaryKey());
        for (String c : clustering) {
            if (!partition.remove(c)) {
                throw new InvalidDataException(target + ": clustering column " + c + " of " + table
                        + " is not a primary-key column " + schema.primaryKey());
            }
        }
        if (partition.isEmpty()) {
            throw new InvalidDataException(target + ": " + table + " needs at least one partition-key column");
        }
        StringBuilder cql = new StringBuilder("CREATE TABLE IF NOT EXISTS ").append(qualified(table)).append(" (");
        for (Column c : schema.columns()) {
            cql.append(id(c.name())).append(' ').append(CqlTypes.cqlType(c.type())).append(", ");
        }
        cql.append("PRIMARY KEY ((");
        cql.append(String.join(", ", partition.stream().map(CassandraStore::id).toList())).append(')');
        for (String c : clustering) {
            cql.append(", ").append(id(c));
        }
        cql.append("))");
        // The catalog first: a table visible without its catalog entry would be described with CQL's types. Another
        // node creating the same table at the same moment may have written its entry: keep its columns too.
        TableSchema recorded = schema;
        Optional<TableSchema> prior = catalog.read(table, this::execute);
        if (prior.isPresent() && prior.get().primaryKey().equals(schema.primaryKey())) {
            List<Column> union = new ArrayList<>(prior.get().columns());
            union.addAll(prior.get().missingColumns(schema));
            recorded = new TableSchema(table, union, schema.primaryKey());
        }
        catalog.write(recorded, this::execute);
        ddl(cql.toString(), "create " + table);
    }

    private void ensureKeyspace(String keyspace) {
        if (keyspacesEnsured.contains(keyspace)) {
            return;
        }
        if (keyspace.length() > 48) {
            throw new InvalidDataException(target + ": schema " + keyspace
                    + " is longer than 48 characters, Cassandra's limit for keyspace names");
        }
        ddl("CREATE KEYSPACE IF NOT EXISTS " + id(keyspace) + " WITH replication = " + replication,
                "create keyspace " + keyspace);
        ddl(catalog.createCql(keyspace), "create catalog of " + keyspace);
        keyspacesEnsured.add(keyspace);
    }

    private void ddl(String cql, String what) {
        execute(SimpleStatement.newInstance(cql).setTimeout(SCHEMA_TIMEOUT), what);
    }

    ResultSet execute(Statement<?> statement, String what) {
        try {
            return session.execute(statement);
        } catch (RuntimeException e) {
            throw Errors.translate(target + ": " + what, e);
        }
    }

    /** @return the cached table, loaded when missing */
    private CqlTable table(TableId table) {
        CqlTable t = tables.get(table);
        if (t != null) {
            return t;
        }
        return load(table).orElseThrow(() -> new InvalidDataException(target + ": no table " + table));
    }

    // ---------------------------------------------------------------- writes

    /**
     * Writes the batch with up to {@code max-concurrency} statements in flight; the writes of one key run in batch
     * order (each waits for the one before), those of different keys concurrently. Returns when every write was
     * acknowledged at the write consistency.
     */
    @Override
    public void apply(TableId table, List<Mutation> batch, WriteOrigin origin) {
        List<BoundStatementBuilder> statements = new ArrayList<>(batch.size());
        List<Key> keys = new ArrayList<>(batch.size());
        bind(table(table), batch, statements, keys);
        // Rounds: the n-th write of every key goes in round n, so writes of one key keep their order.
        List<List<BoundStatementBuilder>> rounds = new ArrayList<>();
        Map<Key, Integer> seen = new HashMap<>();
        for (int i = 0; i < statements.size(); i++) {
            int round = seen.merge(keys.get(i), 1, Integer::sum) - 1;
            if (round == rounds.size()) {
                rounds.add(new ArrayList<>());
            }
            rounds.get(round).add(statements.get(i));
        }
        for (List<BoundStatementBuilder> round : rounds) {
            runConcurrently(table, round, batch.size());
        }
    }

    /**
     * One logged batch for the writes of every table: Cassandra writes the batch to its batch log first, so either
     * every write is applied or, if the coordinator fails part way, the batch log replays the rest; all or nothing,
     * but not isolated (a reader may see one table's write before another's). Unversioned writes of one batch share
     * one server timestamp, so a batch must not write the same key twice. Waits for the batch at the write
     * consistency; a timeout leaves the outcome unknown (the batch log may still apply it).
     */
    @Override
    public void applyAtomically(List<TableBatch> batches, WriteOrigin origin) {
        List<BoundStatementBuilder> statements = new ArrayList<>();
        int writes = 0;
        for (TableBatch b : batches) {
            bind(table(b.table()), b.mutations(), statements, new ArrayList<>());
            writes += b.mutations().size();
        }
        BatchStatementBuilder logged = BatchStatement.builder(DefaultBatchType.LOGGED)
                .setConsistencyLevel(writeConsistency);
        statements.forEach(st -> logged.addStatement(st.build()));
        String what = target + ": " + writes + " writes on " + batches.size() + " table(s) in one logged batch";
        try {
            inFlight.acquire();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new io.mqdb.spi.RetriableException(what + ": interrupted before it was sent");
        }
        try {
            session.execute(logged.build());
        } catch (RuntimeException e) {
            throw Errors.translate(what, e);
        } finally {
            inFlight.release();
        }
    }

    @Override
    public Optional<AtomicWrites> atomicWrites() {
        return Optional.of(this);
    }

    /** Validates a table's writes and adds their statements and keys, in order, to the lists. */
    private void bind(CqlTable t, List<Mutation> batch, List<BoundStatementBuilder> statements, List<Key> keys) {
        for (Mutation m : batch) {
            if (m instanceof Mutation.Upsert u) {
                Row row;
                try {
                    row = t.schema().validate(u.row());
                } catch (InvalidDataException e) {
                    t = reloadIfGrown(t, u.row(), e);
                    row = t.schema().validate(u.row());
                }
                keys.add(t.schema().keyOf(row));
                statements.add(t.upsert(session, row, u.version()));
            } else {
                Mutation.Delete d = (Mutation.Delete) m;
                Key key = t.schema().validate(d.key());
                keys.add(key);
                statements.add(t.delete(session, key, d.version()));
            }
        }
    }

    private CqlTable reloadIfGrown(CqlTable t, Row row, InvalidDataException e) {
        for (String c : row.values().keySet()) {
            if (t.schema().column(c).isEmpty()) {
                // Another node may have grown the table; look once before rejecting.
                return load(t.schema().table()).orElseThrow(() -> e);
            }
        }
        throw e;
    }

    private void runConcurrently(TableId table, List<BoundStatementBuilder> statements, int batchSize) {
        AtomicReference<Throwable> failure = new AtomicReference<>();
        List<CompletableFuture<AsyncResultSet>> pending = new ArrayList<>(statements.size());
        boolean interrupted = false;
        for (BoundStatementBuilder b : statements) {
            if (failure.get() != null) {
                break;
            }
            try {
                inFlight.acquire();
            } catch (InterruptedException e) {
                interrupted = true;
                break;
            }
            CompletionStage<AsyncResultSet> stage;
            try {
                stage = session.executeAsync(b.setConsistencyLevel(writeConsistency).build());
            } catch (RuntimeException e) {
                inFlight.release();
                failure.compareAndSet(null, e);
                break;
            }
            pending.add(stage.toCompletableFuture().whenComplete((rs, err) -> {
                inFlight.release();
                if (err != null) {
                    failure.compareAndSet(null, err);
                }
            }));
        }
        // Wait for every write in flight, also after a failure: a retry must not race writes of this attempt.
        for (CompletableFuture<AsyncResultSet> f : pending) {
            while (true) {
                try {
                    f.get();
                    break;
                } catch (InterruptedException e) {
                    interrupted = true;
                } catch (java.util.concurrent.ExecutionException e) {
                    break;
                }
            }
        }
        if (interrupted) {
            Thread.currentThread().interrupt();
            throw new io.mqdb.spi.RetriableException(target + ": interrupted while applying " + batchSize
                    + " writes on " + table);
        }
        if (failure.get() != null) {
            throw Errors.translate(target + ": " + batchSize + " writes on " + table, failure.get());
        }
    }

    // ---------------------------------------------------------------- reads

    @Override
    public Optional<Row> get(TableId table, Key key) {
        CqlTable t = tables.get(table);
        if (t == null) {
            Optional<CqlTable> loaded = load(table);
            if (loaded.isEmpty()) {
                return Optional.empty();
            }
            t = loaded.get();
        }
        Key k = t.schema().validate(key);
        ResultSet rs = execute(t.get(session, k).setConsistencyLevel(readConsistency).build(), "get " + table);
        com.datastax.oss.driver.api.core.cql.Row r = rs.one();
        return r == null ? Optional.empty() : Optional.of(t.read(r, 0));
    }

    /**
     * Pages through the table in Cassandra's order: by token (the partition key's Murmur3 hash), then by partition
     * key bytes, then by clustering columns. The cursor is the key of the last row returned; the next page holds the
     * rows after it in that order, whether or not it still exists.
     */
    @Override
    public ScanPage scan(TableId table, Key after, int limit) {
        Optional<CqlTable> loaded = Optional.ofNullable(tables.get(table)).or(() -> load(table));
        if (loaded.isEmpty()) {
            return new ScanPage(List.of(), Optional.empty());
        }
        CqlTable t = loaded.get();
        // One row more than asked tells whether the table goes on; the driver fetches pages of at most 5,000.
        int wanted = limit == Integer.MAX_VALUE ? limit : limit + 1;
        int pageSize = Math.min(wanted, 5_000);
        List<Row> rows = new ArrayList<>(Math.min(wanted, 1_024));
        String what = "scan " + table;
        if (after == null) {
            collect(t, execute(t.scanAll(session, pageSize).setConsistencyLevel(readConsistency).build(), what)
                    .iterator(), rows, wanted, null);
        } else {
            Key a = t.schema().validate(after);
            if (!t.clustering().isEmpty()) {
                collect(t, execute(t.scanPartitionAfter(session, a, pageSize).setConsistencyLevel(readConsistency)
                        .build(), what).iterator(), rows, wanted, null);
            }
            if (rows.size() < wanted) {
                collect(t, execute(t.scanFrom(session, a, pageSize).setConsistencyLevel(readConsistency).build(),
                        what).iterator(), rows, wanted, a);
            }
        }
        if (rows.size() > limit) {
            rows = rows.subList(0, limit);
            return new ScanPage(rows, Optional.of(t.schema().keyOf(rows.get(limit - 1))));
        }
        return new ScanPage(rows, Optional.empty());
    }

    /**
     * Adds rows until {@code max}; with {@code after}, first skips the rows that share its token and do not follow
     * its partition in Cassandra's order ({@code token(...) >= token(after)} returns them too).
     */
    private void collect(CqlTable t, Iterator<com.datastax.oss.driver.api.core.cql.Row> it, List<Row> rows, int max,
                         Key after) {
        Token afterToken = null;
        ByteBuffer afterPartition = null;
        TokenMap tokens = null;
        if (after != null) {
            tokens = session.getMetadata().getTokenMap().orElseThrow(() -> new MqdbException(target
                    + ": the driver has no token map (token metadata disabled?)"));
            afterToken = tokens.newToken(t.partitionComponents(after));
            afterPartition = t.partitionKeyBytes(after);
        }
        boolean pastAfter = after == null;
        while (rows.size() < max && it.hasNext()) {
            Row row = t.read(it.next(), 0);
            if (!pastAfter) {
                Key k = t.schema().keyOf(row);
                if (tokens.newToken(t.partitionComponents(k)).equals(afterToken)) {
                    if (compareUnsigned(t.partitionKeyBytes(k), afterPartition) <= 0) {
                        continue;
                    }
                } else {
                    pastAfter = true;
                }
            }
            rows.add(row);
        }
    }

    private static int compareUnsigned(ByteBuffer a, ByteBuffer b) {
        int n = Math.min(a.remaining(), b.remaining());
        for (int i = 0; i < n; i++) {
            int c = Integer.compare(a.get(a.position() + i) & 0xFF, b.get(b.position() + i) & 0xFF);
            if (c != 0) {
                return c;
            }
        }
        return Integer.compare(a.remaining(), b.remaining());
    }

    @Override
    public long count(TableId table) {
        Optional<CqlTable> t = load(table);
        if (t.isEmpty()) {
            return 0;
        }
        long n = 0;
        for (Iterator<?> it = execute(t.get().countAll(session).setConsistencyLevel(readConsistency).build(),
                "count " + table).iterator(); it.hasNext(); it.next()) {
            n++;
        }
        return n;
    }

    @Override
    public synchronized void close() {
        if (closed) {
            return;
        }
        closed = true;
        session.close();
    }

    /** For the benchmark: the driver session of this store. */
    CqlSession session() {
        return session;
    }

    /** For tests: how many writes may be in flight. */
    int maxConcurrency() {
        return maxConcurrency;
    }

    /** @return the write time of a version: microseconds = its wall-clock milliseconds * 1000 + its logical count */
    static long writeTime(Version v) {
        return Math.addExact(Math.multiplyExact(v.millis(), 1_000L), v.logical());
    }

    /** Keeps a prepared statement's text and the statement, prepared on first use. */
    static final class Prepared {
        private final String cql;
        private volatile PreparedStatement statement;

        Prepared(String cql) {
            this.cql = cql;
        }

        BoundStatementBuilder bind(CqlSession session) {
            PreparedStatement p = statement;
            if (p == null) {
                try {
                    p = session.prepare(cql);
                } catch (RuntimeException e) {
                    throw Errors.translate("prepare " + cql, e);
                }
                statement = p;
            }
            return p.boundStatementBuilder();
        }
    }
}
