package io.mqdb.cli;

import static org.assertj.core.api.Assertions.assertThat;

import io.mqdb.node.catchup.Control;
import io.mqdb.observe.ClusterStatus;
import io.mqdb.spi.TableId;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;

/** What {@code mqdb status} makes of the retained messages it read. */
class ClusterStatusTest {
    private static final long NOW = 1_800_000_000_000L;
    private static final TableId ITEMS = TableId.parse("shop:items");

    private static byte[] presence(String node, String state, String channels) {
        return ("{\"state\":\"" + state + "\",\"node\":\"" + node + "\",\"time\":\"2027-01-15T08:00:00Z\","
                + (node.equals("pg") ? "\"version\":\"1.2.0\"," : "") + "\"channels\":[" + channels + "]}")
                .getBytes(StandardCharsets.UTF_8);
    }

    private static ClusterStatus cluster() {
        ClusterStatus s = new ClusterStatus();
        s.addPresence(presence("pg", "online", "{\"name\":\"shop:items\",\"publish\":true,\"subscribe\":false}"));
        s.addPresence(presence("redis", "online", "{\"name\":\"shop:items\",\"publish\":false,\"subscribe\":true}"));
        s.addPosition(new Control.Position("pg", ITEMS, 1_500, Optional.empty(), 1_000, java.util.List.of(), 7));
        s.addApplied(new Control.Applied("redis", ITEMS, Map.of("pg", 1_420L), NOW - 2_500, 0, 80, 3, true));
        return s;
    }

    @Test
    void aSubscribersLagIsThePublishersPositionAgainstItsAppliedPosition() {
        ClusterStatus.Report r = cluster().report(NOW, -1);
        assertThat(r.problems()).isEmpty();
        assertThat(r.channels()).hasSize(1);
        ClusterStatus.ChannelRow row = r.channels().get(0);
        assertThat(row.publishers()).containsExactly("pg");
        assertThat(row.subscribers()).hasSize(1);
        assertThat(row.subscribers().get(0).lag().events()).isEqualTo(80);
        assertThat(row.subscribers().get(0).lag().seconds()).isEqualTo(2.5);
        String table = StatusCommand.table(r);
        System.out.println(table);
        assertThat(table).contains("shop:items  pg          7       redis (paused)  80             2.5             3");
        assertThat(ClusterStatus.json(r)).contains("\"outbox\":7,\"subscribers\":[{\"node\":\"redis\","
                + "\"eventsBehind\":80,\"secondsBehind\":2.5,\"deadLetters\":3,\"paused\":true}]")
                .contains("\"problems\":[]");
    }

    @Test
    void anOfflineNodeOrALagAboveTheBoundIsAProblem() {
        ClusterStatus s = cluster();
        assertThat(s.report(NOW, 80).problems()).isEmpty();
        assertThat(s.report(NOW, 79).problems())
                .containsExactly("node redis is 80 events behind on shop:items (--max-lag 79)");
        s.addPresence(presence("pg", "offline", ""));
        assertThat(s.report(NOW, -1).problems()).containsExactly("node pg is offline since 2027-01-15T08:00:00Z");
    }

    @Test
    void aSubscriberWithoutAnAppliedPositionHasAnUnknownLag() {
        ClusterStatus s = new ClusterStatus();
        s.addPresence(presence("old", "online", "{\"name\":\"shop:items\",\"publish\":false,\"subscribe\":true}"));
        ClusterStatus.Report r = s.report(NOW, 0);
        assertThat(r.channels().get(0).subscribers().get(0).lag()).isNull();
        assertThat(r.problems()).isEmpty();
        assertThat(StatusCommand.table(r)).contains("shop:items  -           ?       old         ?              ?  "
                + "             ?");
    }

    @Test
    void theNodesVersionIsShownAsAnnouncedAndOnlyWhenItLooksLikeOne() {
        ClusterStatus s = cluster();
        String table = StatusCommand.table(s.report(NOW, -1));
        assertThat(table).contains("NODE   STATE   SINCE                 VERSION")
                .contains("pg     online  2027-01-15T08:00:00Z  1.2.0")
                .contains("redis  online  2027-01-15T08:00:00Z  -");
        assertThat(ClusterStatus.json(s.report(NOW, -1))).contains("\"node\":\"pg\",\"state\":\"online\","
                + "\"since\":\"2027-01-15T08:00:00Z\",\"version\":\"1.2.0\"");
        s.addPresence(("{\"state\":\"online\",\"node\":\"pg\",\"time\":\"t\",\"version\":\"\\u001b[31mred\"}")
                .getBytes(StandardCharsets.UTF_8));
        assertThat(StatusCommand.table(s.report(NOW, -1))).contains("pg     online  t").doesNotContain("\u001b");
    }
}
