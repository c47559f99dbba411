package io.mqdb.spi;

import java.nio.file.Path;
import java.util.List;
import java.util.Map;

/**
 * What the runtime offers a store beside its settings. Handed to {@link StoreProvider#open}; immutable, any thread.
 */
public interface StoreContext {

    /** @return the name of the node opening the store, e.g. for a trigger that tags its changes */
    String nodeName();

    /**
     * @return a folder that belongs to this store alone, under the node's data folder; it exists. Embedded stores
     *     keep their files here unless configured otherwise.
     */
    Path dataDir();

    /**
     * The replica keys the node's config names for this store's tables (a channel's {@code key: [col, ...]}): for
     * each such table, the columns that identify its rows, in key order. Empty for tables without one.
     *
     * <p>A store whose tables may lack a primary key (SQL databases) honours them in {@link TableAccess#describe}:
     * <ul>
     *   <li>a table without a primary key is described with these columns as its {@link TableSchema#primaryKey()},
     *   which then is the key of everything downstream (capture, {@link TableAccess#scan} order and cursor,
     *   {@link TableAccess#get}, upserts and deletes, the schema subscribers create the table from), provided every
     *   column exists, is NOT NULL and the columns are exactly those of one unique constraint or unique index
     *   (not partial, no expressions), so that they identify a row as a primary key would;</li>
     *   <li>a table with a primary key accepts only that key, in its order;</li>
     *   <li>otherwise {@code describe} throws an {@link MqdbException} naming the table, the columns and what is
     *   wrong, and the runtime fails that channel alone.</li>
     * </ul>
     * A store that ignores them (its tables always have a key) is fine: the runtime itself refuses a channel whose
     * described primary key differs from its configured key.
     *
     * <p>Added in issue 12; the default (no replica keys) keeps older adapters and test contexts working.
     *
     * @return table to replica-key columns; immutable
     */
    default Map<TableId, List<String>> replicaKeys() {
        return Map.of();
    }

    /**
     * The key patterns the node's channels name for this store's tables ({@code transform.key} of a subscribed
     * channel), in the store's own pattern syntax (Redis: {@code order:{id}}). A store that names rows by key
     * ({@link Store#takesKeyPatterns()}) uses a table's pattern for every row of it, and refuses at {@code open}, with
     * the pattern's {@link KeyPatternSource#where()}, a pattern it cannot parse or one that clashes with its own
     * settings. Other stores ignore them (the runtime refuses such channels).
     *
     * <p>Added in issue 19; the default (none) keeps older adapters and test contexts working.
     *
     * @return table to its channel's key pattern; immutable
     */
    default Map<TableId, KeyPatternSource> keyPatterns() {
        return Map.of();
    }
}
