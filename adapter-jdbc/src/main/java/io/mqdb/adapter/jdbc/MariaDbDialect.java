package io.mqdb.adapter.jdbc;

import io.mqdb.spi.Column;
import io.mqdb.spi.ColumnType;
import io.mqdb.spi.MqdbException;
import io.mqdb.spi.TableId;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.StringJoiner;

/**
 * MariaDB and MySQL: the mqdb schema is the database; {@code ON DUPLICATE KEY UPDATE} upserts. Types without an
 * exact native match are stored as text and marked with a column comment ({@code mqdb:decimal}, {@code mqdb:uuid},
 * {@code mqdb:json}) so that {@link #describe} gives the portable type back; {@code DECIMAL(65,30)} would pad every
 * value to 30 digits and lose the scale, so decimals are kept as their exact text.
 */
final class MariaDbDialect extends Dialect {
    private static final Set<Integer> RETRIABLE_CODES = Set.of(1205, 1213, 1927, 2006, 2013);
    /** No default, cannot be null, incorrect value, too long, out of range, bad date. */
    private static final Set<Integer> INVALID_CODES = Set.of(1364, 1048, 1366, 1406, 1264, 1292, 4025);

    @Override
    String name() {
        return "mariadb";
    }

    @Override
    String quote(String identifier) {
        TableId.requireIdentifier("identifier", identifier);
        return '`' + identifier + '`';
    }

    @Override
    String metadataCatalog(String sqlSchema) {
        return sqlSchema;
    }

    @Override
    String metadataSchema(String sqlSchema) {
        return null;
    }

    @Override
    List<String> createSchema(String sqlSchema) {
        return List.of("CREATE DATABASE IF NOT EXISTS " + quote(sqlSchema)
                + " CHARACTER SET utf8mb4 COLLATE utf8mb4_bin");
    }

    @Override
    String sqlType(ColumnType type, boolean key) {
        return switch (type) {
            case STRING -> key ? "varchar(255)" : "longtext";
            case INT64 -> "bigint";
            case DOUBLE -> "double";
            case DECIMAL -> "varchar(100)";
            case BOOLEAN -> "boolean";
            case BYTES -> key ? "varbinary(255)" : "longblob";
            case TIMESTAMP -> "datetime(6)";
            case DATE -> "date";
            case UUID -> "char(36)";
            case JSON -> "longtext";
        };
    }

    @Override
    String columnSuffix(ColumnType type) {
        return switch (type) {
            case DECIMAL, UUID, JSON -> " COMMENT '" + TYPE_MARK + type.name().toLowerCase(java.util.Locale.ROOT) + "'";
            default -> "";
        };
    }

    @Override
    String tableSuffix() {
        return " ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin";
    }

    @Override
    Optional<String> upsert(JdbcTable table, List<Column> columns) {
        StringJoiner set = new StringJoiner(", ");
        for (Column c : columns) {
            if (!table.schema().primaryKey().contains(c.name())) {
                set.add(quote(c.name()) + " = VALUES(" + quote(c.name()) + ")");
            }
        }
        if (set.length() == 0) {
            String k = quote(table.schema().primaryKey().get(0));
            set.add(k + " = " + k);
        }
        return Optional.of("INSERT INTO " + table.sqlName() + " (" + columnList(columns) + ") VALUES ("
                + placeholders(table, columns) + ") ON DUPLICATE KEY UPDATE " + set);
    }

    @Override
    boolean isRetriable(SQLException e) {
        return RETRIABLE_CODES.contains(e.getErrorCode());
    }

    @Override
    boolean isInvalidData(SQLException e) {
        return INVALID_CODES.contains(e.getErrorCode());
    }

    @Override
    boolean isTableMissing(SQLException e) {
        return e.getErrorCode() == 1146 || e.getErrorCode() == 1049; // ER_NO_SUCH_TABLE, ER_BAD_DB_ERROR
    }

    @Override
    Optional<TriggerSupport> triggers() {
        return Optional.of(new Triggers());
    }

    /**
     * Three row triggers per table writing to an AUTO_INCREMENT change log; the session variable
     * {@code @mqdb_origin} marks replicated writes. Ids may become visible out of order, so the capture waits for
     * gaps (see {@link TriggerCapture}).
     */
    final class Triggers implements TriggerSupport {
        @Override
        public Ordering ordering() {
            return Ordering.GAP_TIMEOUT;
        }

        @Override
        public String changelog(Connection c, String name) throws SQLException {
            try (PreparedStatement ps = c.prepareStatement("SELECT DATABASE()"); ResultSet rs = ps.executeQuery()) {
                rs.next();
                String db = rs.getString(1);
                if (db == null) {
                    throw new MqdbException("capture: trigger on MariaDB/MySQL needs a database in the url"
                            + " (jdbc:mariadb://host/DATABASE), where the change log is kept");
                }
                return quote(db) + "." + quote(name);
            }
        }

        @Override
        public List<String> createChangelog(String cl) {
            return List.of("CREATE TABLE IF NOT EXISTS " + cl + " (id bigint NOT NULL AUTO_INCREMENT PRIMARY KEY,"
                    + " tbl varchar(200) NOT NULL, op char(1) NOT NULL, pk longtext NOT NULL,"
                    + " created datetime(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6))" + tableSuffix());
        }

        @Override
        public List<String> createTriggers(JdbcTable table, TableId id, String cl) {
            StringJoiner neu = new StringJoiner(", ");
            StringJoiner old = new StringJoiner(", ");
            StringJoiner same = new StringJoiner(" AND ");
            for (Column k : table.schema().keyColumns()) {
                neu.add("NEW." + quote(k.name()));
                old.add("OLD." + quote(k.name()));
                same.add("OLD." + quote(k.name()) + " <=> NEW." + quote(k.name()));
            }
            String tbl = "'" + id + "'";
            String guard = "IF COALESCE(@mqdb_origin, '') <> 'replicated' THEN ";
            String logNew = "INSERT INTO " + cl + " (tbl, op, pk) VALUES (" + tbl + ", 'U', JSON_ARRAY(" + neu + "));";
            String logOld = "INSERT INTO " + cl + " (tbl, op, pk) VALUES (" + tbl + ", 'D', JSON_ARRAY(" + old + "));";
            String on = " ON " + table.sqlName() + " FOR EACH ROW ";
            List<String> names = triggerNames(table, id);
            return List.of(
                    "CREATE OR REPLACE TRIGGER " + names.get(0) + " AFTER INSERT" + on + guard + logNew + " END IF",
                    "CREATE OR REPLACE TRIGGER " + names.get(1) + " AFTER UPDATE" + on + guard + logNew
                            + " IF NOT (" + same + ") THEN " + logOld + " END IF; END IF",
                    "CREATE OR REPLACE TRIGGER " + names.get(2) + " AFTER DELETE" + on + guard + logOld + " END IF");
        }

        /** The qualified names of the insert, update and delete triggers, in the table's database. */
        private List<String> triggerNames(JdbcTable table, TableId id) {
            String schema = table.sqlName().substring(0, table.sqlName().indexOf('.'));
            List<String> out = new ArrayList<>(3);
            for (String prefix : List.of("mqdb_ti_", "mqdb_tu_", "mqdb_td_")) {
                out.add(schema + "." + quote(shortName(prefix, id.schema(), id.table())));
            }
            return out;
        }

        @Override
        public boolean transactionalDdl() {
            return false; // every CREATE TRIGGER commits by itself
        }

        @Override
        public List<String> dropTriggers(JdbcTable table, TableId id) {
            return triggerNames(table, id).stream().map(n -> "DROP TRIGGER IF EXISTS " + n).toList();
        }

        @Override
        public void beginReplicated(Connection c) throws SQLException {
            try (PreparedStatement ps = c.prepareStatement("SET @mqdb_origin = 'replicated'")) {
                ps.execute();
            }
        }

        @Override
        public void endReplicated(Connection c) throws SQLException {
            try (PreparedStatement ps = c.prepareStatement("SET @mqdb_origin = NULL")) {
                ps.execute();
            }
        }

        @Override
        public List<Installed> installed(Connection c, String cl) throws SQLException {
            List<Installed> out = new ArrayList<>();
            try (PreparedStatement ps = c.prepareStatement("SELECT TRIGGER_SCHEMA, TRIGGER_NAME,"
                    + " EVENT_OBJECT_SCHEMA, EVENT_OBJECT_TABLE FROM information_schema.TRIGGERS"
                    + " WHERE TRIGGER_NAME LIKE 'mqdb\\_t%' AND ACTION_STATEMENT LIKE ? ORDER BY 3, 4, 2")) {
                ps.setString(1, "%" + cl + "%"); // only the triggers writing to this change log
                try (ResultSet rs = ps.executeQuery()) {
                    while (rs.next()) {
                        String trigger = quote(rs.getString(1)) + "." + quote(rs.getString(2));
                        out.add(new Installed("trigger " + trigger + " on " + quote(rs.getString(3)) + "."
                                + quote(rs.getString(4)), "DROP TRIGGER IF EXISTS " + trigger));
                    }
                }
            }
            if (TriggerSupport.tableExists(c, cl)) {
                out.add(Installed.table(cl));
            }
            return out;
        }
    }
}
