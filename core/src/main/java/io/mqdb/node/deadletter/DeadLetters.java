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
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Instant;
import java.util.Base64;
import java.util.HexFormat;
import java.util.stream.Stream;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Where events that can never be applied go, with their reason, so the channel keeps going and nothing is lost
 * silently: one JSON line per dead letter in {@code <data-dir>/dead-letters/<schema>.<table>.jsonl} (written and
 * flushed before the message is acknowledged), and a copy published to the dead-letter topic for monitoring.
 *
 * <p>Bounded, since anyone who may publish on a channel can make dead letters: the files keep each letter's whole
 * payload while the folder holds less than {@code maxBytes} ({@code node.dead-letter-max-mb}); beyond, a letter keeps
 * its reason, size and SHA-256 but not its payload, so a flood of hostile messages cannot fill the disk. The copy on
 * the topic carries the payload only up to {@link #MAX_TOPIC_PAYLOAD_BYTES}.
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
    private final long maxBytes;
    /** The bytes of the folder's files, read at the first letter, then counted; guarded by {@code this}. */
    private long folderBytes = -1;
    private final io.mqdb.node.runtime.RefusalLog dropped = new io.mqdb.node.runtime.RefusalLog(LOG);

    /** The largest payload copied onto the dead-letter topic; a larger one is in the file only. */
    public static final int MAX_TOPIC_PAYLOAD_BYTES = 64 << 10;

    /** Dead letters with the default folder bound, {@link io.mqdb.config.NodeSection#DEFAULT_DEAD_LETTER_MAX_MB}. */
    public DeadLetters(Path dir, String node, Topics topics, Transport transport, NodeMetrics metrics) {
        this(dir, node, topics, transport, metrics,
                (long) io.mqdb.config.NodeSection.DEFAULT_DEAD_LETTER_MAX_MB << 20);
    }

    /**
     * @param maxBytes the folder size beyond which letters are kept without their payload
     */
    public DeadLetters(Path dir, String node, Topics topics, Transport transport, NodeMetrics metrics,
            long maxBytes) {
        this.dir = dir;
        this.node = node;
        this.topics = topics;
        this.transport = transport;
        this.metrics = metrics;
        this.maxBytes = maxBytes;
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
        o.addProperty("payloadBytes", payload.length);
        String text = utf8OrNull(payload);
        JsonObject topicCopy = o.deepCopy();
        if (payload.length <= MAX_TOPIC_PAYLOAD_BYTES) {
            addPayload(topicCopy, payload, text);
        } else {
            topicCopy.addProperty("payloadSha256", sha256(payload));
            topicCopy.addProperty("payloadDropped", "over " + MAX_TOPIC_PAYLOAD_BYTES + " bytes: in "
                    + node + "'s dead-letter file only");
        }
        LOG.warn("dead letter on {}: {}", table, reason);
        synchronized (this) {
            try {
                Files.createDirectories(dir);
                if (folderBytes < 0) {
                    folderBytes = folderBytes(dir);
                }
                if (folderBytes + payload.length > maxBytes) {
                    metrics.deadLetterPayloadsDropped.increment();
                    o.addProperty("payloadSha256", sha256(payload));
                    o.addProperty("payloadDropped", "the dead-letter folder holds " + (folderBytes >> 20)
                            + " MiB, node.dead-letter-max-mb is " + (maxBytes >> 20));
                    dropped.warn("node " + node + ": dead letters are kept without their payload: the folder "
                            + dir + " holds " + (folderBytes >> 20) + " MiB, node.dead-letter-max-mb is "
                            + (maxBytes >> 20) + " (move or delete old files; mqdb dead-letters list shows them)");
                } else {
                    addPayload(o, payload, text);
                }
                String line = o.toString();
                Path f = dir.resolve(table.schema() + "." + table.table() + ".jsonl");
                try (Writer w = Files.newBufferedWriter(f, StandardCharsets.UTF_8, StandardOpenOption.CREATE,
                        StandardOpenOption.APPEND)) {
                    w.write(line);
                    w.write('\n');
                }
                folderBytes += line.getBytes(StandardCharsets.UTF_8).length + 1;
            } catch (IOException e) {
                throw new MqdbException("cannot write dead letter to " + dir + ": " + e.getMessage(), e);
            }
        }
        transport.publish(topics.deadLetter(node, table), topicCopy.toString().getBytes(StandardCharsets.UTF_8),
                false).exceptionally(t -> null);
    }

    private static void addPayload(JsonObject o, byte[] payload, String text) {
        if (text != null) {
            o.addProperty("payload", text);
        } else {
            o.addProperty("payloadBase64", Base64.getEncoder().encodeToString(payload));
        }
    }

    private static long folderBytes(Path dir) throws IOException {
        try (Stream<Path> files = Files.list(dir)) {
            long sum = 0;
            for (Path f : (Iterable<Path>) files::iterator) {
                if (Files.isRegularFile(f)) {
                    sum += Files.size(f);
                }
            }
            return sum;
        }
    }

    private static String sha256(byte[] payload) {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(payload));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("the JDK has no SHA-256", e);
        }
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
