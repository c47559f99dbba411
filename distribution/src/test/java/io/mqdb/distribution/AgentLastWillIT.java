package io.mqdb.distribution;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.mqdb.testing.MosquittoServer;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import org.eclipse.paho.mqttv5.client.IMqttMessageListener;
import org.eclipse.paho.mqttv5.client.MqttClient;
import org.eclipse.paho.mqttv5.client.MqttConnectionOptions;
import org.eclipse.paho.mqttv5.client.persist.MemoryPersistence;
import org.eclipse.paho.mqttv5.common.MqttSubscription;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Presence by last will across unclustered brokers (issue 17, the agents of the ping-swarm design): three agents run
 * as {@code bin/mqdb run} processes from the tarball with the same shuffled list of three stock Mosquittos; a watcher
 * on every broker (as an indexer connected to all of them would) keeps each agent's last presence. One agent is
 * killed with {@code kill -9}: the broker it was on publishes its last will, and the watcher there sees it offline.
 * Started again, its retained presence says online on the broker it now uses (which may be another one: the broker
 * it left keeps the retained will, so an indexer takes the newest {@code time} of all brokers). Then another agent's
 * broker goes silent (SIGSTOP: its sockets open, no answer to pings): the agent notices on its keep-alive and moves
 * to the next broker of its list at once (not the silent one again, which would hold it a whole connect timeout),
 * within 5 × keep-alive; thawed, the silent broker publishes that agent's last will.
 *
 * <p>What this cannot show: a broker that is killed publishes no wills, so the agents of a killed broker are never
 * marked offline there; they move and say online elsewhere ({@code ShuffledFailoverIT}).
 */
class AgentLastWillIT {
    private static final int AGENTS = 3;
    private static final Duration KEEP_ALIVE = Duration.ofSeconds(2);
    private static final String PRESENCE = "mqdb/mqdb/nodes/%s/presence";

    @TempDir
    Path dir;
    private final List<MosquittoServer> brokers = new ArrayList<>();
    private final Map<String, Process> agents = new LinkedHashMap<>();
    private final List<MqttClient> watchers = new ArrayList<>();
    /** Per broker URI, per presence topic, the last payload seen there (retained ones included). */
    private final Map<String, Map<String, String>> seen = new ConcurrentHashMap<>();

    @AfterEach
    void stopAll() throws Exception {
        for (Process p : agents.values()) {
            p.destroy();
            if (!p.waitFor(15, TimeUnit.SECONDS)) {
                p.destroyForcibly();
            }
        }
        for (MqttClient w : watchers) {
            if (w.isConnected()) {
                w.disconnect();
            }
            w.close();
        }
        for (MosquittoServer m : brokers) {
            m.close();
        }
    }

    @Test
    void aKilledAgentIsMarkedOfflineByItsLastWillAndOnlineAgainWhenItReturns() throws Exception {
        Path home = Tarball.unpacked(dir.resolve("dist"));
        for (int i = 0; i < 3; i++) {
            MosquittoServer m = MosquittoServer.startKillable();
            brokers.add(m);
            seen.put(m.uri(), new ConcurrentHashMap<>());
            watchers.add(watch(m));
        }
        String uris = String.join(", ", brokers.stream().map(m -> "\"" + m.uri() + "\"").toList());
        for (int i = 1; i <= AGENTS; i++) {
            String name = "agent" + i;
            Files.writeString(dir.resolve(name + ".yaml"), """
                    node: { name: %s, data-dir: %s-data }
                    broker: { uris: [ %s ], shuffle: true, keep-alive: %ds }
                    stores: { local: { type: mapdb } }
                    channels: [ { name: ping:stats, store: local, subscribe: true } ]
                    """.formatted(name, name, uris, KEEP_ALIVE.toSeconds()));
            agents.put(name, start(home, name));
        }
        for (String name : agents.keySet()) {
            await().atMost(Duration.ofSeconds(90)).until(() -> brokerSaying(name, "online").isPresent());
        }
        Map<String, String> spread = new LinkedHashMap<>();
        agents.keySet().forEach(a -> spread.put(a, brokerSaying(a, "online").orElseThrow()));
        System.out.println("AgentLastWillIT: agents on brokers " + spread);

        String victim = "agent1";
        String itsBroker = spread.get(victim);
        long killed = System.nanoTime();
        agents.get(victim).destroyForcibly(); // SIGKILL: no DISCONNECT, the socket just closes
        assertThat(agents.get(victim).waitFor(15, TimeUnit.SECONDS)).isTrue();
        await().atMost(KEEP_ALIVE.multipliedBy(3)).pollInterval(Duration.ofMillis(20))
                .until(() -> state(itsBroker, victim).equals("offline"));
        double offlineMs = (System.nanoTime() - killed) / 1e6;
        for (String other : agents.keySet()) {
            if (!other.equals(victim)) {
                assertThat(state(spread.get(other), other)).as("%s is still online", other).isEqualTo("online");
            }
        }

        agents.put(victim, start(home, victim));
        long restarted = System.nanoTime();
        await().atMost(Duration.ofSeconds(90)).pollInterval(Duration.ofMillis(50))
                .until(() -> brokerSaying(victim, "online").isPresent());
        double onlineMs = (System.nanoTime() - restarted) / 1e6;
        String nowOn = brokerSaying(victim, "online").orElseThrow();
        System.out.printf("AgentLastWillIT: %s killed with kill -9 on %s; its last will said offline there after %.0f ms"
                + " (keep-alive %d s); started again, online on %s after %.0f ms%s%n", victim, itsBroker, offlineMs,
                KEEP_ALIVE.toSeconds(), nowOn, onlineMs, nowOn.equals(itsBroker) ? ""
                        : " (the broker it left keeps its retained offline)");
        if (!nowOn.equals(itsBroker)) {
            assertThat(state(itsBroker, victim)).isEqualTo("offline");
        }

        // a silent broker: frozen (SIGSTOP), its sockets open and no answer to pings; its agents must move on their
        // own keep-alive, then, thawed, it notices they left and publishes their last wills
        String quiet = "agent2";
        String quietOn = brokerSaying(quiet, "online").orElseThrow();
        MosquittoServer frozen = brokers.stream().filter(m -> m.uri().equals(quietOn)).findFirst().orElseThrow();
        long frozenAt = System.nanoTime();
        frozen.freeze();
        try {
            await().atMost(KEEP_ALIVE.multipliedBy(5)).pollInterval(Duration.ofMillis(50)).until(() -> brokers
                    .stream().map(MosquittoServer::uri).filter(u -> !u.equals(quietOn))
                    .anyMatch(u -> state(u, quiet).equals("online") && seen.get(u).containsKey(PRESENCE.formatted(
                            quiet)) && !u.equals(quietOn)));
        } finally {
            frozen.thaw();
        }
        double movedMs = (System.nanoTime() - frozenAt) / 1e6;
        await().atMost(KEEP_ALIVE.multipliedBy(5)).pollInterval(Duration.ofMillis(50))
                .until(() -> state(quietOn, quiet).equals("offline"));
        System.out.printf("AgentLastWillIT: %s's broker %s frozen (SIGSTOP): %s online on another broker after %.0f ms"
                + " (keep-alive %d s); thawed, that broker published its last will%n", quiet, quietOn, quiet,
                movedMs, KEEP_ALIVE.toSeconds());
        assertThat(Files.readString(dir.resolve(quiet + ".log"))).as("the move is logged with its cause")
                .contains("got no answer to its keep-alive ping; trying the next broker first")
                .containsPattern("moved from " + quietOn + " after \\d+ ms disconnected \\(lost: .*PINGRESP");
    }

    private Process start(Path home, String name) throws IOException {
        Path log = dir.resolve(name + ".log");
        ProcessBuilder pb = new ProcessBuilder(home.resolve("bin/mqdb").toString(), "run", "--config",
                dir.resolve(name + ".yaml").toString())
                .redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile()));
        pb.environment().put("JAVA_OPTS", "-Xmx128m");
        return pb.start();
    }

    /** @return the broker where the agent's last presence is {@code state}, if one */
    private Optional<String> brokerSaying(String agent, String state) {
        return brokers.stream().map(MosquittoServer::uri).filter(u -> state(u, agent).equals(state)).findFirst();
    }

    /** @return the agent's last presence state seen on a broker: online, offline or "" */
    private String state(String broker, String agent) {
        String payload = seen.get(broker).getOrDefault(PRESENCE.formatted(agent), "");
        if (payload.contains("\"state\":\"online\"")) {
            return "online";
        }
        return payload.contains("\"state\":\"offline\"") ? "offline" : "";
    }

    /** Keeps the last presence message of every node seen on a broker, retained ones included. */
    private MqttClient watch(MosquittoServer m) throws Exception {
        MqttClient c = new MqttClient(m.uri(), "watch-" + m.port(), new MemoryPersistence());
        c.connect(new MqttConnectionOptions());
        Map<String, String> last = seen.get(m.uri());
        IMqttMessageListener keep = (topic, msg) -> last.put(topic,
                new String(msg.getPayload(), StandardCharsets.UTF_8));
        c.subscribe(new MqttSubscription[] {new MqttSubscription(PRESENCE.formatted("+"), 1)},
                new IMqttMessageListener[] {keep});
        return c;
    }
}
