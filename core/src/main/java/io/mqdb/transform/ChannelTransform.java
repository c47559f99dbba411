package io.mqdb.transform;

import io.mqdb.spi.ChangeEvent;
import io.mqdb.spi.Column;
import io.mqdb.spi.ColumnType;
import io.mqdb.spi.InvalidDataException;
import io.mqdb.spi.Mutation;
import io.mqdb.spi.Op;
import io.mqdb.spi.Row;
import io.mqdb.spi.TableSchema;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;

/**
 * The compiled transform of one subscribed channel ({@code transform:}): which source columns reach the target and
 * under which names, the computed columns, the filter, the time to live and the target key pattern. Built once by
 * the config reader, with every name already checked against the declared source columns; immutable and thread-safe.
 *
 * <p>What it makes of a change, given the row's full source state ({@link #apply}):
 * <ul>
 *   <li>a delete stays a delete;</li>
 *   <li>an upsert whose row does not pass the filter becomes a delete of its key: a row that stops matching leaves
 *   the target, and one that never matched is not written;</li>
 *   <li>an upsert that passes keeps the columns it carries that are kept (include / exclude), under their target
 *   names (rename), plus every computed column, evaluated on the full state; it carries the expiry of {@code ttl}.
 *   A partial update stays partial: columns it does not carry keep their stored values on the target.</li>
 * </ul>
 */
public final class ChannelTransform {
    /** The time to live of {@code transform.ttl}: a fixed duration, or an expression. */
    public sealed interface Ttl permits FixedTtl, ExpressionTtl {
    }

    /** @param duration every upserted row lives this long from its apply */
    public record FixedTtl(Duration duration) implements Ttl {
    }

    /** @param expression a timestamp (when the row expires) or a duration (from its apply); null: never */
    public record ExpressionTtl(RowExpression expression) implements Ttl {
    }

    /**
     * What a change becomes on the target.
     *
     * @param event the change to apply: the target row, or a delete
     * @param expiresAt for an upsert, {@link Mutation.Upsert#expiresAt()}; null otherwise or without {@code ttl}
     */
    public record Outcome(ChangeEvent event, Instant expiresAt) {
        /** @return the store mutation */
        public Mutation toMutation() {
            return event.op() == Op.UPSERT ? new Mutation.Upsert(event.row(), event.version(), expiresAt)
                    : event.toMutation();
        }
    }

    private final Map<String, ColumnType> source;
    private final Set<String> include;
    private final Set<String> exclude;
    private final Map<String, String> rename;
    private final Map<String, String> renamedBack;
    private final Map<String, RowExpression> computed;
    private final Optional<RowExpression> filter;
    private final Optional<Ttl> ttl;
    private final Optional<String> keyPattern;
    private final Set<String> columnsRead;
    private final Clock clock;

    /**
     * @param source the declared source columns with their types (null: untyped), in declaration order
     * @param include the only source columns kept, or empty to keep all but {@code exclude}
     * @param exclude source columns dropped (empty when {@code include} is given)
     * @param rename source column to its target name
     * @param computed target column to the expression computing it, in declaration order
     * @param filter the rows kept on the target, or empty for all
     * @param ttl the rows' time to live, or empty
     * @param keyPattern the target key pattern (Redis), or empty
     * @param clock the clock a duration-ttl counts from
     */
    public ChannelTransform(Map<String, ColumnType> source, Set<String> include, Set<String> exclude,
                            Map<String, String> rename, Map<String, RowExpression> computed,
                            Optional<RowExpression> filter, Optional<Ttl> ttl, Optional<String> keyPattern,
                            Clock clock) {
        this.source = java.util.Collections.unmodifiableMap(new LinkedHashMap<>(source));
        this.include = Set.copyOf(include);
        this.exclude = Set.copyOf(exclude);
        this.rename = Map.copyOf(rename);
        Map<String, String> back = new HashMap<>();
        rename.forEach((from, to) -> back.put(to, from));
        this.renamedBack = Map.copyOf(back);
        this.computed = java.util.Collections.unmodifiableMap(new LinkedHashMap<>(computed));
        this.filter = Objects.requireNonNull(filter, "filter");
        this.ttl = Objects.requireNonNull(ttl, "ttl");
        this.keyPattern = Objects.requireNonNull(keyPattern, "keyPattern");
        this.clock = Objects.requireNonNull(clock, "clock");
        Set<String> read = new LinkedHashSet<>();
        filter.ifPresent(f -> read.addAll(f.columnsRead()));
        computed.values().forEach(c -> read.addAll(c.columnsRead()));
        ttl.ifPresent(t -> {
            if (t instanceof ExpressionTtl e) {
                read.addAll(e.expression().columnsRead());
            }
        });
        this.columnsRead = Set.copyOf(read);
    }

    /** @return the declared source columns and their types (null: untyped) */
    public Map<String, ColumnType> source() {
        return source;
    }

    /** @return the source columns some expression reads: an update must carry them, or they are looked up */
    public Set<String> columnsRead() {
        return columnsRead;
    }

    /** @return the target key pattern ({@code transform.key}), for the store */
    public Optional<String> keyPattern() {
        return keyPattern;
    }

    /** @return whether rows get an expiry ({@code transform.ttl}): they then leave the target by themselves */
    public boolean expires() {
        return ttl.isPresent();
    }

    /** @return whether the source column reaches the target */
    public boolean kept(String column) {
        return include.isEmpty() ? !exclude.contains(column) : include.contains(column);
    }

    /** @return the target name of a source column */
    public String targetName(String column) {
        return rename.getOrDefault(column, column);
    }

    /**
     * The target table for a publisher's schema: its kept columns under their target names, in its order, then the
     * computed columns (nullable); its key, renamed.
     *
     * @param sent the publisher's schema of the table
     * @return the target schema
     * @throws InvalidDataException when the publisher's schema lacks a declared source column or has it with another
     *     type, when a key column is not kept, or when two columns get one target name
     */
    public TableSchema targetSchema(TableSchema sent) {
        for (Map.Entry<String, ColumnType> d : source.entrySet()) {
            Optional<Column> c = sent.column(d.getKey());
            if (c.isEmpty()) {
                throw new InvalidDataException(sent.table() + ": the channel's transform.source declares column "
                        + d.getKey() + ", which the publisher's schema does not have (it has "
                        + names(sent.columns()) + ")");
            }
            if (d.getValue() != null && c.get().type() != d.getValue()) {
                throw new InvalidDataException(sent.table() + ": the channel's transform.source declares column "
                        + d.getKey() + " as " + lower(d.getValue()) + ", the publisher sends " + lower(c.get().type()));
            }
        }
        List<Column> columns = new ArrayList<>();
        Set<String> names = new LinkedHashSet<>();
        for (Column c : sent.columns()) {
            if (!kept(c.name())) {
                if (sent.primaryKey().contains(c.name())) {
                    throw new InvalidDataException(sent.table() + ": the transform drops key column " + c.name()
                            + "; key columns must reach the target (rename them if needed)");
                }
                continue;
            }
            String name = targetName(c.name());
            if (!names.add(name)) {
                throw new InvalidDataException(sent.table() + ": two columns get the target name " + name);
            }
            columns.add(new Column(name, c.type(), c.nullable()));
        }
        for (Map.Entry<String, RowExpression> e : computed.entrySet()) {
            if (!names.add(e.getKey())) {
                throw new InvalidDataException(sent.table() + ": computed column " + e.getKey()
                        + " has the name of a column the publisher sends; rename or exclude that one");
            }
            columns.add(new Column(e.getKey(), e.getValue().resultType().orElseThrow(), true));
        }
        List<String> key = new ArrayList<>();
        for (String k : sent.primaryKey()) {
            key.add(targetName(k));
        }
        return new TableSchema(sent.table(), columns, key);
    }

    /**
     * The source columns a target row holds, under their source names: what a partial update's missing columns are
     * looked up in. Computed columns and columns the transform drops are not there.
     *
     * @param target a row of the target table
     * @return its kept source columns
     */
    public Row sourceColumnsOf(Row target) {
        Map<String, Object> out = new LinkedHashMap<>();
        for (Map.Entry<String, Object> e : target.values().entrySet()) {
            String name = renamedBack.getOrDefault(e.getKey(), e.getKey());
            if (computed.containsKey(e.getKey()) && !renamedBack.containsKey(e.getKey())) {
                continue;
            }
            if (kept(name) && targetName(name).equals(e.getKey())) {
                out.put(name, e.getValue());
            }
        }
        return Row.of(out);
    }

    /**
     * @param event a change as received, in source columns
     * @param state for an upsert, the row's full source state after it (the event's columns over what was known of
     *     the row before); it must hold every column of {@link #columnsRead()}. Ignored for a delete
     * @return what to apply on the target
     * @throws InvalidDataException when the state lacks a column an expression reads, or an expression fails: the
     *     event is dead-lettered with the reason
     */
    public Outcome apply(ChangeEvent event, Row state) {
        if (event.op() == Op.DELETE) {
            return new Outcome(event, null);
        }
        Map<String, Object> variables = variables(state);
        if (filter.isPresent()) {
            Object pass = filter.get().evaluate(variables);
            if (!(pass instanceof Boolean b)) {
                throw new InvalidDataException("filter \"" + filter.get() + "\" gave " + pass + ", not true or false");
            }
            if (!b) {
                return new Outcome(new ChangeEvent(event.table(), Op.DELETE, event.key(), null, event.version(),
                        event.sequence()), null);
            }
        }
        Map<String, Object> out = new LinkedHashMap<>();
        for (Map.Entry<String, Object> e : event.row().values().entrySet()) {
            if (kept(e.getKey())) {
                out.put(targetName(e.getKey()), e.getValue());
            }
        }
        for (Map.Entry<String, RowExpression> c : computed.entrySet()) {
            Object value = c.getValue().evaluate(variables);
            try {
                out.put(c.getKey(), c.getValue().resultType().orElseThrow().normalize(value));
            } catch (InvalidDataException e) {
                throw new InvalidDataException("computed column " + c.getKey() + ": " + e.getMessage(), e);
            }
        }
        return new Outcome(new ChangeEvent(event.table(), Op.UPSERT, event.key(), Row.of(out), event.version(),
                event.sequence()), expiry(variables));
    }

    private Instant expiry(Map<String, Object> variables) {
        if (ttl.isEmpty()) {
            return null;
        }
        if (ttl.get() instanceof FixedTtl f) {
            return clock.instant().plus(f.duration());
        }
        RowExpression e = ((ExpressionTtl) ttl.get()).expression();
        Object value = e.evaluate(variables);
        if (value == null) {
            return Mutation.Upsert.NEVER_EXPIRES;
        }
        if (value instanceof Instant i) {
            return i;
        }
        if (value instanceof Duration d) {
            return clock.instant().plus(d);
        }
        throw new InvalidDataException("ttl \"" + e + "\" gave " + value + ", not a timestamp or a duration");
    }

    private Map<String, Object> variables(Row state) {
        List<String> missing = new ArrayList<>();
        for (String c : columnsRead) {
            if (!state.has(c)) {
                missing.add(c);
            }
        }
        if (!missing.isEmpty()) {
            throw new InvalidDataException("the transform reads " + String.join(", ", missing) + ", which this "
                    + "update does not carry and the target does not hold for the row (a partial update of a row "
                    + "the target has not got, or of a column the transform drops)");
        }
        Map<String, Object> out = new HashMap<>();
        for (String c : source.keySet()) {
            if (state.has(c)) {
                out.put(c, CelValues.toCel(state.get(c)));
            }
        }
        return out;
    }

    private static String names(List<Column> columns) {
        List<String> out = new ArrayList<>();
        for (Column c : columns) {
            out.add(c.name());
        }
        return String.join(", ", out);
    }

    private static String lower(ColumnType t) {
        return t.name().toLowerCase(java.util.Locale.ROOT);
    }
}
