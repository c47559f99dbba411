package io.mqdb.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import io.mqdb.spi.ColumnType;
import io.mqdb.transform.ChannelTransform;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** {@code transform:} of a channel: compiled at load, every problem with file, line and key. */
class TransformConfigTest {
    private static final Path FILE = Path.of("/etc/mqdb/mqdb.yaml");

    private static final String HEAD = """
            node: { name: n }
            stores: { r: { type: redis } }
            channels:
              - name: shop:orders
                subscribe: true
                transform:
                  source: { id: int64, status: string, amount: double, customer_id: int64, expires_at: timestamp }
            """;

    /** A config of one channel, {@code shop:orders}, with these lines after {@code subscribe: true}. */
    private static String channel(String lines) {
        return """
                node: { name: n }
                stores: { r: { type: redis } }
                channels:
                  - name: shop:orders
                """ + lines.indent(4);
    }

    private static List<String> problems(String yaml) {
        ConfigException e = catchThrowableOfType(() -> ConfigLoader.parse(yaml, FILE, Map.of()),
                ConfigException.class);
        assertThat(e).as("expected a ConfigException").isNotNull();
        return e.problems().stream().map(ConfigProblem::toString).toList();
    }

    @Test
    void aFullTransformCompiles() {
        NodeConfig c = ConfigLoader.parse(HEAD + """
                      columns:
                        exclude: [expires_at]
                        rename: { customer_id: customer }
                        computed: { amount_cents: "int(amount * 100.0)" }
                      filter: "status != 'draft' && amount > 0.0"
                      key: "order:{id}"
                      ttl: expires_at
                """, FILE, Map.of());
        TransformConfig t = c.channels().get(0).transform().orElseThrow();
        ChannelTransform x = t.transform();
        assertThat(x.source()).containsEntry("amount", ColumnType.DOUBLE).hasSize(5);
        assertThat(x.kept("expires_at")).isFalse();
        assertThat(x.targetName("customer_id")).isEqualTo("customer");
        assertThat(x.columnsRead()).containsExactlyInAnyOrder("status", "amount", "expires_at");
        assertThat(x.keyPattern()).contains("order:{id}");
        assertThat(x.expires()).isTrue();
        assertThat(t.keyAt().orElseThrow().toString()).isEqualTo("mqdb.yaml:13: channels[0].transform.key");
        assertThat(t.ttlAt().orElseThrow().line()).isEqualTo(14);
    }

    @Test
    void anUnknownColumnInAFilterIsRefusedWithItsLineAndKey() {
        assertThat(problems(HEAD + """
                      filter: "stauts != 'draft'"
                """)).containsExactly("mqdb.yaml:8: channels[0].transform.filter: column 1: undeclared reference to "
                + "'stauts'; the channel's transform.source declares id, status, amount, customer_id, expires_at");
    }

    @Test
    void syntaxAndTypeErrorsAreRefusedEachAtItsKey() {
        List<String> p = problems(HEAD + """
                      columns:
                        computed:
                          twice: "amount * 2"
                          label: "'#' + string(id"
                      filter: "amount"
                      ttl: "status"
                """);
        assertThat(p).hasSize(4);
        assertThat(p.get(0)).isEqualTo("mqdb.yaml:10: channels[0].transform.columns.computed.twice: column 8: "
                + "found no matching overload for '_*_' applied to '(wrapper(double), int)' (candidates: (int, int),"
                + "(uint, uint),(double, double))");
        assertThat(p.get(1)).isEqualTo("mqdb.yaml:11: channels[0].transform.columns.computed.label: column 16: "
                + "missing ')' at '<EOF>'");
        assertThat(p.get(2)).isEqualTo("mqdb.yaml:12: channels[0].transform.filter: a filter must give true or "
                + "false, this gives double");
        assertThat(p.get(3)).startsWith("mqdb.yaml:13: channels[0].transform.ttl: a ttl expression must give a "
                + "timestamp");
    }

    @Test
    void unknownAndClashingColumnNamesAreRefused() {
        List<String> p = problems(HEAD + """
                      columns:
                        include: [id, statsu]
                        exclude: [amount]
                        rename: { customer_id: status, nope: x }
                        computed: { id: "1" }
                """);
        assertThat(p).contains(
                "mqdb.yaml:9: channels[0].transform.columns.include[1]: unknown column \"statsu\"; did you mean "
                        + "\"status\"? (transform.source declares id, status, amount, customer_id, expires_at)",
                "mqdb.yaml:10: channels[0].transform.columns.exclude: give include or exclude, not both",
                "mqdb.yaml:11: channels[0].transform.columns.rename.customer_id: column customer_id is not kept "
                        + "(include / exclude): nothing to rename",
                "mqdb.yaml:12: channels[0].transform.columns.computed.id: computed column id has the target name "
                        + "of source column id; rename or exclude that one");
        assertThat(p).anyMatch(s -> s.startsWith("mqdb.yaml:11: channels[0].transform.columns.rename.nope: "
                + "unknown column \"nope\""));
    }

    @Test
    void aTransformNeedsItsSourceAndOnAPublishedChannelHasOnlyAFilter() {
        assertThat(problems(channel("""
                subscribe: true
                transform: { filter: "true" }
                """) + """
                  - name: shop:items
                    publish: true
                    transform: { source: [id], key: "item:{id}", filter: "id > 0" }
                  - name: shop:lines
                    publish: true
                    subscribe: true
                    transform: { source: [id] }
                """)).containsExactly(
                "mqdb.yaml:6: channels[0].transform.source: required: the source columns the transform reads, "
                        + "with their types ({id: int64, status: string, ...}) or without ([id, status, ...])",
                "mqdb.yaml:9: channels[1].transform.key: on a published channel a transform has only source and "
                        + "filter (the rows it publishes); key belongs to the subscribing node's channel",
                "mqdb.yaml:13: channels[2].transform: a transform on a channel this node publishes and subscribes "
                        + "would publish the transformed rows as the table's changes; transform a one-way channel");
        TransformConfig published = ConfigLoader.parse(channel("""
                publish: true
                transform: { source: { id: int64, status: string }, filter: "status != 'draft'" }
                """), FILE, Map.of()).channels().get(0).transform().orElseThrow();
        assertThat(published.transform().columnsRead()).containsExactly("status");
    }

    @Test
    void aTtlIsADurationOrAnExpressionAndNeverZero() {
        assertThat(ConfigLoader.parse(HEAD + "      ttl: 30m\n", FILE, Map.of()).channels().get(0).transform()
                .orElseThrow().transform().expires()).isTrue();
        assertThat(problems(HEAD + "      ttl: 0s\n")).containsExactly("mqdb.yaml:8: channels[0].transform.ttl: a "
                + "ttl of 0 would remove every row at once; give a positive duration");
    }

    @Test
    void anUntypedSourceColumnMustBeConvertedForAComputedColumn() {
        assertThat(problems(channel("""
                subscribe: true
                transform:
                  source: [id, note]
                  columns: { computed: { shout: "note" } }
                """))).singleElement().asString().startsWith("mqdb.yaml:8: channels[0].transform.columns.computed"
                + ".shout: a computed column must give").contains("convert it");
    }

    @Test
    void theExampleTransformCompiles() throws Exception {
        Path example = Path.of("..", "examples", "sql-to-redis", "paid.yaml").toAbsolutePath().normalize();
        NodeConfig c = ConfigLoader.parse(java.nio.file.Files.readString(example), example, Map.of());
        ChannelTransform t = c.channels().get(0).transform().orElseThrow().transform();
        assertThat(t.keyPattern()).contains("paid:{id}");
        assertThat(t.kept("paid")).isFalse();
        assertThat(t.targetName("placed_at")).isEqualTo("placed");
        assertThat(t.columnsRead()).containsExactlyInAnyOrder("paid", "price", "qty");
    }
}
