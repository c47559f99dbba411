package io.mqdb.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.mqdb.config.ConfigLoader;
import io.mqdb.node.MqdbNode;
import io.mqdb.plugin.PluginRegistry;
import io.mqdb.testing.MosquittoServer;
import io.mqdb.transport.Transport;
import io.mqdb.transport.Transports;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import org.eclipse.paho.mqttv5.client.IMqttMessageListener;
import org.eclipse.paho.mqttv5.client.MqttClient;
import org.eclipse.paho.mqttv5.client.MqttConnectionOptions;
import org.eclipse.paho.mqttv5.client.persist.MemoryPersistence;
import org.eclipse.paho.mqttv5.common.MqttSubscription;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code broker.shuffle: true}: ten agent-like nodes with the same list of three unclustered Mosquittos spread over
 * them (the spread is printed); the broker with the most agents is killed ({@code kill -9}) and each of its agents
 * is connected to another broker within 2 × keep-alive, where its retained presence says it is online.
 */
class ShuffledFailoverIT {
    private static final int AGENTS = 10;
    private static final Duration KEEP_ALIVE = Duration.ofSeconds(2);

    @TempDir
    Path dir;
    private final List<AutoCloseable> open = new ArrayList<>();
    private final PluginRegistry plugins = PluginRegistry.load(Optional.empty(),
            ShuffledFailoverIT.class.getClassLoader());
    /** Per agent, the transport of its control session (the first the node opens). */
    private final Map<String, Transport> control = new LinkedHashMap<>();

    @AfterEach
    void stop() {
        ItResources.closeAll(open);
    }

    @Test
    void agentsSpreadOverTheBrokersAndThoseOfAKilledOneMoveWithinTwoKeepAlives() throws Exception {
        List<MosquittoServer> brokers = new ArrayList<>();
        for (int i = 0; i < 3; i++) {
            MosquittoServer m = MosquittoServer.startKillable();
            open.add(m);
            brokers.add(m);
        }
        String uris = String.join(", ", brokers.stream().map(m -> "\"" + m.uri() + "\"").toList());
        for (int i = 1; i <= AGENTS; i++) {
            String name = "agent" + i;
            Path file = dir.resolve(name + ".yaml");
            Files.writeString(file, """
                    node: { name: %s, data-dir: %s-data }
                    broker: { uris: [ %s ], shuffle: true, keep-alive: %ds }
                    stores: { local: { type: mapdb } }
                    channels: [ { name: shop:items, store: local, subscribe: true } ]
                    """.formatted(name, name, uris, KEEP_ALIVE.toSeconds()));
            List<Transport> opened = new CopyOnWriteArrayList<>();
            MqdbNode node = MqdbNode.start(ConfigLoader.load(file), plugins, options -> {
                Transport t = Transports.open(options);
                opened.add(t);
                return t;
            });
            open.add(0, node);
            control.put(name, opened.get(0));
        }

        Map<String, List<String>> spread = spread(brokers);
        System.out.println("ShuffledFailoverIT: spread of " + AGENTS + " agents over 3 brokers: " + spread);
        // all ten on one broker has a probability of 3 / 3^10 (1 in 19,683) with honest shuffles
        assertThat(spread.values().stream().filter(l -> !l.isEmpty()).count()).isGreaterThanOrEqualTo(2);

        MosquittoServer victim = brokers.stream().max(java.util.Comparator.comparingInt(
                m -> spread.get(m.uri()).size())).orElseThrow();
        List<String> moving = spread.get(victim.uri());
        List<MosquittoServer> others = brokers.stream().filter(m -> m != victim).toList();
        Map<String, Map<String, String>> presence = new ConcurrentHashMap<>();
        List<MqttClient> watchers = new ArrayList<>();
        for (MosquittoServer m : others) {
            watchers.add(watch(m, presence.computeIfAbsent(m.uri(), u -> new ConcurrentHashMap<>())));
        }
        try {
            long killed = System.nanoTime();
            victim.kill();
            await().atMost(KEEP_ALIVE.multipliedBy(2)).pollInterval(Duration.ofMillis(50)).until(() -> moving
                    .stream().allMatch(a -> control.get(a).isConnected()
                            && !control.get(a).currentBroker().equals(victim.uri())));
            double movedMs = (System.nanoTime() - killed) / 1e6;
            Map<String, List<String>> after = spread(others);
            System.out.printf("ShuffledFailoverIT: %s killed; its %d agents %s connected elsewhere within %.0f ms "
                    + "(keep-alive %d s); spread now %s%n", victim.uri(), moving.size(), moving, movedMs,
                    KEEP_ALIVE.toSeconds(), after);
            await().atMost(Duration.ofSeconds(10)).untilAsserted(() -> {
                for (String agent : moving) {
                    String on = control.get(agent).currentBroker();
                    assertThat(presence.get(on).get("mqdb/mqdb/nodes/" + agent + "/presence"))
                            .as("presence of %s on %s", agent, on).contains("online");
                }
            });
        } finally {
            for (MqttClient w : watchers) {
                w.disconnect();
                w.close();
            }
        }
    }

    /** @return per broker URI, the agents whose control session is connected to it now */
    private Map<String, List<String>> spread(List<MosquittoServer> brokers) {
        Map<String, List<String>> out = new TreeMap<>();
        for (MosquittoServer m : brokers) {
            out.put(m.uri(), new ArrayList<>());
        }
        control.forEach((agent, t) -> {
            if (t.isConnected()) {
                out.computeIfAbsent(t.currentBroker(), u -> new ArrayList<>()).add(agent);
            }
        });
        return out;
    }

    /** Keeps the last presence message of every node seen on a broker, retained ones included. */
    private static MqttClient watch(MosquittoServer m, Map<String, String> last) throws Exception {
        MqttClient c = new MqttClient(m.uri(), "watch-" + m.port(), new MemoryPersistence());
        c.connect(new MqttConnectionOptions());
        IMqttMessageListener keep = (topic, msg) -> last.put(topic,
                new String(msg.getPayload(), StandardCharsets.UTF_8));
        c.subscribe(new MqttSubscription[] {new MqttSubscription("mqdb/mqdb/nodes/+/presence", 1)},
                new IMqttMessageListener[] {keep});
        return c;
    }
}
