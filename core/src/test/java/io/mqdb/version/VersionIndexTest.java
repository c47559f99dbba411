package io.mqdb.version;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.mqdb.spi.Bytes;
import io.mqdb.spi.Json;
import io.mqdb.spi.Key;
import io.mqdb.spi.MqdbException;
import io.mqdb.spi.TableId;
import io.mqdb.spi.Version;
import java.io.RandomAccessFile;
import java.math.BigDecimal;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.time.LocalDate;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Random;
import java.util.UUID;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class VersionIndexTest {
    private static final TableId ORDERS = TableId.parse("shop:orders");
    private static final TableId USERS = TableId.parse("shop:users");

    @TempDir
    Path dir;

    private Path file() {
        return dir.resolve("versions.db");
    }

    private static Version v(long hlc, String origin) {
        return new Version(hlc, origin);
    }

    @Test
    void recordKeepsTheNewestVersion() {
        try (VersionIndex index = VersionIndex.open(file())) {
            Key k = Key.of(1L);
            assertThat(index.get(ORDERS, k)).isEmpty();
            assertThat(index.record(ORDERS, k, v(10, "a"), false)).isTrue();
            assertThat(index.record(ORDERS, k, v(9, "z"), false)).as("older hlc").isFalse();
            assertThat(index.record(ORDERS, k, v(10, "0"), false)).as("same hlc, smaller origin").isFalse();
            assertThat(index.record(ORDERS, k, v(10, "a"), false)).as("the same version again").isTrue();
            assertThat(index.record(ORDERS, k, v(10, "b"), false)).as("same hlc, larger origin").isTrue();
            assertThat(index.get(ORDERS, k).orElseThrow().version()).isEqualTo(v(10, "b"));
            assertThat(index.get(USERS, k)).as("another table").isEmpty();
            assertThat(index.record(ORDERS, k, v(11, "a"), false)).isTrue();
            VersionIndex.Entry e = index.get(ORDERS, k).orElseThrow();
            assertThat(e.version()).isEqualTo(v(11, "a"));
            assertThat(e.deleted()).isFalse();
            assertThat(e.recordedMillis()).isBetween(System.currentTimeMillis() - 5_000, System.currentTimeMillis());
        }
    }

    @Test
    void tombstoneBlocksOlderUpsert() {
        try (VersionIndex index = VersionIndex.open(file())) {
            Key k = Key.of("x");
            index.record(ORDERS, k, v(5, "a"), false);
            assertThat(index.record(ORDERS, k, v(7, "b"), true)).isTrue();
            assertThat(index.record(ORDERS, k, v(6, "a"), false)).as("older upsert after the delete").isFalse();
            Optional<VersionIndex.Entry> e = index.get(ORDERS, k);
            assertThat(e.orElseThrow().deleted()).isTrue();
            assertThat(e.orElseThrow().version()).isEqualTo(v(7, "b"));
            assertThat(index.record(ORDERS, k, v(8, "a"), false)).as("newer upsert revives the row").isTrue();
            assertThat(index.get(ORDERS, k).orElseThrow().deleted()).isFalse();
        }
    }

    @Test
    void committedStateSurvivesACrashAndUncommittedRecordsDoNot() throws Exception {
        VersionIndex index = VersionIndex.open(file());
        index.record(ORDERS, Key.of(1L), v(1, "a"), false);
        index.counter("seq", 1);
        index.commit();
        index.record(ORDERS, Key.of(2L), v(2, "a"), false);
        index.counter("seq", 2);
        index.abandon(); // a kill -9 before the second commit
        try (VersionIndex again = VersionIndex.open(file())) {
            assertThat(again.get(ORDERS, Key.of(1L))).isPresent();
            assertThat(again.get(ORDERS, Key.of(2L))).isEmpty();
            assertThat(again.counter("seq")).isEqualTo(1);
        }
        assertThat(unclean()).isEmpty();
    }

    @Test
    void countersCommitWithVersions() {
        VersionIndex index = VersionIndex.open(file());
        for (int batch = 1; batch <= 20; batch++) {
            for (int i = 0; i < 50; i++) {
                long id = batch * 50L + i;
                index.record(ORDERS, Key.of(id), v(id, "a"), false);
            }
            index.counter("seq\u0000shop.orders\u0000a", batch * 50L + 49);
            index.commit();
        }
        index.record(ORDERS, Key.of(5_000L), v(5_000, "a"), false);
        index.abandon();
        try (VersionIndex again = VersionIndex.open(file())) {
            long seq = again.counter("seq\u0000shop.orders\u0000a");
            assertThat(seq).isEqualTo(20 * 50L + 49);
            for (long id = 50; id <= seq; id++) {
                assertThat(again.get(ORDERS, Key.of(id))).as("key %d covered by the counter", id).isPresent();
            }
            assertThat(again.counter("never set")).isZero();
        }
    }

    @Test
    void tornTailIsCut() throws Exception {
        VersionIndex index = VersionIndex.open(file());
        index.record(ORDERS, Key.of(1L), v(1, "a"), false);
        index.commit();
        index.record(ORDERS, Key.of(2L), v(2, "a"), false);
        index.counter("c", 2);
        index.commit();
        index.abandon();
        Path log = onlyLog();
        long full = Files.size(log);
        try (RandomAccessFile f = new RandomAccessFile(log.toFile(), "rw")) {
            f.setLength(full - 3); // the second frame cut short
        }
        try (VersionIndex again = VersionIndex.open(file())) {
            assertThat(again.get(ORDERS, Key.of(1L))).isPresent();
            assertThat(again.get(ORDERS, Key.of(2L))).isEmpty();
            assertThat(again.counter("c")).isZero();
            again.record(ORDERS, Key.of(3L), v(3, "a"), false);
            again.commit();
            again.abandon();
        }
        try (RandomAccessFile f = new RandomAccessFile(onlyLog().toFile(), "rw")) {
            f.seek(f.length());
            f.write(new byte[4096]); // zeros a power cut can leave after the last frame
        }
        try (VersionIndex again = VersionIndex.open(file())) {
            assertThat(again.get(ORDERS, Key.of(1L))).isPresent();
            assertThat(again.get(ORDERS, Key.of(3L))).as("written after the cut").isPresent();
        }
    }

    @Test
    void corruptionBeforeTheTailIsMovedAsideOnce() throws Exception {
        VersionIndex index = VersionIndex.open(file());
        for (long i = 0; i < 3; i++) {
            index.record(ORDERS, Key.of(i), v(i + 1, "a"), false);
            index.commit();
        }
        index.abandon();
        Path log = onlyLog();
        try (RandomAccessFile f = new RandomAccessFile(log.toFile(), "rw")) {
            f.seek(16 + 8 + 2); // inside the first frame's updates, with two valid frames after it
            int b = f.read();
            f.seek(16 + 8 + 2);
            f.write(b ^ 0x40);
        }
        try (VersionIndex again = VersionIndex.open(file())) {
            assertThat(again.get(ORDERS, Key.of(2L))).as("an empty index").isEmpty();
            again.record(ORDERS, Key.of(9L), v(9, "a"), false);
            again.commit();
        }
        try (Stream<Path> s = Files.list(dir)) {
            assertThat(s.filter(p -> p.getFileName().toString().startsWith("versions.db.corrupt-"))).hasSize(1);
        }
        try (VersionIndex again = VersionIndex.open(file())) {
            assertThat(again.get(ORDERS, Key.of(9L))).isPresent();
        }
    }

    @Test
    void staleKeysListsOnlyOlderLiveRowsOfThatOrigin() {
        try (VersionIndex index = VersionIndex.open(file())) {
            index.record(ORDERS, Key.of(1L), v(10, "a"), false); // stale
            index.record(ORDERS, Key.of(2L), v(20, "a"), false); // at the snapshot's start: confirmed
            index.record(ORDERS, Key.of(3L), v(10, "b"), false); // another origin
            index.record(ORDERS, Key.of(4L), v(10, "a"), true); // already deleted
            index.record(USERS, Key.of(5L), v(10, "a"), false); // another table
            index.record(ORDERS, Key.of("s", 6L), v(19, "a"), false); // stale
            assertThat(index.staleKeys(ORDERS, "a", 20)).containsExactlyInAnyOrder(Key.of(1L), Key.of("s", 6L));
            assertThat(index.staleKeys(ORDERS, "nobody", 20)).isEmpty();
            assertThat(index.staleKeys(TableId.parse("shop:none"), "a", 20)).isEmpty();
        }
    }

    @Test
    void pruneRemovesOldTombstonesOnly() {
        try (VersionIndex index = VersionIndex.open(file())) {
            for (long i = 0; i < 1_000; i++) {
                index.record(ORDERS, Key.of(i), v(i + 1, "a"), i % 3 == 0);
            }
            index.commit();
            assertThat(index.pruneTombstones(System.currentTimeMillis() - 60_000)).as("none old enough").isZero();
            assertThat(index.pruneTombstones(System.currentTimeMillis() + 2_000)).isEqualTo(334);
            for (long i = 0; i < 1_000; i++) {
                assertThat(index.get(ORDERS, Key.of(i)).isPresent()).as("key %d", i).isEqualTo(i % 3 != 0);
            }
        }
        try (VersionIndex again = VersionIndex.open(file())) {
            assertThat(again.get(ORDERS, Key.of(0L))).as("the prune was committed").isEmpty();
            assertThat(again.get(ORDERS, Key.of(1L))).isPresent();
        }
    }

    @Test
    void compactionKeepsState() throws Exception {
        Random random = new Random(42);
        Map<Long, Version> expected = new HashMap<>();
        VersionIndex index = VersionIndex.open(file(), 8 * 1024);
        for (int batch = 0; batch < 300; batch++) {
            for (int i = 0; i < 40; i++) {
                long id = random.nextInt(3_000);
                Version ver = v(batch * 100L + i, "o" + random.nextInt(3));
                index.record(ORDERS, Key.of(id), ver, false);
                expected.put(id, ver);
            }
            index.counter("batch", batch);
            index.commit();
            if (batch % 100 == 50) {
                index.pruneTombstones(0);
            }
        }
        index.abandon();
        try (Stream<Path> files = Files.list(file())) {
            assertThat(files.map(p -> p.getFileName().toString()).filter(n -> !n.equals("lock")))
                    .as("one generation: its checkpoint and its log").hasSize(2)
                    .anyMatch(n -> n.startsWith("checkpoint-")).anyMatch(n -> n.startsWith("log-"));
        }
        try (VersionIndex again = VersionIndex.open(file(), 8 * 1024)) {
            assertThat(again.counter("batch")).isEqualTo(299);
            for (Map.Entry<Long, Version> e : expected.entrySet()) {
                assertThat(again.get(ORDERS, Key.of(e.getKey())).orElseThrow().version()).isEqualTo(e.getValue());
            }
            assertThat(again.get(ORDERS, Key.of(3_000L))).isEmpty();
        }
    }

    @Test
    void checkpointsWhileOthersRecordAndPruneKeepEveryUpdate() throws Exception {
        VersionIndex index = VersionIndex.open(file(), 4 * 1024);
        int threads = 3;
        List<Map<Long, Version>> expected = new ArrayList<>();
        List<Thread> running = new ArrayList<>();
        for (int t = 0; t < threads; t++) {
            Map<Long, Version> mine = new HashMap<>();
            expected.add(mine);
            long base = t * 1_000_000L;
            Thread th = new Thread(() -> {
                Random random = new Random(base);
                for (int batch = 0; batch < 400; batch++) {
                    for (int i = 0; i < 20; i++) {
                        long id = base + random.nextInt(20_000); // a growing table: growths move entries
                        Version ver = v(batch * 100L + i, "o" + base);
                        index.record(ORDERS, Key.of(id), ver, false);
                        mine.put(id, ver);
                    }
                    index.counter("batch" + base, batch);
                    index.commit();
                }
            });
            th.start();
            running.add(th);
        }
        while (running.stream().anyMatch(Thread::isAlive)) {
            index.record(USERS, Key.of(1L), v(System.nanoTime(), "p"), true);
            index.pruneTombstones(System.currentTimeMillis() + 2_000); // a removal moves entries during copies
        }
        for (Thread th : running) {
            th.join();
        }
        index.abandon();
        try (VersionIndex again = VersionIndex.open(file(), 4 * 1024)) {
            for (int t = 0; t < threads; t++) {
                assertThat(again.counter("batch" + t * 1_000_000L)).isEqualTo(399);
                for (Map.Entry<Long, Version> e : expected.get(t).entrySet()) {
                    assertThat(again.get(ORDERS, Key.of(e.getKey())).orElseThrow().version())
                            .as("key %d", e.getKey()).isEqualTo(e.getValue());
                }
            }
        }
    }

    @Test
    void hashCollisionsKeepKeysApart() {
        KeyBytes enc = new KeyBytes();
        Map<Integer, Long> seen = new HashMap<>();
        long a = -1;
        long b = -1;
        for (long i = 0; a < 0; i++) {
            int n = enc.encode(Key.of(i));
            Long other = seen.putIfAbsent(KeyTable.hash(0, enc.buffer(), n), i);
            if (other != null) {
                a = other;
                b = i;
            }
        }
        System.out.printf("hashCollisionsKeepKeysApart: keys %d and %d share hash%n", a, b);
        try (VersionIndex index = VersionIndex.open(file())) {
            index.record(ORDERS, Key.of(a), v(1, "a"), true);
            index.record(ORDERS, Key.of(b), v(2, "b"), false);
            assertThat(index.get(ORDERS, Key.of(a)).orElseThrow().version()).isEqualTo(v(1, "a"));
            assertThat(index.get(ORDERS, Key.of(b)).orElseThrow().version()).isEqualTo(v(2, "b"));
            assertThat(index.pruneTombstones(System.currentTimeMillis() + 2_000)).isEqualTo(1);
            assertThat(index.get(ORDERS, Key.of(a))).isEmpty();
            assertThat(index.get(ORDERS, Key.of(b)).orElseThrow().version()).isEqualTo(v(2, "b"));
        }
    }

    @Test
    void removalKeepsEveryOtherKeyReachable() {
        try (VersionIndex index = VersionIndex.open(file())) {
            for (long i = 0; i < 50_000; i++) {
                index.record(ORDERS, Key.of(i), v(i + 1, "a"), i % 2 == 0);
            }
            index.pruneTombstones(System.currentTimeMillis() + 2_000);
            for (long i = 1; i < 50_000; i += 2) {
                assertThat(index.get(ORDERS, Key.of(i))).as("key %d", i).isPresent();
            }
            for (long i = 0; i < 50_000; i += 2) {
                assertThat(index.get(ORDERS, Key.of(i))).as("key %d", i).isEmpty();
            }
        }
    }

    @Test
    void keysOfEveryTypeRoundTrip() {
        List<Key> all = List.of(Key.of("é ☃", -5L, 2.5), Key.of(Long.MIN_VALUE), Key.of(Long.MAX_VALUE),
                Key.of(new BigDecimal("1.10")), Key.of(true, false), Key.of(Bytes.of(new byte[] {0, -1, 7})),
                Key.of(Instant.parse("2026-12-01T10:00:00.123Z")), Key.of(LocalDate.of(2026, 12, 1)),
                Key.of(UUID.fromString("00000000-0000-0000-0000-00000000002a")), Key.of(new Json("{\"a\":1}")),
                Key.of(-0.0), Key.of(0.0), Key.of(""));
        try (VersionIndex index = VersionIndex.open(file())) {
            for (Key k : all) {
                index.record(ORDERS, k, v(1, "a"), false);
            }
            assertThat(index.staleKeys(ORDERS, "a", 2)).containsExactlyInAnyOrderElementsOf(all);
            for (Key k : all) {
                assertThat(index.get(ORDERS, k)).as("%s", k).isPresent();
                assertThat(VersionIndex.decodeKey(VersionIndex.encodeKey(k))).isEqualTo(k);
            }
        }
        assertThat(VersionIndex.encodeKey(Key.of("ab", 5L))).as("the text format of snapshot cursors")
                .isEqualTo("s2:abl1:5");
    }

    @Test
    void aSecondOpenIsRefused() {
        try (VersionIndex index = VersionIndex.open(file())) {
            assertThatThrownBy(() -> VersionIndex.open(file())).isInstanceOf(MqdbException.class)
                    .hasMessageContaining("in use");
        }
    }

    @Test
    void importsThePreviousVersionsMapDbIndexAndDeletesItsLeftovers() throws Exception {
        try (LegacyMapDbVersionIndex old = LegacyMapDbVersionIndex.open(file())) {
            old.record(ORDERS, Key.of("k", 1L), v(7, "a"), false);
            old.record(USERS, Key.of(2L), v(8, "b"), true);
            old.counter("seq\u0000shop.orders\u0000a", 41);
        }
        Files.writeString(dir.resolve("versions.db.unclean-1700000000000"), "an old rebuilt index");
        try (VersionIndex index = VersionIndex.open(file())) {
            assertThat(index.get(ORDERS, Key.of("k", 1L)).orElseThrow().version()).isEqualTo(v(7, "a"));
            assertThat(index.get(USERS, Key.of(2L)).orElseThrow().deleted()).isTrue();
            assertThat(index.counter("seq\u0000shop.orders\u0000a")).isEqualTo(41);
        }
        assertThat(unclean()).isEmpty();
        assertThat(Files.isDirectory(file())).isTrue();
        try (VersionIndex index = VersionIndex.open(file())) {
            assertThat(index.counter("seq\u0000shop.orders\u0000a")).as("imported once, kept").isEqualTo(41);
        }
    }

    @Test
    void anUncleanMapDbIndexIsDiscarded() throws Exception {
        try (LegacyMapDbVersionIndex old = LegacyMapDbVersionIndex.open(file())) {
            old.counter("seq", 41);
        }
        Files.writeString(dir.resolve("versions.db.open"), "open since a crash");
        try (VersionIndex index = VersionIndex.open(file())) {
            assertThat(index.counter("seq")).isZero();
        }
        try (Stream<Path> s = Files.list(dir)) {
            assertThat(s.map(p -> p.getFileName().toString())).containsExactly("versions.db");
        }
    }

    private List<Path> unclean() throws Exception {
        List<Path> out = new ArrayList<>();
        try (Stream<Path> s = Files.list(dir)) {
            s.filter(p -> p.getFileName().toString().contains(".unclean-")
                    || p.getFileName().toString().endsWith(".open")).forEach(out::add);
        }
        return out;
    }

    private Path onlyLog() throws Exception {
        try (Stream<Path> s = Files.list(file())) {
            return s.filter(p -> p.getFileName().toString().startsWith("log-")).findFirst().orElseThrow();
        }
    }
}
