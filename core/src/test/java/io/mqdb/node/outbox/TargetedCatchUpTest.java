package io.mqdb.node.outbox;

import static org.assertj.core.api.Assertions.assertThat;

import io.mqdb.node.catchup.Control;
import io.mqdb.node.catchup.NodeState;
import io.mqdb.spi.TableId;
import org.junit.jupiter.api.Test;

/** The publisher's rules of targeted catch-up: one request per requester and channel; no snapshot over one in flight. */
class TargetedCatchUpTest {
    private static final TableId ORDERS = new TableId("shop", "orders");
    private static final TableId ITEMS = new TableId("shop", "items");
    private static final long LOST_AFTER = 60_000;

    private static Control.Resend request(String requester, TableId channel, long from, long to) {
        return new Control.Resend(channel, from, to, requester, true, 0, 0, 0);
    }

    @Test
    void requestsOfOneRequesterAndChannelAreCoalescedKeepingTheLowestFrom() {
        ResendQueue q = new ResendQueue();
        assertThat(q.offer(request("b", ORDERS, 500, 600))).isEqualTo(ResendQueue.Offered.QUEUED);
        assertThat(q.offer(request("b", ORDERS, 300, 400))).isEqualTo(ResendQueue.Offered.COALESCED);
        assertThat(q.offer(request("c", ORDERS, 10, 0))).isEqualTo(ResendQueue.Offered.QUEUED);
        assertThat(q.offer(request("b", ITEMS, 7, 0))).isEqualTo(ResendQueue.Offered.QUEUED);
        assertThat(q.size()).isEqualTo(3);
        assertThat(q.poll()).isEqualTo(request("b", ORDERS, 300, 600));
        assertThat(q.poll()).isEqualTo(request("c", ORDERS, 10, 0));
        assertThat(q.poll()).isEqualTo(request("b", ITEMS, 7, 0));
        assertThat(q.poll()).isNull();
        // once taken, the next request of that pair is a new one
        assertThat(q.offer(request("b", ORDERS, 900, 0))).isEqualTo(ResendQueue.Offered.QUEUED);
    }

    @Test
    void anOpenEndedRequestStaysOpenEndedAndTheNewestRequesterStateWins() {
        Control.Resend merged = ResendQueue.merge(
                new Control.Resend(ORDERS, 100, 200, "b", true, 5, 1_000, 0),
                new Control.Resend(ORDERS, 150, 0, "b", true, 9, 2_000, 77));
        assertThat(merged).isEqualTo(new Control.Resend(ORDERS, 100, 0, "b", true, 9, 2_000, 77));
    }

    @Test
    void theQueueIsBounded() {
        ResendQueue q = new ResendQueue();
        for (int i = 0; i < ResendQueue.MAX_WAITING; i++) {
            assertThat(q.offer(request("n" + i, ORDERS, 1, 0))).isEqualTo(ResendQueue.Offered.QUEUED);
        }
        assertThat(q.offer(request("late", ORDERS, 1, 0))).isEqualTo(ResendQueue.Offered.REFUSED);
        assertThat(q.offer(request("n3", ORDERS, 1, 0))).isEqualTo(ResendQueue.Offered.COALESCED);
    }

    private static NodeState.SnapshotState snapshot(long startHlc, boolean done) {
        NodeState.SnapshotState s = new NodeState.SnapshotState();
        s.to = "b";
        s.startHlc = startHlc;
        s.firstSeq = 5_000_001;
        s.endSeq = 5_000_100;
        s.base = 1_200;
        s.done = done;
        return s;
    }

    private static Control.Resend asked(long merged, long resetHlc) {
        return new Control.Resend(ORDERS, 1_000, 0, "b", true, merged, 0, resetHlc);
    }

    @Test
    void noSnapshotEverMadeForTheRequesterMeansServe() {
        assertThat(OutboxSender.coverage(null, asked(0, 0), 0, 1_000, LOST_AFTER))
                .isEqualTo(OutboxSender.Coverage.NONE);
    }

    @Test
    void aRunningSnapshotCoversEveryFurtherRequest() {
        assertThat(OutboxSender.coverage(snapshot(500, false), asked(0, 0), 0, 10_000_000, LOST_AFTER))
                .isEqualTo(OutboxSender.Coverage.COVERED);
        NodeState.SnapshotState queued = snapshot(500, false);
        queued.firstSeq = 0; // asked for, not yet started by the capture thread
        assertThat(OutboxSender.coverage(queued, asked(900, 0), 0, 0, LOST_AFTER))
                .isEqualTo(OutboxSender.Coverage.COVERED);
    }

    @Test
    void aDoneSnapshotNotYetMergedCoversUntilNoProgressForTooLong() {
        NodeState.SnapshotState done = snapshot(500, true);
        assertThat(OutboxSender.coverage(done, asked(400, 0), 100_000, 100_000 + LOST_AFTER - 1, LOST_AFTER))
                .isEqualTo(OutboxSender.Coverage.COVERED);
        assertThat(OutboxSender.coverage(done, asked(400, 0), 100_000, 100_000 + LOST_AFTER, LOST_AFTER))
                .isEqualTo(OutboxSender.Coverage.LOST);
    }

    @Test
    void aMergedSnapshotIsConfirmedAndTheRequestIsANewNeed() {
        assertThat(OutboxSender.coverage(snapshot(500, true), asked(500, 0), 0, 0, LOST_AFTER))
                .isEqualTo(OutboxSender.Coverage.CONFIRMED);
    }

    @Test
    void afterTargetLossAnEarlierSnapshotNoLongerCovers() {
        assertThat(OutboxSender.coverage(snapshot(500, false), asked(0, 600), 0, 0, LOST_AFTER))
                .isEqualTo(OutboxSender.Coverage.NONE);
        // one that started after the loss does
        assertThat(OutboxSender.coverage(snapshot(700, false), asked(0, 600), 0, 0, LOST_AFTER))
                .isEqualTo(OutboxSender.Coverage.COVERED);
    }
}
