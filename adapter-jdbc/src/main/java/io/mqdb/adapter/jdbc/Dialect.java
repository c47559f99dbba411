package io.mqdb.adapter.jdbc;

import io.mqdb.spi.Bytes;
import io.mqdb.spi.Column;
import io.mqdb.spi.ColumnType;
import io.mqdb.spi.InvalidDataException;
import io.mqdb.spi.Json;
import io.mqdb.spi.TableId;
import java.math.BigDecimal;
import java.sql.Connection;
import java.sql.DatabaseMetaData;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Types;
import java.time.Instant;
import java.time.LocalDate;
import java.time.LocalDateTime;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.StringJoiner;
import java.util.TreeMap;
import java.util.UUID;

/**
 * What differs between SQL databases: identifier quoting, the mapping of portable types to SQL types and back, the
 * upsert statement, table creation, metadata reading and the capture triggers. One small subclass per database;
 * the base class holds the standard-SQL behaviour.
 *
 * <p>Identifiers reaching a dialect were validated by {@link TableId#requireIdentifier} and are always quoted; values
 * only ever travel as statement parameters.
 */
abstract class Dialect {
    /** Marker written in column comments (MariaDB, H2) to remember the portable type of a column. */
    static final String TYPE_MARK = "mqdb:";

    /** @return the dialect's name as in the {@code dialect} setting */
    abstract String name();

    /**
     * @param url a JDBC URL
     * @return the dialect for it, {@code generic} when unknown
     */
    static Dialect forName(String name) {
        switch (name) {
            case "postgresql":
                return new PostgresDialect();
            case "mariadb":
            case "mysql":
                return new MariaDbDialect();
            case "h2":
                return new H2Dialect();
            case "sqlite":
                return new SqliteDialect();
            case "generic":
                return new GenericDialect();
            default:
                throw new IllegalArgumentException("unknown dialect \"" + name
                        + "\", expected postgresql, mariadb, mysql, h2, sqlite or generic");
        }
    }

    /** @return the dialect name for a JDBC URL */
    static String detect(String url) {
        String u = url.toLowerCase(Locale.ROOT);
        if (u.startsWith("jdbc:postgresql:")) {
            return "postgresql";
        }
        if (u.startsWith("jdbc:mariadb:") || u.startsWith("jdbc:mysql:")) {
            return "mariadb";
        }
        if (u.startsWith("jdbc:h2:")) {
            return "h2";
        }
        if (u.startsWith("jdbc:sqlite:")) {
            return "sqlite";
        }
        return "generic";
    }

    /** @return driver properties this dialect needs by default */
    Map<String, String> driverProperties() {
        return Map.of();
    }

    // ---------------------------------------------------------------- names

    String quote(String identifier) {
        TableId.requireIdentifier("identifier", identifier);
        return '"' + identifier + '"';
    }

    /**
     * @param sqlSchema the SQL schema (or database) the mqdb schema maps to
     * @param table the table name
     * @return the qualified, quoted name
     */
    String tableName(String sqlSchema, String table) {
        return quote(sqlSchema) + "." + quote(table);
    }

    /** @return the name the table has in the metadata, for dialects without schemas (SQLite) a composed one */
    String metadataTable(String sqlSchema, String table) {
        return table;
    }

    /** @return the catalog argument of {@link DatabaseMetaData} calls for a schema */
    String metadataCatalog(String sqlSchema) {
        return null;
    }

    /** @return the schema argument of {@link DatabaseMetaData} calls for a schema */
    String metadataSchema(String sqlSchema) {
        return sqlSchema;
    }

    // ---------------------------------------------------------------- types

    /**
     * @param type a portable type
     * @param key whether the column is part of the primary key (some databases cannot index unbounded text)
     * @return the SQL type for a new column
     */
    abstract String sqlType(ColumnType type, boolean key);

    /** @return the extra text after a new column's type (a comment marking its portable type), or "" */
    String columnSuffix(ColumnType type) {
        return "";
    }

    /** @return text after the closing parenthesis of CREATE TABLE, or "" */
    String tableSuffix() {
        return "";
    }

    /**
     * Maps a column read from the metadata to a portable type.
     *
     * @param typeName the database's type name, lower case
     * @param jdbcType the {@link Types} constant
     * @param remarks the column comment, or null
     * @return the portable type
     */
    ColumnType portableType(String typeName, int jdbcType, int scale, String remarks) {
        if (remarks != null && remarks.startsWith(TYPE_MARK)) {
            try {
                return ColumnType.parse(remarks.substring(TYPE_MARK.length()).trim());
            } catch (IllegalArgumentException ignored) {
                // a user's comment that merely looks like ours
            }
        }
        if (typeName.contains("json")) {
            return ColumnType.JSON;
        }
        if (typeName.equals("uuid")) {
            return ColumnType.UUID;
        }
        switch (jdbcType) {
            case Types.BIGINT:
            case Types.INTEGER:
            case Types.SMALLINT:
            case Types.TINYINT:
                return ColumnType.INT64;
            case Types.DOUBLE:
            case Types.FLOAT:
            case Types.REAL:
                return ColumnType.DOUBLE;
            case Types.DECIMAL:
            case Types.NUMERIC:
                return ColumnType.DECIMAL;
            case Types.BIT:
            case Types.BOOLEAN:
                return ColumnType.BOOLEAN;
            case Types.BINARY:
            case Types.VARBINARY:
            case Types.LONGVARBINARY:
            case Types.BLOB:
                return ColumnType.BYTES;
            case Types.TIMESTAMP:
            case Types.TIMESTAMP_WITH_TIMEZONE:
                return ColumnType.TIMESTAMP;
            case Types.DATE:
                return ColumnType.DATE;
            default:
                return ColumnType.STRING;
        }
    }

    /** @return the placeholder for a value of a column (PostgreSQL casts JSON) */
    String placeholder(JdbcTable table, Column column) {
        return "?";
    }

    boolean isTimestampWithZone(String sqlType) {
        return sqlType.contains("with time zone") || sqlType.equals("timestamptz");
    }

    /** Whether a DECIMAL column of this SQL type holds the decimal's text (kept exactly, scale included). */
    boolean decimalAsText(String sqlType) {
        return sqlType.contains("char") || sqlType.contains("text");
    }

    /** Binds one canonical value. */
    void bind(PreparedStatement ps, int index, Column column, String sqlType, Object value) throws SQLException {
        if (value == null) {
            ps.setNull(index, nullType(column.type(), sqlType));
            return;
        }
        switch (column.type()) {
            case STRING -> ps.setString(index, (String) value);
            case INT64 -> ps.setLong(index, (Long) value);
            case DOUBLE -> ps.setDouble(index, (Double) value);
            case DECIMAL -> {
                if (decimalAsText(sqlType)) {
                    ps.setString(index, value.toString());
                } else {
                    ps.setBigDecimal(index, (BigDecimal) value);
                }
            }
            case BOOLEAN -> ps.setBoolean(index, (Boolean) value);
            case BYTES -> ps.setBytes(index, ((Bytes) value).toArray());
            case TIMESTAMP -> {
                Instant i = (Instant) value;
                if (isTimestampWithZone(sqlType)) {
                    ps.setObject(index, OffsetDateTime.ofInstant(i, ZoneOffset.UTC));
                } else {
                    ps.setObject(index, LocalDateTime.ofInstant(i, ZoneOffset.UTC));
                }
            }
            case DATE -> ps.setObject(index, (LocalDate) value);
            case UUID -> bindUuid(ps, index, (UUID) value, sqlType);
            case JSON -> ps.setString(index, ((Json) value).text());
            default -> throw new IllegalStateException(column.type().name());
        }
    }

    void bindUuid(PreparedStatement ps, int index, UUID value, String sqlType) throws SQLException {
        ps.setString(index, value.toString());
    }

    int nullType(ColumnType type, String sqlType) {
        return switch (type) {
            case INT64 -> Types.BIGINT;
            case DOUBLE -> Types.DOUBLE;
            case DECIMAL -> decimalAsText(sqlType) ? Types.VARCHAR : Types.NUMERIC;
            case BOOLEAN -> Types.BOOLEAN;
            case BYTES -> Types.VARBINARY;
            case TIMESTAMP -> Types.TIMESTAMP;
            case DATE -> Types.DATE;
            default -> Types.VARCHAR;
        };
    }

    /** Reads one value as its canonical Java value, or null. */
    Object read(ResultSet rs, int index, Column column, String sqlType) throws SQLException {
        Object v;
        switch (column.type()) {
            case STRING -> v = rs.getString(index);
            case INT64 -> {
                long l = rs.getLong(index);
                v = rs.wasNull() ? null : l;
            }
            case DOUBLE -> {
                double d = rs.getDouble(index);
                v = rs.wasNull() ? null : d;
            }
            case DECIMAL -> {
                String s = rs.getString(index);
                v = s == null ? null : new BigDecimal(s.trim());
            }
            case BOOLEAN -> {
                boolean b = rs.getBoolean(index);
                v = rs.wasNull() ? null : b;
            }
            case BYTES -> {
                byte[] b = rs.getBytes(index);
                v = b == null ? null : Bytes.of(b);
            }
            case TIMESTAMP -> v = readTimestamp(rs, index, sqlType);
            case DATE -> v = rs.getObject(index, LocalDate.class);
            case UUID -> {
                String s = rs.getString(index);
                v = s == null ? null : UUID.fromString(s.trim());
            }
            case JSON -> {
                String s = rs.getString(index);
                v = s == null ? null : new Json(s);
            }
            default -> throw new IllegalStateException(column.type().name());
        }
        return v;
    }

    Instant readTimestamp(ResultSet rs, int index, String sqlType) throws SQLException {
        if (isTimestampWithZone(sqlType)) {
            OffsetDateTime o = rs.getObject(index, OffsetDateTime.class);
            return o == null ? null : o.toInstant();
        }
        LocalDateTime l = rs.getObject(index, LocalDateTime.class);
        return l == null ? null : l.toInstant(ZoneOffset.UTC);
    }

    // ---------------------------------------------------------------- statements

    /** @return statements that create the schema (or database) when missing; empty when there is nothing to do */
    List<String> createSchema(String sqlSchema) {
        return List.of("CREATE SCHEMA IF NOT EXISTS " + quote(sqlSchema));
    }

    String createTable(String sqlName, List<Column> columns, List<String> primaryKey) {
        StringJoiner j = new StringJoiner(", ", "CREATE TABLE IF NOT EXISTS " + sqlName + " (", ")");
        for (Column c : columns) {
            boolean key = primaryKey.contains(c.name());
            j.add(quote(c.name()) + " " + sqlType(c.type(), key) + (key || !c.nullable() ? " NOT NULL" : "")
                    + columnSuffix(c.type()));
        }
        StringJoiner pk = new StringJoiner(", ", "PRIMARY KEY (", ")");
        primaryKey.forEach(k -> pk.add(quote(k)));
        j.add(pk.toString());
        return j + tableSuffix();
    }

    String addColumn(String sqlName, Column column) {
        return "ALTER TABLE " + sqlName + " ADD COLUMN " + quote(column.name()) + " "
                + sqlType(column.type(), false) + columnSuffix(column.type());
    }

    /**
     * The upsert of one row that sets exactly {@code columns} (key columns included); unmentioned columns keep their
     * value on update.
     *
     * @return the statement, or empty when the database has none and {@link #upsertByUpdate} is used
     */
    abstract Optional<String> upsert(JdbcTable table, List<Column> columns);

    /** Whether upserts are an UPDATE then, when nothing was updated, an INSERT (the generic dialect). */
    boolean upsertByUpdate() {
        return false;
    }

    String columnList(List<Column> columns) {
        StringJoiner j = new StringJoiner(", ");
        columns.forEach(c -> j.add(quote(c.name())));
        return j.toString();
    }

    String placeholders(JdbcTable table, List<Column> columns) {
        StringJoiner j = new StringJoiner(", ");
        columns.forEach(c -> j.add(placeholder(table, c)));
        return j.toString();
    }

    String keyList(JdbcTable table) {
        return columnList(table.schema().keyColumns());
    }

    String keyPredicate(JdbcTable table) {
        StringJoiner j = new StringJoiner(" AND ");
        for (Column c : table.schema().keyColumns()) {
            j.add(quote(c.name()) + " = " + placeholder(table, c));
        }
        return j.toString();
    }

    /** {@code WHERE (k1, k2) > (?, ?)}: row-value comparison; the generic dialect expands it. */
    String keyAfter(JdbcTable table) {
        List<Column> kc = table.schema().keyColumns();
        if (kc.size() == 1) {
            return quote(kc.get(0).name()) + " > " + placeholder(table, kc.get(0));
        }
        return "(" + keyList(table) + ") > (" + placeholders(table, kc) + ")";
    }

    /** Binds the key values for {@link #keyAfter}; returns the next index. */
    int bindKeyAfter(PreparedStatement ps, int index, JdbcTable table, List<Object> key) throws SQLException {
        List<Column> kc = table.schema().keyColumns();
        for (int i = 0; i < kc.size(); i++) {
            bind(ps, index++, kc.get(i), table.sqlType(kc.get(i).name()), key.get(i));
        }
        return index;
    }

    String limit(String select, int placeholderLimit) {
        return select + " LIMIT ?";
    }

    // ---------------------------------------------------------------- metadata

    /**
     * Reads a table's schema from the JDBC metadata.
     *
     * @param replicaKey the channel's {@code key:} for this table, or empty; see
     *     {@link io.mqdb.spi.StoreContext#replicaKeys()}
     * @return the table, or empty when it does not exist
     * @throws InvalidDataException when the table has no primary key and no acceptable replica key, or the replica
     *     key is refused (naming the table, the columns and why)
     */
    Optional<JdbcTable> describe(Connection c, TableId id, String sqlSchema, List<String> replicaKey)
            throws SQLException {
        DatabaseMetaData md = c.getMetaData();
        String table = metadataTable(sqlSchema, id.table());
        String catalog = metadataCatalog(sqlSchema);
        String schema = metadataSchema(sqlSchema);
        List<Column> columns = new ArrayList<>();
        Map<String, String> sqlTypes = new HashMap<>();
        TreeMap<Integer, Column> byPosition = new TreeMap<>();
        try (ResultSet rs = md.getColumns(catalog, schema, escape(md, table), "%")) {
            while (rs.next()) {
                if (!table.equals(rs.getString("TABLE_NAME")) || !sameSchema(rs, catalog, schema)) {
                    continue;
                }
                String name = rs.getString("COLUMN_NAME");
                if (!TableId.isIdentifier(name)) {
                    continue; // a column mqdb cannot name is not replicated
                }
                String typeName = String.valueOf(rs.getString("TYPE_NAME")).toLowerCase(Locale.ROOT);
                int jdbcType = rs.getInt("DATA_TYPE");
                int scale = rs.getInt("DECIMAL_DIGITS");
                String remarks = rs.getString("REMARKS");
                boolean nullable = rs.getInt("NULLABLE") != DatabaseMetaData.columnNoNulls;
                int position = rs.getInt("ORDINAL_POSITION");
                ColumnType type = portableType(typeName, jdbcType, scale, remarks);
                byPosition.put(position, new Column(name, type, nullable));
                sqlTypes.put(name, typeName);
            }
        }
        if (byPosition.isEmpty()) {
            return Optional.empty();
        }
        columns.addAll(byPosition.values());
        TreeMap<Integer, String> pk = new TreeMap<>();
        try (ResultSet rs = md.getPrimaryKeys(catalog, schema, table)) {
            while (rs.next()) {
                if (table.equals(rs.getString("TABLE_NAME"))) {
                    pk.put(rs.getInt("KEY_SEQ"), rs.getString("COLUMN_NAME"));
                }
            }
        }
        List<String> key = new ArrayList<>(pk.values());
        String sqlName = tableName(sqlSchema, id.table());
        if (!replicaKey.isEmpty()) {
            checkReplicaKey(c, id, sqlSchema, sqlName, columns, key, replicaKey);
            key = List.copyOf(replicaKey);
        } else if (key.isEmpty()) {
            throw new InvalidDataException(id + ": table " + sqlName + " has no primary key; mqdb replicates only"
                    + " tables with one, or with a key: [col, ...] on the channel naming NOT NULL columns of one of"
                    + " its unique indexes");
        }
        return Optional.of(new JdbcTable(new io.mqdb.spi.TableSchema(id, columns, key), sqlName, sqlTypes));
    }

    /**
     * Accepts a replica key only when the table has no primary key (or it is that key) and the columns exist, are
     * NOT NULL and are exactly the columns of one unique index, so that they identify a row as a primary key would
     * and {@code ON CONFLICT} / {@code MERGE ... KEY} can use them.
     */
    private void checkReplicaKey(Connection c, TableId id, String sqlSchema, String sqlName, List<Column> columns,
                                 List<String> primaryKey, List<String> replicaKey) throws SQLException {
        String refused = id + ": key " + replicaKey + " is refused for table " + sqlName + ": ";
        if (!primaryKey.isEmpty()) {
            if (!primaryKey.equals(replicaKey)) {
                throw new InvalidDataException(refused + "the table has the primary key " + primaryKey
                        + ", which is its replica key (remove key:, or make it " + primaryKey + ")");
            }
            return;
        }
        Map<String, Column> byName = new HashMap<>();
        columns.forEach(col -> byName.put(col.name(), col));
        List<String> missing = new ArrayList<>();
        List<String> nullable = new ArrayList<>();
        for (String k : replicaKey) {
            Column col = byName.get(k);
            if (col == null) {
                missing.add(k);
            } else if (col.nullable()) {
                nullable.add(k);
            }
        }
        if (!missing.isEmpty()) {
            throw new InvalidDataException(refused + "no column " + String.join(", ", missing) + " (columns: "
                    + String.join(", ", byName.keySet().stream().sorted().toList()) + ")");
        }
        if (!nullable.isEmpty()) {
            throw new InvalidDataException(refused + "column " + String.join(", ", nullable) + " may be NULL (a"
                    + " replica key needs NOT NULL columns)");
        }
        List<Set<String>> unique = uniqueIndexes(c, id, sqlSchema);
        if (!unique.contains(Set.copyOf(replicaKey))) {
            throw new InvalidDataException(refused + "no unique constraint or unique index has exactly the columns "
                    + replicaKey + (unique.isEmpty() ? " (the table has none)" : " (unique column sets: " + unique
                    .stream().map(u -> u.stream().sorted().toList().toString()).sorted().toList() + ")"));
        }
    }

    /**
     * The column sets of the table's unique constraints and unique indexes that enforce uniqueness on plain columns
     * for every row: partial and expression indexes are left out. This reads {@link DatabaseMetaData#getIndexInfo};
     * dialects whose driver reports partial or expression indexes poorly read their catalogs instead.
     */
    List<Set<String>> uniqueIndexes(Connection c, TableId id, String sqlSchema) throws SQLException {
        DatabaseMetaData md = c.getMetaData();
        String table = metadataTable(sqlSchema, id.table());
        Map<String, Set<String>> byIndex = new LinkedHashMap<>();
        Set<String> unusable = new HashSet<>();
        try (ResultSet rs = md.getIndexInfo(metadataCatalog(sqlSchema), metadataSchema(sqlSchema), table, true,
                false)) {
            while (rs.next()) {
                String index = rs.getString("INDEX_NAME");
                if (index == null || rs.getShort("TYPE") == DatabaseMetaData.tableIndexStatistic
                        || rs.getBoolean("NON_UNIQUE") || !table.equals(rs.getString("TABLE_NAME"))) {
                    continue;
                }
                String column = rs.getString("COLUMN_NAME");
                String filter = rs.getString("FILTER_CONDITION");
                if (column == null || !TableId.isIdentifier(column) || (filter != null && !filter.isBlank())) {
                    unusable.add(index);
                }
                byIndex.computeIfAbsent(index, x -> new HashSet<>()).add(column);
            }
        }
        List<Set<String>> out = new ArrayList<>();
        byIndex.forEach((index, cols) -> {
            if (!unusable.contains(index)) {
                out.add(Set.copyOf(cols));
            }
        });
        return out;
    }

    private static boolean sameSchema(ResultSet rs, String catalog, String schema) throws SQLException {
        if (catalog != null && !catalog.equals(rs.getString("TABLE_CAT"))) {
            return false;
        }
        return schema == null || schema.equals(rs.getString("TABLE_SCHEM"));
    }

    private static String escape(DatabaseMetaData md, String pattern) throws SQLException {
        String esc = md.getSearchStringEscape();
        if (esc == null || esc.isEmpty()) {
            return pattern;
        }
        return pattern.replace(esc, esc + esc).replace("_", esc + "_").replace("%", esc + "%");
    }

    // ---------------------------------------------------------------- errors

    /** Whether a failure may succeed when retried, beyond the standard SQLState classes. */
    boolean isRetriable(SQLException e) {
        return false;
    }

    /** Whether a failure is bad data, beyond the standard SQLState classes. */
    boolean isInvalidData(SQLException e) {
        return false;
    }

    /**
     * Whether a failure says the table, or the schema or database holding it, does not exist, beyond SQLState 42P01,
     * 3F000 and 42S02 (a table dropped under the node).
     */
    boolean isTableMissing(SQLException e) {
        return false;
    }

    // ---------------------------------------------------------------- trigger capture

    /** @return the trigger-capture support of this database, or empty when it has none */
    Optional<TriggerSupport> triggers() {
        return Optional.empty();
    }

    /** A short name, at most 63 characters, derived from parts that may be long; stable across runs. */
    static String shortName(String prefix, String... parts) {
        String joined = prefix + String.join("_", parts);
        if (joined.length() <= 60) {
            return joined;
        }
        return joined.substring(0, 50) + "_" + Integer.toHexString(joined.hashCode());
    }
}
