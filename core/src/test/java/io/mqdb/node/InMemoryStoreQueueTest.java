package io.mqdb.node;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.mqdb.spi.RetriableException;
import io.mqdb.spi.Store;
import io.mqdb.spi.TableId;
import io.mqdb.testkit.InMemoryData;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Proxy;
import java.util.UUID;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * The queue contract on the in-memory store, which has no {@link io.mqdb.spi.AtomicWrites}: the queue's ordered
 * two-write path. The cases below also cut a put or a take between its entry write and its counter write (the
 * store fails the counter write), as a crash there would, and check what the queue makes of it, in the same process
 * and after reopening.
 */
class InMemoryStoreQueueTest extends StoreQueueContract {
    private final String instance = "queue-" + UUID.randomUUID();
    /** When set, the next write to the counters table fails (and clears it). */
    private final AtomicBoolean failCounterWrite = new AtomicBoolean();

    @Override
    protected Store openStore() {
        return counterCut(InMemoryData.named(instance).open(), failCounterWrite);
    }

    @AfterEach
    void forgetData() {
        InMemoryData.forget(instance);
    }

    private StoreQueue open(String name) {
        return StoreQueue.open(store, getClass().getClassLoader(), name);
    }

    private static byte[] bytes(String s) {
        return s.getBytes(UTF_8);
    }

    @Test
    void aPutCutBeforeItsTailIsCountedInOnceTheTailIsReadBack() throws Exception {
        StoreQueue q = open("cut_put");
        q.put(bytes("a"));
        failCounterWrite.set(true);
        assertThatThrownBy(() -> q.put(bytes("b"))).isInstanceOf(RetriableException.class);
        assertThat(q.put(bytes("c"))).as("the entry written before the cut keeps its seq").isEqualTo(3);
        store.close();
        store = openStore();
        StoreQueue again = open("cut_put");
        assertThat(again.size()).isEqualTo(3);
        assertThat(new String(again.take(), UTF_8)).isEqualTo("a");
        assertThat(new String(again.take(), UTF_8)).isEqualTo("b");
        assertThat(new String(again.take(), UTF_8)).isEqualTo("c");
    }

    @Test
    void aPutCutBeforeItsTailIsKeptAfterReopening() throws Exception {
        StoreQueue q = open("cut_put_reopen");
        q.put(bytes("a"));
        failCounterWrite.set(true);
        assertThatThrownBy(() -> q.put(bytes("b"))).isInstanceOf(RetriableException.class);
        store.close();
        store = openStore();
        StoreQueue again = open("cut_put_reopen");
        assertThat(again.size()).isEqualTo(2);
        assertThat(again.put(bytes("c"))).isEqualTo(3);
    }

    @Test
    void aTakeCutBeforeItsHeadIsNeverTakenAgain() throws Exception {
        StoreQueue q = open("cut_take");
        q.put(bytes("a"));
        q.put(bytes("b"));
        failCounterWrite.set(true);
        assertThatThrownBy(q::take).isInstanceOf(RetriableException.class);
        assertThat(q.peek().map(p -> new String(p, UTF_8))).as("the deleted entry is not the head").contains("b");
        store.close();
        store = openStore();
        StoreQueue again = open("cut_take");
        assertThat(again.size()).isEqualTo(1);
        assertThat(new String(again.take(), UTF_8)).isEqualTo("b");
        assertThat(again.size()).isZero();
    }

    @Test
    void aTakeCutBeforeItsHeadIsSkippedByTheNextTake() throws Exception {
        StoreQueue q = open("cut_take_same");
        q.put(bytes("a"));
        q.put(bytes("b"));
        failCounterWrite.set(true);
        assertThatThrownBy(q::take).isInstanceOf(RetriableException.class);
        assertThat(new String(q.take(), UTF_8)).isEqualTo("b");
        assertThat(q.size()).isZero();
    }

    @Test
    void closingTheQueueWakesAWaitingTake() throws Exception {
        StoreQueue q = open("closing");
        AtomicBoolean endedByClose = new AtomicBoolean();
        Thread taker = new Thread(() -> {
            try {
                q.take();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            } catch (RuntimeException e) {
                endedByClose.set(e.getMessage().contains("is closed"));
            }
        }, "taker");
        taker.start();
        org.awaitility.Awaitility.await().until(() -> taker.getState() == Thread.State.TIMED_WAITING);
        q.close();
        taker.join(10_000);
        assertThat(endedByClose.get()).as("the take ended with 'queue ... is closed'").isTrue();
        assertThatThrownBy(() -> q.put(bytes("x"))).hasMessageContaining("is closed");
    }

    /** The in-memory store, whose next write to the counters table fails while the flag is set. */
    private static Store counterCut(Store delegate, AtomicBoolean failNext) {
        return (Store) Proxy.newProxyInstance(Store.class.getClassLoader(), new Class<?>[] {Store.class},
                (proxy, method, args) -> {
                    if (method.getName().equals("apply") && ((TableId) args[0]).table().equals("queue_ends")
                            && failNext.compareAndSet(true, false)) {
                        throw new RetriableException("cut before the counter write of " + args[0]);
                    }
                    try {
                        return method.invoke(delegate, args);
                    } catch (InvocationTargetException e) {
                        throw e.getCause();
                    }
                });
    }
}
