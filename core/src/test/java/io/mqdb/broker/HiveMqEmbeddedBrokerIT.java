package io.mqdb.broker;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.mqdb.testing.ServerFixture;
import io.mqdb.transport.MessageHandler;
import io.mqdb.transport.PahoTransport;
import io.mqdb.transport.TransportOptions;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The embedded HiveMQ: other MQTT clients (the mosquitto CLI) get in, persistent sessions survive a restart. */
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
    void persistentSessionAndQueuedMessagesSurviveARestart() throws Exception {
        int port = ServerFixture.freePort();
        String uri = "tcp://127.0.0.1:" + port;
        int queued = 200;
        try (HiveMqEmbeddedBroker broker = new HiveMqEmbeddedBroker("127.0.0.1", port, dir, 10_000)) {
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
        try (HiveMqEmbeddedBroker again = new HiveMqEmbeddedBroker("127.0.0.1", port, dir, 10_000);
                PahoTransport sub = new PahoTransport(TransportOptions.of(List.of(uri), "ps-sub"))) {
            again.start();
            List<String> got = new CopyOnWriteArrayList<>();
            sub.subscribe("ps/#", ackAndKeep(got));
            sub.start();
            await().atMost(Duration.ofSeconds(30)).until(() -> got.size() >= queued);
            assertThat(got).hasSize(queued).startsWith("0", "1", "2").endsWith(Integer.toString(queued - 1));
        }
    }

    private static MessageHandler ackAndKeep(List<String> into) {
        return m -> {
            into.add(new String(m.payload(), StandardCharsets.UTF_8));
            m.ack();
        };
    }
}
