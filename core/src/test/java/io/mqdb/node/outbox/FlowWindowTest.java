package io.mqdb.node.outbox;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The rules of the publisher's flow window, on a clock the test moves. */
class FlowWindowTest {
    private static final String ORDERS = "shop:orders";
    private static final long SECOND = 1_000_000_000L;

    /** {@code n} messages of the channel, numbered from {@code firstSeq}, 10 events each. */
    private static List<OutboxEntry> messages(String channel, long firstSeq, int n) {
        List<OutboxEntry> out = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            long first = firstSeq + 10L * i;
            out.add(new OutboxEntry("mqdb/mqdb/ch/" + channel.replace(':', '/'), false, channel, first, first + 9,
                    new byte[0]));
        }
        return out;
    }

    @Test
    void withoutActiveSubscribersNothingWaits() {
        FlowWindow w = new FlowWindow(4);
        List<OutboxEntry> batch = messages(ORDERS, 1, 10);
        assertThat(w.admissible(batch, 0)).isEqualTo(10);
        w.sent(batch);
        assertThat(w.admissible(messages(ORDERS, 101, 10), 0)).isEqualTo(10);
    }

    @Test
    void aSubscriberAWindowBehindHoldsTheChannelUntilItReportsMore() {
        FlowWindow w = new FlowWindow(4);
        w.report("b", ORDERS, 0, -1, 0);
        List<OutboxEntry> first = messages(ORDERS, 1, 10);
        assertThat(w.admissible(first, 0)).as("a window of 4 messages").isEqualTo(4);
        w.sent(first.subList(0, 4));
        assertThat(w.admissible(messages(ORDERS, 41, 6), SECOND / 10)).isZero();
        w.report("b", ORDERS, 20, -1, SECOND / 5); // it received the first two messages
        assertThat(w.admissible(messages(ORDERS, 41, 6), SECOND / 5)).isEqualTo(2);
    }

    @Test
    void theSlowestActiveSubscriberCountsAndOneStuckStopsCounting() {
        FlowWindow w = new FlowWindow(4);
        w.report("fast", ORDERS, 0, -1, 0);
        w.report("slow", ORDERS, 0, -1, 0);
        w.sent(messages(ORDERS, 1, 4));
        w.report("fast", ORDERS, 40, -1, SECOND);
        assertThat(w.admissible(messages(ORDERS, 41, 4), SECOND)).as("slow is still active").isZero();
        w.report("slow", ORDERS, 10, -1, SECOND);
        assertThat(w.admissible(messages(ORDERS, 41, 4), SECOND)).isEqualTo(1);
        // slow does not move for longer than ACTIVE_NANOS while behind: it no longer holds fast back
        long later = SECOND + FlowWindow.ACTIVE_NANOS;
        w.report("fast", ORDERS, 40, -1, later);
        assertThat(w.admissible(messages(ORDERS, 41, 4), later)).isEqualTo(4);
    }

    @Test
    void aCaughtUpSubscriberCountsAgainAsSoonAsMoreIsPublished() {
        FlowWindow w = new FlowWindow(2);
        w.report("b", ORDERS, 0, -1, 0);
        w.sent(messages(ORDERS, 1, 2));
        w.report("b", ORDERS, 20, -1, SECOND);
        long muchLater = 60 * SECOND; // idle for a minute, caught up all along
        assertThat(w.admissible(messages(ORDERS, 21, 5), muchLater)).isEqualTo(2);
        w.sent(messages(ORDERS, 21, 2));
        assertThat(w.admissible(messages(ORDERS, 41, 5), muchLater + 1)).isZero();
    }

    @Test
    void messagesWithoutNumbersAndOtherChannelsDoNotWaitBehindAFullOne() {
        FlowWindow w = new FlowWindow(1);
        w.report("b", ORDERS, 0, -1, 0);
        w.report("b", "shop:items", 0, -1, 0);
        w.sent(messages(ORDERS, 1, 1));
        List<OutboxEntry> next = new ArrayList<>();
        next.add(new OutboxEntry("mqdb/mqdb/schema/shop/orders", true, ORDERS, 0, 0, new byte[0]));
        next.addAll(messages("shop:items", 1, 1));
        next.addAll(messages(ORDERS, 11, 1));
        next.addAll(messages("shop:items", 11, 1));
        assertThat(w.admissible(next, 1)).as("the schema and the first items message; the outbox is in order")
                .isEqualTo(2);
    }

    @Test
    void aWindowOfZeroIsOff() {
        FlowWindow w = new FlowWindow(0);
        w.report("b", ORDERS, 0, -1, 0);
        w.sent(messages(ORDERS, 1, 100));
        assertThat(w.enabled()).isFalse();
        assertThat(w.admissible(messages(ORDERS, 1001, 100), 0)).isEqualTo(100);
    }

    @Test
    void aResendWaitsForWhatTheRequesterAppliedAndGivesUpWhenItStandsStill() throws InterruptedException {
        FlowWindow w = new FlowWindow(4);
        assertThat(w.awaitApplied("b", ORDERS, 100)).as("b never reported: an older node, nothing to wait for")
                .isTrue();
        w.report("b", ORDERS, 200, 150, System.nanoTime());
        assertThat(w.awaitApplied("b", ORDERS, 150)).isTrue();
        long start = System.nanoTime();
        assertThat(w.awaitApplied("b", ORDERS, 151)).as("b does not move").isFalse();
        assertThat(System.nanoTime() - start).isGreaterThanOrEqualTo(FlowWindow.ACTIVE_NANOS);
        Thread mover = new Thread(() -> w.report("b", ORDERS, 200, 200, System.nanoTime()));
        mover.start();
        assertThat(w.awaitApplied("b", ORDERS, 180)).isTrue();
        mover.join();
    }

    /** {@code n} messages of a snapshot made for {@code node}, stream numbers from {@code first}, 10 events each. */
    private static List<OutboxEntry> snapshotFor(String node, long first, int n) {
        List<OutboxEntry> out = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            long f = first + 10L * i;
            out.add(new OutboxEntry("mqdb/mqdb/to/" + node + "/snap/shop/orders", false, ORDERS, f, f + 9,
                    new byte[0]));
        }
        return out;
    }

    @Test
    void aSnapshotMadeForOneNodeIsPacedByThatNodesStreamOnly() {
        FlowWindow w = new FlowWindow(3);
        assertThat(FlowWindow.requesterOf("mqdb/mqdb/to/node-b/snap/shop/orders")).isEqualTo("node-b");
        List<OutboxEntry> first = snapshotFor("b", 1, 5);
        long now = System.nanoTime();
        assertThat(w.admissibleTargeted(first, now)).as("nothing sent to b yet").isEqualTo(5);
        w.sentTargeted(first.subList(0, 3));
        List<OutboxEntry> next = new ArrayList<>(snapshotFor("b", 31, 2));
        assertThat(w.admissibleTargeted(next, now)).as("b has reported nothing of it: a window is out").isZero();
        // another node's snapshot is not held by b's (when it comes first in the outbox)
        assertThat(w.admissibleTargeted(snapshotFor("c", 1, 2), now)).isEqualTo(2);
        w.reportStream("b", ORDERS, 20, now + SECOND);
        assertThat(w.admissibleTargeted(next, now + SECOND)).isEqualTo(2);
        // b stands still behind for longer than ACTIVE_NANOS: no longer waited for
        assertThat(w.admissibleTargeted(snapshotFor("b", 31, 9), now + SECOND + FlowWindow.ACTIVE_NANOS))
                .isEqualTo(9);
    }

    @Test
    void reportsUnderMadeUpNamesBeyondTheBoundAreIgnored() {
        FlowWindow w = new FlowWindow(2);
        for (int i = 0; i < FlowWindow.MAX_SUBSCRIBERS; i++) {
            w.report("n" + i, ORDERS, 1_000_000, -1, 0);
        }
        w.sent(messages(ORDERS, 1, 2));
        w.report("slow-but-one-too-many", ORDERS, 0, -1, 1);
        assertThat(w.admissible(messages(ORDERS, 21, 3), 1)).as("the extra name is not tracked: it would hold all")
                .isEqualTo(2);
    }
}
