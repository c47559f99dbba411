package io.mqdb.broker;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.mqdb.config.EmbeddedBrokerConfig;
import io.mqdb.config.EmbeddedBrokerConfig.Persistence;
import io.mqdb.testing.ServerFixture;
import io.mqdb.transport.MessageHandler;
import io.mqdb.transport.PahoTransport;
import io.mqdb.transport.TransportOptions;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The embedded HiveMQ: other MQTT clients (the mosquitto CLI) get in; in file mode persistent sessions survive a
 * restart, in memory mode (the default) they do not; a full per-client queue drops the newest messages.
 */
class HiveMqEmbeddedBrokerIT {
    @TempDir
    Path dir;

    @Test
    void mosquittoCliClientsAndPahoTalkThroughIt() throws Exception {
        int port = ServerFixture.freePort();
        try (HiveMqEmbeddedBroker broker = new HiveMqEmbeddedBroker("127.0.0.1", port, dir, 10_000);
                PahoTransport paho = new PahoTransport(TransportOptions.of(List.of("tcp://127.0.0.1:" + port),
                        "cli-paho"))) {
            broker.start();
            List<String> got = new CopyOnWriteArrayList<>();
            paho.subscribe("cli/in", ackAndKeep(got));
            paho.start();

            Process pub = new ProcessBuilder("mosquitto_pub", "-V", "mqttv5", "-h", "127.0.0.1", "-p",
                    Integer.toString(port), "-q", "1", "-t", "cli/in", "-m", "from-cli").inheritIO().start();
            assertThat(pub.waitFor(20, TimeUnit.SECONDS)).isTrue();
            assertThat(pub.exitValue()).isZero();
            await().until(() -> got.contains("from-cli"));

            paho.publish("cli/out", "from-paho".getBytes(StandardCharsets.UTF_8), true).get(5, TimeUnit.SECONDS);
            Process sub = new ProcessBuilder("mosquitto_sub", "-V", "mqttv5", "-h", "127.0.0.1", "-p",
                    Integer.toString(port), "-q", "1", "-t", "cli/out", "-C", "1", "-W", "20")
                    .redirectErrorStream(true).start();
            assertThat(sub.waitFor(30, TimeUnit.SECONDS)).isTrue();
            assertThat(new String(sub.getInputStream().readAllBytes(), StandardCharsets.UTF_8).trim())
                    .isEqualTo("from-paho");
        }
    }

    @Test
    void inFileModePersistentSessionAndQueuedMessagesSurviveARestart() throws Exception {
        int port = ServerFixture.freePort();
        String uri = "tcp://127.0.0.1:" + port;
        int queued = 200;
        EmbeddedBrokerConfig config = EmbeddedBrokerConfig.of("127.0.0.1", port, dir).withPersistence(Persistence.FILE)
                .withMaxQueuedMessages(10_000);
        try (HiveMqEmbeddedBroker broker = new HiveMqEmbeddedBroker(config)) {
            broker.start();
            try (PahoTransport sub = new PahoTransport(TransportOptions.of(List.of(uri), "ps-sub"));
                    PahoTransport pub = new PahoTransport(TransportOptions.of(List.of(uri), "ps-pub"))) {
                sub.subscribe("ps/#", m -> { });
                sub.start();
                sub.close(); // the session stays, with its subscription
                pub.start();
                for (int i = 0; i < queued; i++) {
                    pub.publish("ps/" + i, Integer.toString(i).getBytes(StandardCharsets.UTF_8), false)
                            .get(5, TimeUnit.SECONDS);
                }
            }
        }
        try (HiveMqEmbeddedBroker again = new HiveMqEmbeddedBroker(config);
                PahoTransport sub = new PahoTransport(TransportOptions.of(List.of(uri), "ps-sub"))) {
            again.start();
            List<String> got = new CopyOnWriteArrayList<>();
            sub.subscribe("ps/#", ackAndKeep(got));
            sub.start();
            await().atMost(Duration.ofSeconds(30)).until(() -> got.size() >= queued);
            assertThat(got).hasSize(queued).startsWith("0", "1", "2").endsWith(Integer.toString(queued - 1));
        }
    }

    @Test
    void inMemoryModeARestartForgetsSessionsAndQueues() throws Exception {
        int port = ServerFixture.freePort();
        String uri = "tcp://127.0.0.1:" + port;
        EmbeddedBrokerConfig config = EmbeddedBrokerConfig.of("127.0.0.1", port, dir);
        try (HiveMqEmbeddedBroker broker = new HiveMqEmbeddedBroker(config)) {
            broker.start();
            queueWhileAway(uri, "mem", 20);
        }
        try (HiveMqEmbeddedBroker again = new HiveMqEmbeddedBroker(config);
                PahoTransport sub = new PahoTransport(TransportOptions.of(List.of(uri), "mem-sub"))) {
            again.start();
            List<String> got = new CopyOnWriteArrayList<>();
            sub.subscribe("mem/#", ackAndKeep(got));
            sub.start();
            try (PahoTransport pub = new PahoTransport(TransportOptions.of(List.of(uri), "mem-pub"))) {
                pub.start();
                pub.publish("mem/after", "after".getBytes(StandardCharsets.UTF_8), false).get(5, TimeUnit.SECONDS);
            }
            // the marker published after the restart arrives; nothing queued before it survived
            await().atMost(Duration.ofSeconds(30)).until(() -> got.contains("after"));
            assertThat(got).containsExactly("after");
        }
        assertThat(dir.resolve("data")).isDirectory();
    }

    @Test
    void aFullQueueDropsTheNewestMessagesAndKeepsTheOldest() throws Exception {
        int port = ServerFixture.freePort();
        String uri = "tcp://127.0.0.1:" + port;
        int bound = 25;
        try (HiveMqEmbeddedBroker broker = new HiveMqEmbeddedBroker(EmbeddedBrokerConfig.of("127.0.0.1", port, dir)
                .withMaxQueuedMessages(bound))) {
            broker.start();
            queueWhileAway(uri, "full", 100);
            List<String> got = new CopyOnWriteArrayList<>();
            try (PahoTransport sub = new PahoTransport(TransportOptions.of(List.of(uri), "full-sub"))) {
                sub.subscribe("full/#", ackAndKeep(got));
                sub.start();
                await().atMost(Duration.ofSeconds(30)).until(() -> got.size() >= bound);
                try (PahoTransport pub = new PahoTransport(TransportOptions.of(List.of(uri), "full-pub2"))) {
                    pub.start();
                    pub.publish("full/marker", "marker".getBytes(StandardCharsets.UTF_8), false)
                            .get(5, TimeUnit.SECONDS);
                }
                await().atMost(Duration.ofSeconds(30)).until(() -> got.contains("marker"));
            }
            // 0..24 queued, 25..99 dropped by the broker: the gap mqdb's subscribers detect and have resent
            List<String> expected = new ArrayList<>();
            for (int i = 0; i < bound; i++) {
                expected.add(Integer.toString(i));
            }
            expected.add("marker");
            assertThat(got).containsExactlyElementsOf(expected);
        }
    }

    /** Subscribes {@code <prefix>-sub} to {@code <prefix>/#}, leaves, and publishes {@code n} messages to it. */
    private static void queueWhileAway(String uri, String prefix, int n) throws Exception {
        try (PahoTransport sub = new PahoTransport(TransportOptions.of(List.of(uri), prefix + "-sub"));
                PahoTransport pub = new PahoTransport(TransportOptions.of(List.of(uri), prefix + "-pub"))) {
            sub.subscribe(prefix + "/#", m -> { });
            sub.start();
            sub.close(); // the session stays, with its subscription
            pub.start();
            for (int i = 0; i < n; i++) {
                pub.publish(prefix + "/" + i, Integer.toString(i).getBytes(StandardCharsets.UTF_8), false)
                        .get(5, TimeUnit.SECONDS);
            }
        }
    }

    private static MessageHandler ackAndKeep(List<String> into) {
        return m -> {
            into.add(new String(m.payload(), StandardCharsets.UTF_8));
            m.ack();
        };
    }
}
