package io.mqdb.adapter.jdbc;

import io.mqdb.spi.Column;
import io.mqdb.spi.ColumnType;
import io.mqdb.spi.TableId;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.StringJoiner;
import java.util.UUID;

/** PostgreSQL: native types throughout ({@code numeric} keeps a decimal's scale), {@code ON CONFLICT} upserts. */
final class PostgresDialect extends Dialect {
    @Override
    String name() {
        return "postgresql";
    }

    @Override
    Map<String, String> driverProperties() {
        return Map.of("reWriteBatchedInserts", "true");
    }

    @Override
    String sqlType(ColumnType type, boolean key) {
        return switch (type) {
            case STRING -> "text";
            case INT64 -> "bigint";
            case DOUBLE -> "double precision";
            case DECIMAL -> "numeric";
            case BOOLEAN -> "boolean";
            case BYTES -> "bytea";
            case TIMESTAMP -> "timestamp(6)";
            case DATE -> "date";
            case UUID -> "uuid";
            case JSON -> "jsonb";
        };
    }

    @Override
    String placeholder(JdbcTable table, Column column) {
        if (column.type() == ColumnType.JSON) {
            return table.sqlType(column.name()).equals("json") ? "CAST(? AS json)" : "CAST(? AS jsonb)";
        }
        return "?";
    }

    @Override
    void bindUuid(PreparedStatement ps, int index, UUID value, String sqlType) throws SQLException {
        if (sqlType.equals("uuid")) {
            ps.setObject(index, value);
        } else {
            ps.setString(index, value.toString());
        }
    }

    @Override
    int nullType(ColumnType type, String sqlType) {
        return type == ColumnType.UUID || type == ColumnType.JSON ? java.sql.Types.OTHER : super.nullType(type, sqlType);
    }

    @Override
    ColumnType portableType(String typeName, int jdbcType, int scale, String remarks) {
        if (typeName.equals("timestamptz") || typeName.equals("timestamp")) {
            return ColumnType.TIMESTAMP;
        }
        if (typeName.equals("bool")) {
            return ColumnType.BOOLEAN;
        }
        return super.portableType(typeName, jdbcType, scale, remarks);
    }

    @Override
    Optional<String> upsert(JdbcTable table, List<Column> columns) {
        StringJoiner set = new StringJoiner(", ");
        for (Column c : columns) {
            if (!table.schema().primaryKey().contains(c.name())) {
                set.add(quote(c.name()) + " = EXCLUDED." + quote(c.name()));
            }
        }
        return Optional.of("INSERT INTO " + table.sqlName() + " (" + columnList(columns) + ") VALUES ("
                + placeholders(table, columns) + ") ON CONFLICT (" + keyList(table) + ") "
                + (set.length() == 0 ? "DO NOTHING" : "DO UPDATE SET " + set));
    }

    /**
     * From {@code pg_index}: unique, valid, immediate (a deferrable constraint cannot be an {@code ON CONFLICT}
     * arbiter), neither partial nor on expressions; only the key columns, not those of {@code INCLUDE}.
     */
    @Override
    List<Set<String>> uniqueIndexes(Connection c, TableId id, String sqlSchema) throws SQLException {
        Map<Long, Set<String>> byIndex = new LinkedHashMap<>();
        try (PreparedStatement ps = c.prepareStatement("SELECT i.indexrelid::bigint, a.attname FROM pg_index i"
                + " JOIN pg_class r ON r.oid = i.indrelid JOIN pg_namespace n ON n.oid = r.relnamespace"
                + " JOIN pg_attribute a ON a.attrelid = r.oid"
                + " AND a.attnum = ANY ((i.indkey::int2[])[0:i.indnkeyatts - 1])"
                + " WHERE n.nspname = ? AND r.relname = ? AND i.indisunique AND i.indisvalid AND i.indimmediate"
                + " AND i.indpred IS NULL AND i.indexprs IS NULL ORDER BY 1")) {
            ps.setString(1, sqlSchema);
            ps.setString(2, id.table());
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    byIndex.computeIfAbsent(rs.getLong(1), x -> new HashSet<>()).add(rs.getString(2));
                }
            }
        }
        List<Set<String>> out = new ArrayList<>();
        byIndex.values().forEach(cols -> out.add(Set.copyOf(cols)));
        return out;
    }

    @Override
    boolean isRetriable(java.sql.SQLException e) {
        String s = e.getSQLState();
        return s != null && (s.startsWith("57P") || s.startsWith("53"));
    }

    @Override
    Optional<TriggerSupport> triggers() {
        return Optional.of(new Triggers());
    }

    /**
     * One plpgsql function and one row trigger per table. Each change-log row records the writing transaction's id
     * ({@code pg_current_xact_id()}); the capture publishes a row only once its transaction id is below the xmin of
     * its snapshot, i.e. once no transaction that could still add rows below it is running. Exact: no gap timeout.
     */
    final class Triggers implements TriggerSupport {
        @Override
        public Ordering ordering() {
            return Ordering.TRANSACTION_ID;
        }

        @Override
        public String changelog(Connection c, String name) throws SQLException {
            try (PreparedStatement ps = c.prepareStatement("SELECT current_schema()"); ResultSet rs = ps.executeQuery()) {
                rs.next();
                return quote(rs.getString(1)) + "." + quote(name);
            }
        }

        @Override
        public List<String> createChangelog(String cl) {
            return List.of("CREATE TABLE IF NOT EXISTS " + cl + " (id bigserial PRIMARY KEY, tbl text NOT NULL,"
                            + " op char(1) NOT NULL, pk text NOT NULL,"
                            + " xid xid8 NOT NULL DEFAULT pg_current_xact_id(),"
                            + " created timestamptz NOT NULL DEFAULT now())",
                    "CREATE INDEX IF NOT EXISTS " + quote(indexName(cl)) + " ON " + cl + " (xid, id)");
        }

        private String indexName(String cl) {
            return cl.substring(cl.lastIndexOf('.') + 2, cl.length() - 1) + "_xid";
        }

        @Override
        public List<String> createTriggers(JdbcTable table, TableId id, String cl) {
            String schema = cl.substring(0, cl.indexOf('.'));
            String fn = schema + "." + quote(shortName("mqdb_f_", id.schema(), id.table()));
            String trigger = quote(shortName("mqdb_t_", id.schema(), id.table()));
            StringJoiner neu = new StringJoiner(", ");
            StringJoiner old = new StringJoiner(", ");
            for (Column k : table.schema().keyColumns()) {
                neu.add("NEW." + quote(k.name()));
                old.add("OLD." + quote(k.name()));
            }
            String tbl = "'" + id + "'";
            String body = "CREATE OR REPLACE FUNCTION " + fn + "() RETURNS trigger LANGUAGE plpgsql AS $mqdb$\n"
                    + "BEGIN\n"
                    + "  IF current_setting('mqdb.origin', true) IS DISTINCT FROM 'replicated' THEN\n"
                    + "    IF TG_OP <> 'DELETE' THEN\n"
                    + "      INSERT INTO " + cl + " (tbl, op, pk) VALUES (" + tbl + ", 'U', json_build_array(" + neu
                    + ")::text);\n"
                    + "    END IF;\n"
                    + "    IF TG_OP = 'DELETE' OR (TG_OP = 'UPDATE' AND ROW(" + old + ") IS DISTINCT FROM ROW(" + neu
                    + ")) THEN\n"
                    + "      INSERT INTO " + cl + " (tbl, op, pk) VALUES (" + tbl + ", 'D', json_build_array(" + old
                    + ")::text);\n"
                    + "    END IF;\n"
                    + "  END IF;\n"
                    + "  RETURN NULL;\n"
                    + "END\n$mqdb$";
            return List.of(body,
                    "DROP TRIGGER IF EXISTS " + trigger + " ON " + table.sqlName(),
                    "CREATE TRIGGER " + trigger + " AFTER INSERT OR UPDATE OR DELETE ON " + table.sqlName()
                            + " FOR EACH ROW EXECUTE FUNCTION " + fn + "()");
        }

        @Override
        public void beginReplicated(Connection c) throws SQLException {
            try (PreparedStatement ps = c.prepareStatement("SELECT set_config('mqdb.origin', 'replicated', true)")) {
                ps.execute();
            }
        }

        @Override
        public List<Installed> installed(Connection c, String cl) throws SQLException {
            List<Installed> out = new ArrayList<>();
            try (PreparedStatement ps = c.prepareStatement("SELECT t.tgname, n.nspname, r.relname FROM pg_trigger t"
                    + " JOIN pg_class r ON r.oid = t.tgrelid JOIN pg_namespace n ON n.oid = r.relnamespace"
                    + " WHERE NOT t.tgisinternal AND t.tgname LIKE 'mqdb\\_t\\_%' ORDER BY 2, 3, 1");
                 ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    String on = quote(rs.getString(2)) + "." + quote(rs.getString(3));
                    out.add(new Installed("trigger " + quote(rs.getString(1)) + " on " + on,
                            "DROP TRIGGER IF EXISTS " + quote(rs.getString(1)) + " ON " + on));
                }
            }
            try (PreparedStatement ps = c.prepareStatement("SELECT p.proname, n.nspname FROM pg_proc p"
                    + " JOIN pg_namespace n ON n.oid = p.pronamespace WHERE p.proname LIKE 'mqdb\\_f\\_%'"
                    + " ORDER BY 2, 1");
                 ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    String fn = quote(rs.getString(2)) + "." + quote(rs.getString(1)) + "()";
                    out.add(new Installed("function " + fn, "DROP FUNCTION IF EXISTS " + fn));
                }
            }
            if (TriggerSupport.tableExists(c, cl)) {
                out.add(Installed.table(cl));
            }
            return out;
        }
    }
}
