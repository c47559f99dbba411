package io.mqdb.queue;

import static org.assertj.core.api.Assertions.assertThat;

import io.mqdb.queue.DurableQueue.Entry;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * MapDB 3.1.0 asks for eclipse-collections [7,10.10.90), core's class path has HiveMQ's 11.1.0 (core's pom excludes
 * MapDB's range). This runs the queue on what core resolves. {@code -Dmqdb.queue.classpath.entries=1000000} runs a
 * million entries (297 s on a 2-core machine with a slow fsync); the default, 20,000, keeps the suite short.
 */
class DurableQueueClasspathTest {
    private static final int TOTAL = Integer.getInteger("mqdb.queue.classpath.entries", 20_000);
    private static final int BATCH = Math.min(10_000, TOTAL / 10);

    @TempDir
    Path dir;

    @Test
    void coreResolvesTheEclipseCollectionsHiveMqWasBuiltWith() throws Exception {
        Class<?> mapDbUses = Class.forName("org.eclipse.collections.impl.map.mutable.primitive.LongLongHashMap");
        String jar = mapDbUses.getProtectionDomain().getCodeSource().getLocation().getPath();
        assertThat(jar).as("the eclipse-collections jar on core's class path").contains("11.1.0");
    }

    @Test
    void manyEntriesGoThroughAndSurviveAReopen() throws InterruptedException {
        Path file = dir.resolve("million.db");
        try (DurableQueue q = DurableQueue.open(file, Long.MAX_VALUE, 8L * BATCH)) {
            for (int first = 1; first <= TOTAL; first += BATCH) {
                List<byte[]> batch = new ArrayList<>(BATCH);
                for (long i = first; i < first + BATCH; i++) {
                    batch.add(payload(i));
                }
                assertThat(q.append(batch, Map.of("pos", (long) first + BATCH - 1))).isEqualTo(first);
            }
            takeAndCheck(q, TOTAL / 2);
        }
        try (DurableQueue q = DurableQueue.open(file, Long.MAX_VALUE, 8L * BATCH)) {
            assertThat(q.counter("pos")).isEqualTo(TOTAL);
            assertThat(q.head()).isEqualTo(TOTAL / 2 + 1);
            assertThat(q.firstRetained()).isEqualTo(TOTAL / 2 - BATCH + 1);
            takeAndCheck(q, TOTAL / 2);
            assertThat(q.undeliveredCount()).isZero();
            assertThat(q.undeliveredBytes()).isZero();
            assertThat(q.read(TOTAL - 4, 100).orElseThrow()).hasSize(5);
        }
    }

    private static void takeAndCheck(DurableQueue q, int count) throws InterruptedException {
        long expected = q.head();
        for (int taken = 0; taken < count; ) {
            List<Entry> page = q.peek(BATCH, Duration.ZERO);
            for (Entry e : page) {
                assertThat(e.index()).isEqualTo(expected);
                assertThat(ByteBuffer.wrap(e.payload()).getLong()).isEqualTo(expected);
                expected++;
            }
            q.markDelivered(page.get(page.size() - 1).index());
            taken += page.size();
        }
    }

    /** 8 bytes of index, padded to 8 bytes per entry: {@code 8 * BATCH} retained bytes hold one batch. */
    private static byte[] payload(long index) {
        return ByteBuffer.allocate(8).putLong(index).array();
    }
}
