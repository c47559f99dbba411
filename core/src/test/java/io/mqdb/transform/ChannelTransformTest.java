package io.mqdb.transform;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.mqdb.spi.ChangeEvent;
import io.mqdb.spi.Column;
import io.mqdb.spi.ColumnType;
import io.mqdb.spi.InvalidDataException;
import io.mqdb.spi.Key;
import io.mqdb.spi.Mutation;
import io.mqdb.spi.Op;
import io.mqdb.spi.Row;
import io.mqdb.spi.TableId;
import io.mqdb.spi.TableSchema;
import io.mqdb.spi.Version;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import org.junit.jupiter.api.Test;

/** The rules of a channel's transform, over rows in memory: filter in and out, rename, computed columns, ttl. */
class ChannelTransformTest {
    private static final TableId T = TableId.parse("shop:orders");
    private static final Instant NOW = Instant.parse("2026-12-03T12:00:00Z");
    private static final Map<String, ColumnType> SOURCE = new LinkedHashMap<>();

    static {
        SOURCE.put("id", ColumnType.INT64);
        SOURCE.put("status", ColumnType.STRING);
        SOURCE.put("amount", ColumnType.DOUBLE);
        SOURCE.put("customer_id", ColumnType.INT64);
        SOURCE.put("expires_at", ColumnType.TIMESTAMP);
    }

    private static final TableSchema SENT = new TableSchema(T, List.of(new Column("id", ColumnType.INT64, false),
            Column.of("status", ColumnType.STRING), Column.of("amount", ColumnType.DOUBLE),
            Column.of("customer_id", ColumnType.INT64), Column.of("expires_at", ColumnType.TIMESTAMP),
            Column.of("note", ColumnType.STRING)), List.of("id"));

    private final ExpressionCompiler compiler = new ExpressionCompiler(SOURCE);
    private final ChannelTransform transform;

    ChannelTransformTest() throws ExpressionException {
        transform = new ChannelTransform(SOURCE, Set.of(), Set.of("note"), Map.of("customer_id", "customer"),
                Map.of("amount_cents", compiler.compile("int(amount * 100.0)", ExpressionCompiler.Result.COLUMN)),
                Optional.of(compiler.compile("status != 'draft' && amount > 0.0",
                        ExpressionCompiler.Result.BOOLEAN)),
                Optional.of(new ChannelTransform.ExpressionTtl(compiler.compile("expires_at",
                        ExpressionCompiler.Result.EXPIRY))),
                Optional.of("order:{id}"), Clock.fixed(NOW, ZoneOffset.UTC));
    }

    private static ChangeEvent upsert(long seq, Map<String, Object> row) {
        return new ChangeEvent(T, Op.UPSERT, Key.of(row.get("id")), Row.of(row), new Version(seq, "a"), seq);
    }

    private static Map<String, Object> row(Object... kv) {
        Map<String, Object> m = new LinkedHashMap<>();
        for (int i = 0; i < kv.length; i += 2) {
            m.put((String) kv[i], kv[i + 1]);
        }
        return m;
    }

    @Test
    void theTargetSchemaKeepsRenamesAndComputes() {
        TableSchema target = transform.targetSchema(SENT);
        assertThat(target.columns()).extracting(Column::name)
                .containsExactly("id", "status", "amount", "customer", "expires_at", "amount_cents");
        assertThat(target.column("amount_cents").orElseThrow().type()).isEqualTo(ColumnType.INT64);
        assertThat(target.primaryKey()).containsExactly("id");
    }

    @Test
    void aPublisherSchemaThatDisagreesWithTheDeclaredSourceIsRefused() {
        TableSchema other = new TableSchema(T, List.of(new Column("id", ColumnType.INT64, false),
                Column.of("status", ColumnType.STRING), Column.of("amount", ColumnType.DECIMAL),
                Column.of("customer_id", ColumnType.INT64), Column.of("expires_at", ColumnType.TIMESTAMP)),
                List.of("id"));
        assertThatThrownBy(() -> transform.targetSchema(other)).isInstanceOf(InvalidDataException.class)
                .hasMessageContaining("declares column amount as double, the publisher sends decimal");
    }

    @Test
    void aRowThatStopsMatchingBecomesADeleteAndOneThatStartsMatchingAnUpsert() throws Exception {
        Map<Key, Row> target = new HashMap<>();
        EventTransformer tx = new EventTransformer(transform, k -> Optional.ofNullable(target.get(k)));
        ChannelTransform.Outcome paid = tx.transform(upsert(1, row("id", 1L, "status", "paid", "amount", 12.5,
                "customer_id", 7L, "expires_at", NOW.plusSeconds(60), "note", "n")));
        assertThat(paid.event().op()).isEqualTo(Op.UPSERT);
        assertThat(paid.event().row().values()).containsExactly(Map.entry("id", 1L), Map.entry("status", "paid"),
                Map.entry("amount", 12.5), Map.entry("customer", 7L), Map.entry("expires_at", NOW.plusSeconds(60)),
                Map.entry("amount_cents", 1250L));
        assertThat(paid.expiresAt()).isEqualTo(NOW.plusSeconds(60));

        ChannelTransform.Outcome draft = tx.transform(upsert(2, row("id", 1L, "status", "draft", "amount", 12.5,
                "customer_id", 7L, "expires_at", null)));
        assertThat(draft.event().op()).isEqualTo(Op.DELETE);
        assertThat(draft.event().key()).isEqualTo(Key.of(1L));
        assertThat(draft.toMutation()).isInstanceOf(Mutation.Delete.class);

        ChannelTransform.Outcome back = tx.transform(upsert(3, row("id", 1L, "status", "paid", "amount", 3.0,
                "customer_id", 7L, "expires_at", null)));
        assertThat(back.event().op()).isEqualTo(Op.UPSERT);
        assertThat(back.expiresAt()).isEqualTo(Mutation.Upsert.NEVER_EXPIRES);
        assertThat(tx.readBacks()).isZero();
    }

    @Test
    void aPartialUpdateIsEvaluatedOnTheRowTheTargetHoldsAndStaysPartial() throws Exception {
        Map<Key, Row> target = new HashMap<>();
        target.put(Key.of(1L), Row.of(row("id", 1L, "status", "paid", "amount", 12.5, "customer", 7L,
                "expires_at", null, "amount_cents", 1250L)));
        EventTransformer tx = new EventTransformer(transform, k -> Optional.ofNullable(target.get(k)));
        ChannelTransform.Outcome o = tx.transform(upsert(1, row("id", 1L, "customer_id", 9L)));
        assertThat(o.event().row().values()).containsExactly(Map.entry("id", 1L), Map.entry("customer", 9L),
                Map.entry("amount_cents", 1250L));
        assertThat(tx.readBacks()).isEqualTo(1);

        // Later in the same batch: the batch's own state, not the (not yet written) target.
        ChannelTransform.Outcome out = tx.transform(upsert(2, row("id", 1L, "status", "draft")));
        assertThat(out.event().op()).isEqualTo(Op.DELETE);
        assertThat(tx.readBacks()).isEqualTo(1);
        assertThatThrownBy(() -> tx.transform(upsert(3, row("id", 1L, "amount", 5.0))))
                .isInstanceOf(InvalidDataException.class).hasMessageContaining("the transform reads")
                .hasMessageContaining("status");
        tx.batchDone();
    }

    @Test
    void aPartialUpdateOfARowTheTargetHasNotGotIsRefusedWithTheColumnsItLacks() {
        EventTransformer tx = new EventTransformer(transform, k -> Optional.empty());
        assertThatThrownBy(() -> tx.transform(upsert(1, row("id", 5L, "status", "paid"))))
                .isInstanceOf(InvalidDataException.class)
                .hasMessageContaining("amount").hasMessageContaining("expires_at");
    }

    @Test
    void anEvaluationErrorIsInvalidData() throws Exception {
        RowExpression e = compiler.compile("amount > 0.0", ExpressionCompiler.Result.BOOLEAN);
        Map<String, Object> nullAmount = new HashMap<>();
        nullAmount.put("amount", CelValues.toCel(null));
        assertThatThrownBy(() -> e.evaluate(nullAmount)).isInstanceOf(InvalidDataException.class)
                .hasMessageContaining("amount > 0.0");
        RowExpression guarded = compiler.compile("amount != null && amount > 0.0", ExpressionCompiler.Result.BOOLEAN);
        assertThat(guarded.evaluate(nullAmount)).isEqualTo(false);
    }

    @Test
    void aDurationTtlCountsFromNow() throws Exception {
        ChannelTransform t = new ChannelTransform(SOURCE, Set.of(), Set.of(), Map.of(), Map.of(), Optional.empty(),
                Optional.of(new ChannelTransform.ExpressionTtl(compiler.compile(
                        "status == 'hot' ? duration('60s') : duration('3600s')", ExpressionCompiler.Result.EXPIRY))),
                Optional.empty(), Clock.fixed(NOW, ZoneOffset.UTC));
        assertThat(t.apply(upsert(1, row("id", 1L, "status", "hot")), Row.of(row("id", 1L, "status", "hot")))
                .expiresAt()).isEqualTo(NOW.plus(Duration.ofSeconds(60)));
    }

    @Test
    void theExpressionsOfTheDocsCompile() throws Exception {
        assertThat(compiler.compile("'#' + string(id) + ' ' + status", ExpressionCompiler.Result.COLUMN)
                .resultType()).contains(ColumnType.STRING);
        assertThat(compiler.compile("status == 'hot' ? duration('60s') : duration('86400s')",
                ExpressionCompiler.Result.EXPIRY).columnsRead()).containsExactly("status");
        assertThat(compiler.compile("expires_at", ExpressionCompiler.Result.EXPIRY).resultType())
                .contains(ColumnType.TIMESTAMP);
    }
}
