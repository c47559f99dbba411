package io.mqdb.adapter.jdbc;

import io.mqdb.spi.TableId;
import java.sql.Connection;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.List;

/**
 * A dialect's trigger support, except that the third statement of a table's trigger installation names a table that
 * does not exist, so the server refuses it: for the all-or-nothing installation tests.
 */
record ThirdTriggerFails(TriggerSupport real) implements TriggerSupport {
    @Override
    public Ordering ordering() {
        return real.ordering();
    }

    @Override
    public String changelog(Connection c, String name) throws SQLException {
        return real.changelog(c, name);
    }

    @Override
    public List<String> createChangelog(String changelog) {
        return real.createChangelog(changelog);
    }

    @Override
    public List<String> createTriggers(JdbcTable table, TableId id, String changelog) {
        List<String> out = new ArrayList<>(real.createTriggers(table, id, changelog));
        String name = table.sqlName();
        char quote = name.charAt(0);
        String missing = name.substring(0, name.indexOf('.')) + "." + quote + "no_such_table" + quote;
        out.set(2, out.get(2).replace(" ON " + name + " ", " ON " + missing + " "));
        return out;
    }

    @Override
    public boolean transactionalDdl() {
        return real.transactionalDdl();
    }

    @Override
    public List<String> dropTriggers(JdbcTable table, TableId id) {
        return real.dropTriggers(table, id);
    }

    @Override
    public void beginReplicated(Connection c) throws SQLException {
        real.beginReplicated(c);
    }

    @Override
    public void endReplicated(Connection c) throws SQLException {
        real.endReplicated(c);
    }

    @Override
    public List<Installed> installed(Connection c, String changelog) throws SQLException {
        return real.installed(c, changelog);
    }
}
