package io.mqdb.adapter.jdbc;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.mqdb.spi.CapturePosition;
import io.mqdb.spi.CapturedChange;
import io.mqdb.spi.ChangeCapture;
import io.mqdb.spi.Column;
import io.mqdb.spi.ColumnType;
import io.mqdb.spi.MqdbException;
import io.mqdb.spi.Store;
import io.mqdb.spi.TableId;
import io.mqdb.spi.TableSchema;
import io.mqdb.testing.ServerFixture;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

class H2StoreIT extends JdbcStoreITBase {
    static Path dir;

    @BeforeAll
    static void folder() throws Exception {
        dir = Files.createTempDirectory("mqdb-h2");
    }

    @AfterAll
    static void remove() {
        ServerFixture.deleteTree(dir);
    }

    String url() {
        return url(dir);
    }

    static String url(Path folder) {
        return "jdbc:h2:file:" + folder.resolve("db") + ";DB_CLOSE_DELAY=0";
    }

    @Override
    protected Store openStore(Map<String, Object> extra) {
        Map<String, Object> m = new HashMap<>(Map.of("url", url(), "username", "sa", "password", ""));
        m.putAll(extra);
        return new JdbcStoreProvider().open(TestStoreConfig.of(m), TestStoreConfig.context(dir, m));
    }

    @Override
    protected Connection plainConnection() throws SQLException {
        return connect(url(), "sa", "");
    }

    @Override
    protected String schema() {
        return "shop";
    }

    @Override
    protected String sqlName(TableId id) {
        return "\"" + id.schema() + "\".\"" + id.table() + "\"";
    }

    @Test
    void triggerCaptureIsRefusedWithAClearMessage() {
        assertThatThrownBy(() -> openStore(Map.of("capture", "trigger")))
                .isInstanceOf(MqdbException.class)
                .hasMessageContaining("stores.test.capture")
                .hasMessageContaining("has no trigger capture")
                .hasMessageContaining("capture: poll or none");
    }

    @Test
    void theDefaultCaptureOnH2IsNone() {
        assertThat(track(openStore()).capture()).isEmpty();
    }

    @Test
    void pollCaptureSeesInsertsByIncrementingColumn() throws Exception {
        TableId id = newTable("polled");
        Store setup = track(openStore(Map.of("capture", "none")));
        setup.ensureTable(new TableSchema(id, List.of(new Column("id", ColumnType.INT64, false),
                Column.of("name", ColumnType.STRING)), List.of("id")));
        Store store = track(openStore(Map.of("capture", "poll", "poll-columns", Map.of(id.toString(),
                "incrementing:id"))));
        ChangeCapture cap = store.capture().orElseThrow();
        cap.enable(id);
        CapturePosition start = cap.start();
        for (int i = 1; i <= 7; i++) {
            sql("INSERT INTO " + sqlName(id) + " (\"id\", \"name\") VALUES (" + i + ", 'n" + i + "')");
        }
        List<CapturedChange> got = new ArrayList<>();
        CapturePosition pos = drain(cap, start, id, got, l -> l.size() >= 7);
        assertThat(got).extracting(c -> c.row().get("name")).containsExactly("n1", "n2", "n3", "n4", "n5", "n6",
                "n7");
        sql("INSERT INTO " + sqlName(id) + " (\"id\", \"name\") VALUES (8, 'n8')");
        List<CapturedChange> more = new ArrayList<>();
        drain(cap, pos, id, more, l -> l.size() >= 1);
        assertThat(more).extracting(c -> c.key().get(0)).containsExactly(8L);
        assertThat(cap.current().token()).contains(id + "=8");
    }
}
