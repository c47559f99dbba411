package io.mqdb.adapter.jdbc;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.mqdb.spi.CapturePosition;
import io.mqdb.spi.CapturedChange;
import io.mqdb.spi.ChangeCapture;
import io.mqdb.spi.Column;
import io.mqdb.spi.ColumnType;
import io.mqdb.spi.Mutation;
import io.mqdb.spi.Row;
import io.mqdb.spi.Store;
import io.mqdb.spi.TableId;
import io.mqdb.spi.TableSchema;
import io.mqdb.spi.WriteOrigin;
import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * The cases of {@code capture: poll}, run against each database by a subclass. The database is only read by the
 * capturing store; rows are written with plain JDBC or by a second store with {@code capture: none}, as a legacy
 * application would.
 */
abstract class PollingCaptureITBase {
    private static final AtomicInteger SEQ = new AtomicInteger();
    private static final Instant T0 = Instant.parse("2024-05-01T12:00:00Z");
    private final List<Store> opened = new ArrayList<>();

    /** @return a new store on this test's database, with the given extra settings */
    protected abstract Store openStore(Map<String, Object> extra);

    /** @return a plain JDBC connection to the same database */
    protected abstract Connection plainConnection() throws SQLException;

    /** @return the SQL name of a table for plain JDBC statements */
    protected abstract String sqlName(TableId id);

    /** @return whether a second connection may insert while another holds an open write transaction */
    protected boolean concurrentWriters() {
        return true;
    }

    @AfterEach
    void closeStores() {
        opened.forEach(Store::close);
        opened.clear();
    }

    private Store open(Map<String, Object> extra) {
        Store s = openStore(extra);
        opened.add(s);
        return s;
    }

    private TableId table(String prefix, boolean timestamp) {
        TableId id = new TableId("shop", prefix + "_" + ProcessHandle.current().pid() % 1000 + "_"
                + SEQ.incrementAndGet());
        List<Column> cols = new ArrayList<>(List.of(new Column("id", ColumnType.INT64, false),
                Column.of("name", ColumnType.STRING)));
        if (timestamp) {
            cols.add(Column.of("modified", ColumnType.TIMESTAMP));
        }
        open(Map.of("capture", "none")).ensureTable(new TableSchema(id, cols, List.of("id")));
        return id;
    }

    private Store pollStore(TableId id, String spec, Map<String, Object> extra) {
        Map<String, Object> m = new HashMap<>(extra);
        m.put("capture", "poll");
        m.put("poll-columns", Map.of(id.toString(), spec));
        Store s = open(m);
        s.capture().orElseThrow().enable(id);
        return s;
    }

    private void insert(TableId id, long value) throws SQLException {
        try (Connection c = plainConnection(); Statement st = c.createStatement()) {
            st.execute("INSERT INTO " + sqlName(id) + " (" + q("id") + ", " + q("name") + ") VALUES (" + value
                    + ", 'n" + value + "')");
        }
    }

    /** Quotes a column name for plain SQL. */
    protected String q(String column) {
        return "\"" + column + "\"";
    }

    /** The changes of one poll, each appended to {@code into}; returns the last position, or {@code from}. */
    private static CapturePosition pollOnce(ChangeCapture cap, CapturePosition from, List<CapturedChange> into)
            throws InterruptedException {
        CapturePosition pos = from;
        for (CapturedChange c : cap.poll(from, 500, Duration.ofMillis(300))) {
            into.add(c);
            pos = c.position();
        }
        return pos;
    }

    /** Polls until {@code count} changes are collected (30 s at most). */
    private static CapturePosition drain(ChangeCapture cap, CapturePosition from, List<CapturedChange> into, int count) {
        CapturePosition[] pos = {from};
        await().atMost(Duration.ofSeconds(30)).pollInterval(Duration.ofMillis(1)).until(() -> {
            pos[0] = pollOnce(cap, pos[0], into);
            return into.size() >= count;
        });
        return pos[0];
    }

    private static List<Object> ids(List<CapturedChange> changes) {
        return changes.stream().map(c -> c.key().get(0)).toList();
    }

    /**
     * Inserts {@code low} in a transaction that commits only after {@code high} was inserted, committed and polled.
     * Where the database has one writer at a time (SQLite), {@code low} is simply inserted after the poll: to the
     * capture it looks the same.
     */
    private CapturePosition lateCommit(TableId id, long low, long high, ChangeCapture cap, CapturePosition from,
                                       List<CapturedChange> into, Runnable beforeLowCommits) throws Exception {
        CapturePosition pos;
        if (concurrentWriters()) {
            try (Connection slow = plainConnection()) {
                slow.setAutoCommit(false);
                try (Statement st = slow.createStatement()) {
                    st.execute("INSERT INTO " + sqlName(id) + " (" + q("id") + ", " + q("name") + ") VALUES (" + low
                            + ", 'n" + low + "')");
                }
                insert(id, high);
                pos = drain(cap, from, into, into.size() + 1);
                beforeLowCommits.run();
                slow.commit();
            }
        } else {
            insert(id, high);
            pos = drain(cap, from, into, into.size() + 1);
            beforeLowCommits.run();
            insert(id, low);
        }
        return pos;
    }

    // ------------------------------------------------------------ incrementing

    @Test
    void incrementingCapturesARowThatCommitsAfterAHigherOneWasPolled() throws Exception {
        TableId id = table("inc_late", false);
        ChangeCapture cap = pollStore(id, "incrementing:id", Map.of("gap-timeout", Duration.ofSeconds(30))).capture().orElseThrow();
        List<CapturedChange> got = new ArrayList<>();
        insert(id, 1);
        CapturePosition pos = drain(cap, cap.start(), got, 1);
        pos = lateCommit(id, 2, 3, cap, pos, got, () -> { });
        assertThat(pos.token()).endsWith(id + "=1+3"); // 2 holds the watermark back
        pos = drain(cap, pos, got, 3);
        assertThat(ids(got)).containsExactly(1L, 3L, 2L);
        assertThat(pos.token()).endsWith(id + "=3");
        insert(id, 4);
        drain(cap, pos, got, 4);
        assertThat(ids(got)).containsExactly(1L, 3L, 2L, 4L);
    }

    @Test
    void incrementingRolledBackValueHoldsCaptureBackNoLongerThanTheGapTimeout() throws Exception {
        TableId id = table("inc_rollback", false);
        ChangeCapture cap = pollStore(id, "incrementing:id", Map.of("gap-timeout", Duration.ofSeconds(1))).capture().orElseThrow();
        List<CapturedChange> got = new ArrayList<>();
        insert(id, 1);
        CapturePosition first = drain(cap, cap.start(), got, 1);
        if (concurrentWriters()) {
            try (Connection c = plainConnection()) {
                c.setAutoCommit(false);
                try (Statement st = c.createStatement()) {
                    st.execute("INSERT INTO " + sqlName(id) + " (" + q("id") + ", " + q("name") + ") VALUES (2, 'x')");
                }
                c.rollback();
            }
        }
        insert(id, 3);
        insert(id, 4);
        CapturePosition held = drain(cap, first, got, 3);
        assertThat(held.token()).endsWith(id + "=1+3-4");
        // each attempt inserts one more row; once 3 has been visible for gap-timeout, 2 counts as never coming
        CapturePosition[] pos = {held};
        long[] next = {5};
        await().atMost(Duration.ofSeconds(20)).untilAsserted(() -> {
            insert(id, next[0]++);
            pos[0] = drain(cap, pos[0], got, (int) (next[0] - 3));
            assertThat(pos[0].token()).endsWith(id + "=" + (next[0] - 1));
        });
        List<Object> expected = new ArrayList<>(List.of(1L, 3L, 4L));
        for (long v = 5; v < next[0]; v++) {
            expected.add(v);
        }
        assertThat(ids(got)).containsExactlyElementsOf(expected);
    }

    @Test
    void incrementingResumesAfterReopenWithoutLossOrDuplicates() throws Exception {
        TableId id = table("inc_reopen", false);
        Map<String, Object> settings = Map.of("gap-timeout", Duration.ofSeconds(30));
        Store first = pollStore(id, "incrementing:id", settings);
        ChangeCapture cap = first.capture().orElseThrow();
        List<CapturedChange> got = new ArrayList<>();
        for (long v = 1; v <= 3; v++) {
            insert(id, v);
        }
        CapturePosition pos = drain(cap, cap.start(), got, 3);
        // 4 commits after 5 was polled and while the capturing store is closed
        pos = lateCommit(id, 4, 5, cap, pos, got, first::close);
        insert(id, 6);
        ChangeCapture reopened = pollStore(id, "incrementing:id", settings).capture().orElseThrow();
        pos = drain(reopened, pos, got, 6);
        assertThat(pollOnce(reopened, pos, got)).isEqualTo(pos);
        assertThat(ids(got)).containsExactly(1L, 2L, 3L, 5L, 4L, 6L);
        assertThat(pos.token()).endsWith(id + "=6");
    }

    // ------------------------------------------------------------ timestamp

    private void write(Store writer, TableId id, long key, String name, Instant modified) {
        writer.apply(id, List.of(Mutation.Upsert.of(Row.of(Map.of("id", key, "name", name, "modified", modified)))),
                WriteOrigin.LOCAL);
    }

    private static List<String> names(List<CapturedChange> changes) {
        return changes.stream().map(c -> c.key().get(0) + ":" + c.row().get("name")).toList();
    }

    @Test
    void timestampCapturesInsertsAndUpdatesOnceEach() throws Exception {
        TableId id = table("ts_updates", true);
        Store writer = open(Map.of("capture", "none"));
        ChangeCapture cap = pollStore(id, "timestamp:modified", Map.of()).capture().orElseThrow();
        List<CapturedChange> got = new ArrayList<>();
        write(writer, id, 1, "a", T0);
        write(writer, id, 2, "b", T0);
        CapturePosition pos = drain(cap, cap.start(), got, 2);
        write(writer, id, 1, "a2", T0.plusMillis(1));
        pos = drain(cap, pos, got, 3);
        // re-read within the look-back, but each (key, value) is published once
        assertThat(pollOnce(cap, pos, got)).isEqualTo(pos);
        assertThat(names(got)).containsExactly("1:a", "2:b", "1:a2");
        assertThat(got.get(2).row().get("modified")).isEqualTo(T0.plusMillis(1));
    }

    @Test
    void timestampCapturesALateRowWithinTheLookBackButNotBeyondIt() throws Exception {
        TableId id = table("ts_late", true);
        Store writer = open(Map.of("capture", "none"));
        ChangeCapture cap = pollStore(id, "timestamp:modified", Map.of("poll-lookback", Duration.ofSeconds(5)))
                .capture().orElseThrow();
        List<CapturedChange> got = new ArrayList<>();
        write(writer, id, 1, "a", T0.plusSeconds(10));
        CapturePosition pos = drain(cap, cap.start(), got, 1);
        write(writer, id, 2, "late", T0.plusSeconds(6)); // committed after 1 was read, 4 s below it
        pos = drain(cap, pos, got, 2);
        write(writer, id, 3, "too late", T0.plusSeconds(4)); // 6 s below: outside the look-back, missed
        write(writer, id, 4, "c", T0.plusSeconds(11));
        pos = drain(cap, pos, got, 3);
        assertThat(pollOnce(cap, pos, got)).isEqualTo(pos);
        assertThat(names(got)).containsExactly("1:a", "2:late", "4:c");
    }

    @Test
    void timestampResumesAfterReopenWithoutLossOrDuplicates() throws Exception {
        TableId id = table("ts_reopen", true);
        Store writer = open(Map.of("capture", "none"));
        Store first = pollStore(id, "timestamp:modified", Map.of());
        ChangeCapture cap = first.capture().orElseThrow();
        List<CapturedChange> got = new ArrayList<>();
        write(writer, id, 1, "a", T0);
        write(writer, id, 2, "b", T0.plusMillis(500));
        write(writer, id, 3, "c", T0.plusMillis(500));
        CapturePosition pos = drain(cap, cap.start(), got, 3);
        first.close();
        write(writer, id, 4, "late", T0.plusMillis(200));
        write(writer, id, 2, "b2", T0.plusSeconds(1));
        ChangeCapture reopened = pollStore(id, "timestamp:modified", Map.of()).capture().orElseThrow();
        pos = drain(reopened, pos, got, 5);
        assertThat(pollOnce(reopened, pos, got)).isEqualTo(pos);
        assertThat(names(got)).containsExactly("1:a", "2:b", "3:c", "4:late", "2:b2");
    }

    @Test
    void timestampCurrentCountsTheRowsInsideTheLookBackAsPublished() throws Exception {
        TableId id = table("ts_current", true);
        Store writer = open(Map.of("capture", "none"));
        ChangeCapture cap = pollStore(id, "timestamp:modified", Map.of()).capture().orElseThrow();
        write(writer, id, 1, "a", T0);
        write(writer, id, 2, "b", T0.plusSeconds(1));
        CapturePosition pos = cap.current();
        write(writer, id, 3, "c", T0.plusSeconds(2));
        List<CapturedChange> got = new ArrayList<>();
        pos = drain(cap, pos, got, 1);
        assertThat(pollOnce(cap, pos, got)).isEqualTo(pos);
        assertThat(names(got)).containsExactly("3:c");
    }
}
