package io.mqdb.adapter.jdbc;

import static org.awaitility.Awaitility.await;

import io.mqdb.testing.PostgresServer;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.time.Duration;

/** Test helper: removes the replication slots tests of {@code capture: log} make, so they hold no WAL. */
public final class LogSlots {
    private LogSlots() {
    }

    /**
     * Drops a slot of the shared test server (slots are cluster-wide), ending a stream still on it; nothing when it
     * does not exist.
     *
     * @param name the slot
     */
    public static void drop(String name) {
        PostgresServer pg = PostgresServer.shared();
        try (Connection c = JdbcStoreITBase.connect(pg.jdbcUrl(), pg.user(), pg.password())) {
            try (PreparedStatement ps = c.prepareStatement("SELECT pg_terminate_backend(active_pid) FROM"
                    + " pg_replication_slots WHERE slot_name = ? AND active_pid IS NOT NULL")) {
                ps.setString(1, name);
                ps.execute();
            }
            await().atMost(Duration.ofSeconds(10)).until(() -> {
                try (PreparedStatement ps = c.prepareStatement("SELECT pg_drop_replication_slot(slot_name) FROM"
                        + " pg_replication_slots WHERE slot_name = ?")) {
                    ps.setString(1, name);
                    ps.execute();
                    return true;
                } catch (SQLException e) {
                    return false; // still active for a moment after the terminate
                }
            });
        } catch (SQLException e) {
            throw new IllegalStateException(e);
        }
    }
}
