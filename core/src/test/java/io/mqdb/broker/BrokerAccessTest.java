package io.mqdb.broker;

import static org.assertj.core.api.Assertions.assertThat;

import io.mqdb.broker.BrokerAccess.Activity;
import io.mqdb.broker.BrokerAccess.Permission;
import io.mqdb.config.BrokerUser;
import io.mqdb.config.Secret;
import io.mqdb.spi.TableId;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;

/** The embedded broker's rules: who gets in, with which client ids, and the permissions of each role. */
class BrokerAccessTest {
    private final BrokerAccess access = new BrokerAccess("prod", List.of(
            new BrokerUser("b", new Secret("pw-b"), BrokerUser.Role.NODE, Optional.empty(), List.of()),
            new BrokerUser("edge", new Secret("pw-e"), BrokerUser.Role.NODE, Optional.of("edge_1"),
                    List.of(TableId.parse("shop:orders"))),
            new BrokerUser("sensor", new Secret("pw-s"), BrokerUser.Role.WRITER, Optional.empty(),
                    List.of(TableId.parse("shop:readings"))),
            new BrokerUser("dash", new Secret("pw-d"), BrokerUser.Role.READER, Optional.empty(), List.of())));

    private static byte[] pw(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    @Test
    void onlyAConfiguredUserWithItsPasswordGetsIn() {
        assertThat(access.authenticate("b", pw("pw-b"), "mqdb-prod-b")).isPresent();
        assertThat(access.authenticate("b", pw("pw-b "), "mqdb-prod-b")).isEmpty();
        assertThat(access.authenticate("b", pw(""), "mqdb-prod-b")).isEmpty();
        assertThat(access.authenticate("b", null, "mqdb-prod-b")).isEmpty();
        assertThat(access.authenticate(null, null, "mqdb-prod-b")).isEmpty();
        assertThat(access.authenticate("mallory", pw("pw-b"), "x")).isEmpty();
    }

    @Test
    void aNodeUsesItsOwnClientIdsAndNobodyElseUsesANodes() {
        assertThat(access.authenticate("b", pw("pw-b"), "mqdb-prod-b-ch-shop.orders")).isPresent();
        assertThat(access.authenticate("b", pw("pw-b"), "mqdb-prod-bb")).as("node bb's").isEmpty();
        assertThat(access.authenticate("b", pw("pw-b"), "mqdb-prod-edge_1")).isEmpty();
        assertThat(access.authenticate("edge", pw("pw-e"), "mqdb-prod-edge_1")).isPresent();
        assertThat(access.authenticate("edge", pw("pw-e"), "mqdb-prod-edge")).as("the node name counts, not the user")
                .isEmpty();
        assertThat(access.authenticate("sensor", pw("pw-s"), "mqdb-prod-b")).isEmpty();
        assertThat(access.authenticate("sensor", pw("pw-s"), "mqdb-anything")).isEmpty();
        assertThat(access.authenticate("sensor", pw("pw-s"), "sensor-17")).isPresent();
    }

    @Test
    void aNodeMayPublishOnlyWhatIsItsOwn() {
        List<Permission> p = access.permissionsOf("edge").orElseThrow();
        assertThat(p).contains(new Permission("mqdb/prod/ch/shop/orders", Activity.PUBLISH, false),
                new Permission("mqdb/prod/schema/shop/orders", Activity.PUBLISH, true),
                new Permission("mqdb/prod/pos/+/+/edge_1", Activity.PUBLISH, true),
                new Permission("mqdb/prod/flow/+/+/edge_1", Activity.PUBLISH, true),
                new Permission("mqdb/prod/nodes/edge_1/presence", Activity.PUBLISH, true),
                new Permission("mqdb/prod/dead/edge_1/#", Activity.PUBLISH, false),
                new Permission("mqdb/prod/ctl/+/resend", Activity.PUBLISH, false),
                new Permission("mqdb/prod/#", Activity.SUBSCRIBE, false));
        assertThat(p).noneMatch(x -> x.activity() == Activity.PUBLISH && ((x.topicFilter().contains("pos/+/+/+") || x.topicFilter().contains("flow/+/+/+"))
                || x.topicFilter().equals("mqdb/prod/ch/+/+") || x.topicFilter().equals("mqdb/prod/#")));
        assertThat(access.permissionsOf("b").orElseThrow())
                .contains(new Permission("mqdb/prod/ch/+/+", Activity.PUBLISH, false));
    }

    @Test
    void aWriterPublishesItsChannelsOnlyAndAReaderPublishesNothingButToolPresencesAndReads() {
        assertThat(access.permissionsOf("sensor").orElseThrow()).containsExactly(
                new Permission("mqdb/prod/ch/shop/readings", Activity.PUBLISH, false),
                new Permission("mqdb/prod/schema/+/+", Activity.SUBSCRIBE, false),
                new Permission("mqdb/prod/nodes/#", Activity.SUBSCRIBE, false),
                new Permission("mqdb/prod/reply/sensor/#", Activity.SUBSCRIBE, false),
                new Permission("mqdb/prod/tools/put/#", Activity.PUBLISH, true));
        assertThat(access.permissionsOf("dash").orElseThrow())
                .filteredOn(x -> x.activity() == Activity.PUBLISH)
                .containsExactly(new Permission("mqdb/prod/tools/status/#", Activity.PUBLISH, true),
                        new Permission("mqdb/prod/tools/get/#", Activity.PUBLISH, true),
                        new Permission("mqdb/prod/read/+/+", Activity.PUBLISH, false));
        assertThat(access.permissionsOf("dash").orElseThrow())
                .contains(new Permission("mqdb/prod/reply/dash/#", Activity.SUBSCRIBE, false))
                .noneMatch(x -> x.topicFilter().equals("mqdb/prod/reply/#"));
        assertThat(access.permissionsOf("dash").orElseThrow())
                .contains(new Permission("mqdb/prod/ch/+/+", Activity.SUBSCRIBE, false))
                .contains(new Permission("mqdb/prod/applied/#", Activity.SUBSCRIBE, false))
                .noneMatch(x -> x.topicFilter().contains("/ctl/") || x.topicFilter().equals("mqdb/prod/#"));
    }

    @Test
    void theHostingNodesCredentialIsFreshAndWorksOnlyWithItsPassword() {
        BrokerAccess.Credential local = access.local();
        assertThat(local.username()).startsWith("mqdb-local-");
        assertThat(local.password()).hasSize(48);
        assertThat(local.toString()).doesNotContain(local.password());
        assertThat(access.authenticate(local.username(), pw(local.password()), "mqdb-prod-a")).isPresent();
        assertThat(access.authenticate(local.username(), pw("guess"), "mqdb-prod-a")).isEmpty();
        assertThat(new BrokerAccess("prod", List.of(new BrokerUser("b", new Secret("x"), BrokerUser.Role.NODE,
                Optional.empty(), List.of()))).local().password()).isNotEqualTo(local.password());
    }
}
