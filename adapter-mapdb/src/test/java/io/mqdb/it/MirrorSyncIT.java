package io.mqdb.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.mqdb.config.ConfigLoader;
import io.mqdb.node.LocalTable;
import io.mqdb.node.MqdbNode;
import io.mqdb.plugin.PluginRegistry;
import io.mqdb.spi.Column;
import io.mqdb.spi.ColumnType;
import io.mqdb.spi.Key;
import io.mqdb.spi.Row;
import io.mqdb.spi.TableId;
import io.mqdb.spi.TableSchema;
import io.mqdb.testing.MosquittoServer;
import io.mqdb.transport.MirrorTransport;
import io.mqdb.transport.Transport;
import io.mqdb.transport.Transports;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Random;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code broker.mode: mirror} over two unclustered Mosquitto servers: a publisher and two subscribers, each connected
 * to both brokers; 50,000 changes (upserts and deletes over 5,000 keys) are written while each broker in turn is
 * killed ({@code kill -9}) for 10 s and started again on the same port (its persistence file saved every second).
 * Each target ends equal to the source row by row, each event applied once (the copies via the other broker counted
 * as duplicates skipped), and the counters are printed.
 */
class MirrorSyncIT {
    private static final TableSchema SCHEMA = new TableSchema(TableId.parse("shop:items"), List.of(
            new Column("id", ColumnType.INT64, false), Column.of("name", ColumnType.STRING),
            Column.of("n", ColumnType.INT64)), List.of("id"));
    private static final int CHANGES = 50_000;
    private static final int KEYS = 5_000;
    /** How long each broker stays dead: the fault the issue asks for. */
    private static final Duration DOWN = Duration.ofSeconds(10);

    @TempDir
    Path dir;
    private final List<AutoCloseable> open = new ArrayList<>();
    private final PluginRegistry plugins = PluginRegistry.load(Optional.empty(), MirrorSyncIT.class.getClassLoader());
    /** Per node, the transports it opened (its control session and one per subscribed channel). */
    private final Map<String, List<Transport>> transports = new LinkedHashMap<>();

    @AfterEach
    void stop() {
        ItResources.closeAll(open);
    }

    private MqdbNode start(String name, String yaml) throws Exception {
        Path file = dir.resolve(name + ".yaml");
        Files.writeString(file, yaml);
        List<Transport> mine = new CopyOnWriteArrayList<>();
        transports.put(name, mine);
        MqdbNode node = MqdbNode.start(ConfigLoader.load(file), plugins, options -> {
            Transport t = Transports.open(options);
            mine.add(t);
            return t;
        });
        open.add(0, node);
        return node;
    }

    @Test
    void targetsEqualTheSourceWhileEachBrokerIsKilledInTurn() throws Exception {
        MosquittoServer one = MosquittoServer.startKillable();
        open.add(one);
        MosquittoServer two = MosquittoServer.startKillable();
        open.add(0, two);
        String yaml = """
                node: { name: %s, data-dir: %s-data }
                broker: { uris: [ "%s", "%s" ], mode: mirror }
                stores: { local: { type: mapdb } }
                channels: [ { name: shop:items, store: local, %s: true } ]
                """;
        MqdbNode a = start("a", yaml.formatted("a", "a", one.uri(), two.uri(), "publish"));
        MqdbNode b = start("b", yaml.formatted("b", "b", one.uri(), two.uri(), "subscribe"));
        MqdbNode c = start("c", yaml.formatted("c", "c", one.uri(), two.uri(), "subscribe"));
        for (String n : List.of("a", "b", "c")) {
            awaitBothConnected(n);
            assertThat(transports.get(n)).allMatch(t -> t instanceof MirrorTransport);
        }
        LocalTable src = a.table("shop:items");
        src.ensure(SCHEMA);

        long seed = System.nanoTime();
        System.out.println("MirrorSyncIT seed " + seed);
        AtomicInteger written = new AtomicInteger();
        AtomicReference<Throwable> writerFailure = new AtomicReference<>();
        Thread writer = new Thread(() -> {
            try {
                write(src, new Random(seed), written);
            } catch (Throwable e) {
                writerFailure.set(e);
            }
        }, "mirror-writer");
        long started = System.nanoTime();
        writer.start();

        List<String> schedule = new ArrayList<>();
        // broker one dies after 5,000 changes, broker two after 25,000: both while the writes go on
        Map<MosquittoServer, Integer> killAt = new LinkedHashMap<>();
        killAt.put(one, 5_000);
        killAt.put(two, 25_000);
        for (Map.Entry<MosquittoServer, Integer> kill : killAt.entrySet()) {
            MosquittoServer victim = kill.getKey();
            await().atMost(Duration.ofSeconds(60)).until(() -> written.get() >= kill.getValue());
            victim.kill();
            schedule.add(String.format("%s killed at %.1f s (%d changes written)", victim.uri(), seconds(started),
                    written.get()));
            Thread.sleep(DOWN.toMillis()); // the fault's own duration
            victim.startAgain();
            schedule.add(String.format("%s started again at %.1f s (%d changes written)", victim.uri(),
                    seconds(started), written.get()));
            for (String n : List.of("a", "b", "c")) {
                awaitBothConnected(n);
            }
            schedule.add(String.format("every node back on both at %.1f s", seconds(started)));
        }
        writer.join(Duration.ofSeconds(60).toMillis());
        assertThat(writer.isAlive()).as("the writer finished").isFalse();
        assertThat(writerFailure.get()).as("the writer's failure").isNull();
        double writtenAt = seconds(started);

        Map<Key, Row> expected = all(src);
        for (MqdbNode target : List.of(b, c)) {
            LocalTable dst = target.table("shop:items");
            await().atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofMillis(500))
                    .untilAsserted(() -> assertThat(all(dst)).isEqualTo(expected));
        }
        double convergedAt = seconds(started);

        schedule.forEach(s -> System.out.println("MirrorSyncIT: " + s));
        System.out.printf("MirrorSyncIT: %d changes written in %.1f s; both targets equal to the source (%d rows) "
                + "at %.1f s%n", written.get(), writtenAt, expected.size(), convergedAt);
        for (String n : List.of("a", "b", "c")) {
            MqdbNode node = n.equals("a") ? a : n.equals("b") ? b : c;
            System.out.printf("MirrorSyncIT: node %s: published=%d applied=%d duplicates skipped=%d older skipped=%d"
                    + " resend requests=%d resent=%d dead letters=%d; per broker %s%n", n,
                    node.metrics().published.sum(), node.metrics().applied.sum(),
                    node.metrics().skippedDuplicates.sum(), node.metrics().skippedOlder.sum(),
                    node.metrics().resendRequests.sum(), node.metrics().resent.sum(),
                    node.metrics().deadLetters.sum(), perBroker(n));
        }
        for (MqdbNode target : List.of(b, c)) {
            assertThat(target.metrics().deadLetters.sum()).isZero();
            assertThat(target.metrics().skippedDuplicates.sum())
                    .as("the copies of the other broker were skipped, not applied again").isPositive();
            // every event the publisher delivered is applied (or found older) exactly once, whatever the number of
            // copies that came through the two brokers, redeliveries and resends
            assertThat(target.metrics().applied.sum() + target.metrics().skippedOlder.sum())
                    .as("events applied once each").isEqualTo(a.metrics().published.sum());
        }
        for (String n : List.of("b", "c")) {
            Map<String, long[]> counts = perBrokerCounts(n);
            assertThat(counts.values()).as("node %s received through both brokers", n)
                    .allSatisfy(x -> assertThat(x[0]).isPositive());
        }
        assertThat(schedule.get(3)).as("the second kill came before the last change was written")
                .doesNotContain("(" + CHANGES + " changes written)");
    }

    /**
     * Random upserts (four in five) and deletes over {@link #KEYS} keys, 50 rows a commit, at most 1,500 changes a
     * second (about 1,100 on 2 shared cores), so the writes go on through both kills.
     */
    private static void write(LocalTable t, Random random, AtomicInteger written) throws InterruptedException {
        long begin = System.nanoTime();
        while (written.get() < CHANGES) {
            Set<Long> ids = new TreeSet<>();
            while (ids.size() < Math.min(50, CHANGES - written.get())) {
                ids.add((long) random.nextInt(KEYS));
            }
            if (random.nextInt(5) == 0) {
                t.delete(ids.stream().map(Key::of).toList());
            } else {
                List<Row> rows = new ArrayList<>();
                for (long id : ids) {
                    rows.add(Row.of(Map.of("id", id, "name", "item " + id, "n", (long) random.nextInt())));
                }
                t.upsert(rows);
            }
            int done = written.addAndGet(ids.size());
            long due = begin + done * 1_000_000_000L / 1_500;
            long early = due - System.nanoTime();
            if (early > 0) {
                Thread.sleep(early / 1_000_000, (int) (early % 1_000_000)); // the pace of the writes, not a wait
            }
        }
    }

    private void awaitBothConnected(String node) {
        await().atMost(Duration.ofSeconds(30)).until(() -> transports.get(node).stream()
                .allMatch(t -> ((MirrorTransport) t).counters().stream()
                        .allMatch(MirrorTransport.BrokerCounters::connected)));
    }

    /** @return per broker URI: messages received, publishes acknowledged, publishes failed, over the node's sessions */
    private Map<String, long[]> perBrokerCounts(String node) {
        Map<String, long[]> out = new TreeMap<>();
        for (Transport t : transports.get(node)) {
            for (MirrorTransport.BrokerCounters bc : ((MirrorTransport) t).counters()) {
                long[] x = out.computeIfAbsent(bc.uri(), u -> new long[3]);
                x[0] += bc.received();
                x[1] += bc.acknowledged();
                x[2] += bc.failed();
            }
        }
        return out;
    }

    private String perBroker(String node) {
        StringBuilder sb = new StringBuilder();
        perBrokerCounts(node).forEach((uri, x) -> sb.append(sb.length() == 0 ? "" : "; ").append(uri)
                .append(": received ").append(x[0]).append(", published ").append(x[1]).append(" (failed ")
                .append(x[2]).append(')'));
        return sb.toString();
    }

    private static double seconds(long since) {
        return (System.nanoTime() - since) / 1e9;
    }

    private static Map<Key, Row> all(LocalTable t) {
        return ItResources.rowsById(t);
    }
}
