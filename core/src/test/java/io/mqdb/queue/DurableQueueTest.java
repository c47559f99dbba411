package io.mqdb.queue;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import io.mqdb.queue.DurableQueue.Entry;
import io.mqdb.spi.MqdbException;
import java.io.IOException;
import java.io.RandomAccessFile;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class DurableQueueTest {
    private static final Duration NO_WAIT = Duration.ZERO;

    @TempDir
    Path dir;

    private final ExecutorService executor = Executors.newCachedThreadPool();

    @AfterEach
    void stopThreads() {
        executor.shutdownNow();
    }

    private DurableQueue open(long maxUndeliveredBytes, long retainDeliveredBytes) {
        return DurableQueue.open(dir.resolve("queue.db"), maxUndeliveredBytes, retainDeliveredBytes);
    }

    private static byte[] bytes(String text) {
        return text.getBytes(UTF_8);
    }

    private static List<String> texts(List<Entry> entries) {
        return entries.stream().map(e -> new String(e.payload(), UTF_8)).toList();
    }

    @Test
    void emptyQueueStartsAtIndexOne() {
        try (DurableQueue q = open(1_000, 0)) {
            assertThat(q.head()).isEqualTo(1);
            assertThat(q.nextIndex()).isEqualTo(1);
            assertThat(q.firstRetained()).isEqualTo(1);
            assertThat(q.undeliveredCount()).isZero();
            assertThat(q.undeliveredBytes()).isZero();
            assertThat(q.counter("never")).isZero();
            assertThat(q.read(1, 10)).contains(List.of());
        }
    }

    @Test
    void peekReturnsEntriesInAppendOrderWithoutRemovingThem() throws InterruptedException {
        try (DurableQueue q = open(1_000_000, 0)) {
            assertThat(q.append(List.of(bytes("a"), bytes("b")), Map.of())).isEqualTo(1);
            assertThat(q.append(List.of(bytes("c")), Map.of())).isEqualTo(3);

            List<Entry> first = q.peek(2, NO_WAIT);
            assertThat(first).extracting(Entry::index).containsExactly(1L, 2L);
            assertThat(texts(first)).containsExactly("a", "b");
            assertThat(texts(q.peek(10, NO_WAIT))).containsExactly("a", "b", "c");
            assertThat(q.undeliveredCount()).isEqualTo(3);
            assertThat(q.undeliveredBytes()).isEqualTo(3);

            q.markDelivered(2);
            assertThat(q.head()).isEqualTo(3);
            assertThat(texts(q.peek(10, NO_WAIT))).containsExactly("c");
            q.markDelivered(3);
            assertThat(q.peek(10, NO_WAIT)).isEmpty();
            assertThat(q.undeliveredBytes()).isZero();
        }
    }

    @Test
    void markingDeliveredTwiceOrBeyondTheTailIsHandled() throws InterruptedException {
        try (DurableQueue q = open(1_000, 100)) {
            q.append(List.of(bytes("a"), bytes("b")), Map.of());
            q.markDelivered(1);
            q.markDelivered(1);
            assertThat(q.head()).isEqualTo(2);
            assertThatThrownBy(() -> q.markDelivered(3)).isInstanceOf(IllegalArgumentException.class)
                    .hasMessageContaining("queue.db").hasMessageContaining("last index appended is 2");
        }
    }

    @Test
    void countersAreCommittedWithTheAppend() throws InterruptedException {
        Path file = dir.resolve("queue.db");
        try (DurableQueue q = DurableQueue.open(file, 1_000, 0)) {
            q.append(List.of(bytes("a")), Map.of("lsn", 10L, "tx", 3L));
            q.append(List.of(), Map.of("lsn", 12L));
            assertThat(q.counter("lsn")).isEqualTo(12);
            assertThat(q.counter("tx")).isEqualTo(3);
            assertThat(q.nextIndex()).isEqualTo(2);
        }
        try (DurableQueue q = DurableQueue.open(file, 1_000, 0)) {
            assertThat(q.counter("lsn")).isEqualTo(12);
            assertThat(q.counter("tx")).isEqualTo(3);
        }
    }

    @Test
    void reopenKeepsEntriesPositionsAndByteCounts() throws InterruptedException {
        Path file = dir.resolve("queue.db");
        try (DurableQueue q = DurableQueue.open(file, 1_000, 3)) {
            q.append(List.of(bytes("aa"), bytes("bb"), bytes("cc"), bytes("dd")), Map.of("pos", 4L));
            q.markDelivered(2);
        }
        try (DurableQueue q = DurableQueue.open(file, 1_000, 3)) {
            assertThat(q.firstRetained()).isEqualTo(2);
            assertThat(q.head()).isEqualTo(3);
            assertThat(q.nextIndex()).isEqualTo(5);
            assertThat(q.undeliveredBytes()).isEqualTo(4);
            assertThat(q.retainedDeliveredBytes()).isEqualTo(2);
            assertThat(texts(q.peek(10, NO_WAIT))).containsExactly("cc", "dd");
            assertThat(q.append(List.of(bytes("ee")), Map.of())).isEqualTo(5);
        }
    }

    @Test
    void indexesNeverRepeatEvenWhenEverythingWasDeletedAndReopened() throws InterruptedException {
        Path file = dir.resolve("queue.db");
        try (DurableQueue q = DurableQueue.open(file, 1_000, 0)) {
            q.append(List.of(bytes("a"), bytes("b")), Map.of());
            q.markDelivered(2);
            assertThat(q.firstRetained()).isEqualTo(3).isEqualTo(q.nextIndex());
        }
        try (DurableQueue q = DurableQueue.open(file, 1_000, 0)) {
            assertThat(q.append(List.of(bytes("c")), Map.of())).isEqualTo(3);
        }
    }

    @Test
    void deliveredEntriesStayReadableWithinTheResendWindow() throws InterruptedException {
        try (DurableQueue q = open(1_000, 25)) {
            List<byte[]> batch = new ArrayList<>();
            for (int i = 1; i <= 10; i++) {
                batch.add(bytes("entry-" + i + "!")); // 8 bytes each for i < 10
            }
            q.append(batch, Map.of());
            q.markDelivered(3); // 24 delivered bytes: all kept
            assertThat(q.firstRetained()).isEqualTo(1);
            assertThat(texts(q.read(1, 2).orElseThrow())).containsExactly("entry-1!", "entry-2!");

            q.markDelivered(6); // 48 delivered bytes: the oldest go until at most 25 are left
            assertThat(q.firstRetained()).isEqualTo(4);
            assertThat(q.retainedDeliveredBytes()).isEqualTo(24);
            assertThat(q.read(3, 5)).isEmpty();
            Optional<List<Entry>> resend = q.read(4, 5);
            assertThat(resend).isPresent();
            assertThat(resend.get()).extracting(Entry::index).containsExactly(4L, 5L, 6L, 7L, 8L);
            assertThat(q.read(10, 5).orElseThrow()).extracting(Entry::index).containsExactly(10L);
            assertThat(q.read(11, 5)).contains(List.of());
        }
    }

    @Test
    void zeroRetentionDeletesDeliveredEntriesAtOnce() throws InterruptedException {
        try (DurableQueue q = open(1_000, 0)) {
            q.append(List.of(bytes("a"), bytes("b")), Map.of());
            q.markDelivered(1);
            assertThat(q.firstRetained()).isEqualTo(2);
            assertThat(q.read(1, 1)).isEmpty();
        }
    }

    @Test
    void appendBlocksAtTheBoundAndResumesWithoutDrops() throws Exception {
        try (DurableQueue q = open(10, 0)) {
            q.append(List.of(bytes("0123456789")), Map.of()); // at the bound now
            Future<Long> blocked = executor.submit(() -> q.append(List.of(bytes("next")), Map.of("pos", 2L)));
            await().during(Duration.ofMillis(200)).atMost(Duration.ofSeconds(2)).until(() -> !blocked.isDone());
            assertThat(q.nextIndex()).isEqualTo(2);

            q.markDelivered(1);
            assertThat(blocked.get(5, TimeUnit.SECONDS)).isEqualTo(2);
            assertThat(q.counter("pos")).isEqualTo(2);
            assertThat(texts(q.peek(10, NO_WAIT))).containsExactly("next");
        }
    }

    @Test
    void appendWaitsWhileTheDiskIsBelowItsFloorAndGoesOnWhenSpaceReturns() throws Exception {
        java.util.concurrent.atomic.AtomicLong free = new java.util.concurrent.atomic.AtomicLong(1_000_000);
        DiskFloor floor = DiskFloor.of(dir, 100_000, free::get);
        try (DurableQueue q = DurableQueue.open(dir.resolve("queue.db"), 1 << 20, 0, floor)) {
            q.append(List.of(bytes("first")), Map.of());
            free.set(100_003); // "second" (6 bytes) would leave less than the floor
            Future<Long> waiting = executor.submit(() -> q.append(List.of(bytes("second")), Map.of("pos", 2L)));
            await().during(Duration.ofMillis(1_500)).atMost(Duration.ofSeconds(3)).until(() -> !waiting.isDone());
            assertThat(floor.paused()).isTrue();
            assertThat(q.nextIndex()).as("nothing written while waiting").isEqualTo(2);

            free.set(100_006); // exactly the floor left after the write
            assertThat(waiting.get(5, TimeUnit.SECONDS)).isEqualTo(2);
            assertThat(floor.paused()).isFalse();
            assertThat(q.counter("pos")).isEqualTo(2);
            assertThat(texts(q.peek(10, NO_WAIT))).containsExactly("first", "second");
        }
        assertThat(DiskFloor.of(dir, 0)).as("0 turns the floor off").isSameAs(DiskFloor.NONE);
    }

    @Test
    void anAppendWaitingForDiskSpaceIsInterruptible() throws Exception {
        DiskFloor floor = DiskFloor.of(dir, 100, () -> 0L);
        try (DurableQueue q = DurableQueue.open(dir.resolve("queue.db"), 1 << 20, 0, floor)) {
            Future<Long> waiting = executor.submit(() -> q.append(List.of(bytes("x")), Map.of()));
            await().during(Duration.ofMillis(300)).atMost(Duration.ofSeconds(2)).until(() -> !waiting.isDone());
            waiting.cancel(true);
            await().atMost(Duration.ofSeconds(5)).until(waiting::isDone);
            assertThat(q.nextIndex()).isEqualTo(1);
        }
    }

    @Test
    void appendIntoAnEmptyQueueSucceedsEvenAboveTheBound() throws InterruptedException {
        try (DurableQueue q = open(4, 0)) {
            assertThat(q.append(List.of(bytes("far more than four bytes")), Map.of())).isEqualTo(1);
            assertThat(q.undeliveredBytes()).isGreaterThan(4);
        }
    }

    @Test
    void producerAndConsumerRunConcurrentlyUnderBackPressure() throws Exception {
        int total = 2_000;
        try (DurableQueue q = open(2_000, 500)) {
            Future<?> producer = executor.submit(() -> {
                for (int i = 1; i <= total; i += 10) {
                    List<byte[]> batch = new ArrayList<>();
                    for (int j = i; j < i + 10; j++) {
                        batch.add(bytes("m" + j));
                    }
                    q.append(batch, Map.of("pos", (long) i + 9));
                }
                return null;
            });
            List<String> seen = new ArrayList<>();
            while (seen.size() < total) {
                List<Entry> got = q.peek(64, Duration.ofSeconds(5));
                assertThat(got).isNotEmpty();
                assertThat(q.undeliveredBytes()).isLessThan(2_000 + 10 * 6);
                seen.addAll(texts(got));
                q.markDelivered(got.get(got.size() - 1).index());
            }
            producer.get(5, TimeUnit.SECONDS);
            List<String> expected = new ArrayList<>();
            for (int i = 1; i <= total; i++) {
                expected.add("m" + i);
            }
            assertThat(seen).isEqualTo(expected);
            assertThat(q.counter("pos")).isEqualTo(total);
            assertThat(q.undeliveredCount()).isZero();
        }
    }

    @Test
    void peekWaitsForDataAndTimesOutEmpty() throws Exception {
        try (DurableQueue q = open(1_000, 0)) {
            assertThat(q.peek(1, Duration.ofMillis(50))).isEmpty();
            Future<List<Entry>> waiting = executor.submit(() -> q.peek(5, Duration.ofSeconds(10)));
            await().during(Duration.ofMillis(100)).atMost(Duration.ofSeconds(2)).until(() -> !waiting.isDone());
            q.append(List.of(bytes("x")), Map.of());
            assertThat(texts(waiting.get(5, TimeUnit.SECONDS))).containsExactly("x");
        }
    }

    @Test
    void interruptPropagatesFromBlockedAppendAndPeek() throws Exception {
        try (DurableQueue q = open(1, 0)) {
            AtomicReference<Thread> peeker = new AtomicReference<>();
            CompletableFuture<Throwable> peekOutcome = new CompletableFuture<>();
            Thread peek = new Thread(() -> {
                try {
                    q.peek(1, Duration.ofMinutes(1));
                    peekOutcome.complete(null);
                } catch (Throwable t) {
                    peekOutcome.complete(t);
                }
            });
            peeker.set(peek);
            peek.start();
            await().atMost(Duration.ofSeconds(2)).until(() -> peek.getState() == Thread.State.TIMED_WAITING);
            peek.interrupt();
            assertThat(peekOutcome.get(5, TimeUnit.SECONDS)).isInstanceOf(InterruptedException.class);

            q.append(List.of(bytes("full")), Map.of());
            CompletableFuture<Throwable> appendOutcome = new CompletableFuture<>();
            Thread append = new Thread(() -> {
                try {
                    q.append(List.of(bytes("more")), Map.of());
                    appendOutcome.complete(null);
                } catch (Throwable t) {
                    appendOutcome.complete(t);
                }
            });
            append.start();
            await().atMost(Duration.ofSeconds(2)).until(() -> append.getState() == Thread.State.WAITING);
            append.interrupt();
            assertThat(appendOutcome.get(5, TimeUnit.SECONDS)).isInstanceOf(InterruptedException.class);
            assertThat(q.nextIndex()).as("nothing appended by the interrupted call").isEqualTo(2);
        }
    }

    @Test
    void closeWakesWaitersAndIsIdempotent() throws Exception {
        DurableQueue q = open(1_000, 0);
        Future<List<Entry>> waiting = executor.submit(() -> q.peek(1, Duration.ofMinutes(1)));
        await().during(Duration.ofMillis(100)).atMost(Duration.ofSeconds(2)).until(() -> !waiting.isDone());
        q.close();
        q.close();
        assertThatThrownBy(() -> waiting.get(5, TimeUnit.SECONDS)).hasCauseInstanceOf(MqdbException.class)
                .hasMessageContaining("closed");
        assertThatThrownBy(() -> q.append(List.of(bytes("x")), Map.of())).isInstanceOf(MqdbException.class)
                .hasMessageContaining("queue.db");
        assertThat(q.nextIndex()).isEqualTo(1);
    }

    @Test
    void openingAQueueInUseNamesIt() {
        Path file = dir.resolve("queue.db");
        try (DurableQueue q = DurableQueue.open(file, 1_000, 0)) {
            assertThatThrownBy(() -> DurableQueue.open(file, 1_000, 0)).isInstanceOf(MqdbException.class)
                    .hasMessageContaining(file.toString()).hasMessageContaining("cannot open");
        }
    }

    @Test
    void openingAPathThatIsAFileNamesIt() throws Exception {
        Path file = dir.resolve("old.db");
        Files.write(file, new byte[64]);
        assertThatThrownBy(() -> DurableQueue.open(file, 1_000, 0)).isInstanceOf(MqdbException.class)
                .hasMessageContaining(file.toString()).hasMessageContaining("not a folder");
    }

    @Test
    void aTornTailIsCutOffOnReopenAndEverythingBeforeItIsIntact() throws Exception {
        Path file = dir.resolve("queue.db");
        try (DurableQueue q = DurableQueue.open(file, 1_000, 0)) {
            q.append(List.of(bytes("a"), bytes("b")), Map.of("pos", 2L));
            q.append(List.of(bytes("c")), Map.of("pos", 3L));
        }
        Path segment = segments(file).get(0);
        long intact = Files.size(segment);
        Files.write(segment, new byte[] {0, 0, 0, 9, 1, 2, 3}, StandardOpenOption.APPEND); // a record's first bytes
        try (DurableQueue q = DurableQueue.open(file, 1_000, 0)) {
            assertThat(Files.size(segment)).as("garbage cut off").isEqualTo(intact);
            assertThat(texts(q.peek(10, NO_WAIT))).containsExactly("a", "b", "c");
            assertThat(q.counter("pos")).isEqualTo(3);
            assertThat(q.append(List.of(bytes("d")), Map.of("pos", 4L))).isEqualTo(4);
        }
        try (RandomAccessFile raf = new RandomAccessFile(segment.toFile(), "rw")) {
            raf.setLength(raf.length() - 3); // the last append's commit record, torn
        }
        try (DurableQueue q = DurableQueue.open(file, 1_000, 0)) {
            assertThat(Files.size(segment)).as("cut back to the commit before").isEqualTo(intact);
            assertThat(texts(q.peek(10, NO_WAIT))).as("the torn append is gone, all before it is there")
                    .containsExactly("a", "b", "c");
            assertThat(q.counter("pos")).isEqualTo(3);
            assertThat(q.nextIndex()).isEqualTo(4);
            assertThat(q.undeliveredBytes()).isEqualTo(3);
        }
    }

    @Test
    void corruptionBeforeTheTailFailsTheOpenNamingTheSegment() throws Exception {
        Path file = dir.resolve("queue.db");
        try (DurableQueue q = DurableQueue.open(file, 1_000_000, 0, 256)) {
            for (int i = 0; i < 20; i++) {
                q.append(List.of(bytes("entry number " + i)), Map.of());
            }
        }
        List<Path> segments = segments(file);
        assertThat(segments).hasSizeGreaterThan(2);
        Path first = segments.get(0);
        try (RandomAccessFile raf = new RandomAccessFile(first.toFile(), "rw")) {
            raf.seek(raf.length() - 5);
            raf.write(raf.read() ^ 0xff); // one flipped byte inside the first segment's last record
        }
        assertThatThrownBy(() -> DurableQueue.open(file, 1_000_000, 0)).isInstanceOf(MqdbException.class)
                .hasMessageContaining(first.toString()).hasMessageContaining("not the last segment");
    }

    @Test
    void entriesSpreadOverSegmentsAndDeliveredSegmentsAreDeleted() throws InterruptedException {
        int total = 20_000;
        int batch = 1_000;
        Path file = dir.resolve("many.db");
        try (DurableQueue q = DurableQueue.open(file, Long.MAX_VALUE, 8L * batch, 64 * 1024)) {
            for (int first = 1; first <= total; first += batch) {
                List<byte[]> entries = new ArrayList<>(batch);
                for (long i = first; i < first + batch; i++) {
                    entries.add(ByteBuffer.allocate(8).putLong(i).array());
                }
                assertThat(q.append(entries, Map.of("pos", (long) first + batch - 1))).isEqualTo(first);
            }
            int before = segments(file).size();
            assertThat(before).isGreaterThan(5);
            takeAndCheck(q, total / 2, batch);
            assertThat(segments(file).size()).as("segments of delivered entries deleted").isLessThan(before);
        }
        try (DurableQueue q = DurableQueue.open(file, Long.MAX_VALUE, 8L * batch, 64 * 1024)) {
            assertThat(q.counter("pos")).isEqualTo(total);
            assertThat(q.head()).isEqualTo(total / 2 + 1);
            assertThat(q.firstRetained()).isEqualTo(total / 2 - batch + 1);
            assertThat(q.read(q.firstRetained(), batch).orElseThrow()).hasSize(batch);
            takeAndCheck(q, total / 2, batch);
            assertThat(q.undeliveredCount()).isZero();
            assertThat(q.undeliveredBytes()).isZero();
            assertThat(q.read(total - 4, 100).orElseThrow()).hasSize(5);
            assertThat(segments(file)).hasSizeLessThanOrEqualTo(3);
        }
    }

    @Test
    void commitsWithoutEntriesDoNotGrowTheFolder() throws Exception {
        Path file = dir.resolve("queue.db");
        try (DurableQueue q = DurableQueue.open(file, 1_000, 0, 200)) {
            for (long i = 1; i <= 100; i++) {
                q.append(List.of(), Map.of("pos", i));
            }
            assertThat(segments(file)).hasSize(1);
            assertThat(Files.size(segments(file).get(0))).isLessThan(400);
        }
        try (DurableQueue q = DurableQueue.open(file, 1_000, 0)) {
            assertThat(q.counter("pos")).isEqualTo(100);
            assertThat(q.nextIndex()).isEqualTo(1);
        }
    }

    private static void takeAndCheck(DurableQueue q, int count, int batch) throws InterruptedException {
        long expected = q.head();
        for (int taken = 0; taken < count; ) {
            List<Entry> page = q.peek(batch, Duration.ZERO);
            for (Entry e : page) {
                assertThat(e.index()).isEqualTo(expected);
                assertThat(ByteBuffer.wrap(e.payload()).getLong()).isEqualTo(expected);
                expected++;
            }
            q.markDelivered(page.get(page.size() - 1).index());
            taken += page.size();
        }
    }

    private static List<Path> segments(Path queue) {
        try (Stream<Path> files = Files.list(queue)) {
            return files.filter(f -> f.getFileName().toString().endsWith(".log")).sorted().toList();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
