package io.mqdb.node;

import static io.mqdb.testkit.Items.item;
import static io.mqdb.testkit.Items.names;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.mqdb.codec.EventCodec;
import io.mqdb.codec.WireBatch;
import io.mqdb.node.catchup.Control;
import io.mqdb.testkit.InMemoryBroker;
import io.mqdb.testkit.InMemoryData;
import io.mqdb.testkit.Items;
import io.mqdb.testkit.TestCluster;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Catch-up: a subscriber that finds a gap in an origin's sequence numbers (numbers jump, or the origin's retained
 * position is ahead of what it applied, and its own number does not move for a second) asks the origin on
 * {@code mqdb/<cluster>/ctl/<origin>/resend} to publish again from the first missing number, and ends up with the
 * rows. Node a publishes {@code shop:items}, node b subscribes; the in-memory broker loses what the test says.
 */
class CatchUpRulesTest {
    /** The gap check needs the number to stand still for a whole check interval (1 s) before it asks. */
    private static final Duration CATCH_UP = Duration.ofSeconds(10);
    private static final String RESEND_TOPIC = "mqdb/mqdb/ctl/a/resend";
    private static final String POSITION_TOPIC = "mqdb/mqdb/pos/shop/items/a";

    @TempDir
    Path dir;
    private TestCluster cluster;
    private InMemoryBroker broker;
    private MqdbNode a;
    private InMemoryData bData;

    @BeforeEach
    void start() throws Exception {
        cluster = new TestCluster(dir);
        broker = cluster.broker();
        cluster.store("a").open().ensureTable(Items.SCHEMA);
        a = cluster.start("a", "[ { name: shop:items, store: local, publish: true } ]");
        cluster.start("b", "[ { name: shop:items, store: local, subscribe: true } ]");
        bData = cluster.store("b");
        a.table(Items.CHANNEL).upsert(item(1, "one"));
        await().atMost(CATCH_UP).until(() -> names(bData).containsKey(1L));
        // b knows a's numbering (its epoch) from its retained position before anything is lost.
        await().atMost(CATCH_UP).until(() -> broker.retained(POSITION_TOPIC).isPresent());
    }

    @AfterEach
    void stop() {
        cluster.close();
    }

    @Test
    void aJumpInSequenceNumbersAsksTheOriginToResendFromTheFirstMissing() {
        broker.dropNext(Items.TOPIC, 1);
        int before = broker.published(Items.TOPIC).size();
        a.table(Items.CHANNEL).upsert(item(2, "two"));
        await().atMost(CATCH_UP).until(() -> broker.published(Items.TOPIC).size() > before);
        a.table(Items.CHANNEL).upsert(item(3, "three"));

        await().atMost(CATCH_UP).until(() -> names(bData).size() == 3);
        assertThat(names(bData)).isEqualTo(Map.of(1L, "one", 2L, "two", 3L, "three"));
        long[] lost = seqs(broker.published(Items.TOPIC).get(before));
        Control.Resend request = requests().get(0);
        assertThat(request.channel()).isEqualTo(Items.TABLE);
        assertThat(request.requester()).isEqualTo("b");
        assertThat(request.fromSeq()).isEqualTo(lost[0]);
        assertThat(request.toSeq()).as("it has what follows the gap").isEqualTo(lost[1]);
    }

    @Test
    void aPositionAheadOfWhatWasAppliedAsksForTheRest() {
        broker.dropNext(Items.TOPIC, 1);
        int before = broker.published(Items.TOPIC).size();
        a.table(Items.CHANNEL).upsert(item(2, "two"));

        await().atMost(CATCH_UP).until(() -> names(bData).containsKey(2L));
        long[] lost = seqs(broker.published(Items.TOPIC).get(before));
        Control.Resend request = requests().get(0);
        assertThat(request.fromSeq()).isEqualTo(lost[0]);
        assertThat(request.toSeq()).as("nothing follows the gap").isZero();
    }

    @Test
    void aSubscriberWhoseSessionTheBrokerLostCatchesUpWhenItReturns() {
        String session = TestCluster.channelClientId("b", Items.CHANNEL);
        broker.disconnect(session);
        broker.expireSession(session);
        int before = broker.published(Items.TOPIC).size();
        a.table(Items.CHANNEL).upsert(List.of(item(2, "two"), item(3, "three")));
        a.table(Items.CHANNEL).delete(io.mqdb.spi.Key.of(1L));
        // the new changes are on the broker (which has no session for b now) and a's position says so
        await().atMost(CATCH_UP).until(() -> broker.published(Items.TOPIC).size() > before
                && lastSeqPublished() >= lastSeq(broker.published(Items.TOPIC)));

        broker.reconnect(session);

        await().atMost(CATCH_UP).until(() -> names(bData).equals(Map.of(2L, "two", 3L, "three")));
        assertThat(requests().get(0).fromSeq()).isEqualTo(seqs(broker.published(Items.TOPIC).get(before))[0]);
    }

    @Test
    void eventsDeliveredOutOfOrderAreAllApplied() {
        InMemoryBroker.Hold hold = broker.hold(Items.TOPIC);
        a.table(Items.CHANNEL).upsert(item(2, "two"));
        await().atMost(CATCH_UP).until(() -> hold.size() == 1);
        a.table(Items.CHANNEL).upsert(item(3, "three"));
        await().atMost(CATCH_UP).until(() -> hold.size() == 2);

        hold.releaseReversed();

        await().atMost(CATCH_UP).until(() -> names(bData).size() == 3);
        assertThat(names(bData)).isEqualTo(Map.of(1L, "one", 2L, "two", 3L, "three"));
    }

    @Test
    void anEventDeliveredTwiceIsAppliedOnceAndCountedAsADuplicate() {
        NodeMetrics b = cluster.node("b").metrics();
        long applied = b.applied.sum();
        broker.duplicateNext(Items.TOPIC, 1);
        a.table(Items.CHANNEL).upsert(item(2, "two"));

        await().atMost(CATCH_UP).until(() -> b.skippedDuplicates.sum() == 1);
        assertThat(names(bData)).isEqualTo(Map.of(1L, "one", 2L, "two"));
        assertThat(b.applied.sum() - applied).as("the second copy is not applied again").isEqualTo(1);
        a.table(Items.CHANNEL).upsert(item(3, "three"));
        await().atMost(CATCH_UP).until(() -> names(bData).containsKey(3L));
        assertThat(b.skippedDuplicates.sum()).as("only copies count").isEqualTo(1);
        assertThat(requests()).as("a duplicate is no gap").isEmpty();
    }

    private List<Control.Resend> requests() {
        return broker.published(RESEND_TOPIC).stream().map(p -> Control.Resend.parse(p.payload())).toList();
    }

    private long lastSeqPublished() {
        return broker.retained(POSITION_TOPIC).map(Control.Position::parse).map(Control.Position::seq).orElse(0L);
    }

    private static long lastSeq(List<InMemoryBroker.Published> batches) {
        return seqs(batches.get(batches.size() - 1))[1];
    }

    /** @return the first and last sequence numbers of a published batch */
    private static long[] seqs(InMemoryBroker.Published batch) {
        WireBatch b = new EventCodec().decode(batch.payload(), Items.TABLE);
        return new long[] {b.events().get(0).seq(), b.events().get(b.events().size() - 1).seq()};
    }
}
