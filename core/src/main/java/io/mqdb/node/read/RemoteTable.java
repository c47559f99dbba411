package io.mqdb.node.read;

import com.google.gson.Gson;
import com.google.gson.JsonObject;
import io.mqdb.spi.TableId;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * The embedding API's reads over MQTT of one channel ({@code MqdbNode#remote}): answered by the other nodes that serve
 * reads of it ({@code reads: true}), not by this node's store (its own session neither sees its own presence nor its
 * own requests). Thread-safe; each call blocks its caller until the answers came or the wait is over.
 */
public final class RemoteTable {
    private static final Gson GSON = new Gson();
    private final TableId table;
    private final RemoteReader reader;

    RemoteTable(TableId table, RemoteReader reader) {
        this.table = table;
        this.reader = reader;
    }

    /**
     * @param table the channel
     * @param reader the node's reader
     * @return the channel's remote reads
     */
    public static RemoteTable of(TableId table, RemoteReader reader) {
        return new RemoteTable(table, reader);
    }

    /**
     * Reads one key.
     *
     * @param key the key's columns and values (numbers, strings, booleans)
     * @param consistency how many replicas must answer
     * @param wait how long to wait for them
     * @return what was found; {@link RemoteReader.Result#reached()} false when too few answered
     * @throws io.mqdb.spi.RetriableException when the broker did not take the request
     * @throws InterruptedException when interrupted while waiting
     */
    public RemoteReader.Result get(Map<String, ?> key, RemoteReader.Consistency consistency, Duration wait)
            throws InterruptedException {
        return getAll(List.of(key), consistency, wait).get(0);
    }

    /**
     * Reads several keys in one request (at most 1,000).
     *
     * @param keys the keys
     * @param consistency how many replicas must answer
     * @param wait how long to wait for them
     * @return per key, in order, what was found
     * @throws io.mqdb.spi.RetriableException when the broker did not take the request
     * @throws InterruptedException when interrupted while waiting
     */
    public List<RemoteReader.Result> getAll(List<? extends Map<String, ?>> keys, RemoteReader.Consistency consistency,
            Duration wait) throws InterruptedException {
        List<JsonObject> json = new ArrayList<>();
        for (Map<String, ?> k : keys) {
            json.add(GSON.toJsonTree(k).getAsJsonObject());
        }
        return reader.read(table, json, consistency, wait);
    }
}
