package io.mqdb.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;
import static org.awaitility.Awaitility.await;

import io.mqdb.config.ConfigException;
import io.mqdb.config.ConfigLoader;
import io.mqdb.node.MqdbNode;
import io.mqdb.testing.PlainMqtt;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Channel transforms on real parts: {@code pg} publishes {@code shop:orders} from PostgreSQL (trigger capture),
 * {@code redis} subscribes it into Redis through a transform: {@code note} dropped, {@code customer_id} renamed
 * {@code customer}, {@code amount_cents} computed, a filter on status and amount, the key pattern {@code order:{id}}
 * and the time to live from {@code expires_at}. Rows move in and out of the filter through SQL updates and through
 * partial updates from a plain MQTT client, renamed columns stay renamed in a partial update, and rows expire when
 * their {@code expires_at} says.
 */
class TransformsIT extends PgToRedisNodes {
    private static final Duration WAIT = Duration.ofSeconds(60);

    @BeforeEach
    void start() throws Exception {
        servers("mqdb_transforms");
        sql("DROP SCHEMA IF EXISTS shop CASCADE", "DROP TABLE IF EXISTS public.mqdb_changelog", "CREATE SCHEMA shop",
                "CREATE TABLE shop.orders (id bigint PRIMARY KEY, status text, amount double precision, "
                        + "customer_id bigint, expires_at timestamptz, note text)");
        start("redis", """
                node: { name: redis, data-dir: redis-data }
                broker: { embedded: { port: %d } }
                stores: { r: { type: redis, uri: "%s" } }
                channels:
                  - name: shop:orders
                    store: r
                    subscribe: true
                    transform:
                      source: { id: int64, status: string, amount: double, customer_id: int64,
                                expires_at: timestamp, note: string }
                      columns:
                        exclude: [note]
                        rename: { customer_id: customer }
                        computed: { amount_cents: "int(amount * 100.0)" }
                      filter: "status != 'draft' && amount > 0.0"
                      key: "order:{id}"
                      ttl: expires_at
                """.formatted(brokerPort, redis.uri()));
        start("pg", """
                node: { name: pg, data-dir: pg-data }
                broker: { uris: [ "tcp://127.0.0.1:%d" ] }
                stores: { pg: { type: jdbc, url: "%s", username: "%s"%s, capture: trigger, poll-interval: 50ms } }
                channels: [ { name: shop:orders, store: pg, publish: true } ]
                """.formatted(brokerPort, pgUrl, pg.user(), pgPassword()));
    }

    @Test
    void rowsMoveInAndOutOfTheFilterRenamedComputedAndKeyedByThePattern() throws Exception {
        sql("INSERT INTO shop.orders VALUES (2, 'draft', 5.0, 7, NULL, 'n2')",
                "INSERT INTO shop.orders VALUES (3, 'paid', 0.0, 7, NULL, 'n3')",
                "INSERT INTO shop.orders VALUES (1, 'paid', 12.5, 7, NULL, 'n1')");
        await().atMost(WAIT).until(() -> raw.exists("order:1"));
        assertThat(raw.hgetAll("order:1")).containsExactlyInAnyOrderEntriesOf(Map.of("id", "1", "status", "paid",
                "amount", "12.5", "customer", "7", "amount_cents", "1250"));
        // Captured and applied before row 1: left out by the filter, not late.
        assertThat(raw.exists("order:2")).isFalse();
        assertThat(raw.exists("order:3")).isFalse();
        assertThat(raw.keys("shop:orders:*")).as("no row under the default pattern").isEmpty();

        sql("UPDATE shop.orders SET status = 'paid' WHERE id = 2", "UPDATE shop.orders SET status = 'draft' WHERE id = 1");
        await().atMost(WAIT).until(() -> raw.exists("order:2") && !raw.exists("order:1"));
        assertThat(raw.hget("order:2", "amount_cents")).isEqualTo("500");
        assertThat(raw.pttl("order:2")).as("expires_at is null: no expiry").isEqualTo(-1L);

        sql("UPDATE shop.orders SET amount = 0.5, status = 'shipped' WHERE id = 1");
        await().atMost(WAIT).until(() -> raw.exists("order:1"));
        assertThat(raw.hgetAll("order:1")).containsEntry("status", "shipped").containsEntry("amount_cents", "50");
    }

    @Test
    void partialUpdatesKeepTheRenameAndAreFilteredOnTheRowTheTargetHolds() throws Exception {
        sql("INSERT INTO shop.orders VALUES (1, 'paid', 12.5, 7, NULL, 'n1')");
        await().atMost(WAIT).until(() -> raw.exists("order:1"));

        // A plain MQTT client sends only the columns it changes.
        publishPlain("{\"v\":1,\"op\":\"upsert\",\"row\":{\"id\":1,\"customer_id\":9}}");
        await().atMost(WAIT).until(() -> "9".equals(raw.hget("order:1", "customer")));
        assertThat(raw.hgetAll("order:1")).containsExactlyInAnyOrderEntriesOf(Map.of("id", "1", "status", "paid",
                "amount", "12.5", "customer", "9", "amount_cents", "1250"));

        publishPlain("{\"v\":1,\"op\":\"upsert\",\"row\":{\"id\":1,\"status\":\"draft\"}}");
        await().atMost(WAIT).until(() -> !raw.exists("order:1"));

        // Back in through a partial update: it carries every column the transform reads but not the others.
        publishPlain("{\"v\":1,\"op\":\"upsert\",\"row\":{\"id\":1,\"status\":\"paid\",\"amount\":2.0,"
                + "\"expires_at\":null}}");
        await().atMost(WAIT).until(() -> raw.exists("order:1"));
        assertThat(raw.hgetAll("order:1")).containsExactlyInAnyOrderEntriesOf(Map.of("id", "1", "status", "paid",
                "amount", "2.0", "amount_cents", "200"));
    }

    @Test
    void rowsExpireWhenTheirExpiresAtColumnSays() throws Exception {
        sql("INSERT INTO shop.orders VALUES (1, 'paid', 1.0, 7, now() + interval '3 seconds', NULL)",
                "INSERT INTO shop.orders VALUES (2, 'paid', 1.0, 7, now() + interval '1 day', NULL)");
        await().atMost(WAIT).until(() -> raw.exists("order:2"));
        long ttl1 = raw.pttl("order:1");
        assertThat(ttl1).as("order:1 expires within its 3 s (or already did)").isLessThanOrEqualTo(3000L);
        assertThat(raw.pttl("order:2")).isBetween(Duration.ofHours(23).toMillis(), Duration.ofDays(1).toMillis());
        await().atMost(WAIT).until(() -> !raw.exists("order:1"));

        sql("UPDATE shop.orders SET expires_at = NULL WHERE id = 2");
        await().atMost(WAIT).until(() -> raw.pttl("order:2") == -1L);

        sql("UPDATE shop.orders SET expires_at = now() - interval '1 minute' WHERE id = 2");
        await().atMost(WAIT).until(() -> !raw.exists("order:2"));
    }

    @Test
    void aTtlOnAStoreThatCannotExpireRowsIsRefusedAtStartWithItsLine() throws Exception {
        Path file = dir.resolve("lite.yaml");
        Files.writeString(file, """
                node: { name: lite, data-dir: lite-data }
                broker: { uris: [ "tcp://127.0.0.1:%d" ] }
                stores: { m: { type: mapdb, file: lite.db } }
                channels:
                  - name: shop:orders
                    subscribe: true
                    transform:
                      source: [id]
                      ttl: 1h
                """.formatted(brokerPort));
        ConfigException e = catchThrowableOfType(() -> MqdbNode.start(ConfigLoader.load(file), plugins),
                ConfigException.class);
        assertThat(e).isNotNull();
        assertThat(e.problems()).singleElement().asString().isEqualTo("lite.yaml:9: channels[0].transform.ttl: "
                + "store m (mapdb) cannot expire rows; transform.ttl is for a redis store");
    }

    private void publishPlain(String json) throws Exception {
        PlainMqtt.publish(brokerPort, "it-plain", "mqdb/mqdb/ch/shop/orders", json); // a writer, not a node
    }
}
