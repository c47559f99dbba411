package io.mqdb.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import io.mqdb.cli.Main;
import io.mqdb.config.ConfigLoader;
import io.mqdb.node.MqdbNode;
import io.mqdb.plugin.PluginRegistry;
import io.mqdb.testing.HeadlessChromium;
import io.mqdb.testing.PostgresServer;
import io.mqdb.testing.RedisServer;
import io.mqdb.testing.ServerFixture;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Three nodes in one JVM: {@code pg} publishes {@code shop:items} from PostgreSQL (trigger capture), {@code redis}
 * applies it to a Redis of its own (and hosts the embedded broker), {@code lite} to a MapDB file. The Redis server is
 * stopped while rows are written; the Redis subscriber's lag must rise above 0 and fall back to 0 once Redis is back,
 * seen both from the subscriber's {@code /metrics} and from {@code mqdb status --json} (run in this JVM through
 * picocli, reading the broker alone), while the MapDB subscriber ends caught up too.
 */
class ObservabilityIT {
    private static final Duration OUTAGE = Duration.ofSeconds(6);
    private static final Duration WAIT = Duration.ofSeconds(60);
    private static final String CHANNEL = "shop:items";

    @TempDir
    Path dir;
    private final PluginRegistry plugins = PluginRegistry.load(Optional.empty(),
            ObservabilityIT.class.getClassLoader());
    private final PostgresServer pg = PostgresServer.shared();
    private final int brokerPort = ServerFixture.freePort();
    private final int redisHttp = ServerFixture.freePort();
    private final int liteHttp = ServerFixture.freePort();
    private final HttpClient http = HttpClient.newHttpClient();
    private final List<MqdbNode> nodes = new ArrayList<>();
    private RedisServer redis;
    private String pgUrl;

    @AfterEach
    void stop() {
        for (int i = nodes.size() - 1; i >= 0; i--) {
            nodes.get(i).close();
        }
        if (redis != null) {
            redis.close();
        }
    }

    /** Starts the three nodes over a table of 100 rows; returns redis and lite. */
    private MqdbNode[] startThree() throws Exception {
        pgUrl = pg.createDatabase("mqdb_observe");
        sql("DROP SCHEMA IF EXISTS shop CASCADE", "DROP TABLE IF EXISTS public.mqdb_changelog", "CREATE SCHEMA shop",
                "CREATE TABLE shop.items (id bigint PRIMARY KEY, name text)");
        insert(1, 100);
        redis = RedisServer.startPrivate();
        MqdbNode r = start("redis", """
                node: { name: redis, data-dir: redis-data, http: { port: %d, ready-max-lag: 10 } }
                broker: { embedded: { port: %d } }
                stores: { r: { type: redis, uri: "%s" } }
                channels: [ { name: shop:items, store: r, subscribe: true } ]
                """.formatted(redisHttp, brokerPort, redis.uri()));
        MqdbNode lite = start("lite", """
                node: { name: lite, data-dir: lite-data, http: { port: %d } }
                broker: { uris: [ "tcp://127.0.0.1:%d" ] }
                stores: { m: { type: mapdb, file: lite.db } }
                channels: [ { name: shop:items, store: m, subscribe: true } ]
                """.formatted(liteHttp, brokerPort));
        start("pg", """
                node: { name: pg, data-dir: pg-data }
                broker: { uris: [ "tcp://127.0.0.1:%d" ] }
                stores: { pg: { type: jdbc, url: "%s", username: "%s"%s, capture: trigger, poll-interval: 50ms } }
                channels: [ { name: shop:items, store: pg, publish: true } ]
                """.formatted(brokerPort, pgUrl, pg.user(),
                pg.password().isEmpty() ? "" : ", password: \"" + pg.password() + "\""));
        return new MqdbNode[] {r, lite};
    }

    @Test
    void aRedisOutageShowsAsLagInMetricsAndInStatusAndTheLagFallsBackToZero() throws Exception {
        MqdbNode[] started = startThree();
        MqdbNode r = started[0];
        MqdbNode lite = started[1];
        await().atMost(WAIT).until(() -> r.table(CHANNEL).count() == 100 && lite.table(CHANNEL).count() == 100);
        await().atMost(WAIT).until(() -> lagEvents(redisHttp) == 0 && lagEvents(liteHttp) == 0);
        Status before = status();
        assertThat(before.exitCode()).as(before.text()).isZero();
        assertThat(before.eventsBehind("redis")).isZero();
        assertThat(before.online()).containsExactlyInAnyOrder("pg", "redis", "lite");
        assertThat(before.text()).contains("\"outbox\":0").contains("\"deadLetters\":0");

        redis.stop();
        long stopped = System.nanoTime();
        for (int batch = 0; batch < 10; batch++) {
            insert(101 + batch * 50, 150 + batch * 50);
            Thread.sleep(OUTAGE.toMillis() / 10); // the outage's duration, writes spread over it
        }
        await().atMost(WAIT).until(() -> lagEvents(redisHttp) >= 400);
        double metricsSeconds = lagSeconds(redisHttp);
        long metricsEvents = lagEvents(redisHttp);
        Status during = status();
        assertThat(during.exitCode()).as("a lag above --max-lag 0: " + during.text()).isEqualTo(3);
        assertThat(during.eventsBehind("redis")).isGreaterThan(0);
        assertThat(during.secondsBehind("redis")).isGreaterThan(0);
        HttpResponse<String> ready = get(redisHttp, "/ready");
        assertThat(ready.statusCode()).isEqualTo(503);
        System.out.printf("ObservabilityIT: Redis down %d ms, 500 rows written: /metrics of redis: %d events, %.1f s "
                + "behind; mqdb status --json: %d events, %.1f s behind (lite: %d events); /ready: %d %s%n",
                (System.nanoTime() - stopped) / 1_000_000, metricsEvents, metricsSeconds,
                during.eventsBehind("redis"), during.secondsBehind("redis"), during.eventsBehind("lite"),
                ready.statusCode(), ready.body().strip());
        assertThat(metricsEvents).isGreaterThan(0);
        assertThat(metricsSeconds).isGreaterThan(0);
        JsonObject apiDuring = apiChannel(redisHttp);
        assertThat(apiDuring.getAsJsonObject("lag").get("events").getAsLong()).as("the admin API").isPositive();
        assertThat(clusterEventsBehind(liteHttp, "redis")).as("the cluster view of another node").isPositive();
        System.out.printf("ObservabilityIT: admin API of redis during the outage: %s; lite's cluster view: redis %d "
                + "events behind%n", apiDuring, clusterEventsBehind(liteHttp, "redis"));

        redis.start(); // empty: the subscriber notices the loss of its marker and asks for everything again
        long back = System.nanoTime();
        await().atMost(WAIT).until(() -> r.table(CHANNEL).count() == 600 && lite.table(CHANNEL).count() == 600);
        await().atMost(WAIT).until(() -> lagEvents(redisHttp) == 0 && lagSeconds(redisHttp) == 0
                && lagEvents(liteHttp) == 0);
        long caughtUpMs = (System.nanoTime() - back) / 1_000_000;
        await().atMost(WAIT).until(() -> status().exitCode() == 0);
        Status after = status();
        assertThat(after.eventsBehind("redis")).isZero();
        assertThat(after.eventsBehind("lite")).isZero();
        assertThat(after.secondsBehind("redis")).isZero();
        assertThat(get(redisHttp, "/ready").statusCode()).isEqualTo(200);
        assertThat(apiChannel(redisHttp).getAsJsonObject("lag").get("events").getAsLong()).isZero();
        await().atMost(WAIT).until(() -> clusterEventsBehind(liteHttp, "redis") == 0);
        StringWriter fromConfig = new StringWriter();
        assertThat(Main.execute(new PrintWriter(fromConfig, true), new PrintWriter(new StringWriter(), true),
                "status", "--config", dir.resolve("redis.yaml").toString(), "--json", "--settle-ms", "1000"))
                .as("status with the broker of a node config: " + fromConfig).isZero();
        assertThat(fromConfig.toString()).contains("\"node\":\"redis\",\"eventsBehind\":0");
        assertThat(get(redisHttp, "/metrics").body())
                .contains("mqdb_dead_letters_total{channel=\"shop:items\",node=\"redis\"} 0");
        System.out.printf("ObservabilityIT: Redis back: caught up %d ms later (600 rows on both subscribers); "
                + "/metrics of redis: %d events, %.1f s behind; mqdb status:%n%s", caughtUpMs, lagEvents(redisHttp),
                lagSeconds(redisHttp), table());
        watchReportsAgainUntilInterrupted();
    }

    /**
     * The dashboard of the Redis subscriber in a real headless Chromium: it shows the three nodes and the channel, its
     * lag chart gains points while rows are written, and its pause button holds the channel (the page then shows it
     * paused and the cluster table shows redis behind) until its resume button lets it catch up. A screenshot of the
     * paused state is written to {@code target/dashboard.png}.
     */
    @Test
    void theDashboardShowsTheClusterLiveInHeadlessChromiumAndItsButtonsSteerTheChannel() throws Exception {
        MqdbNode[] started = startThree();
        await().atMost(WAIT).until(() -> started[0].table(CHANNEL).count() == 100
                && started[1].table(CHANNEL).count() == 100);
        try (HeadlessChromium browser = HeadlessChromium.start(1400, 1300)) {
            browser.navigate("http://127.0.0.1:" + redisHttp + "/");
            await().atMost(WAIT).until(() -> browser.evaluate(
                    "document.querySelectorAll('#topology .node').length").getAsInt() == 3);
            assertThat(browser.evaluate("[...document.querySelectorAll('#topology .node')].map(n => n.dataset.node)"
                    + ".join(',')").getAsString()).isEqualTo("lite,pg,redis");
            assertThat(browser.evaluate("document.querySelector('#topology .channel').dataset.channel").getAsString())
                    .isEqualTo(CHANNEL);
            assertThat(browser.evaluate("document.getElementById('node-name').textContent").getAsString())
                    .isEqualTo("redis");
            String row = "document.querySelector('#channels tr[data-channel=\"shop:items\"]')";
            await().atMost(WAIT).until(() -> browser.evaluate(row + ".textContent").getAsString()
                    .contains("applying"));
            await().atMost(WAIT).until(() -> browser.evaluate("document.querySelector('#lag-chart canvas') !== null")
                    .getAsBoolean());
            int points = browser.evaluate("Number(document.getElementById('lag-chart').dataset.points)").getAsInt();
            insert(101, 200);
            await().atMost(WAIT).until(() -> browser.evaluate(
                    "Number(document.getElementById('lag-chart').dataset.points)").getAsInt() >= points + 2);

            browser.evaluate(row + ".querySelector('button').click()"); // pause
            await().atMost(WAIT).until(() -> browser.evaluate(row + ".textContent").getAsString().contains("paused"));
            insert(201, 700);
            String redisBehind = "[...document.querySelectorAll('#cluster-channels tbody tr')].filter(tr =>"
                    + " tr.children[2].textContent.startsWith('redis')).map(tr => tr.children[3].textContent).join('')";
            await().atMost(WAIT).until(() -> parse(browser.evaluate(redisBehind).getAsString()) >= 500);
            await().atMost(WAIT).until(() -> started[1].table(CHANNEL).count() == 700);
            assertThat(started[0].table(CHANNEL).count()).as("nothing applied to Redis while paused").isEqualTo(200);
            String chartLast = "JSON.parse(document.getElementById('lag-chart').dataset.last || '{}')"
                    + "['shop:items redis']";
            await().atMost(WAIT).until(() -> browser.evaluate(chartLast + " >= 500").getAsBoolean());
            long shownBehind = parse(browser.evaluate(redisBehind).getAsString());
            Path shot = Path.of("target", "dashboard.png");
            browser.screenshot(shot);
            assertThat(Files.size(shot)).isGreaterThan(10_000);
            System.out.printf("ObservabilityIT: dashboard in Chromium: 3 nodes, redis paused from the page and shown "
                    + "%d events behind (table and chart); screenshot %s (%d bytes)%n", shownBehind,
                    shot.toAbsolutePath(), Files.size(shot));

            browser.evaluate(row + ".querySelector('button').click()"); // resume
            await().atMost(WAIT).until(() -> started[0].table(CHANNEL).count() == 700);
            await().atMost(WAIT).until(() -> parse(browser.evaluate(redisBehind).getAsString()) == 0
                    && browser.evaluate(row + ".textContent").getAsString().contains("applying"));
        }
    }

    private static long parse(String shown) {
        String digits = shown.replace(",", "");
        return digits.matches("[0-9]+") ? Long.parseLong(digits) : -1;
    }

    /** {@code mqdb status --watch 1}: a report with its time line every second, until the thread is interrupted. */
    private void watchReportsAgainUntilInterrupted() throws Exception {
        StringWriter out = new StringWriter();
        Thread watch = new Thread(() -> Main.execute(new PrintWriter(out, true), new PrintWriter(new StringWriter(),
                true), "status", "--broker", "tcp://127.0.0.1:" + brokerPort, "--settle-ms", "500", "--watch", "1"),
                "status-watch");
        watch.start();
        try {
            await().atMost(WAIT).until(() -> out.toString().split("\n--- ", -1).length >= 3);
        } finally {
            watch.interrupt();
            watch.join(10_000);
        }
        assertThat(watch.isAlive()).as("--watch ends when interrupted").isFalse();
        assertThat(out.toString()).startsWith("--- ").contains("redis", "lite", CHANNEL);
        StringWriter err = new StringWriter();
        assertThat(Main.execute(new PrintWriter(new StringWriter(), true), new PrintWriter(err, true), "status",
                "--broker", "tcp://127.0.0.1:" + brokerPort, "--watch", "0", "--settle-ms", "1000")).isZero();
        assertThat(Main.execute(new PrintWriter(new StringWriter(), true), new PrintWriter(err, true), "status",
                "--broker", "tcp://127.0.0.1:" + brokerPort, "--watch", "3601")).isEqualTo(2);
        assertThat(err.toString()).contains("--watch: expected 1 to 3600 seconds, got 3601");
    }

    /** The answer of {@code mqdb status --json --max-lag 0}, parsed. */
    private record Status(int exitCode, String text, JsonObject json) {
        JsonObject subscriber(String node) {
            for (JsonElement c : json.getAsJsonArray("channels")) {
                if (c.getAsJsonObject().get("channel").getAsString().equals(CHANNEL)) {
                    for (JsonElement s : c.getAsJsonObject().getAsJsonArray("subscribers")) {
                        if (s.getAsJsonObject().get("node").getAsString().equals(node)) {
                            return s.getAsJsonObject();
                        }
                    }
                }
            }
            throw new AssertionError("no subscriber " + node + " of " + CHANNEL + " in " + text);
        }

        long eventsBehind(String node) {
            return subscriber(node).get("eventsBehind").getAsLong();
        }

        double secondsBehind(String node) {
            return subscriber(node).get("secondsBehind").getAsDouble();
        }

        List<String> online() {
            List<String> out = new ArrayList<>();
            for (JsonElement n : json.getAsJsonArray("nodes")) {
                if (n.getAsJsonObject().get("state").getAsString().equals("online")) {
                    out.add(n.getAsJsonObject().get("node").getAsString());
                }
            }
            return out;
        }
    }

    private Status status() {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        int code = Main.execute(new PrintWriter(out, true), new PrintWriter(err, true), "status", "--broker",
                "tcp://127.0.0.1:" + brokerPort, "--json", "--max-lag", "0", "--settle-ms", "1000");
        String text = out.toString();
        assertThat(err.toString()).as("stderr of mqdb status").isEmpty();
        assertThat(text).as("the answer comes first, no log line before it").startsWith("{");
        return new Status(code, text, JsonParser.parseString(text).getAsJsonObject());
    }

    private String table() {
        StringWriter out = new StringWriter();
        Main.execute(new PrintWriter(out, true), new PrintWriter(new StringWriter(), true), "status", "--broker",
                "tcp://127.0.0.1:" + brokerPort, "--settle-ms", "1000");
        return out.toString();
    }

    /** The channel's entry in a node's {@code GET /api/channels}. */
    private JsonObject apiChannel(int port) throws Exception {
        for (JsonElement e : JsonParser.parseString(get(port, "/api/channels").body()).getAsJsonArray()) {
            if (e.getAsJsonObject().get("channel").getAsString().equals(CHANNEL)) {
                return e.getAsJsonObject();
            }
        }
        throw new AssertionError("no " + CHANNEL + " in /api/channels of port " + port);
    }

    /** How far a subscriber is behind in a node's {@code GET /api/cluster}; -1 when not shown. */
    private long clusterEventsBehind(int port, String node) throws Exception {
        JsonObject c = JsonParser.parseString(get(port, "/api/cluster").body()).getAsJsonObject();
        Status s = new Status(0, c.toString(), c);
        JsonObject sub = s.subscriber(node);
        return sub.has("eventsBehind") ? sub.get("eventsBehind").getAsLong() : -1;
    }

    private long lagEvents(int port) throws Exception {
        return (long) metric(port, "mqdb_lag_events");
    }

    private double lagSeconds(int port) throws Exception {
        return metric(port, "mqdb_lag_seconds");
    }

    private double metric(int port, String name) throws Exception {
        String body = get(port, "/metrics").body();
        Matcher m = Pattern.compile("(?m)^" + name + "\\{channel=\"shop:items\",node=\"[a-z]+\"} (\\S+)$")
                .matcher(body);
        assertThat(m.find()).as(name + " in /metrics").isTrue();
        return Double.parseDouble(m.group(1));
    }

    private HttpResponse<String> get(int port, String path) throws Exception {
        return http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path)).build(),
                HttpResponse.BodyHandlers.ofString());
    }

    private MqdbNode start(String name, String yaml) throws Exception {
        Path file = dir.resolve(name + ".yaml");
        Files.writeString(file, yaml);
        MqdbNode n = MqdbNode.start(ConfigLoader.load(file), plugins);
        nodes.add(n);
        return n;
    }

    private void insert(long from, long to) throws SQLException {
        sql("INSERT INTO shop.items SELECT g, 'item ' || g FROM generate_series(" + from + ", " + to + ") g");
    }

    private void sql(String... statements) throws SQLException {
        try (Connection c = DriverManager.getConnection(pgUrl, pg.user(), pg.password());
             Statement s = c.createStatement()) {
            for (String q : statements) {
                s.execute(q);
            }
        }
    }
}
