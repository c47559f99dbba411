package io.mqdb.adapter.jdbc;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.mqdb.spi.CaptureInstallation;
import io.mqdb.spi.CapturePosition;
import io.mqdb.spi.CapturedChange;
import io.mqdb.spi.ChangeCapture;
import io.mqdb.spi.Key;
import io.mqdb.spi.Op;
import io.mqdb.spi.Row;
import io.mqdb.spi.Store;
import io.mqdb.spi.TableId;
import io.mqdb.spi.WriteOrigin;
import java.math.BigDecimal;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * The adapter's cases of {@code capture: trigger}, for the dialects that have it (PostgreSQL, MariaDB, SQLite):
 * changes by other clients, echo suppression, resuming after a reopen, uninstalling. H2 extends
 * {@link JdbcStoreITBase} only, and checks instead that it refuses {@code capture: trigger}.
 */
abstract class TriggerCaptureITBase extends JdbcStoreITBase {

    @Test
    void capturesInsertsUpdatesAndDeletesMadeByOtherClients() throws Exception {
        Store store = track(openStore());
        TableId id = capturedTable(store, "cap");
        ChangeCapture cap = store.capture().orElseThrow();
        CapturePosition start = cap.current();
        String t = sqlName(id);
        sql("INSERT INTO " + t + " (id, name, amount) VALUES (1, 'one', 1.50)",
                "INSERT INTO " + t + " (id, name, amount) VALUES (2, 'two', 2)",
                "UPDATE " + t + " SET name = 'uno' WHERE id = 1",
                "DELETE FROM " + t + " WHERE id = 2");
        List<CapturedChange> got = new ArrayList<>();
        drain(cap, start, id, got, l -> l.size() >= 2);
        Map<Key, CapturedChange> last = new HashMap<>();
        got.forEach(c -> last.put(c.key(), c));
        assertThat(last.get(Key.of(1L)).op()).isEqualTo(Op.UPSERT);
        assertThat(last.get(Key.of(1L)).row().get("name")).isEqualTo("uno");
        assertThat(((BigDecimal) last.get(Key.of(1L)).row().get("amount")).compareTo(new BigDecimal("1.5")))
                .isZero();
        assertThat(last.get(Key.of(2L)).op()).isEqualTo(Op.DELETE);
        assertThat(last.get(Key.of(2L)).row()).isNull();
    }

    @Test
    void replicatedWritesAreNotCapturedButLocalOnesAre() throws Exception {
        Store store = track(openStore());
        TableId id = capturedTable(store, "echo");
        ChangeCapture cap = store.capture().orElseThrow();
        CapturePosition start = cap.current();
        store.upsert(id, List.of(Row.builder().set("id", 1L).set("name", "from-peer").build()),
                WriteOrigin.REPLICATED);
        store.delete(id, List.of(Key.of(1L)), WriteOrigin.REPLICATED);
        store.upsert(id, List.of(Row.builder().set("id", 2L).set("name", "peer").build()), WriteOrigin.REPLICATED);
        store.upsert(id, List.of(Row.builder().set("id", 3L).set("name", "mine").build()), WriteOrigin.LOCAL);
        sql("UPDATE " + sqlName(id) + " SET name = 'app' WHERE id = 2"); // a plain client after a replicated write
        List<CapturedChange> got = new ArrayList<>();
        drain(cap, start, id, got, l -> l.size() >= 2);
        assertThat(got).extracting(CapturedChange::key).containsExactlyInAnyOrder(Key.of(3L), Key.of(2L));
    }

    @Test
    void positionsResumeAfterReopeningTheStore() throws Exception {
        Store store = track(openStore());
        TableId id = capturedTable(store, "resume");
        CapturePosition start = store.capture().orElseThrow().current();
        for (int i = 1; i <= 10; i++) {
            sql("INSERT INTO " + sqlName(id) + " (id, name) VALUES (" + i + ", 'n" + i + "')");
        }
        List<CapturedChange> first = new ArrayList<>();
        CapturePosition pos = drain(store.capture().orElseThrow(), start, id, first, l -> l.size() >= 10);
        assertThat(first).hasSize(10);
        store.capture().orElseThrow().acknowledge(pos);
        store.close();
        for (int i = 11; i <= 15; i++) {
            sql("INSERT INTO " + sqlName(id) + " (id, name) VALUES (" + i + ", 'n" + i + "')");
        }
        Store again = track(openStore());
        again.capture().orElseThrow().enable(id);
        List<CapturedChange> rest = new ArrayList<>();
        drain(again.capture().orElseThrow(), pos, id, rest, l -> l.size() >= 5);
        assertThat(rest).extracting(c -> c.key().get(0)).containsExactly(11L, 12L, 13L, 14L, 15L);
        // start() after the acknowledgement also begins after it
        List<CapturedChange> fromStart = new ArrayList<>();
        drain(again.capture().orElseThrow(), again.capture().orElseThrow().start(), id, fromStart,
                l -> l.size() >= 5);
        assertThat(fromStart).extracting(c -> c.key().get(0)).containsExactly(11L, 12L, 13L, 14L, 15L);
    }

    @Test
    void uninstallRemovesTriggersAndChangeLog() throws Exception {
        Store store = track(openStore(Map.of("changelog-table", "mqdb_cl_uninstall")));
        TableId id = capturedTable(store, "uninst");
        sql("INSERT INTO " + sqlName(id) + " (id, name) VALUES (1, 'x')");
        CaptureInstallation installation = (CaptureInstallation) store;
        assertThat(installation.installed()).anyMatch(s -> s.contains("mqdb_cl_uninstall"))
                .anyMatch(s -> s.startsWith("trigger "));
        installation.uninstall();
        assertThat(installation.installed()).isEmpty();
        sql("INSERT INTO " + sqlName(id) + " (id, name) VALUES (2, 'y')"); // no trigger left to fail
        assertThatThrownBy(() -> sql("SELECT COUNT(*) FROM mqdb_cl_uninstall")).isInstanceOf(SQLException.class);
        assertThat(remainingTriggers()).isZero();
    }

    /** @return how many mqdb triggers are left in the database */
    protected abstract int remainingTriggers() throws SQLException;
}
