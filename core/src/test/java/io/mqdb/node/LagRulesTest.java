package io.mqdb.node;

import static io.mqdb.testkit.Items.item;
import static io.mqdb.testkit.Items.names;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.mqdb.node.catchup.Control;
import io.mqdb.observe.Lag;
import io.mqdb.spi.TableId;
import io.mqdb.testing.ServerFixture;
import io.mqdb.testkit.InMemoryBroker;
import io.mqdb.testkit.Items;
import io.mqdb.testkit.TestCluster;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The lag rules: a subscriber whose store is down falls behind by the events published meanwhile, shows it in its
 * metrics, its readiness and its retained applied position, and is back to 0 once the store returns; a node that no
 * longer subscribes a channel clears its applied position; the HTTP listener asks for the token.
 */
class LagRulesTest {
    private static final Duration WAIT = Duration.ofSeconds(15);
    private static final String APPLIED_TOPIC = "mqdb/" + TestCluster.CLUSTER + "/applied/shop/items/b";
    private static final Pattern LAG_EVENTS = Pattern.compile(
            "(?m)^mqdb_lag_events\\{channel=\"shop:items\",node=\"b\"} ([0-9.E]+)$");

    @TempDir
    Path dir;
    private TestCluster cluster;
    private InMemoryBroker broker;
    private final HttpClient http = HttpClient.newHttpClient();
    private final int port = ServerFixture.freePort();

    @BeforeEach
    void start() {
        cluster = new TestCluster(dir);
        broker = cluster.broker();
        cluster.store("a").open().ensureTable(Items.SCHEMA);
    }

    @AfterEach
    void stop() {
        cluster.close();
    }

    private MqdbNode startB(String httpSettings) throws InterruptedException {
        return cluster.start("b", "http: { port: " + port + httpSettings + " }",
                "[ { name: shop:items, store: local, subscribe: true } ]");
    }

    @Test
    void aStoreOutageShowsAsLagEverywhereAndTheLagFallsBackToZero() throws Exception {
        MqdbNode a = cluster.start("a", "[ { name: shop:items, store: local, publish: true } ]");
        MqdbNode b = startB(", ready-max-lag: 5");
        a.table(Items.CHANNEL).upsert(item(1, "before"));
        await().atMost(WAIT).until(() -> names(cluster.store("b")).containsKey(1L));
        await().atMost(WAIT).until(() -> lag(b).equals(Lag.NONE) && get("/ready").statusCode() == 200);

        cluster.store("b").outage(true);
        for (long id = 2; id <= 21; id++) {
            a.table(Items.CHANNEL).upsert(item(id, "during"));
        }
        await().atMost(WAIT).until(() -> lag(b).events() == 20);
        await().atMost(WAIT).until(() -> lag(b).seconds() > 0.5);
        await().atMost(WAIT).until(() -> metricsLag() == 20);
        HttpResponse<String> ready = get("/ready");
        assertThat(ready.statusCode()).isEqualTo(503);
        assertThat(ready.body()).contains("channel shop:items is 20 events behind (ready-max-lag 5)");
        await().atMost(WAIT).until(() -> applied().map(Control.Applied::eventsBehind).orElse(-1L) == 20);
        Control.Applied held = applied().orElseThrow();
        assertThat(held.oldestUnappliedMillis()).as("the batch held while the store is down").isPositive();
        System.out.printf("LagRulesTest: during the outage: %s, /metrics lag %d, applied position %s%n", lag(b),
                metricsLag(), new String(held.toJson()));

        cluster.store("b").outage(false);
        await().atMost(WAIT).until(() -> names(cluster.store("b")).size() == 21);
        await().atMost(WAIT).until(() -> lag(b).equals(Lag.NONE));
        await().atMost(WAIT).until(() -> metricsLag() == 0 && get("/ready").statusCode() == 200);
        await().atMost(WAIT).until(() -> applied().map(p -> p.eventsBehind() == 0 && p.oldestUnappliedMillis() == 0)
                .orElse(false));
        assertThat(applied().orElseThrow().origins()).containsKey("a");
        assertThat(get("/metrics").body()).contains("mqdb_applied_events_total{channel=\"shop:items\",node=\"b\"} 21")
                .contains("mqdb_apply_batch_seconds_count{channel=\"shop:items\",node=\"b\"}")
                .contains("mqdb_mqtt_connected{node=\"b\",session=\"control\"} 1")
                .contains("mqdb_process_resident_memory_bytes{node=\"b\"}")
                .contains("jvm_memory_used_bytes{");
    }

    @Test
    void aNodeThatNoLongerSubscribesAChannelClearsItsAppliedPosition() throws Exception {
        cluster.start("a", "[ { name: shop:items, store: local, publish: true } ]");
        startB("");
        cluster.node("a").table(Items.CHANNEL).upsert(item(1, "one"));
        await().atMost(WAIT).until(() -> applied().isPresent());
        cluster.stop("b");
        cluster.start("b", "[ { name: shop:other, store: local, subscribe: true } ]");
        await().atMost(WAIT).until(() -> applied().isEmpty());
    }

    @Test
    void everyPathButHealthNeedsTheTokenWhenOneIsSet() throws Exception {
        // The token is given to the parser through the environment map of TestCluster: none, so a ${file:} one.
        Path token = dir.resolve("token");
        java.nio.file.Files.writeString(token, "s3cret");
        startB(", token: \"${file:" + token.toString().replace("\\", "/") + "}\"");
        assertThat(get("/health").statusCode()).isEqualTo(200);
        assertThat(get("/metrics").statusCode()).isEqualTo(401);
        assertThat(get("/ready", "Bearer wrong").statusCode()).isEqualTo(401);
        assertThat(get("/metrics", "Bearer s3cret").statusCode()).isEqualTo(200);
        assertThat(get("/nothing", "Bearer s3cret").statusCode()).isEqualTo(404);
    }

    private static Lag lag(MqdbNode n) {
        return n.observer().orElseThrow().lags().get(TableId.parse(Items.CHANNEL));
    }

    private Optional<Control.Applied> applied() {
        return broker.retained(APPLIED_TOPIC).filter(p -> p.length > 0).map(Control.Applied::parse);
    }

    private long metricsLag() throws Exception {
        Matcher m = LAG_EVENTS.matcher(get("/metrics").body());
        return m.find() ? (long) Double.parseDouble(m.group(1)) : -1;
    }

    private HttpResponse<String> get(String path) throws Exception {
        return get(path, null);
    }

    private HttpResponse<String> get(String path, String authorization) throws Exception {
        HttpRequest.Builder r = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path));
        if (authorization != null) {
            r.header("Authorization", authorization);
        }
        return http.send(r.build(), HttpResponse.BodyHandlers.ofString());
    }
}
