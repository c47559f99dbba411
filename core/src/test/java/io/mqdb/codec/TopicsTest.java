package io.mqdb.codec;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.mqdb.spi.TableId;
import org.junit.jupiter.api.Test;

class TopicsTest {
    final Topics topics = new Topics("mqdb");
    final TableId orders = new TableId("shop", "orders");

    @Test
    void namesFollowTheLayout() {
        assertThat(topics.channel(orders)).isEqualTo("mqdb/mqdb/ch/shop/orders");
        assertThat(topics.schema(orders)).isEqualTo("mqdb/mqdb/schema/shop/orders");
        assertThat(topics.presence("node-a")).isEqualTo("mqdb/mqdb/nodes/node-a/presence");
        assertThat(topics.deadLetter("node-a", orders)).isEqualTo("mqdb/mqdb/dead/node-a/shop/orders");
        assertThat(topics.channelFilter()).isEqualTo("mqdb/mqdb/ch/+/+");
        assertThat(topics.schemaFilter()).isEqualTo("mqdb/mqdb/schema/+/+");
        assertThat(topics.presenceFilter()).isEqualTo("mqdb/mqdb/nodes/+/presence");
    }

    @Test
    void directTopicsNameOneNodeAndAreValidatedLikeTheOthers() {
        assertThat(topics.direct("node-b", orders)).isEqualTo("mqdb/mqdb/to/node-b/ch/shop/orders");
        assertThat(topics.directSnapshot("node-b", orders)).isEqualTo("mqdb/mqdb/to/node-b/snap/shop/orders");
        assertThat(topics.parseChannel(topics.direct("node-b", orders))).isEmpty(); // not a channel topic
        assertThatThrownBy(() -> topics.direct("node/b", orders)).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> topics.directSnapshot("#", orders)).isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void appliedPositionsAreOneRetainedTopicPerChannelAndSubscriber() {
        assertThat(topics.applied("node-b", orders)).isEqualTo("mqdb/mqdb/applied/shop/orders/node-b");
        assertThat(topics.appliedOf("node-b")).isEqualTo("mqdb/mqdb/applied/+/+/node-b");
        assertThat(topics.appliedFilter()).isEqualTo("mqdb/mqdb/applied/+/+/+");
        assertThat(topics.positionFilter()).isEqualTo("mqdb/mqdb/pos/+/+/+");
        assertThat(topics.parseOwnedTable(topics.applied("node-b", orders))).contains(orders);
        assertThatThrownBy(() -> topics.applied("+", orders)).isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void parseChannelInvertsChannel() {
        TableId t = new TableId("Sales_2024", "_line_items");
        assertThat(topics.parseChannel(topics.channel(t))).contains(t);
        assertThat(topics.parseSchema(topics.schema(t))).contains(t);
    }

    @Test
    void parseChannelRejectsEverythingElse() {
        assertThat(topics.parseChannel("mqdb/mqdb/schema/shop/orders")).isEmpty();
        assertThat(topics.parseChannel("mqdb/other/ch/shop/orders")).isEmpty();
        assertThat(topics.parseChannel("mqdb/mqdb/ch/shop")).isEmpty();
        assertThat(topics.parseChannel("mqdb/mqdb/ch/shop/orders/x")).isEmpty();
        assertThat(topics.parseChannel("mqdb/mqdb/ch/shop/")).isEmpty();
        assertThat(topics.parseChannel("mqdb/mqdb/ch/sh-op/orders")).isEmpty();
        assertThat(topics.parseChannel("mqdb/mqdb/ch/+/+")).isEmpty();
        assertThat(topics.parseChannel("mqdb/mqdbx/ch/shop/orders")).isEmpty();
        assertThat(topics.parseChannel(null)).isEmpty();
        assertThat(topics.parseSchema("mqdb/mqdb/ch/shop/orders")).isEmpty();
    }

    @Test
    void clusterAndNodeNamesMustBeTopicLevels() {
        assertThatThrownBy(() -> new Topics("a/b")).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("invalid cluster name \"a/b\"");
        assertThatThrownBy(() -> new Topics("#")).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> new Topics("")).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> topics.presence("node+1")).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("invalid node name");
        assertThat(new Topics("prod.eu-1").channel(orders)).isEqualTo("mqdb/prod.eu-1/ch/shop/orders");
    }

    @Test
    void aNodesOwnRetainedTopicsNameTheirTable() {
        assertThat(topics.positionsOf("node-a")).isEqualTo("mqdb/mqdb/pos/+/+/node-a");
        assertThat(topics.channelPresence("node-a", orders)).isEqualTo("mqdb/mqdb/nodes/node-a/presence/ch/shop/orders");
        assertThat(topics.channelPresenceFilter("node-a")).isEqualTo("mqdb/mqdb/nodes/node-a/presence/ch/+/+");
        assertThat(topics.parseOwnedTable(topics.position("node-a", orders))).contains(orders);
        assertThat(topics.parseOwnedTable(topics.channelPresence("node-a", orders))).contains(orders);
        assertThat(topics.flow("node-a", orders)).isEqualTo("mqdb/mqdb/flow/shop/orders/node-a");
        assertThat(topics.flowsOf("node-a")).isEqualTo("mqdb/mqdb/flow/+/+/node-a");
        assertThat(topics.parseOwnedTable(topics.flow("node-a", orders))).contains(orders);
        assertThat(topics.parseOwnedTable("mqdb/mqdb/pos/shop/orders")).isEmpty();
        assertThat(topics.parseOwnedTable("mqdb/mqdb/pos/shop/or-ders/node-a")).isEmpty();
        assertThat(topics.parseOwnedTable("mqdb/other/pos/shop/orders/node-a")).isEmpty();
        assertThat(topics.parseOwnedTable("mqdb/mqdb/nodes/node-a/presence")).isEmpty();
        assertThat(topics.parseOwnedTable(topics.channel(orders))).isEmpty();
    }
}
