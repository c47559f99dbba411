package io.mqdb.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.mqdb.testing.MessageCallback;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import org.eclipse.paho.mqttv5.client.MqttClient;
import org.eclipse.paho.mqttv5.client.MqttConnectionOptions;
import org.eclipse.paho.mqttv5.client.persist.MemoryPersistence;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * A filter on the publishing side: {@code pg} publishes only the rows of {@code shop:orders} whose status is not
 * draft (a row that becomes a draft is published as a delete), so draft rows never reach the broker: a plain MQTT
 * client listening on the channel (JSON wire form) sees none of their notes, in the initial load or later, while the
 * Redis subscriber, which has no transform, holds exactly the other rows.
 */
class PublishFilterIT extends PgToRedisNodes {
    private static final Duration WAIT = Duration.ofSeconds(60);
    private final List<String> seen = new CopyOnWriteArrayList<>();
    private MqttClient listener;

    @AfterEach
    void stopListener() throws Exception {
        if (listener != null) {
            listener.disconnect();
            listener.close();
        }
    }

    @Test
    void draftRowsNeverLeaveThePublisherAndARowThatBecomesADraftIsDeleted() throws Exception {
        servers("mqdb_publish_filter");
        sql("DROP SCHEMA IF EXISTS shop CASCADE", "DROP TABLE IF EXISTS public.mqdb_changelog", "CREATE SCHEMA shop",
                "CREATE TABLE shop.orders (id bigint PRIMARY KEY, status text, note text)",
                "INSERT INTO shop.orders SELECT g, CASE WHEN g % 3 = 0 THEN 'draft' ELSE 'paid' END, "
                        + "CASE WHEN g % 3 = 0 THEN 'hidden-' || g ELSE 'visible-' || g END "
                        + "FROM generate_series(1, 300) g");
        start("redis", """
                node: { name: redis, data-dir: redis-data }
                broker: { embedded: { port: %d } }
                stores: { r: { type: redis, uri: "%s" } }
                channels: [ { name: shop:orders, store: r, subscribe: true } ]
                """.formatted(brokerPort, redis.uri()));
        listener = new MqttClient("tcp://127.0.0.1:" + brokerPort, "it-listener", new MemoryPersistence());
        listener.setCallback(MessageCallback.of((topic, m) ->
                seen.add(new String(m.getPayload(), StandardCharsets.UTF_8))));
        listener.connect(new MqttConnectionOptions());
        listener.subscribe("mqdb/mqdb/ch/shop/orders", 1);
        start("pg", """
                node: { name: pg, data-dir: pg-data, wire-form: json }
                broker: { uris: [ "tcp://127.0.0.1:%d" ] }
                stores: { pg: { type: jdbc, url: "%s", username: "%s"%s, capture: trigger, poll-interval: 50ms } }
                channels:
                  - name: shop:orders
                    store: pg
                    publish: true
                    transform:
                      source: { status: string }
                      filter: "status != 'draft'"
                """.formatted(brokerPort, pgUrl, pg.user(), pgPassword()));

        await().atMost(WAIT).until(() -> raw.keys("shop:orders:[0-9]*").size() == 200);
        assertThat(raw.exists("shop:orders:3")).isFalse();
        assertThat(raw.hget("shop:orders:1", "note")).isEqualTo("visible-1");

        sql("UPDATE shop.orders SET status = 'draft', note = 'hidden-now-1' WHERE id = 1",
                "UPDATE shop.orders SET status = 'paid' WHERE id = 3",
                "INSERT INTO shop.orders VALUES (1000, 'draft', 'hidden-1000')",
                "INSERT INTO shop.orders VALUES (1001, 'paid', 'visible-1001')");
        await().atMost(WAIT).until(() -> !raw.exists("shop:orders:1") && raw.exists("shop:orders:3")
                && raw.exists("shop:orders:1001"));
        assertThat(raw.exists("shop:orders:1000")).isFalse();
        assertThat(raw.hget("shop:orders:3", "note")).isEqualTo("hidden-3"); // it passes now: it is published

        assertThat(seen).as("the listener saw the channel's messages").isNotEmpty();
        assertThat(String.join("\n", seen)).contains("visible-2", "visible-1001")
                .doesNotContain("hidden-6", "hidden-300", "hidden-now-1", "hidden-1000");
    }
}
