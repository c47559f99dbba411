package io.mqdb.cli;

import static io.mqdb.cli.DeadLettersCommandTest.BATCH;
import static io.mqdb.cli.DeadLettersCommandTest.append;
import static io.mqdb.cli.DeadLettersCommandTest.letter;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import io.mqdb.node.deadletter.DeadLetterFiles;
import io.mqdb.node.deadletter.DeadLetterFiles.Id;
import io.mqdb.node.deadletter.DeadLetterFiles.Letter;
import io.mqdb.spi.MqdbException;
import io.mqdb.spi.TableId;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.HashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.LockSupport;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Reading dead-letter files and moving replayed letters out of them. */
class DeadLetterFilesTest {
    private static final TableId ORDERS = TableId.parse("shop:orders");
    private static final Instant AT = Instant.parse("2025-06-02T08:00:00Z");

    @TempDir
    Path dir;

    @Test
    void idsParseAndPrintAsSchemaDotTableColonLine() {
        Id id = Id.parse("shop.orders:12");
        assertThat(id).isEqualTo(new Id(ORDERS, 12));
        assertThat(id).hasToString("shop.orders:12");
        assertThatThrownBy(() -> Id.parse("shop.orders")).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> Id.parse("shop.orders:0")).hasMessageContaining("line number from 1");
        assertThatThrownBy(() -> Id.parse("shop.or-ders:1")).isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void payloadIsTheTextOrTheDecodedBase64() {
        JsonObject text = JsonParser.parseString(letter("shop:orders", "r", BATCH)).getAsJsonObject();
        JsonObject binary = new JsonObject();
        binary.addProperty("payloadBase64", "/wA=");
        assertThat(new Letter(ORDERS, 1, "", text).payload()).hasValue(BATCH.getBytes(StandardCharsets.UTF_8));
        assertThat(new Letter(ORDERS, 1, "", text).payloadIsJson()).isTrue();
        assertThat(new Letter(ORDERS, 2, "", binary).payload()).hasValue(new byte[] {(byte) 0xff, 0});
        assertThat(new Letter(ORDERS, 2, "", binary).payloadIsJson()).isFalse();
        for (String notJson : List.of("hello", "{\"v\":1} trailing", "{'v':1}", "")) {
            JsonObject o = new JsonObject();
            o.addProperty("payload", notJson);
            assertThat(new Letter(ORDERS, 3, "", o).payloadIsJson()).as(notJson).isFalse();
        }
    }

    @Test
    void filesThatAreNotSchemaDotTableAreIgnored() throws IOException {
        append(dir.resolve("shop.orders.jsonl"), letter("shop:orders", "r", BATCH));
        append(dir.resolve("notes.jsonl"), letter("shop:orders", "r", BATCH));
        append(dir.resolve("replayed/shop.orders.jsonl"), letter("shop:orders", "r", BATCH));

        assertThat(DeadLetterFiles.list(dir, Optional.empty())).extracting(l -> l.id().toString())
                .containsExactly("shop.orders:1");
        assertThat(DeadLetterFiles.list(dir.resolve("missing"), Optional.empty())).isEmpty();
    }

    @Test
    void unreadableLineIsListedButNotParsed() throws IOException {
        append(dir.resolve("shop.orders.jsonl"), "{broken");

        Letter l = DeadLetterFiles.list(dir, Optional.empty()).get(0);

        assertThat(l.readable()).isFalse();
        assertThat(l.reason()).contains("unreadable");
        assertThat(l.payload()).isEmpty();
    }

    @Test
    void replayedLetterMovesToTheArchiveAndTheOtherIdsStay() throws IOException {
        Path live = dir.resolve("shop.orders.jsonl");
        append(live, letter("shop:orders", "r1", "a"), letter("shop:orders", "r2", "b"),
                letter("shop:orders", "r3", "c"));
        List<Letter> before = DeadLetterFiles.list(dir, Optional.empty());

        DeadLetterFiles.markReplayed(dir, ORDERS, List.of(before.get(1)), AT);

        List<Letter> after = DeadLetterFiles.list(dir, Optional.empty());
        assertThat(after).extracting(l -> l.id().toString()).containsExactly("shop.orders:1", "shop.orders:3");
        assertThat(after).extracting(Letter::raw).containsExactly(before.get(0).raw(), before.get(2).raw());
        List<String> archived = Files.readAllLines(dir.resolve("replayed/shop.orders.jsonl"));
        assertThat(archived).hasSize(1);
        JsonObject moved = JsonParser.parseString(archived.get(0)).getAsJsonObject();
        assertThat(moved.get("payload").getAsString()).isEqualTo("b");
        assertThat(moved.get("reason").getAsString()).isEqualTo("r2");
        assertThat(moved.get("id").getAsString()).isEqualTo("shop.orders:2");
        assertThat(moved.get("replayedAt").getAsString()).isEqualTo("2025-06-02T08:00:00Z");
        assertThat(dir).isDirectoryNotContaining("glob:**.tmp-*");
    }

    @Test
    void linesAppendedAfterTheListingSurviveTheRewrite() throws IOException {
        Path live = dir.resolve("shop.orders.jsonl");
        append(live, letter("shop:orders", "r1", "a"));
        List<Letter> listed = DeadLetterFiles.list(dir, Optional.empty());
        String late = letter("shop:orders", "r2", "b"); // the node writes while the replay publishes
        append(live, late);

        DeadLetterFiles.markReplayed(dir, ORDERS, listed, AT);

        assertThat(DeadLetterFiles.list(dir, Optional.empty())).extracting(Letter::raw).containsExactly(late);
        assertThat(DeadLetterFiles.list(dir, Optional.empty()).get(0).line()).isEqualTo(2);
    }

    @Test
    void aLineThatNoLongerHoldsTheLetterIsNotBlanked() {
        String a = letter("shop:orders", "r1", "a");
        String b = letter("shop:orders", "r2", "b");
        Letter stale = new Letter(ORDERS, 1, b, JsonParser.parseString(b).getAsJsonObject());

        byte[] out = DeadLetterFiles.blankLines((a + "\n").getBytes(StandardCharsets.UTF_8), List.of(stale));

        assertThat(new String(out, StandardCharsets.UTF_8)).isEqualTo(a + "\n");
    }

    @Test
    void aPartlyWrittenLastLineIsKeptByteForByte() {
        String a = letter("shop:orders", "r1", "a");
        byte[] head = (a + "\n{\"payload\":\"").getBytes(StandardCharsets.UTF_8);
        byte[] content = new byte[head.length + 1];
        System.arraycopy(head, 0, content, 0, head.length);
        content[head.length] = (byte) 0xc3; // the first byte of a two-byte character, the second not yet written
        Letter first = new Letter(ORDERS, 1, a, JsonParser.parseString(a).getAsJsonObject());

        byte[] out = DeadLetterFiles.blankLines(content, List.of(first));

        byte[] expected = new byte[content.length - a.length()];
        System.arraycopy(content, a.length(), expected, 0, expected.length);
        assertThat(out).isEqualTo(expected);
    }

    @Test
    void noLetterIsLostWhileTheNodeKeepsAppending() throws Exception {
        Path live = dir.resolve("shop.orders.jsonl");
        append(live, letter("shop:orders", "first", "0"));
        AtomicBoolean stop = new AtomicBoolean();
        AtomicInteger written = new AtomicInteger(1);
        Thread node = new Thread(() -> { // appends as DeadLetters.record does: open, write one line, close
            while (!stop.get()) {
                try {
                    append(live, letter("shop:orders", "r", String.valueOf(written.get())));
                } catch (IOException e) {
                    throw new UncheckedIOException(e);
                }
                written.incrementAndGet();
                LockSupport.parkNanos(200_000);
            }
        });
        node.start();
        await().until(() -> written.get() > 7 * 15); // every round below finds seven letters to replay
        Set<String> replayed = new HashSet<>();
        for (int round = 0; round < 15; round++) {
            List<Letter> some = DeadLetterFiles.list(dir, Optional.empty()).stream().limit(7).toList();
            DeadLetterFiles.markReplayed(dir, ORDERS, some, AT);
            some.forEach(l -> replayed.add(l.payload().map(String::new).orElseThrow()));
        }
        stop.set(true);
        node.join();

        Set<String> left = new HashSet<>();
        DeadLetterFiles.list(dir, Optional.empty()).forEach(l -> left.add(l.payload().map(String::new).orElseThrow()));
        List<String> archived = Files.readAllLines(dir.resolve("replayed/shop.orders.jsonl")).stream()
                .map(line -> JsonParser.parseString(line).getAsJsonObject().get("payload").getAsString()).toList();
        assertThat(replayed).as("no letter listed again after its replay").hasSize(15 * 7);
        assertThat(archived).containsExactlyInAnyOrderElementsOf(replayed);
        assertThat(left).doesNotContainAnyElementsOf(replayed);
        assertThat(left.size() + archived.size()).isEqualTo(written.get());
    }

    @Test
    void aSecondReplayOnTheSameFolderIsRefusedUntilTheFirstEnds() {
        try (DeadLetterFiles.ReplayLock first = DeadLetterFiles.lockReplays(dir)) {
            assertThatThrownBy(() -> DeadLetterFiles.lockReplays(dir)).isInstanceOf(MqdbException.class)
                    .hasMessageContaining("another replay is running");
        }
        DeadLetterFiles.lockReplays(dir).close();
    }
}
