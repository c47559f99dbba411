package io.mqdb.adapter.jdbc;

import io.mqdb.spi.MqdbException;
import io.mqdb.spi.Store;
import java.util.List;

/**
 * Removes what trigger capture installed in a database: every {@code mqdb_t*} trigger (and PostgreSQL
 * {@code mqdb_f_*} function) and the change-log table. Called by the CLI ({@code mqdb uninstall}); the node must be
 * stopped, or its capture will install them again.
 */
public final class JdbcUninstaller {
    private JdbcUninstaller() {
    }

    /**
     * @param store a store opened by the {@code jdbc} provider with {@code capture: trigger}
     * @return the statements executed, for the CLI to print
     * @throws MqdbException when the store is not such a store or the database refuses
     */
    public static List<String> uninstall(Store store) {
        if (!(store instanceof JdbcStore s) || !(s.capture().orElse(null) instanceof TriggerCapture capture)) {
            throw new MqdbException("uninstall needs a jdbc store with capture: trigger, got "
                    + store.describeTarget());
        }
        TriggerSupport support = s.dialect().triggers().orElseThrow();
        String cl = capture.changelog();
        List<String> statements = s.withConnection("list capture triggers", c -> support.dropAll(c, cl));
        s.execute("uninstall capture", statements);
        return statements;
    }
}
