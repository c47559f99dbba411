package io.mqdb.cli;

import static org.assertj.core.api.Assertions.assertThat;

import io.mqdb.testing.ServerFixture;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.List;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code mqdb dead-letters list} and the parts of {@code replay} that need no broker. */
class DeadLettersCommandTest {
    static final String BATCH = "{\"v\":1,\"origin\":\"node-b\",\"events\":[{\"op\":\"upsert\",\"row\":{\"id\":1}}]}";

    @TempDir
    Path dir;
    Path config;
    Path dead;

    @BeforeEach
    void writeConfig() throws IOException {
        config = dir.resolve("mqdb.yaml");
        Files.writeString(config, "node: { name: node-a, data-dir: data }\nbroker: embedded\n"
                + "stores: { local: { type: mapdb } }\nchannels: [ { name: shop:orders, subscribe: true } ]\n");
        dead = dir.resolve("data/dead-letters");
    }

    static String letter(String channel, String reason, String payload) {
        com.google.gson.JsonObject o = new com.google.gson.JsonObject();
        o.addProperty("time", "2025-06-01T10:00:00Z");
        o.addProperty("node", "node-a");
        o.addProperty("channel", channel);
        o.addProperty("topic", "mqdb/mqdb/ch/" + channel.replace(':', '/'));
        o.addProperty("reason", reason);
        o.addProperty("payload", payload);
        return o.toString();
    }

    static void append(Path file, String... lines) throws IOException {
        Files.createDirectories(file.getParent());
        StringBuilder b = new StringBuilder();
        for (String l : lines) {
            b.append(l).append('\n');
        }
        Files.writeString(file, b, StandardOpenOption.CREATE, StandardOpenOption.APPEND);
    }

    /** What one command printed, and its exit code. */
    record Run(int code, String out, String err) {
    }

    static Run mqdb(String... args) {
        PrintStream out = System.out;
        PrintStream err = System.err;
        ByteArrayOutputStream o = new ByteArrayOutputStream();
        ByteArrayOutputStream e = new ByteArrayOutputStream();
        System.setOut(new PrintStream(o, true, StandardCharsets.UTF_8));
        System.setErr(new PrintStream(e, true, StandardCharsets.UTF_8));
        int code;
        try {
            code = Main.execute(args);
        } finally {
            System.setOut(out);
            System.setErr(err);
        }
        return new Run(code, o.toString(StandardCharsets.UTF_8), e.toString(StandardCharsets.UTF_8));
    }

    @Test
    void listPrintsOneRowPerLetterWithLineNumberIdsAndACount() throws IOException {
        String longReason = "event 0: column qty: expected INT64, got \"many\" " + "x".repeat(100);
        append(dead.resolve("shop.orders.jsonl"), letter("shop:orders", "not JSON", "garbage"), "",
                letter("shop:orders", longReason, BATCH));
        append(dead.resolve("shop.items.jsonl"), letter("shop:items", "bad", "{}"));

        Run r = mqdb("dead-letters", "list", "-c", config.toString());

        assertThat(r.code()).as(r.err()).isZero();
        List<String> lines = r.out().lines().toList();
        assertThat(lines.get(0)).startsWith("ID").contains("TIME", "CHANNEL", "REASON", "SIZE");
        assertThat(lines.get(1)).startsWith("shop.items:1 ").contains("shop:items", "bad").endsWith("2 B");
        assertThat(lines.get(2)).startsWith("shop.orders:1 ").contains("2025-06-01T10:00:00Z", "not JSON")
                .endsWith("7 B");
        // line 2 is blank (replayed): the third line keeps id :3
        assertThat(lines.get(3)).startsWith("shop.orders:3 ").contains("event 0: column qty", "...")
                .doesNotContain("x".repeat(60)).endsWith(BATCH.length() + " B");
        assertThat(lines.get(4)).isEqualTo("3 dead letter(s) in " + dead);
        assertThat(lines).hasSize(5);
    }

    @Test
    void listFiltersByChannelAndPrintsRawLinesWithJson() throws IOException {
        String orders = letter("shop:orders", "r1", BATCH);
        append(dead.resolve("shop.orders.jsonl"), orders);
        append(dead.resolve("shop.items.jsonl"), letter("shop:items", "r2", "{}"));

        Run r = mqdb("dead-letters", "list", "-c", config.toString(), "--channel", "shop:orders", "--json");

        assertThat(r.code()).as(r.err()).isZero();
        assertThat(r.out().lines().toList()).containsExactly(orders);
        assertThat(r.err()).contains("1 dead letter(s)");
    }

    @Test
    void listSaysSoWhenThereAreNone() {
        Run r = mqdb("dead-letters", "list", "-c", config.toString());

        assertThat(r.code()).isZero();
        assertThat(r.out()).startsWith("no dead letters in " + dead);
    }

    @Test
    void listLeavesOutALineStillBeingWritten() throws IOException {
        append(dead.resolve("shop.orders.jsonl"), letter("shop:orders", "r1", BATCH));
        Files.writeString(dead.resolve("shop.orders.jsonl"), "{\"time\":\"2025", StandardOpenOption.APPEND);

        Run r = mqdb("dead-letters", "list", "-c", config.toString());

        assertThat(r.out()).contains("shop.orders:1").doesNotContain("shop.orders:2").contains("1 dead letter(s)");
    }

    @Test
    void badConfigIsAUsageErrorNamingFileAndKey() throws IOException {
        Files.writeString(config, "node: { name: node-a, data-dir: data }\nbroker: { port: 1 }\n"
                + "stores: { local: { type: mapdb } }\nchannels: [ { name: orders } ]\n");

        Run r = mqdb("dead-letters", "list", "-c", config.toString());

        assertThat(r.code()).isEqualTo(Main.CONFIG_ERROR);
        assertThat(r.err()).contains("mqdb.yaml:4", "channels[0].name");
    }

    @Test
    void badChannelOptionIsAUsageError() {
        Run r = mqdb("dead-letters", "list", "-c", config.toString(), "--channel", "orders");

        assertThat(r.code()).isEqualTo(Main.CONFIG_ERROR);
        assertThat(r.err()).contains("--channel", "expected schema:table");
    }

    @Test
    void replayNeedsExactlyOneSelection() {
        assertThat(mqdb("dead-letters", "replay", "-c", config.toString()).code()).isEqualTo(Main.CONFIG_ERROR);
        Run both = mqdb("dead-letters", "replay", "-c", config.toString(), "--all", "--channel", "shop:orders");
        assertThat(both.code()).isEqualTo(Main.CONFIG_ERROR);
        assertThat(both.err()).contains("mutually exclusive");
    }

    @Test
    void skipInvalidKeepsBinaryBatches() throws IOException {
        com.google.gson.JsonObject binary = com.google.gson.JsonParser.parseString(letter("shop:orders", "r1", ""))
                .getAsJsonObject();
        binary.remove("payload");
        byte[] batch = new io.mqdb.codec.EventCodec().encodeBatch("node-a", new io.mqdb.spi.TableSchema(
                io.mqdb.spi.TableId.parse("shop:orders"), java.util.List.of(io.mqdb.spi.Column.of("id",
                        io.mqdb.spi.ColumnType.INT64)), java.util.List.of("id")), java.util.List.of());
        binary.addProperty("payloadBase64", java.util.Base64.getEncoder().encodeToString(batch));
        append(dead.resolve("shop.orders.jsonl"), binary.toString(), letter("shop:orders", "r2", "not json"));

        Run r = mqdb("dead-letters", "replay", "-c", config.toString(), "--all", "--dry-run", "--skip-invalid");

        assertThat(r.code()).as(r.err()).isZero();
        assertThat(r.out()).contains("would replay shop.orders:1 to mqdb/mqdb/ch/shop/orders (" + batch.length
                + " B)", "skipped shop.orders:2: its payload is not JSON nor a binary batch");
    }

    @Test
    void dryRunListsWhatWouldBeSentAndMovesNothing() throws IOException {
        append(dead.resolve("shop.orders.jsonl"), letter("shop:orders", "r1", BATCH), letter("shop:orders", "r2",
                "not json"));
        byte[] before = Files.readAllBytes(dead.resolve("shop.orders.jsonl"));

        Run r = mqdb("dead-letters", "replay", "-c", config.toString(), "--all", "--dry-run", "--skip-invalid");

        assertThat(r.code()).as(r.err()).isZero();
        assertThat(r.out()).contains("skipped shop.orders:2: its payload is not JSON nor a binary batch",
                "would replay shop.orders:1 to mqdb/mqdb/ch/shop/orders (" + BATCH.length() + " B)",
                "1 dead letter(s) would be replayed");
        assertThat(Files.readAllBytes(dead.resolve("shop.orders.jsonl"))).isEqualTo(before);
        assertThat(dead.resolve("replayed")).doesNotExist();
    }

    @Test
    void unknownIdIsRefusedBeforeAnythingIsSent() throws IOException {
        append(dead.resolve("shop.orders.jsonl"), "", letter("shop:orders", "r1", BATCH));

        Run r = mqdb("dead-letters", "replay", "-c", config.toString(), "--id", "shop.orders:1", "shop.orders:2",
                "nonsense", "--dry-run");

        assertThat(r.code()).isEqualTo(Main.CONFIG_ERROR);
        assertThat(r.err()).contains("--id shop.orders:1: no such dead letter", "replayed already")
                .contains("--id nonsense: expected <schema>.<table>:<line>")
                .doesNotContain("--id shop.orders:2");
        assertThat(r.out()).doesNotContain("would replay");
    }

    @Test
    void unreachableBrokerFailsWithinTheTimeoutAndKeepsTheLetter() throws IOException {
        append(dead.resolve("shop.orders.jsonl"), letter("shop:orders", "r1", BATCH));
        byte[] before = Files.readAllBytes(dead.resolve("shop.orders.jsonl"));
        String uri = "tcp://127.0.0.1:" + ServerFixture.freePort();

        Run r = mqdb("dead-letters", "replay", "-c", config.toString(), "--all", "--broker", uri, "--timeout",
                "1");

        assertThat(r.code()).isEqualTo(Main.FAILURE);
        assertThat(r.err()).contains("cannot connect to [" + uri + "] within 1 s");
        assertThat(Files.readAllBytes(dead.resolve("shop.orders.jsonl"))).isEqualTo(before);
    }

    @Test
    void embeddedBrokerNotRunningIsExplained() throws IOException {
        int port = ServerFixture.freePort();
        Files.writeString(config, "node: { name: node-a, data-dir: data }\nbroker: { embedded: { port: " + port
                + " } }\nstores: { local: { type: mapdb } }\nchannels: [ { name: shop:orders, subscribe: true } ]\n");
        append(dead.resolve("shop.orders.jsonl"), letter("shop:orders", "r1", BATCH));

        Run r = mqdb("dead-letters", "replay", "-c", config.toString(), "--all", "--timeout", "1");

        assertThat(r.code()).isEqualTo(Main.FAILURE);
        assertThat(r.err()).contains("tcp://127.0.0.1:" + port, "is the node running?");
    }
}
