package io.mqdb.node.deadletter;

import com.google.gson.JsonObject;
import io.mqdb.codec.Topics;
import io.mqdb.node.NodeMetrics;
import io.mqdb.spi.MqdbException;
import io.mqdb.spi.TableId;
import io.mqdb.transport.Transport;
import java.io.IOException;
import java.io.Writer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Instant;
import java.util.Base64;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Where events that can never be applied go, with their reason, so the channel keeps going and nothing is lost
 * silently: one JSON line per dead letter in {@code <data-dir>/dead-letters/<schema>.<table>.jsonl} (written and
 * flushed before the message is acknowledged), and a copy published to the dead-letter topic for monitoring.
 *
 * <p>Thread-safe; apply threads call {@link #record}.
 */
public final class DeadLetters {
    private static final Logger LOG = LoggerFactory.getLogger(DeadLetters.class);
    private final Path dir;
    private final String node;
    private final Topics topics;
    private final Transport transport;
    private final NodeMetrics metrics;

    public DeadLetters(Path dir, String node, Topics topics, Transport transport, NodeMetrics metrics) {
        this.dir = dir;
        this.node = node;
        this.topics = topics;
        this.transport = transport;
        this.metrics = metrics;
    }

    /**
     * Records one dead letter.
     *
     * @param table the channel it arrived on
     * @param topic the MQTT topic
     * @param payload the whole message, or the one event's JSON
     * @param reason why it cannot be applied
     */
    public void record(TableId table, String topic, byte[] payload, String reason) {
        metrics.deadLetters.increment();
        metrics.deadLetters(table).increment();
        JsonObject o = new JsonObject();
        o.addProperty("time", Instant.now().toString());
        o.addProperty("node", node);
        o.addProperty("channel", table.toString());
        o.addProperty("topic", topic);
        o.addProperty("reason", reason);
        String text = utf8OrNull(payload);
        if (text != null) {
            o.addProperty("payload", text);
        } else {
            o.addProperty("payloadBase64", Base64.getEncoder().encodeToString(payload));
        }
        String line = o.toString();
        LOG.warn("dead letter on {}: {}", table, reason);
        synchronized (this) {
            try {
                Files.createDirectories(dir);
                Path f = dir.resolve(table.schema() + "." + table.table() + ".jsonl");
                try (Writer w = Files.newBufferedWriter(f, StandardCharsets.UTF_8, StandardOpenOption.CREATE,
                        StandardOpenOption.APPEND)) {
                    w.write(line);
                    w.write('\n');
                }
            } catch (IOException e) {
                throw new MqdbException("cannot write dead letter to " + dir + ": " + e.getMessage(), e);
            }
        }
        transport.publish(topics.deadLetter(node, table), line.getBytes(StandardCharsets.UTF_8), false)
                .exceptionally(t -> null);
    }

    /** @return the folder holding the dead-letter files */
    public Path dir() {
        return dir;
    }

    private static String utf8OrNull(byte[] payload) {
        try {
            return StandardCharsets.UTF_8.newDecoder().decode(java.nio.ByteBuffer.wrap(payload)).toString();
        } catch (CharacterCodingException e) {
            return null;
        }
    }
}
