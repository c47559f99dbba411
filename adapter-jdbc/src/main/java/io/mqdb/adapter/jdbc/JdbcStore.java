package io.mqdb.adapter.jdbc;

import com.zaxxer.hikari.HikariDataSource;
import io.mqdb.spi.AtomicWrites;
import io.mqdb.spi.CaptureInstallation;
import io.mqdb.spi.ChangeCapture;
import io.mqdb.spi.Column;
import io.mqdb.spi.InvalidDataException;
import io.mqdb.spi.Key;
import io.mqdb.spi.Mutation;
import io.mqdb.spi.Row;
import io.mqdb.spi.ScanPage;
import io.mqdb.spi.Store;
import io.mqdb.spi.TableId;
import io.mqdb.spi.TableSchema;
import io.mqdb.spi.WriteOrigin;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import org.jdbi.v3.core.Jdbi;

/**
 * A SQL database reached through JDBC: a HikariCP pool, JDBI handles, and a {@link Dialect} for what differs between
 * databases. Thread-safe; every call borrows a connection for its duration.
 *
 * <p>As a {@link CaptureInstallation} it lists and removes the triggers, functions and change log of trigger capture
 * and, on PostgreSQL, the replication slot and publication of {@code capture: log}, on MariaDB/MySQL its state and
 * marker tables (for {@code mqdb uninstall}),
 * whatever its {@code capture} setting is now; on H2 and generic databases, which have no capture to install,
 * nothing.
 *
 * <p>As {@link AtomicWrites}, batches to several tables run in one SQL transaction (the isolation is the database's
 * default: READ COMMITTED on PostgreSQL, REPEATABLE READ on MariaDB/InnoDB).
 */
public final class JdbcStore implements Store, CaptureInstallation, AtomicWrites {
    private final Dialect dialect;
    private final HikariDataSource dataSource;
    private final Jdbi jdbi;
    private final Map<String, String> schemaMap;
    private final String target;
    private final Map<TableId, JdbcTable> tables = new ConcurrentHashMap<>();
    private volatile ChangeCapture capture;
    /** How a replicated write is kept out of capture; empty when nothing captures this store's writes. */
    private final Optional<OriginMark> originMark;
    private final String changelogName;
    /** The channels' {@code key:} per table (see {@link io.mqdb.spi.StoreContext#replicaKeys()}). */
    private final Map<TableId, List<String>> replicaKeys;
    private volatile boolean closed;

    JdbcStore(Dialect dialect, HikariDataSource dataSource, Map<String, String> schemaMap, String target,
              Optional<OriginMark> originMark, String changelogName, Map<TableId, List<String>> replicaKeys) {
        this.dialect = dialect;
        this.dataSource = dataSource;
        this.jdbi = Jdbi.create(dataSource);
        this.schemaMap = Map.copyOf(schemaMap);
        this.target = target;
        this.originMark = originMark;
        this.changelogName = changelogName;
        this.replicaKeys = Map.copyOf(replicaKeys);
    }

    /** The slot and publication of {@code capture: log}, listed and removed by uninstall; PostgreSQL only. */
    private volatile LogCapture.Names logNames;

    void setLogNames(LogCapture.Names names) {
        this.logNames = names;
    }

    void setCapture(ChangeCapture capture) {
        this.capture = capture;
    }

    Dialect dialect() {
        return dialect;
    }

    /** A unit of work on one pooled connection. */
    @FunctionalInterface
    interface SqlWork<T> {
        T run(Connection c) throws SQLException;
    }

    /** Runs work on a pooled connection, translating failures (see {@link SqlErrors}). */
    <T> T withConnection(String what, SqlWork<T> work) {
        try {
            return jdbi.withHandle(h -> work.run(h.getConnection()));
        } catch (Exception e) {
            throw SqlErrors.translate(target + ": " + what, e, dialect);
        }
    }

    /** Runs work in one transaction, committed when it returns. */
    <T> T inTransaction(String what, SqlWork<T> work) {
        return withConnection(what, c -> {
            c.setAutoCommit(false);
            try {
                T out = work.run(c);
                c.commit();
                return out;
            } catch (SQLException | RuntimeException e) {
                rollbackQuietly(c, e);
                throw e;
            } finally {
                c.setAutoCommit(true);
            }
        });
    }

    private static void rollbackQuietly(Connection c, Exception e) {
        try {
            c.rollback();
        } catch (SQLException r) {
            e.addSuppressed(r);
        }
    }

    String sqlSchema(TableId id) {
        return schemaMap.getOrDefault(id.schema(), id.schema());
    }

    @Override
    public String describeTarget() {
        return target;
    }

    @Override
    public Optional<ChangeCapture> capture() {
        return Optional.ofNullable(capture);
    }

    // ------------------------------------------------------------------ schema

    @Override
    public Optional<TableSchema> describe(TableId table) {
        return describeTable(table).map(JdbcTable::schema);
    }

    Optional<JdbcTable> describeTable(TableId id) {
        Optional<JdbcTable> t = withConnection("describe " + id, c -> dialect.describe(c, id, sqlSchema(id),
                replicaKeys.getOrDefault(id, List.of())));
        t.ifPresentOrElse(x -> tables.put(id, x), () -> tables.remove(id));
        return t;
    }

    /** The table as last described; described now when not cached. */
    JdbcTable table(TableId id) {
        JdbcTable t = tables.get(id);
        if (t != null) {
            return t;
        }
        return describeTable(id).orElseThrow(() -> new InvalidDataException(target + ": table " + id
                + " does not exist"));
    }

    @Override
    public TableSchema ensureTable(TableSchema schema) {
        TableId id = schema.table();
        Optional<JdbcTable> existing = describeTable(id);
        if (existing.isEmpty()) {
            String sqlName = dialect.tableName(sqlSchema(id), id.table());
            withConnection("create " + id, c -> {
                for (String s : dialect.createSchema(sqlSchema(id))) {
                    try (PreparedStatement ps = c.prepareStatement(s)) {
                        ps.execute();
                    } catch (SQLException e) {
                        // a concurrent creator may have won; CREATE TABLE below tells
                    }
                }
                try (PreparedStatement ps = c.prepareStatement(
                        dialect.createTable(sqlName, schema.columns(), schema.primaryKey()))) {
                    ps.execute();
                }
                return null;
            });
            existing = describeTable(id);
        }
        JdbcTable t = existing.orElseThrow(() -> new InvalidDataException(target + ": table " + id
                + " could not be created"));
        if (!t.schema().primaryKey().equals(schema.primaryKey())) {
            throw new InvalidDataException(target + ": table " + id + " has primary key " + t.schema().primaryKey()
                    + ", the incoming schema has " + schema.primaryKey());
        }
        List<Column> missing = t.schema().missingColumns(schema);
        if (!missing.isEmpty()) {
            JdbcTable current = t;
            withConnection("add columns to " + id, c -> {
                for (Column col : missing) {
                    try (PreparedStatement ps = c.prepareStatement(dialect.addColumn(current.sqlName(),
                            new Column(col.name(), col.type(), true)))) {
                        ps.execute();
                    } catch (SQLException e) {
                        // another thread may have added it; checked below
                    }
                }
                return null;
            });
            t = describeTable(id).orElseThrow();
            List<Column> still = t.schema().missingColumns(schema);
            if (!still.isEmpty()) {
                throw new InvalidDataException(target + ": could not add columns " + still + " to " + id);
            }
        }
        return t.schema();
    }

    // ------------------------------------------------------------------ writes

    @Override
    public void apply(TableId id, List<Mutation> batch, WriteOrigin origin) {
        if (batch.isEmpty()) {
            return;
        }
        inOneTransaction(List.of(new TableBatch(id, batch)), origin, "apply " + batch.size() + " writes to " + id);
    }

    /** The batches in one SQL transaction: committed together or rolled back together. */
    @Override
    public void applyAtomically(List<TableBatch> batches, WriteOrigin origin) {
        if (batches.isEmpty()) {
            return;
        }
        inOneTransaction(batches, origin, "apply writes to " + batches.stream().map(b -> b.table().toString())
                .distinct().collect(java.util.stream.Collectors.joining(", ")) + " in one transaction");
    }

    @Override
    public Optional<AtomicWrites> atomicWrites() {
        return Optional.of(this);
    }

    private void inOneTransaction(List<TableBatch> batches, WriteOrigin origin, String what) {
        List<JdbcTable> tables = new ArrayList<>(batches.size());
        for (TableBatch b : batches) {
            tables.add(tableFor(b.table(), b.mutations()));
        }
        Optional<OriginMark> mark = originMark;
        boolean replicated = origin == WriteOrigin.REPLICATED && mark.isPresent();
        withConnection(what, c -> {
            if (mark.isPresent() && !replicated) {
                mark.get().endReplicated(c); // a mark left by a failed reset must not hide local writes
            }
            c.setAutoCommit(false);
            try {
                if (replicated) {
                    mark.get().beginReplicated(c);
                }
                for (int t = 0; t < batches.size(); t++) {
                    writeGroups(c, tables.get(t), batches.get(t).mutations());
                }
                if (replicated) {
                    mark.get().beforeCommitReplicated(c);
                }
                c.commit();
            } catch (SQLException | RuntimeException e) {
                rollbackQuietly(c, e);
                throw e;
            } finally {
                if (replicated) {
                    mark.get().endReplicated(c);
                }
                c.setAutoCommit(true);
            }
            return null;
        });
    }

    /** Runs a table's writes in runs of one shape (a JDBC batch each), in order, in the caller's transaction. */
    private void writeGroups(Connection c, JdbcTable table, List<Mutation> batch) throws SQLException {
        int i = 0;
        while (i < batch.size()) {
            int j = i + 1;
            Mutation first = batch.get(i);
            while (j < batch.size() && sameShape(first, batch.get(j))) {
                j++;
            }
            List<Mutation> group = batch.subList(i, j);
            if (first instanceof Mutation.Upsert u) {
                upsertGroup(c, table, u.row().values().keySet(), group);
            } else {
                deleteGroup(c, table, group);
            }
            i = j;
        }
    }

    /** The cached table, described again once when a row names a column the cache does not know. */
    private JdbcTable tableFor(TableId id, List<Mutation> batch) {
        JdbcTable t = table(id);
        for (int attempt = 0; ; attempt++) {
            String unknown = null;
            for (Mutation m : batch) {
                if (m instanceof Mutation.Upsert u) {
                    for (String col : u.row().values().keySet()) {
                        if (t.schema().column(col).isEmpty()) {
                            unknown = col;
                            break;
                        }
                    }
                }
                if (unknown != null) {
                    break;
                }
            }
            if (unknown == null) {
                return t;
            }
            if (attempt > 0) {
                throw new InvalidDataException(target + ": " + id + ": unknown column " + unknown);
            }
            t = describeTable(id).orElseThrow();
        }
    }

    private static boolean sameShape(Mutation a, Mutation b) {
        if (a instanceof Mutation.Upsert ua && b instanceof Mutation.Upsert ub) {
            return ua.row().values().keySet().equals(ub.row().values().keySet());
        }
        return a instanceof Mutation.Delete && b instanceof Mutation.Delete;
    }

    private void upsertGroup(Connection c, JdbcTable table, Set<String> names, List<Mutation> group)
            throws SQLException {
        List<Column> columns = new ArrayList<>();
        for (Column col : table.columns()) {
            if (names.contains(col.name())) {
                columns.add(col);
            }
        }
        for (Mutation m : group) {
            table.schema().keyOf(((Mutation.Upsert) m).row()); // every key column present
        }
        Optional<String> sql = dialect.upsert(table, columns);
        if (sql.isEmpty()) {
            for (Mutation m : group) {
                upsertByUpdate(c, table, columns, ((Mutation.Upsert) m).row());
            }
            return;
        }
        try (PreparedStatement ps = c.prepareStatement(sql.get())) {
            // PostgreSQL's driver rewrites a batch into one multi-row INSERT ... ON CONFLICT, which refuses to touch a
            // row twice: a key seen again in the group first sends the batch so far.
            Set<Key> batched = new HashSet<>();
            for (Mutation m : group) {
                Row row = ((Mutation.Upsert) m).row();
                if (!batched.add(table.schema().keyOf(row))) {
                    ps.executeBatch();
                    batched.clear();
                    batched.add(table.schema().keyOf(row));
                }
                int i = 1;
                for (Column col : columns) {
                    dialect.bind(ps, i++, col, table.sqlType(col.name()), row.get(col.name()));
                }
                ps.addBatch();
            }
            ps.executeBatch();
        }
    }

    private void upsertByUpdate(Connection c, JdbcTable table, List<Column> columns, Row row) throws SQLException {
        List<Column> values = new ArrayList<>();
        for (Column col : columns) {
            if (!table.schema().primaryKey().contains(col.name())) {
                values.add(col);
            }
        }
        int updated;
        if (values.isEmpty()) {
            try (PreparedStatement ps = c.prepareStatement("SELECT 1 FROM " + table.sqlName() + " WHERE "
                    + dialect.keyPredicate(table))) {
                bindKey(ps, 1, table, table.schema().keyOf(row));
                try (ResultSet rs = ps.executeQuery()) {
                    updated = rs.next() ? 1 : 0;
                }
            }
        } else {
            StringBuilder set = new StringBuilder();
            for (Column col : values) {
                set.append(set.length() == 0 ? "" : ", ").append(dialect.quote(col.name())).append(" = ")
                        .append(dialect.placeholder(table, col));
            }
            try (PreparedStatement ps = c.prepareStatement("UPDATE " + table.sqlName() + " SET " + set + " WHERE "
                    + dialect.keyPredicate(table))) {
                int i = 1;
                for (Column col : values) {
                    dialect.bind(ps, i++, col, table.sqlType(col.name()), row.get(col.name()));
                }
                bindKey(ps, i, table, table.schema().keyOf(row));
                updated = ps.executeUpdate();
            }
        }
        if (updated == 0) {
            try (PreparedStatement ps = c.prepareStatement("INSERT INTO " + table.sqlName() + " ("
                    + dialect.columnList(columns) + ") VALUES (" + dialect.placeholders(table, columns) + ")")) {
                int i = 1;
                for (Column col : columns) {
                    dialect.bind(ps, i++, col, table.sqlType(col.name()), row.get(col.name()));
                }
                ps.executeUpdate();
            }
        }
    }

    private void deleteGroup(Connection c, JdbcTable table, List<Mutation> group) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("DELETE FROM " + table.sqlName() + " WHERE "
                + dialect.keyPredicate(table))) {
            for (Mutation m : group) {
                bindKey(ps, 1, table, table.schema().validate(((Mutation.Delete) m).key()));
                ps.addBatch();
            }
            ps.executeBatch();
        }
    }

    int bindKey(PreparedStatement ps, int index, JdbcTable table, Key key) throws SQLException {
        List<Column> kc = table.schema().keyColumns();
        for (int i = 0; i < kc.size(); i++) {
            dialect.bind(ps, index++, kc.get(i), table.sqlType(kc.get(i).name()), key.get(i));
        }
        return index;
    }

    // ------------------------------------------------------------------ reads

    private String selectColumns(JdbcTable table) {
        return "SELECT " + dialect.columnList(table.columns()) + " FROM " + table.sqlName();
    }

    Row readRow(ResultSet rs, JdbcTable table) throws SQLException {
        Map<String, Object> values = new LinkedHashMap<>();
        int i = 1;
        for (Column col : table.columns()) {
            values.put(col.name(), dialect.read(rs, i++, col, table.sqlType(col.name())));
        }
        return Row.of(values);
    }

    @Override
    public Optional<Row> get(TableId id, Key key) {
        JdbcTable table = table(id);
        Key k = table.schema().validate(key);
        return withConnection("get " + id + " " + key, c -> {
            try (PreparedStatement ps = c.prepareStatement(selectColumns(table) + " WHERE "
                    + dialect.keyPredicate(table))) {
                bindKey(ps, 1, table, k);
                try (ResultSet rs = ps.executeQuery()) {
                    return rs.next() ? Optional.of(readRow(rs, table)) : Optional.<Row>empty();
                }
            }
        });
    }

    /**
     * Reads the rows with the given keys, in few statements.
     *
     * @return key to row for the keys that exist
     */
    Map<Key, Row> readRows(Connection c, JdbcTable table, List<Key> keys) throws SQLException {
        Map<Key, Row> out = new HashMap<>();
        List<Column> kc = table.schema().keyColumns();
        if (dialect instanceof PostgresDialect && kc.size() == 1 && kc.get(0).type() == io.mqdb.spi.ColumnType.INT64
                && !keys.isEmpty()) {
            // One statement for every key: the same SQL text each time (PgJDBC prepares it on the server after a few
            // uses), where IN lists of 200 placeholders cost 25 statements of varying text per 5,000 changes.
            Long[] ids = new Long[keys.size()];
            for (int i = 0; i < ids.length; i++) {
                ids[i] = (Long) table.schema().validate(keys.get(i)).get(0);
            }
            try (PreparedStatement ps = c.prepareStatement(selectColumns(table) + " WHERE "
                    + dialect.quote(kc.get(0).name()) + " = ANY(?)")) {
                ps.setArray(1, c.createArrayOf("bigint", ids));
                try (ResultSet rs = ps.executeQuery()) {
                    while (rs.next()) {
                        Row r = readRow(rs, table);
                        out.put(table.schema().keyOf(r), r);
                    }
                }
            }
            return out;
        }
        int chunk = 200;
        for (int from = 0; from < keys.size(); from += chunk) {
            List<Key> part = keys.subList(from, Math.min(keys.size(), from + chunk));
            StringBuilder where = new StringBuilder();
            if (kc.size() == 1) {
                where.append(dialect.quote(kc.get(0).name())).append(" IN (");
                for (int i = 0; i < part.size(); i++) {
                    where.append(i == 0 ? "" : ", ").append(dialect.placeholder(table, kc.get(0)));
                }
                where.append(')');
            } else {
                for (int i = 0; i < part.size(); i++) {
                    where.append(i == 0 ? "(" : " OR (").append(dialect.keyPredicate(table)).append(')');
                }
            }
            try (PreparedStatement ps = c.prepareStatement(selectColumns(table) + " WHERE " + where)) {
                int idx = 1;
                for (Key k : part) {
                    idx = bindKey(ps, idx, table, k);
                }
                try (ResultSet rs = ps.executeQuery()) {
                    while (rs.next()) {
                        Row r = readRow(rs, table);
                        out.put(table.schema().keyOf(r), r);
                    }
                }
            }
        }
        return out;
    }

    /** Keyset pagination by primary key; the order is the database's (collation of text keys). */
    @Override
    public ScanPage scan(TableId id, Key after, int limit) {
        JdbcTable table = table(id);
        Key a = after == null ? null : table.schema().validate(after);
        return withConnection("scan " + id, c -> {
            String sql = selectColumns(table) + (a == null ? "" : " WHERE " + dialect.keyAfter(table))
                    + " ORDER BY " + dialect.keyList(table) + " LIMIT ?";
            try (PreparedStatement ps = c.prepareStatement(sql)) {
                int i = 1;
                if (a != null) {
                    i = dialect.bindKeyAfter(ps, i, table, a.values());
                }
                ps.setInt(i, limit);
                List<Row> rows = new ArrayList<>();
                try (ResultSet rs = ps.executeQuery()) {
                    while (rs.next()) {
                        rows.add(readRow(rs, table));
                    }
                }
                Optional<Key> next = rows.size() < limit ? Optional.empty()
                        : Optional.of(table.schema().keyOf(rows.get(rows.size() - 1)));
                return new ScanPage(rows, next);
            }
        });
    }

    @Override
    public long count(TableId id) {
        Optional<JdbcTable> t = Optional.ofNullable(tables.get(id)).or(() -> describeTable(id));
        if (t.isEmpty()) {
            return 0;
        }
        return withConnection("count " + id, c -> {
            try (PreparedStatement ps = c.prepareStatement("SELECT COUNT(*) FROM " + t.get().sqlName());
                 ResultSet rs = ps.executeQuery()) {
                rs.next();
                return rs.getLong(1);
            }
        });
    }

    /** Runs DDL statements one by one, in one transaction where the database allows it. */
    void execute(String what, List<String> statements) {
        inTransaction(what, c -> {
            for (String s : statements) {
                try (PreparedStatement ps = c.prepareStatement(s)) {
                    ps.execute();
                }
            }
            return null;
        });
    }

    // ------------------------------------------------------------------ uninstall

    private List<TriggerSupport.Installed> installedObjects() {
        Optional<TriggerSupport> triggers = dialect.triggers();
        if (triggers.isEmpty()) {
            return List.of();
        }
        return withConnection("list what capture installed", c -> triggers.get().installed(c,
                triggers.get().changelog(c, changelogName)));
    }

    @Override
    public List<String> installed() {
        List<String> out = new ArrayList<>(installedObjects().stream().map(TriggerSupport.Installed::what).toList());
        LogCapture.Names names = logNames;
        if (names != null) {
            out.addAll(withConnection("list the replication slot and publication",
                    c -> LogCapture.installed(c, names)));
        }
        if (dialect instanceof MariaDbDialect) {
            out.addAll(withConnection("list the binlog capture's tables", BinlogCapture::installed));
        }
        return out;
    }

    @Override
    public void uninstall() {
        List<String> drops = installedObjects().stream().map(TriggerSupport.Installed::drop).toList();
        if (!drops.isEmpty()) {
            execute("uninstall capture", drops);
        }
        LogCapture.Names names = logNames;
        if (names != null) {
            withConnection("drop the replication slot and publication", c -> {
                LogCapture.uninstall(c, names);
                return null;
            });
        }
        if (dialect instanceof MariaDbDialect) {
            withConnection("drop the binlog capture's tables", c -> {
                BinlogCapture.uninstall(c);
                return null;
            });
        }
    }

    @Override
    public void close() {
        if (closed) {
            return;
        }
        closed = true;
        if (capture instanceof LogCapture log) {
            log.close();
        } else if (capture instanceof BinlogCapture binlog) {
            binlog.close();
        }
        dataSource.close();
    }
}
