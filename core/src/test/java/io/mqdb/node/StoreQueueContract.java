package io.mqdb.node;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import io.mqdb.spi.Store;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashSet;
import java.util.List;
import java.util.Optional;
import java.util.Random;
import java.util.Set;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInfo;

/**
 * What {@link StoreQueue} promises on every store: order, size, peek, waiting takes, reopening, and concurrent puts
 * and takes with nothing lost or taken twice. Each adapter's test extends it with {@link #openStore()}; every case
 * uses a queue of its own ({@code t_<case>_<random>}), so a shared server need not be fresh.
 */
public abstract class StoreQueueContract {
    /** The store under test, opened before each case. */
    protected Store store;
    private String queueName;
    private final Random random = new Random();

    /**
     * Opens the store under test: before each case, and again within a case after it closed the store, on the same
     * data.
     *
     * @return an open store
     */
    protected abstract Store openStore();

    /** @return the entries each of the concurrent case's producers puts; fewer for a slow store */
    protected int entriesPerProducer() {
        return 300;
    }

    @BeforeEach
    void openStoreUnderTest(TestInfo info) {
        String test = info.getTestMethod().map(m -> m.getName()).orElse("test");
        queueName = ("t_" + test.substring(0, Math.min(test.length(), 30)) + "_"
                + Integer.toHexString(random.nextInt(1 << 24))).toLowerCase(java.util.Locale.ROOT);
        store = openStore();
    }

    @AfterEach
    void closeStoreUnderTest() {
        if (store != null) {
            store.close();
        }
    }

    private StoreQueue queue() {
        return StoreQueue.open(store, getClass().getClassLoader(), queueName);
    }

    private static byte[] bytes(String s) {
        return s.getBytes(UTF_8);
    }

    private static String text(byte[] b) {
        return new String(b, UTF_8);
    }

    @Test
    void takesReturnEntriesInPutOrderWithConsecutiveSequenceNumbers() throws Exception {
        StoreQueue q = queue();
        List<Long> seqs = new ArrayList<>();
        for (int i = 0; i < 25; i++) {
            seqs.add(q.put(bytes("entry-" + i)));
        }
        assertThat(seqs).isEqualTo(java.util.stream.LongStream.rangeClosed(1, 25).boxed().toList());
        List<String> taken = new ArrayList<>();
        for (int i = 0; i < 25; i++) {
            taken.add(text(q.take()));
        }
        assertThat(taken).isEqualTo(java.util.stream.IntStream.range(0, 25).mapToObj(i -> "entry-" + i).toList());
        assertThat(q.size()).isZero();
    }

    @Test
    void sizeAndPeekFollowPutsAndTakes() throws Exception {
        StoreQueue q = queue();
        assertThat(q.size()).isZero();
        assertThat(q.peek()).isEmpty();
        q.put(bytes("a"));
        q.put(bytes("b"));
        assertThat(q.size()).isEqualTo(2);
        assertThat(q.peek().map(StoreQueueContract::text)).contains("a");
        assertThat(q.peek().map(StoreQueueContract::text)).as("peek does not take").contains("a");
        assertThat(text(q.take())).isEqualTo("a");
        assertThat(q.size()).isEqualTo(1);
        assertThat(q.peek().map(StoreQueueContract::text)).contains("b");
        assertThat(text(q.take())).isEqualTo("b");
        assertThat(q.size()).isZero();
        assertThat(q.peek()).isEmpty();
    }

    @Test
    void payloadsKeepEveryByteAndMayBeEmpty() throws Exception {
        StoreQueue q = queue();
        byte[] all = new byte[256];
        for (int i = 0; i < all.length; i++) {
            all[i] = (byte) i;
        }
        byte[] big = new byte[16 * 1024];
        random.nextBytes(big);
        q.put(all);
        q.put(new byte[0]);
        q.put(big);
        assertThat(q.take()).isEqualTo(all);
        assertThat(q.take()).isEmpty();
        assertThat(q.take()).isEqualTo(big);
    }

    @Test
    void pollOnAnEmptyQueueWaitsItsTimeoutThenReturnsEmpty() throws Exception {
        StoreQueue q = queue();
        long t0 = System.nanoTime();
        assertThat(q.poll(Duration.ofMillis(300))).isEmpty();
        assertThat(Duration.ofNanos(System.nanoTime() - t0)).isGreaterThanOrEqualTo(Duration.ofMillis(290));
        assertThat(q.poll(Duration.ZERO)).isEmpty();
        q.put(bytes("x"));
        assertThat(q.poll(Duration.ZERO).map(StoreQueueContract::text)).contains("x");
    }

    @Test
    void waitingTakeAndPollWakeOnPuts() throws Exception {
        StoreQueue q = queue();
        Set<String> got = java.util.concurrent.ConcurrentHashMap.newKeySet();
        AtomicReference<Throwable> failed = new AtomicReference<>();
        Thread taker = new Thread(() -> {
            try {
                got.add(text(q.take()));
            } catch (Throwable e) {
                failed.set(e);
            }
        }, "taker");
        Thread poller = new Thread(() -> {
            try {
                q.poll(Duration.ofSeconds(30)).ifPresent(e -> got.add(text(e)));
            } catch (Throwable e) {
                failed.set(e);
            }
        }, "poller");
        taker.start();
        poller.start();
        await().atMost(Duration.ofSeconds(10)).until(() -> waiting(taker) && waiting(poller));
        assertThat(got).isEmpty();
        q.put(bytes("first"));
        q.put(bytes("second"));
        taker.join(10_000);
        poller.join(10_000);
        assertThat(failed.get()).isNull();
        assertThat(got).containsExactlyInAnyOrder("first", "second");
        assertThat(q.size()).isZero();
    }

    private static boolean waiting(Thread t) {
        return t.getState() == Thread.State.WAITING || t.getState() == Thread.State.TIMED_WAITING;
    }

    @Test
    void anInterruptedTakeThrowsAndTakesNothing() throws Exception {
        StoreQueue q = queue();
        AtomicReference<Throwable> thrown = new AtomicReference<>();
        Thread taker = new Thread(() -> {
            try {
                q.take();
            } catch (Throwable e) {
                thrown.set(e);
            }
        }, "taker");
        taker.start();
        await().atMost(Duration.ofSeconds(10)).until(() -> waiting(taker));
        taker.interrupt();
        taker.join(10_000);
        assertThat(thrown.get()).isInstanceOf(InterruptedException.class);
        q.put(bytes("kept"));
        assertThat(q.size()).isEqualTo(1);
        assertThat(text(q.take())).isEqualTo("kept");
    }

    @Test
    void reopeningKeepsOrderSizeAndCounters() throws Exception {
        StoreQueue q = queue();
        for (int i = 1; i <= 6; i++) {
            q.put(bytes("e" + i));
        }
        assertThat(text(q.take())).isEqualTo("e1");
        assertThat(text(q.take())).isEqualTo("e2");
        store.close();
        store = openStore();
        StoreQueue again = queue();
        assertThat(again.size()).isEqualTo(4);
        assertThat(again.peek().map(StoreQueueContract::text)).contains("e3");
        assertThat(again.put(bytes("e7"))).as("a sequence number is never given twice").isEqualTo(7);
        List<String> rest = new ArrayList<>();
        while (again.size() > 0) {
            rest.add(text(again.take()));
        }
        assertThat(rest).containsExactly("e3", "e4", "e5", "e6", "e7");
        store.close();
        store = openStore();
        StoreQueue empty = queue();
        assertThat(empty.size()).isZero();
        assertThat(empty.poll(Duration.ofMillis(50))).isEmpty();
        assertThat(empty.put(bytes("e8"))).isEqualTo(8);
    }

    @Test
    void concurrentPutsAndTakesLoseNothingAndTakeNothingTwice() throws Exception {
        StoreQueue q = queue();
        int producers = 3;
        int consumers = 3;
        int each = entriesPerProducer();
        int total = producers * each;
        ExecutorService pool = Executors.newFixedThreadPool(producers + consumers);
        CountDownLatch go = new CountDownLatch(1);
        AtomicInteger remaining = new AtomicInteger(total);
        List<ConcurrentLinkedQueue<String>> takenBy = new ArrayList<>();
        List<Future<?>> tasks = new ArrayList<>();
        try {
            for (int p = 0; p < producers; p++) {
                int producer = p;
                tasks.add(pool.submit(() -> {
                    go.await();
                    for (int i = 0; i < each; i++) {
                        q.put(bytes(producer + ":" + i));
                    }
                    return null;
                }));
            }
            for (int c = 0; c < consumers; c++) {
                ConcurrentLinkedQueue<String> mine = new ConcurrentLinkedQueue<>();
                takenBy.add(mine);
                tasks.add(pool.submit(() -> {
                    go.await();
                    while (remaining.get() > 0) {
                        Optional<byte[]> e = q.poll(Duration.ofMillis(200));
                        if (e.isPresent()) {
                            mine.add(text(e.get()));
                            remaining.decrementAndGet();
                        }
                    }
                    return null;
                }));
            }
            go.countDown();
            for (Future<?> f : tasks) {
                f.get(5, TimeUnit.MINUTES);
            }
        } finally {
            pool.shutdownNow();
        }
        List<String> all = new ArrayList<>();
        takenBy.forEach(all::addAll);
        Set<String> distinct = new HashSet<>(all);
        Set<String> expected = new HashSet<>();
        for (int p = 0; p < producers; p++) {
            for (int i = 0; i < each; i++) {
                expected.add(p + ":" + i);
            }
        }
        System.out.printf("%s: %d put, %d taken, %d distinct, %d lost%n", getClass().getSimpleName(), total,
                all.size(), distinct.size(), total - distinct.size());
        assertThat(all).as("nothing taken twice").hasSize(distinct.size());
        assertThat(distinct).as("nothing lost").isEqualTo(expected);
        for (ConcurrentLinkedQueue<String> mine : takenBy) {
            for (int p = 0; p < producers; p++) {
                String prefix = p + ":";
                List<Integer> order = mine.stream().filter(s -> s.startsWith(prefix))
                        .map(s -> Integer.parseInt(s.substring(prefix.length()))).toList();
                List<Integer> sorted = new ArrayList<>(order);
                Collections.sort(sorted);
                assertThat(order).as("one consumer gets one producer's entries in put order").isEqualTo(sorted);
            }
        }
        assertThat(q.size()).isZero();
        store.close();
        store = openStore();
        StoreQueue again = queue();
        assertThat(again.size()).isZero();
        assertThat(again.put(bytes("next"))).isEqualTo(total + 1L);
    }

    @Test
    void aQueueNameMustBeAnIdentifier() {
        assertThatThrownBy(() -> StoreQueue.open(store, getClass().getClassLoader(), "frames; drop table x"))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("invalid queue name");
        assertThatThrownBy(() -> StoreQueue.open(store, getClass().getClassLoader(), "q".repeat(47)))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("at most 46");
    }
}
