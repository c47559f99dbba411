package io.mqdb.adapter.jdbc;

import static org.assertj.core.api.Assertions.assertThat;

import io.mqdb.spi.CapturedChange;
import io.mqdb.spi.Column;
import io.mqdb.spi.ColumnType;
import io.mqdb.spi.Key;
import io.mqdb.spi.Op;
import io.mqdb.spi.TableId;
import io.mqdb.spi.TableSchema;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The rules of turning a pgoutput stream into captured changes, without a server. */
class LogDecoderTest {
    private static final TableId ITEMS = new TableId("shop", "items");
    private static final JdbcTable TABLE = new JdbcTable(new TableSchema(ITEMS, List.of(
            new Column("id", ColumnType.INT64, false), Column.of("doc", ColumnType.STRING),
            Column.of("n", ColumnType.INT64)), List.of("id")), "\"shop\".\"items\"",
            Map.of("id", "int8", "doc", "text", "n", "int8"));
    private static final PgOutput.Relation ITEMS_REL = new PgOutput.Relation(1, "shop", "items", 'd', List.of(
            new PgOutput.RelationColumn(true, "id", 20, -1), new PgOutput.RelationColumn(false, "doc", 25, -1),
            new PgOutput.RelationColumn(false, "n", 20, -1)));
    private static final PgOutput.Relation OTHER_REL = new PgOutput.Relation(2, "shop", "other", 'd',
            ITEMS_REL.columns());

    private LogDecoder decoder(LogCapture.Pos skip) {
        LogDecoder d = new LogDecoder(r -> r.name().equals("items") ? TABLE : null, skip, "test");
        d.accept(ITEMS_REL);
        d.accept(OTHER_REL);
        return d;
    }

    private static PgOutput.Tuple tuple(String... texts) {
        List<PgOutput.Value> values = new ArrayList<>();
        for (String t : texts) {
            values.add(t == null ? PgOutput.Value.NULL : t.equals("<u>") ? PgOutput.Value.UNCHANGED
                    : new PgOutput.Value(PgOutput.ValueKind.TEXT, t));
        }
        return new PgOutput.Tuple(values);
    }

    private static PgOutput.Insert insert(int rel, String... texts) {
        return new PgOutput.Insert(rel, tuple(texts));
    }

    private static List<LogCapture.Pos> positions(List<CapturedChange> changes) {
        return changes.stream().map(c -> LogCapture.Pos.parse(c.position())).toList();
    }

    private static void feed(LogDecoder d, PgOutput.Message... messages) {
        Arrays.stream(messages).forEach(d::accept);
    }

    @Test
    void aTransactionComesInOrderAndOnlyItsLastChangeLetsTheSlotPassIt() {
        LogDecoder d = decoder(null);
        feed(d, new PgOutput.Begin(100, 0, 7), insert(1, "1", "a", "1"), insert(1, "2", "b", "2"),
                insert(1, "3", "c", "3"));
        assertThat(d.emittable()).as("the last may not end the transaction").isEqualTo(2);
        d.accept(new PgOutput.Commit(100, 150, 0));

        List<CapturedChange> out = d.take(10);

        assertThat(out).extracting(c -> c.key().get(0)).containsExactly(1L, 2L, 3L);
        assertThat(positions(out)).containsExactly(new LogCapture.Pos(100, 2, 100), new LogCapture.Pos(100, 4, 100),
                new LogCapture.Pos(100, 6, 150));
        assertThat(d.idle()).isTrue();
    }

    @Test
    void aKeyChangeIsADeleteOfTheOldKeyThenAnUpsertAndADeleteCarriesTheKey() {
        LogDecoder d = decoder(null);
        feed(d, new PgOutput.Begin(100, 0, 7),
                new PgOutput.Update(1, 'K', tuple("1", null, null), tuple("2", "a", "5")),
                new PgOutput.Delete(1, 'K', tuple("2", null, null)), new PgOutput.Commit(100, 150, 0));

        List<CapturedChange> out = d.take(10);

        assertThat(out).extracting(CapturedChange::op).containsExactly(Op.DELETE, Op.UPSERT, Op.DELETE);
        assertThat(out).extracting(CapturedChange::key).containsExactly(Key.of(1L), Key.of(2L), Key.of(2L));
        assertThat(positions(out)).extracting(LogCapture.Pos::index).containsExactly(1L, 2L, 4L);
    }

    @Test
    void anUnchangedToastedValueIsLeftOutOfTheRow() {
        LogDecoder d = decoder(null);
        feed(d, new PgOutput.Begin(100, 0, 7), new PgOutput.Update(1, (char) 0, null, tuple("1", "<u>", "2")),
                new PgOutput.Commit(100, 150, 0));

        assertThat(d.take(10).get(0).row().values()).containsOnlyKeys("id", "n");
    }

    @Test
    void aTransactionMarkedReplicatedIsDroppedAndLetsTheSlotPassIt() {
        LogDecoder d = decoder(null);
        feed(d, new PgOutput.Begin(100, 0, 7),
                new PgOutput.LogicalMessage(true, 90, LogCapture.ORIGIN_PREFIX, new byte[0]),
                insert(1, "1", "a", "1"), new PgOutput.Commit(100, 150, 0));

        assertThat(d.emittable()).isZero();
        assertThat(d.quietLsn()).isEqualTo(150);
    }

    @Test
    void anotherTablesChangesAndAHeartbeatCarryNothingAndLetTheSlotPass() {
        LogDecoder d = decoder(null);
        feed(d, new PgOutput.Begin(100, 0, 7), insert(2, "1", "a", "1"), new PgOutput.Commit(100, 150, 0));
        assertThat(d.emittable()).isZero();
        assertThat(d.quietLsn()).isEqualTo(150);
        d.accept(new PgOutput.LogicalMessage(false, 200, LogCapture.HEARTBEAT_PREFIX, new byte[0]));
        assertThat(d.quietLsn()).isEqualTo(200);
        assertThat(d.idle()).isTrue();
    }

    @Test
    void changesAtOrBelowTheResumePositionAreSkippedSoATransactionSplitByARestartIsNotRepeated() {
        LogDecoder d = decoder(new LogCapture.Pos(100, 4, 100));
        feed(d, new PgOutput.Begin(100, 0, 7), insert(1, "1", "a", "1"), insert(1, "2", "b", "2"),
                insert(1, "3", "c", "3"), new PgOutput.Commit(100, 150, 0),
                new PgOutput.Begin(200, 0, 8), insert(1, "4", "d", "4"), new PgOutput.Commit(200, 250, 0));

        List<CapturedChange> out = d.take(10);

        assertThat(out).extracting(c -> c.key().get(0)).containsExactly(3L, 4L);
        assertThat(positions(out)).containsExactly(new LogCapture.Pos(100, 6, 150), new LogCapture.Pos(200, 2, 250));
    }
}
