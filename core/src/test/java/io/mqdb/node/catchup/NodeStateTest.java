package io.mqdb.node.catchup;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.mqdb.spi.MqdbException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class NodeStateTest {
    @TempDir
    Path dir;

    @Test
    void savedStateIsReadBackAfterARestart() {
        Path f = dir.resolve("sub/state.json");
        NodeState s = NodeState.load(f);
        assertThat(s.capturePosition("local")).isNull();
        assertThat(s.sequence("shop:orders")).isZero();
        s.capturePosition("local", "42");
        s.sequence("shop:orders", 7);
        s.snapshotDone("shop:orders", true);
        s.save();
        NodeState again = NodeState.load(f);
        assertThat(again.capturePosition("local")).isEqualTo("42");
        assertThat(again.sequence("shop:orders")).isEqualTo(7);
        assertThat(again.snapshotDone("shop:orders")).isTrue();
        assertThat(again.snapshotDone("shop:other")).isFalse();
        assertThat(Files.exists(f.resolveSibling("state.json.tmp"))).isFalse();
    }

    @Test
    void aCorruptStateFileIsAClearError() throws Exception {
        Path f = dir.resolve("state.json");
        Files.writeString(f, "{not json");
        assertThatThrownBy(() -> NodeState.load(f)).isInstanceOf(MqdbException.class)
                .hasMessageContaining(f.toString());
    }
}
