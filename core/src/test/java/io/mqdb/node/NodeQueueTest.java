package io.mqdb.node;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import io.mqdb.spi.MqdbException;
import io.mqdb.testkit.TestCluster;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code node.queue(...)} of the embedding API, on a node of the in-memory test kit. */
class NodeQueueTest {
    private static final String CHANNELS = "[ { name: shop:items, store: local, subscribe: true } ]";

    @TempDir
    Path dir;
    private TestCluster cluster;

    @BeforeEach
    void start() {
        cluster = new TestCluster(dir);
    }

    @AfterEach
    void stop() {
        cluster.close();
    }

    @Test
    void aNodeGivesOneQueuePerNameInItsStoreAndItOutlivesARestart() throws Exception {
        MqdbNode node = cluster.start("edge", CHANNELS);
        StoreQueue frames = node.queue("frames");
        assertThat(node.queue("frames")).as("the same instance on every call").isSameAs(frames);
        assertThat(node.queue("frames", "local")).isSameAs(frames);
        assertThat(node.queue("other")).isNotSameAs(frames);
        frames.put("f1".getBytes(UTF_8));
        frames.put("f2".getBytes(UTF_8));
        node.queue("other").put("o1".getBytes(UTF_8));
        assertThat(new String(frames.take(), UTF_8)).isEqualTo("f1");
        cluster.stop("edge");

        MqdbNode again = cluster.start("edge", CHANNELS);
        assertThat(again.queue("frames").size()).isEqualTo(1);
        assertThat(new String(again.queue("frames").take(), UTF_8)).isEqualTo("f2");
        assertThat(new String(again.queue("other").take(), UTF_8)).isEqualTo("o1");
    }

    @Test
    void closingTheNodeEndsAWaitingTake() throws Exception {
        MqdbNode node = cluster.start("edge", CHANNELS);
        StoreQueue q = node.queue("frames");
        AtomicReference<Throwable> ended = new AtomicReference<>();
        Thread taker = new Thread(() -> {
            try {
                q.take();
            } catch (Throwable e) {
                ended.set(e);
            }
        }, "taker");
        taker.start();
        await().atMost(Duration.ofSeconds(10)).until(() -> taker.getState() == Thread.State.TIMED_WAITING);
        cluster.stop("edge");
        taker.join(10_000);
        assertThat(ended.get()).isInstanceOf(MqdbException.class).hasMessageContaining("is closed");
        assertThatThrownBy(() -> node.queue("frames")).isInstanceOf(IllegalStateException.class);
    }

    @Test
    void anUnknownStoreOrABadNameIsRefused() throws Exception {
        MqdbNode node = cluster.start("edge", CHANNELS);
        assertThatThrownBy(() -> node.queue("frames", "nope")).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("no store nope");
        assertThatThrownBy(() -> node.queue("1frames")).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("invalid queue name");
    }
}
