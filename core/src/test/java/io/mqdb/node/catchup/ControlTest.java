package io.mqdb.node.catchup;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.mqdb.spi.InvalidDataException;
import io.mqdb.spi.TableId;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;

class ControlTest {
    private static final TableId ORDERS = new TableId("shop", "orders");

    private static byte[] json(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    @Test
    void positionWithTargetedSnapshotsRoundTrips() {
        Control.Targeted t = new Control.Targeted("node-b", 117706536784363539L, 5_000_001L, 5_010_000L, 120_345L,
                true);
        Control.Position p = new Control.Position("node-a", ORDERS, 120_400L,
                Optional.of(new Control.Snapshot(11L, 1L, 100L, true)), 7L, List.of(t));
        Control.Position back = Control.Position.parse(p.toJson());
        assertThat(back).isEqualTo(p);
        assertThat(back.targeted()).containsExactly(t);
    }

    @Test
    void positionOfAnOlderNodeParsesWithoutTargetedSnapshots() {
        Control.Position p = Control.Position.parse(json("{\"node\":\"node-a\",\"channel\":\"shop:orders\","
                + "\"seq\":120345,\"snapshot\":{\"startHlc\":117706536784363539,\"firstSeq\":100001,"
                + "\"endSeq\":120000,\"done\":true}}"));
        assertThat(p.targeted()).isEmpty();
        assertThat(p.epoch()).isZero();
        assertThat(p.snapshot()).contains(new Control.Snapshot(117706536784363539L, 100001L, 120000L, true));
        // and an older node reads a new position: the new member is extra, the old ones are unchanged
        String newer = new String(new Control.Position("node-a", ORDERS, 5, Optional.empty(), 0,
                List.of(new Control.Targeted("node-b", 1, 2, 3, 4, false))).toJson(), StandardCharsets.UTF_8);
        assertThat(newer).contains("\"seq\":5").contains("\"targeted\":[{\"to\":\"node-b\"");
    }

    @Test
    void targetedSnapshotsAreBoundedWhenParsedAndWhenMade() {
        StringBuilder many = new StringBuilder();
        List<Control.Targeted> list = new ArrayList<>();
        for (int i = 0; i < Control.MAX_TARGETED + 10; i++) {
            many.append(i == 0 ? "" : ",").append("{\"to\":\"n").append(i).append("\",\"startHlc\":1,\"firstSeq\":2,"
                    + "\"endSeq\":3,\"base\":4,\"done\":false}");
            list.add(new Control.Targeted("n" + i, 1, 2, 3, 4, false));
        }
        Control.Position p = Control.Position.parse(json("{\"node\":\"a\",\"channel\":\"shop:orders\",\"seq\":1,"
                + "\"targeted\":[" + many + "]}"));
        assertThat(p.targeted()).hasSize(Control.MAX_TARGETED);
        assertThat(new Control.Position("a", ORDERS, 1, Optional.empty(), 0, list).targeted())
                .hasSize(Control.MAX_TARGETED);
    }

    @Test
    void badPositionsAreInvalidData() {
        assertThatThrownBy(() -> Control.Position.parse(json("{\"node\":\"a\",\"channel\":\"shop:orders\",\"seq\":1,"
                + "\"targeted\":[{\"to\":\"b\"}]}"))).isInstanceOf(InvalidDataException.class);
        assertThatThrownBy(() -> Control.Position.parse(json("[1]"))).isInstanceOf(InvalidDataException.class);
    }

    @Test
    void resendRoundTripsWithTheTargetedFields() {
        Control.Resend r = new Control.Resend(ORDERS, 95_001L, 96_000L, "node-b", true, 42L, 5_000_100L, 99L);
        assertThat(Control.Resend.parse(r.toJson())).isEqualTo(r);
        Control.Resend noReset = new Control.Resend(ORDERS, 1, 0, "node-b", true, 0, 0, 0);
        assertThat(new String(noReset.toJson(), StandardCharsets.UTF_8)).doesNotContain("resetHlc");
        assertThat(Control.Resend.parse(noReset.toJson())).isEqualTo(noReset);
        Control.Resend stamped = new Control.Resend(ORDERS, 1, 0, "node-b", true, 0, 0, 0, 123_456_789L);
        assertThat(Control.Resend.parse(stamped.toJson())).isEqualTo(stamped);
        assertThat(Control.Resend.parse(noReset.toJson()).at()).as("no reading: an older node").isZero();
    }

    @Test
    void resendOfAnOlderNodeIsNotTargeted() {
        Control.Resend r = Control.Resend.parse(json("{\"channel\":\"shop:orders\",\"from\":95001,"
                + "\"requester\":\"node-b\"}"));
        assertThat(r).isEqualTo(new Control.Resend(ORDERS, 95_001L, 0, "node-b"));
        assertThat(r.targeted()).isFalse();
        // an older request serialised by this version keeps the older format
        assertThat(new String(r.toJson(), StandardCharsets.UTF_8)).doesNotContain("merged");
    }
    @Test
    void flowReportRoundTripsAndReadsAtMostItsBoundOfOrigins() {
        Control.Flow f = new Control.Flow("node-b", ORDERS, java.util.Map.of("node-a", 120_400L, "node-c", 7L),
                java.util.Map.of("node-a", 120_000L, "node-c", 7L));
        assertThat(Control.Flow.parse(f.toJson())).isEqualTo(f);
        StringBuilder many = new StringBuilder("{\"node\":\"node-b\",\"channel\":\"shop:orders\",\"received\":{");
        for (int i = 0; i < 500; i++) {
            many.append(i == 0 ? "" : ",").append("\"o").append(i).append("\":").append(i);
        }
        Control.Flow big = Control.Flow.parse(json(many.append("}}").toString()));
        assertThat(big.received()).hasSize(Control.MAX_FLOW_ORIGINS).containsEntry("o0", 0L);
        assertThat(big.applied()).isEmpty();
        assertThat(big.stream()).isEmpty();
        Control.Flow withStream = new Control.Flow("node-b", ORDERS, java.util.Map.of("node-a", 5L),
                java.util.Map.of("node-a", 5L), java.util.Map.of("node-a", 1_975_000_000_000_000_100L));
        assertThat(Control.Flow.parse(withStream.toJson())).isEqualTo(withStream);
    }

    @Test
    void aMalformedFlowReportIsInvalidData() {
        assertThatThrownBy(() -> Control.Flow.parse(json("{\"node\":\"b\",\"channel\":\"shop:orders\","
                + "\"received\":{\"a\":\"many\"}}"))).isInstanceOf(InvalidDataException.class)
                .hasMessageStartingWith("not a flow report");
        assertThatThrownBy(() -> Control.Flow.parse(json("[1,2]"))).isInstanceOf(InvalidDataException.class);
    }
}
