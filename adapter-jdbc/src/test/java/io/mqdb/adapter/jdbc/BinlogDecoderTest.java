package io.mqdb.adapter.jdbc;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.github.shyiko.mysql.binlog.event.DeleteRowsEventData;
import com.github.shyiko.mysql.binlog.event.Event;
import com.github.shyiko.mysql.binlog.event.EventData;
import com.github.shyiko.mysql.binlog.event.EventHeaderV4;
import com.github.shyiko.mysql.binlog.event.EventType;
import com.github.shyiko.mysql.binlog.event.MariadbGtidEventData;
import com.github.shyiko.mysql.binlog.event.QueryEventData;
import com.github.shyiko.mysql.binlog.event.TableMapEventData;
import com.github.shyiko.mysql.binlog.event.UpdateRowsEventData;
import com.github.shyiko.mysql.binlog.event.WriteRowsEventData;
import com.github.shyiko.mysql.binlog.event.XidEventData;
import io.mqdb.spi.CapturePosition;
import io.mqdb.spi.CapturedChange;
import io.mqdb.spi.Column;
import io.mqdb.spi.ColumnType;
import io.mqdb.spi.Key;
import io.mqdb.spi.MqdbException;
import io.mqdb.spi.Op;
import io.mqdb.spi.Row;
import io.mqdb.spi.TableId;
import io.mqdb.spi.TableSchema;
import java.io.Serializable;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.time.LocalDate;
import java.util.AbstractMap;
import java.util.ArrayList;
import java.util.BitSet;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The rules of turning binlog events into captured changes, without a server. */
class BinlogDecoderTest {
    private static final TableId ITEMS = new TableId("shop", "items");
    private static final JdbcTable TABLE = new JdbcTable(new TableSchema(ITEMS, List.of(
            new Column("id", ColumnType.INT64, false), Column.of("doc", ColumnType.STRING),
            Column.of("n", ColumnType.INT64)), List.of("id")), "`shop`.`items`",
            Map.of("id", "bigint", "doc", "longtext", "n", "bigint"));
    private static final long ITEMS_ID = 10;
    private static final long OTHER_ID = 11;
    private static final long MARKER_ID = 12;

    private final List<String> resolved = new ArrayList<>();
    private long offset = 100;

    private BinlogDecoder decoder(String from) {
        return new BinlogDecoder(new BinlogDecoder.Tables() {
            @Override
            public BinlogDecoder.Mapped resolve(TableMapEventData map) {
                resolved.add(map.getTable());
                return map.getTable().equals("items") ? new BinlogDecoder.Mapped(TABLE, List.of("id", "doc", "n"))
                        : null;
            }

            @Override
            public boolean isOriginMarker(String database, String table) {
                return database.equals("app") && table.equals(BinlogCapture.ORIGIN_TABLE);
            }

            @Override
            public boolean isCaptured(String database, String table) {
                return database.equals("shop") && table.equals("items");
            }
        }, BinlogDecoder.Pos.parse(new CapturePosition(from)), "test");
    }

    private Event event(EventType type, EventData data) {
        EventHeaderV4 h = new EventHeaderV4();
        h.setEventType(type);
        h.setServerId(1);
        offset += 50;
        h.setNextPosition(offset);
        return new Event(h, data);
    }

    private Event gtid(long seq) {
        MariadbGtidEventData g = new MariadbGtidEventData();
        g.setDomainId(0);
        g.setSequence(seq);
        return event(EventType.MARIADB_GTID, g);
    }

    private Event map(long id, String db, String table) {
        TableMapEventData m = new TableMapEventData();
        m.setTableId(id);
        m.setDatabase(db);
        m.setTable(table);
        m.setColumnTypes(new byte[] {8, (byte) 252, 8});
        m.setColumnMetadata(new int[] {0, 4, 0});
        return event(EventType.TABLE_MAP, m);
    }

    private static Serializable[] row(long id, String doc, Long n) {
        return new Serializable[] {id, doc == null ? null : doc.getBytes(StandardCharsets.UTF_8), n};
    }

    private static BitSet all() {
        BitSet b = new BitSet();
        b.set(0, 3);
        return b;
    }

    private Event insert(long table, Serializable[]... rows) {
        WriteRowsEventData w = new WriteRowsEventData();
        w.setTableId(table);
        w.setIncludedColumns(all());
        w.setRows(List.of(rows));
        return event(EventType.WRITE_ROWS, w);
    }

    private Event update(long table, Serializable[] before, Serializable[] after) {
        UpdateRowsEventData u = new UpdateRowsEventData();
        u.setTableId(table);
        u.setIncludedColumnsBeforeUpdate(all());
        u.setIncludedColumns(all());
        u.setRows(List.of(new AbstractMap.SimpleEntry<>(before, after)));
        return event(EventType.UPDATE_ROWS, u);
    }

    private Event delete(long table, Serializable[] before) {
        DeleteRowsEventData d = new DeleteRowsEventData();
        d.setTableId(table);
        d.setIncludedColumns(all());
        d.setRows(List.<Serializable[]>of(before));
        return event(EventType.DELETE_ROWS, d);
    }

    private Event xid() {
        return event(EventType.XID, new XidEventData());
    }

    private Event query(String sql) {
        QueryEventData q = new QueryEventData();
        q.setSql(sql);
        q.setDatabase("shop");
        return event(EventType.QUERY, q);
    }

    private static void feed(BinlogDecoder d, Event... events) {
        for (Event e : events) {
            d.accept(e);
        }
    }

    private static List<String> tokens(List<CapturedChange> changes) {
        return changes.stream().map(c -> c.position().token()).toList();
    }

    @Test
    void aTransactionIsHeldUntilItsCommitAndOnlyItsLastChangeCarriesThePositionAfterIt() {
        BinlogDecoder d = decoder("bl:g:0-1-5");
        feed(d, gtid(6), map(ITEMS_ID, "shop", "items"), insert(ITEMS_ID, row(1, "a", 1L), row(2, "b", null)));
        assertThat(d.ready()).as("nothing before the commit").isZero();
        assertThat(d.idle()).isFalse();
        feed(d, xid());

        List<CapturedChange> out = d.take(10);
        assertThat(out).extracting(CapturedChange::key).containsExactly(Key.of(1L), Key.of(2L));
        assertThat(out.get(0).row()).isEqualTo(Row.builder().set("id", 1L).set("doc", "a").set("n", 1L).build());
        assertThat(out.get(1).row().values()).containsEntry("n", null);
        assertThat(tokens(out)).containsExactly("bl:g:0-1-5/0-1-6/2", "bl:g:0-1-6");
        assertThat(d.idle()).isTrue();
    }

    @Test
    void transactionsComeInBinlogOrderWithTheGtidStateOfEveryDomain() {
        BinlogDecoder d = decoder("bl:g:0-1-5,1-2-9");
        feed(d, gtid(6), map(ITEMS_ID, "shop", "items"), insert(ITEMS_ID, row(1, "a", 1L)), xid(),
                gtid(7), map(ITEMS_ID, "shop", "items"), insert(ITEMS_ID, row(2, "b", 1L)), xid());
        List<CapturedChange> out = d.take(10);
        assertThat(tokens(out)).containsExactly("bl:g:0-1-6,1-2-9", "bl:g:0-1-7,1-2-9");
        assertThat(resolved).as("a table map seen again unchanged is not resolved again").containsExactly("items");
    }

    @Test
    void anUpdateIsAnUpsertAndAKeyChangeADeleteOfTheOldKeyFirst() {
        BinlogDecoder d = decoder("bl:g:0-1-5");
        feed(d, gtid(6), map(ITEMS_ID, "shop", "items"), update(ITEMS_ID, row(1, "a", 1L), row(1, "a", 2L)),
                update(ITEMS_ID, row(1, "a", 2L), row(3, "a", 2L)), delete(ITEMS_ID, row(3, "a", 2L)), xid());
        List<CapturedChange> out = d.take(10);
        assertThat(out).extracting(CapturedChange::op).containsExactly(Op.UPSERT, Op.DELETE, Op.UPSERT, Op.DELETE);
        assertThat(out).extracting(CapturedChange::key).containsExactly(Key.of(1L), Key.of(1L), Key.of(3L),
                Key.of(3L));
        assertThat(tokens(out)).containsExactly("bl:g:0-1-5/0-1-6/2", "bl:g:0-1-5/0-1-6/3", "bl:g:0-1-5/0-1-6/4",
                "bl:g:0-1-6");
    }

    @Test
    void aTransactionThatWroteTheMarkerTableIsDroppedWholeAndOtherTablesAreIgnored() {
        BinlogDecoder d = decoder("bl:g:0-1-5");
        feed(d, gtid(6), map(MARKER_ID, "app", BinlogCapture.ORIGIN_TABLE), update(MARKER_ID, row(1, null, 1L),
                        row(1, null, 2L)), map(ITEMS_ID, "shop", "items"), insert(ITEMS_ID, row(1, "echo", 1L)), xid(),
                gtid(7), map(OTHER_ID, "shop", "other"), insert(OTHER_ID, row(1, "x", 1L)), xid());
        assertThat(d.ready()).isZero();
        assertThat(d.quiet().encode().token()).as("what carried no change may be skipped").isEqualTo("bl:g:0-1-7");
        feed(d, gtid(8), map(ITEMS_ID, "shop", "items"), insert(ITEMS_ID, row(2, "local", 1L)), xid());
        assertThat(d.take(10)).extracting(CapturedChange::key).containsExactly(Key.of(2L));
        assertThat(d.quiet()).as("a change came after it").isNull();
    }

    @Test
    void aStreamResumedInsideATransactionSkipsItsChangesUpToTheIndex() {
        BinlogDecoder d = decoder("bl:g:0-1-5/0-1-6/4");
        feed(d, gtid(6), map(ITEMS_ID, "shop", "items"), insert(ITEMS_ID, row(1, "a", 1L), row(2, "b", 1L),
                row(3, "c", 1L)), xid());
        List<CapturedChange> out = d.take(10);
        assertThat(out).extracting(CapturedChange::key).containsExactly(Key.of(3L));
        assertThat(tokens(out)).containsExactly("bl:g:0-1-6");
    }

    @Test
    void filePositionsFollowCommitsAndRotations() {
        offset = 4;
        BinlogDecoder d = decoder("bl:f:bin.000001@4");
        feed(d, query("BEGIN"), map(ITEMS_ID, "shop", "items"), insert(ITEMS_ID, row(1, "a", 1L),
                row(2, "b", 1L)), xid());
        assertThat(tokens(d.take(10))).containsExactly("bl:f:bin.000001@4/bin.000001@4/2", "bl:f:bin.000001@204");
        feed(d, query("CREATE TABLE t (x int)"));
        assertThat(d.quiet().encode().token()).isEqualTo("bl:f:bin.000001@254");
    }

    @Test
    void theEventsOfACompressedTransactionPayloadAreReadAndItsEndIsThePositionAfterIt() {
        offset = 4;
        BinlogDecoder d = decoder("bl:f:bin.000001@4");
        com.github.shyiko.mysql.binlog.event.TransactionPayloadEventData p =
                new com.github.shyiko.mysql.binlog.event.TransactionPayloadEventData();
        p.setUncompressedEvents(new ArrayList<>(List.of(query("BEGIN"), map(ITEMS_ID, "shop", "items"),
                insert(ITEMS_ID, row(1, "a", 1L)), xid())));
        feed(d, event(EventType.TRANSACTION_PAYLOAD, p)); // its offset comes after those of the events inside
        assertThat(tokens(d.take(10))).containsExactly("bl:f:bin.000001@254");
    }

    @Test
    void aStandaloneStatementEndsItsGtidGroupWithoutChanges() {
        BinlogDecoder d = decoder("bl:g:0-1-5");
        MariadbGtidEventData g = new MariadbGtidEventData();
        g.setSequence(6);
        g.setFlags(MariadbGtidEventData.FL_STANDALONE);
        feed(d, event(EventType.MARIADB_GTID, g), query("ALTER TABLE items ADD COLUMN x int"));
        assertThat(d.idle()).isTrue();
        assertThat(d.quiet().encode().token()).isEqualTo("bl:g:0-1-6");
    }

    @Test
    void aTruncateOfACapturedTableIsWarnedAboutOnceAndPublishesNothing() {
        ch.qos.logback.classic.Logger logger = (ch.qos.logback.classic.Logger) org.slf4j.LoggerFactory
                .getLogger(BinlogDecoder.class);
        ch.qos.logback.core.read.ListAppender<ch.qos.logback.classic.spi.ILoggingEvent> appender =
                new ch.qos.logback.core.read.ListAppender<>();
        appender.start();
        logger.addAppender(appender);
        try {
            BinlogDecoder d = decoder("bl:g:0-1-5");
            MariadbGtidEventData g = new MariadbGtidEventData();
            g.setSequence(6);
            g.setFlags(MariadbGtidEventData.FL_STANDALONE);
            feed(d, event(EventType.MARIADB_GTID, g), query("TRUNCATE TABLE `shop`.`items`"));
            g = new MariadbGtidEventData();
            g.setSequence(7);
            g.setFlags(MariadbGtidEventData.FL_STANDALONE);
            feed(d, event(EventType.MARIADB_GTID, g), query("truncate items"));
            g = new MariadbGtidEventData();
            g.setSequence(8);
            g.setFlags(MariadbGtidEventData.FL_STANDALONE);
            feed(d, event(EventType.MARIADB_GTID, g), query("TRUNCATE other"));
            assertThat(d.ready()).isZero();
            assertThat(appender.list).filteredOn(e -> e.getFormattedMessage().contains("truncated"))
                    .singleElement().satisfies(e -> assertThat(e.getFormattedMessage()).contains("shop.items"));
        } finally {
            logger.detachAppender(appender);
        }
    }

    @Test
    void valuesAreReadLikeTheStoreReadsThem() {
        assertThat(BinlogDecoder.value(Column.of("t", ColumnType.TIMESTAMP), "datetime", 18, 1_000_001L))
                .isEqualTo(Instant.parse("1970-01-01T00:00:01.000001Z"));
        assertThat(BinlogDecoder.value(Column.of("t", ColumnType.TIMESTAMP), "datetime", 18, -1L))
                .isEqualTo(Instant.parse("1969-12-31T23:59:59.999999Z"));
        assertThat(BinlogDecoder.value(Column.of("d", ColumnType.DATE), "date", 10, 86_400_000_000L * 2))
                .isEqualTo(LocalDate.of(1970, 1, 3));
        assertThat(BinlogDecoder.value(Column.of("d", ColumnType.DATE), "date", 10, -86_400_000_000L))
                .isEqualTo(LocalDate.of(1969, 12, 31));
        assertThat(BinlogDecoder.value(Column.of("b", ColumnType.BOOLEAN), "tinyint", 1, 1)).isEqualTo(true);
        assertThat(BinlogDecoder.value(Column.of("f", ColumnType.DOUBLE), "float", 4, 0.1f)).isEqualTo(0.1);
        assertThat(BinlogDecoder.value(Column.of("s", ColumnType.DECIMAL), "varchar", 15,
                "1.50".getBytes(StandardCharsets.UTF_8))).isEqualTo(new java.math.BigDecimal("1.50"));
    }

    @Test
    void aGtidStateOlderThanTheOldestBinlogInAnyOfItsDomainsIsPurged() {
        assertThat(BinlogCapture.purged("0-1-15", "0-1-15")).isNull();
        assertThat(BinlogCapture.purged("0-1-20,2-1-5", "0-1-15,2-1-5")).isNull();
        assertThat(BinlogCapture.purged("", "")).isNull();
        assertThat(BinlogCapture.purged("0-1-14", "0-1-15")).isEqualTo("0-1-15");
        assertThat(BinlogCapture.purged("0-1-20", "0-1-15,2-1-3")).as("a domain the state never saw")
                .isEqualTo("2-1-3");
        assertThat(BinlogCapture.purged("", "0-1-1")).isEqualTo("0-1-1");
        assertThat(BinlogCapture.quoted("enum('a','it''s','')")).containsExactly("a", "it's", "");
    }

    @Test
    void positionsOfAnotherCaptureModeAreRefused() {
        assertThatThrownBy(() -> BinlogDecoder.Pos.parse(new CapturePosition("g:12")))
                .isInstanceOf(MqdbException.class).hasMessageContaining("mqdb uninstall");
        assertThatThrownBy(() -> BinlogDecoder.Pos.parse(new CapturePosition("l:1:2:3")))
                .isInstanceOf(MqdbException.class);
    }
}
