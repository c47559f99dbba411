package io.mqdb.adapter.jdbc;

import io.mqdb.spi.Column;
import io.mqdb.spi.ColumnType;
import io.mqdb.spi.TableId;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Instant;
import java.time.LocalDate;
import java.time.LocalDateTime;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.StringJoiner;

/**
 * SQLite: no schemas, so table {@code main:orders} is {@code orders} and {@code shop:orders} is
 * {@code shop__orders}. SQLite stores text, integers, reals and blobs; the declared type names ({@code DECIMAL_TEXT},
 * {@code TIMESTAMP_TEXT}, ...) have text affinity and tell {@link #describe} the portable type. Timestamps are text
 * {@code 2024-05-01T12:00:00.123456Z} (fixed width, so they sort), booleans 0/1.
 */
final class SqliteDialect extends Dialect {
    private static final DateTimeFormatter TS = DateTimeFormatter.ofPattern("uuuu-MM-dd'T'HH:mm:ss.SSSSSS'Z'")
            .withZone(ZoneOffset.UTC);

    @Override
    String name() {
        return "sqlite";
    }

    @Override
    Map<String, String> driverProperties() {
        return Map.of("busy_timeout", "30000", "journal_mode", "WAL");
    }

    @Override
    String tableName(String sqlSchema, String table) {
        return quote(metadataTable(sqlSchema, table));
    }

    @Override
    String metadataTable(String sqlSchema, String table) {
        return "main".equals(sqlSchema) ? table : sqlSchema + "__" + table;
    }

    @Override
    String metadataSchema(String sqlSchema) {
        return null;
    }

    @Override
    List<String> createSchema(String sqlSchema) {
        return List.of();
    }

    /**
     * From {@code pragma_index_list} / {@code pragma_index_info}: unique, not partial; an index on an expression
     * (a column without a name) is left out.
     */
    @Override
    List<Set<String>> uniqueIndexes(Connection c, TableId id, String sqlSchema) throws SQLException {
        Map<String, Set<String>> byIndex = new LinkedHashMap<>();
        Set<String> unusable = new HashSet<>();
        try (PreparedStatement ps = c.prepareStatement("SELECT l.name, i.name FROM pragma_index_list(?) l,"
                + " pragma_index_info(l.name) i WHERE l.\"unique\" = 1 AND l.partial = 0")) {
            ps.setString(1, metadataTable(sqlSchema, id.table()));
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    String column = rs.getString(2);
                    if (column == null) {
                        unusable.add(rs.getString(1));
                    }
                    byIndex.computeIfAbsent(rs.getString(1), x -> new HashSet<>()).add(String.valueOf(column));
                }
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

    @Override
    String sqlType(ColumnType type, boolean key) {
        return switch (type) {
            case STRING -> "TEXT";
            case INT64 -> "INTEGER";
            case DOUBLE -> "REAL";
            case DECIMAL -> "DECIMAL_TEXT";
            case BOOLEAN -> "BOOLEAN";
            case BYTES -> "BLOB";
            case TIMESTAMP -> "TIMESTAMP_TEXT";
            case DATE -> "DATE_TEXT";
            case UUID -> "UUID_TEXT";
            case JSON -> "JSON_TEXT";
        };
    }

    @Override
    ColumnType portableType(String t, int jdbcType, int scale, String remarks) {
        switch (t) {
            case "decimal_text":
                return ColumnType.DECIMAL;
            case "timestamp_text":
                return ColumnType.TIMESTAMP;
            case "date_text":
                return ColumnType.DATE;
            case "uuid_text":
                return ColumnType.UUID;
            case "json_text":
                return ColumnType.JSON;
            case "boolean":
                return ColumnType.BOOLEAN;
            default:
                break;
        }
        // SQLite's affinity rules, then the usual names of legacy schemas
        if (t.contains("int")) {
            return ColumnType.INT64;
        }
        if (t.contains("char") || t.contains("clob") || t.contains("text")) {
            return ColumnType.STRING;
        }
        if (t.contains("blob") || t.isEmpty()) {
            return ColumnType.BYTES;
        }
        if (t.contains("real") || t.contains("floa") || t.contains("doub")) {
            return ColumnType.DOUBLE;
        }
        if (t.contains("timestamp") || t.contains("datetime")) {
            return ColumnType.TIMESTAMP;
        }
        if (t.equals("date")) {
            return ColumnType.DATE;
        }
        if (t.contains("bool")) {
            return ColumnType.BOOLEAN;
        }
        return ColumnType.DECIMAL;
    }

    @Override
    boolean decimalAsText(String sqlType) {
        return true;
    }

    @Override
    void bind(PreparedStatement ps, int index, Column column, String sqlType, Object value) throws SQLException {
        if (value != null && column.type() == ColumnType.TIMESTAMP) {
            ps.setString(index, TS.format((Instant) value));
        } else if (value != null && column.type() == ColumnType.DATE) {
            ps.setString(index, value.toString());
        } else {
            super.bind(ps, index, column, sqlType, value);
        }
    }

    @Override
    Object read(ResultSet rs, int index, Column column, String sqlType) throws SQLException {
        if (column.type() == ColumnType.DATE) {
            String s = rs.getString(index);
            return s == null ? null : LocalDate.parse(s.length() > 10 ? s.substring(0, 10) : s);
        }
        return super.read(rs, index, column, sqlType);
    }

    @Override
    Instant readTimestamp(ResultSet rs, int index, String sqlType) throws SQLException {
        String s = rs.getString(index);
        return s == null ? null : parseTimestamp(s);
    }

    static Instant parseTimestamp(String s) {
        String t = s.trim().replace(' ', 'T');
        if (t.endsWith("Z")) {
            return Instant.parse(t);
        }
        return LocalDateTime.parse(t).toInstant(ZoneOffset.UTC);
    }

    @Override
    Optional<String> upsert(JdbcTable table, List<Column> columns) {
        StringJoiner set = new StringJoiner(", ");
        for (Column c : columns) {
            if (!table.schema().primaryKey().contains(c.name())) {
                set.add(quote(c.name()) + " = excluded." + quote(c.name()));
            }
        }
        return Optional.of("INSERT INTO " + table.sqlName() + " (" + columnList(columns) + ") VALUES ("
                + placeholders(table, columns) + ") ON CONFLICT (" + keyList(table) + ") "
                + (set.length() == 0 ? "DO NOTHING" : "DO UPDATE SET " + set));
    }

    @Override
    boolean isRetriable(SQLException e) {
        int code = e.getErrorCode() & 0xff;
        return code == 5 || code == 6; // SQLITE_BUSY, SQLITE_LOCKED
    }

    @Override
    boolean isInvalidData(SQLException e) {
        int code = e.getErrorCode() & 0xff;
        return code == 19 || code == 20 || code == 18; // CONSTRAINT, MISMATCH, TOOBIG
    }

    @Override
    boolean isTableMissing(SQLException e) {
        return (e.getErrorCode() & 0xff) == 1 && e.getMessage() != null && e.getMessage().contains("no such table");
    }

    @Override
    Optional<TriggerSupport> triggers() {
        return Optional.of(new Triggers());
    }

    /**
     * SQL triggers; replicated writes are marked by a row in table {@code mqdb_origin} inserted at the start of the
     * writing transaction and deleted before its commit. SQLite has one writer at a time, so no other writer ever
     * sees the mark, whatever client it is.
     */
    final class Triggers implements TriggerSupport {
        @Override
        public Ordering ordering() {
            return Ordering.GAP_TIMEOUT;
        }

        @Override
        public String changelog(Connection c, String name) {
            return quote(name);
        }

        @Override
        public List<String> createChangelog(String cl) {
            return List.of("CREATE TABLE IF NOT EXISTS " + cl + " (id INTEGER PRIMARY KEY AUTOINCREMENT,"
                            + " tbl TEXT NOT NULL, op TEXT NOT NULL, pk TEXT NOT NULL,"
                            + " created TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')))",
                    "CREATE TABLE IF NOT EXISTS \"mqdb_origin\" (origin TEXT)");
        }

        @Override
        public List<String> createTriggers(JdbcTable table, TableId id, String cl) {
            StringJoiner neu = new StringJoiner(", ");
            StringJoiner old = new StringJoiner(", ");
            StringJoiner same = new StringJoiner(" AND ");
            for (Column k : table.schema().keyColumns()) {
                neu.add("NEW." + quote(k.name()));
                old.add("OLD." + quote(k.name()));
                same.add("OLD." + quote(k.name()) + " IS NEW." + quote(k.name()));
            }
            String tbl = "'" + id + "'";
            String when = " FOR EACH ROW WHEN NOT EXISTS (SELECT 1 FROM \"mqdb_origin\") BEGIN ";
            String logNew = "INSERT INTO " + cl + " (tbl, op, pk) VALUES (" + tbl + ", 'U', json_array(" + neu + "));";
            String logOld = "INSERT INTO " + cl + " (tbl, op, pk) VALUES (" + tbl + ", 'D', json_array(" + old + "));";
            String ti = quote(shortName("mqdb_ti_", id.schema(), id.table()));
            String tu = quote(shortName("mqdb_tu_", id.schema(), id.table()));
            String td = quote(shortName("mqdb_td_", id.schema(), id.table()));
            return List.of("DROP TRIGGER IF EXISTS " + ti, "DROP TRIGGER IF EXISTS " + tu,
                    "DROP TRIGGER IF EXISTS " + td,
                    "CREATE TRIGGER " + ti + " AFTER INSERT ON " + table.sqlName() + when + logNew + " END",
                    "CREATE TRIGGER " + tu + " AFTER UPDATE ON " + table.sqlName() + when + logNew
                            + " INSERT INTO " + cl + " (tbl, op, pk) SELECT " + tbl + ", 'D', json_array(" + old
                            + ") WHERE NOT (" + same + "); END",
                    "CREATE TRIGGER " + td + " AFTER DELETE ON " + table.sqlName() + when + logOld + " END");
        }

        @Override
        public void beginReplicated(Connection c) throws SQLException {
            // a store that only subscribes never installed the change log, and with it this table
            try (PreparedStatement ps = c.prepareStatement("CREATE TABLE IF NOT EXISTS \"mqdb_origin\" (origin TEXT)")) {
                ps.execute();
            }
            try (PreparedStatement ps = c.prepareStatement("INSERT INTO \"mqdb_origin\" (origin) VALUES ('replicated')")) {
                ps.execute();
            }
        }

        @Override
        public void beforeCommitReplicated(Connection c) throws SQLException {
            try (PreparedStatement ps = c.prepareStatement("DELETE FROM \"mqdb_origin\"")) {
                ps.execute();
            }
        }

        @Override
        public List<Installed> installed(Connection c, String cl) throws SQLException {
            List<Installed> out = new ArrayList<>();
            try (PreparedStatement ps = c.prepareStatement("SELECT name, tbl_name FROM sqlite_master"
                    + " WHERE type = 'trigger' AND name LIKE 'mqdb\\_t%' ESCAPE '\\' ORDER BY tbl_name, name");
                 ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    out.add(new Installed("trigger " + quote(rs.getString(1)) + " on " + quote(rs.getString(2)),
                            "DROP TRIGGER IF EXISTS " + quote(rs.getString(1))));
                }
            }
            for (String table : List.of(cl, "\"mqdb_origin\"")) {
                if (TriggerSupport.tableExists(c, table)) {
                    out.add(Installed.table(table));
                }
            }
            return out;
        }
    }
}
