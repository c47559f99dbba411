package io.mqdb.node.read;

import com.google.gson.Gson;
import com.google.gson.JsonObject;
import io.mqdb.spi.TableId;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * The embedding API's reads and acknowledged writes over MQTT of one channel ({@code MqdbNode#remote}): reads are
 * answered by the other nodes that serve reads of it ({@code reads: true}), writes confirmed by the other nodes that
 * subscribe it, never by this node's store (its own sessions neither see its own presence nor apply what it wrote).
 * Thread-safe; each call blocks its caller until the answers came or the wait is over.
 */
public final class RemoteTable {
    private static final Gson GSON = new Gson();
    private final TableId table;
    private final RemoteReader reader;
    private final RemoteWriter writer;

    RemoteTable(TableId table, RemoteReader reader, RemoteWriter writer) {
        this.table = table;
        this.reader = reader;
        this.writer = writer;
    }

    /**
     * @param table the channel
     * @param reader the node's reader
     * @param writer the node's writer, or null when this node may not write the channel over MQTT
     * @return the channel's remote reads and writes
     */
    public static RemoteTable of(TableId table, RemoteReader reader, RemoteWriter writer) {
        return new RemoteTable(table, reader, writer);
    }

    /**
     * Writes a row on the channel's subscribers and waits until as many as {@code acks} asks confirmed that their
     * stores committed it ({@code docs/writes.md}); retried within {@code wait}, safely (the same version each time).
     *
     * @param row the row, column to value (numbers, strings, booleans, null), with its key columns
     * @param acks ONE, QUORUM or ALL of the subscribers the presences name, online or not
     * @param wait how long to wait, retries included
     * @return who confirmed; {@link RemoteWriter.Result#reached()} false when too few did in time
     * @throws IllegalStateException when this node publishes the channel (write to its store instead: the capture
     *     publishes the change)
     * @throws io.mqdb.spi.RetriableException when the broker did not take the message
     * @throws InterruptedException when interrupted while waiting
     */
    public RemoteWriter.Result upsert(Map<String, ?> row, RemoteReader.Consistency acks, Duration wait)
            throws InterruptedException {
        return writer().write(table, List.of(row), List.of(), acks, wait);
    }

    /**
     * Deletes a key on the channel's subscribers, acknowledged as {@link #upsert}.
     *
     * @param key the key's columns and values
     * @param acks ONE, QUORUM or ALL of the subscribers
     * @param wait how long to wait, retries included
     * @return who confirmed
     * @throws IllegalStateException when this node publishes the channel
     * @throws io.mqdb.spi.RetriableException when the broker did not take the message
     * @throws InterruptedException when interrupted while waiting
     */
    public RemoteWriter.Result delete(Map<String, ?> key, RemoteReader.Consistency acks, Duration wait)
            throws InterruptedException {
        return writer().write(table, List.of(), List.of(key), acks, wait);
    }

    /**
     * @return the channel's subscribers as the presences say now, each with whether it is online: the replicas an
     *     acknowledged write counts (empty when this node publishes the channel)
     */
    public Map<String, Boolean> subscribers() {
        return writer == null ? Map.of() : writer.replicas(table);
    }

    private RemoteWriter writer() {
        if (writer == null) {
            throw new IllegalStateException("this node publishes " + table + ": write to its store, its capture "
                    + "publishes the change (a write over MQTT from the channel's own publisher could be undone by "
                    + "its next snapshot merge)");
        }
        return writer;
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
