package io.mqdb.node;

import static io.mqdb.testkit.Items.item;
import static io.mqdb.testkit.Items.names;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import io.mqdb.spi.TableId;
import io.mqdb.testing.ServerFixture;
import io.mqdb.testkit.Items;
import io.mqdb.testkit.ScriptedOrigin;
import io.mqdb.testkit.TestCluster;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The admin API and the dashboard's files on the {@code node.http} listener, over the in-memory broker and store:
 * pause holds a channel (lag grows, nothing applied) and resume catches it up; re-sync brings back rows the target
 * lost; dead letters are listed with their reasons and replayed; the cluster view shows every node; the POST rules
 * (JSON only, same origin) hold; the page and uPlot are served with their security headers.
 */
class AdminApiTest {
    private static final Duration WAIT = Duration.ofSeconds(20);

    @TempDir
    Path dir;
    private TestCluster cluster;
    private final HttpClient http = HttpClient.newHttpClient();
    private final int port = ServerFixture.freePort();

    @BeforeEach
    void start() throws Exception {
        cluster = new TestCluster(dir);
        cluster.store("a").open().ensureTable(Items.SCHEMA);
        cluster.store("b").open().ensureTable(new io.mqdb.spi.TableSchema(TableId.parse("shop:own"),
                Items.SCHEMA.columns(), Items.SCHEMA.primaryKey()));
        cluster.start("a", "[ { name: shop:items, store: local, publish: true } ]");
        cluster.start("b", "http: { port: " + port + " }", "[ { name: shop:items, store: local, subscribe: true },"
                + " { name: shop:own, store: local, publish: true } ]");
    }

    @AfterEach
    void stop() {
        cluster.close();
    }

    private MqdbNode a() {
        return cluster.node("a");
    }

    @Test
    void pauseHoldsTheChannelAndResumeCatchesItUp() throws Exception {
        a().table(Items.CHANNEL).upsert(item(1, "before"));
        await().atMost(WAIT).until(() -> names(cluster.store("b")).containsKey(1L));

        HttpResponse<String> paused = post("/api/channels/shop:items/pause", "{}");
        assertThat(paused.statusCode()).isEqualTo(200);
        assertThat(json(paused).getAsJsonObject().get("paused").getAsBoolean()).isTrue();
        assertThat(json(paused).getAsJsonObject().get("holding").getAsBoolean()).isTrue();
        for (long id = 2; id <= 31; id++) {
            a().table(Items.CHANNEL).upsert(item(id, "while paused"));
        }
        await().atMost(WAIT).until(() -> lagEvents() == 30);
        JsonObject ch = channel("shop:items");
        assertThat(ch.get("paused").getAsBoolean()).isTrue();
        assertThat(names(cluster.store("b"))).as("nothing applied while paused").containsOnlyKeys(1L);
        System.out.printf("AdminApiTest: paused: %s%n", ch);

        assertThat(post("/api/channels/shop:items/resume", "{}").statusCode()).isEqualTo(200);
        await().atMost(WAIT).until(() -> names(cluster.store("b")).size() == 31);
        await().atMost(WAIT).until(() -> lagEvents() == 0);
        assertThat(channel("shop:items").get("paused").getAsBoolean()).isFalse();
    }

    @Test
    void resyncBringsBackWhatTheTargetLost() throws Exception {
        for (long id = 1; id <= 20; id++) {
            a().table(Items.CHANNEL).upsert(item(id, "row"));
        }
        await().atMost(WAIT).until(() -> names(cluster.store("b")).size() == 20);
        cluster.store("b").truncate(TableId.parse(Items.CHANNEL)); // a loss the marker does not see
        assertThat(names(cluster.store("b"))).isEmpty();

        assertThat(post("/api/channels/shop:items/resync", "{}").statusCode()).isEqualTo(200);
        await().atMost(WAIT).until(() -> names(cluster.store("b")).size() == 20);
    }

    @Test
    void deadLettersAreListedWithTheirReasonAndReplayed() throws Exception {
        try (ScriptedOrigin x = new ScriptedOrigin(cluster.broker(), "x", Items.SCHEMA)) {
            x.sendRaw("{\"v\":1,\"events\":[{\"op\":\"upsert\",".getBytes(StandardCharsets.UTF_8));
            await().atMost(WAIT).until(() -> deadLetters().get("total").getAsInt() == 1);
        }
        JsonObject list = deadLetters();
        JsonObject letter = list.getAsJsonArray("letters").get(0).getAsJsonObject();
        assertThat(letter.get("id").getAsString()).isEqualTo("shop.items:1");
        assertThat(letter.get("channel").getAsString()).isEqualTo(Items.CHANNEL);
        assertThat(letter.get("reason").getAsString()).isNotBlank();
        assertThat(channel("shop:items").get("deadLetters").getAsLong()).isEqualTo(1);
        System.out.printf("AdminApiTest: dead letters: %s%n", list);

        assertThat(post("/api/dead-letters/replay", "{\"ids\":[\"shop.items:9\"]}").statusCode())
                .as("an id that names no letter").isEqualTo(404);
        HttpResponse<String> replayed = post("/api/dead-letters/replay", "{\"ids\":[\"shop.items:1\"]}");
        assertThat(replayed.statusCode()).isEqualTo(200);
        assertThat(json(replayed).getAsJsonObject().get("replayed").getAsInt()).isEqualTo(1);
        assertThat(Files.readAllLines(cluster.dataDir("b").resolve("dead-letters").resolve("replayed")
                .resolve("shop.items.jsonl"))).hasSize(1);
        // the same malformed message again: a new dead letter (line 2), the old one is gone from the list
        await().atMost(WAIT).until(() -> deadLetters().getAsJsonArray("letters").toString().contains("shop.items:2"));
        assertThat(deadLetters().get("total").getAsInt()).isEqualTo(1);
        assertThat(post("/api/dead-letters/replay", "{\"nothing\":1}").statusCode()).isEqualTo(400);
    }

    @Test
    void theClusterViewShowsEveryNodeWithItsStoresAndChannels() throws Exception {
        a().table(Items.CHANNEL).upsert(item(1, "one"));
        await().atMost(WAIT).until(() -> {
            JsonObject c = json(get("/api/cluster")).getAsJsonObject();
            return c.getAsJsonArray("nodes").size() == 2 && c.toString().contains("\"subscribers\":[{\"node\":\"b\","
                    + "\"eventsBehind\":0");
        });
        JsonObject c = json(get("/api/cluster")).getAsJsonObject();
        JsonObject nodeA = c.getAsJsonArray("nodes").get(0).getAsJsonObject();
        assertThat(nodeA.get("node").getAsString()).isEqualTo("a");
        assertThat(nodeA.get("state").getAsString()).isEqualTo("online");
        assertThat(nodeA.getAsJsonArray("stores").get(0).getAsJsonObject().getAsJsonArray("channels").toString())
                .contains(Items.CHANNEL);
        JsonObject node = json(get("/api/node")).getAsJsonObject();
        assertThat(node.get("node").getAsString()).isEqualTo("b");
        assertThat(node.getAsJsonObject("broker").get("connected").getAsBoolean()).isTrue();
        await().atMost(WAIT).until(() -> json(get("/api/history")).getAsJsonObject().getAsJsonArray("series")
                .size() == 1);
        System.out.printf("AdminApiTest: cluster %s%n", c);
    }

    @Test
    void postsAreJsonFromThisOriginAndNameAChannelThisNodeSubscribes() throws Exception {
        HttpRequest form = request("/api/channels/shop:items/pause").header("Content-Type",
                "application/x-www-form-urlencoded").POST(HttpRequest.BodyPublishers.ofString("a=1")).build();
        assertThat(http.send(form, HttpResponse.BodyHandlers.ofString()).statusCode()).isEqualTo(415);
        HttpRequest foreign = request("/api/channels/shop:items/pause").header("Content-Type", "application/json")
                .header("Origin", "http://evil.example").POST(HttpRequest.BodyPublishers.ofString("{}")).build();
        assertThat(http.send(foreign, HttpResponse.BodyHandlers.ofString()).statusCode()).isEqualTo(403);
        assertThat(channel("shop:items").get("paused").getAsBoolean()).as("neither paused it").isFalse();
        assertThat(post("/api/channels/shop:nothing/pause", "{}").statusCode()).isEqualTo(404);
        assertThat(post("/api/channels/shop:own/pause", "{}").statusCode()).as("published, not subscribed")
                .isEqualTo(409);
        assertThat(post("/api/channels/shop:items/explode", "{}").statusCode()).isEqualTo(404);
        assertThat(get("/api/channels/shop:items/pause").statusCode()).isEqualTo(405);
        assertThat(post("/metrics", "{}").statusCode()).isEqualTo(405);
    }

    @Test
    void theDashboardIsServedFromTheJarWithItsSecurityHeaders() throws Exception {
        HttpResponse<String> page = get("/");
        assertThat(page.statusCode()).isEqualTo(200);
        assertThat(page.body()).contains("<title>mqdb</title>").contains("uplot.min.js");
        assertThat(page.headers().firstValue("Content-Security-Policy").orElse("")).contains("script-src 'self'");
        HttpResponse<String> uplot = get("/uplot.min.js");
        assertThat(uplot.statusCode()).isEqualTo(200);
        assertThat(uplot.body()).contains("uPlot");
        assertThat(get("/dashboard.js").body()).contains("api/cluster");
    }

    private long lagEvents() throws Exception {
        JsonObject ch = channel("shop:items");
        return ch.has("lag") ? ch.getAsJsonObject("lag").get("events").getAsLong() : -1;
    }

    private JsonObject channel(String name) throws Exception {
        for (JsonElement e : json(get("/api/channels")).getAsJsonArray()) {
            if (e.getAsJsonObject().get("channel").getAsString().equals(name)) {
                return e.getAsJsonObject();
            }
        }
        throw new AssertionError("no channel " + name);
    }

    private JsonObject deadLetters() throws Exception {
        return json(get("/api/dead-letters")).getAsJsonObject();
    }

    private static JsonElement json(HttpResponse<String> r) {
        return JsonParser.parseString(r.body());
    }

    private HttpRequest.Builder request(String path) {
        return HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path));
    }

    private HttpResponse<String> get(String path) throws Exception {
        return http.send(request(path).build(), HttpResponse.BodyHandlers.ofString());
    }

    private HttpResponse<String> post(String path, String body) throws Exception {
        return http.send(request(path).header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString(body)).build(), HttpResponse.BodyHandlers.ofString());
    }
}
