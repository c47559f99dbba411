package io.mqdb.node.deadletter;

import io.mqdb.codec.Topics;
import io.mqdb.node.deadletter.DeadLetterFiles.Letter;
import io.mqdb.spi.MqdbException;
import io.mqdb.spi.TableId;
import io.mqdb.transport.Transport;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.Consumer;

/**
 * Publishes dead letters again to their channel topic (QoS 1, each waiting for the broker's acknowledgement) and
 * moves the acknowledged ones to {@code dead-letters/replayed/} with {@link DeadLetterFiles#markReplayed}. Used by
 * {@code mqdb dead-letters replay} (its own MQTT session) and by a node's admin API (the node's control session). A
 * replayed letter that fails again becomes a new dead letter on the subscriber.
 *
 * <p>Stateless; runs on the caller's thread, which it blocks while it waits for acknowledgements. The caller holds
 * the folder's {@link DeadLetterFiles#lockReplays replay lock}.
 */
public final class DeadLetterReplay {
    private DeadLetterReplay() {
    }

    /**
     * Publishes table by table, in line order; moves what the broker acknowledged even when a later one fails.
     *
     * @param transport a started transport
     * @param topics the cluster's topics
     * @param dir the dead-letter folder
     * @param chosen the letters, each with a payload
     * @param timeout how long to wait for each acknowledgement
     * @param replayed told of each letter the broker acknowledged, with its topic
     * @return how many were replayed
     * @throws MqdbException when a publish failed or was not acknowledged in time (those before it are moved)
     * @throws InterruptedException when interrupted while waiting (those before it are moved)
     */
    public static int publish(Transport transport, Topics topics, Path dir, List<Letter> chosen, Duration timeout,
            Consumer<String> replayed) throws InterruptedException {
        Map<TableId, List<Letter>> byFile = new LinkedHashMap<>();
        chosen.forEach(l -> byFile.computeIfAbsent(l.table(), k -> new ArrayList<>()).add(l));
        int done = 0;
        for (Map.Entry<TableId, List<Letter>> e : byFile.entrySet()) {
            List<Letter> sent = new ArrayList<>();
            try {
                for (Letter l : e.getValue()) {
                    String topic = topics.channel(l.channel());
                    byte[] payload = l.payload().orElseThrow();
                    await(transport.publish(topic, payload, false), l, topic, timeout);
                    sent.add(l);
                    replayed.accept("replayed " + l.id() + " to " + topic + " (" + payload.length + " B)");
                }
            } finally {
                DeadLetterFiles.markReplayed(dir, e.getKey(), sent, Instant.now());
                done += sent.size();
            }
        }
        return done;
    }

    private static void await(CompletableFuture<Void> ack, Letter l, String topic, Duration timeout)
            throws InterruptedException {
        try {
            ack.get(timeout.toMillis(), TimeUnit.MILLISECONDS);
        } catch (ExecutionException e) {
            throw new MqdbException("replay of " + l.id() + " to " + topic + " failed: "
                    + e.getCause().getMessage() + "; it stays a dead letter", e.getCause());
        } catch (TimeoutException e) {
            throw new MqdbException("replay of " + l.id() + " to " + topic + ": no acknowledgement within "
                    + timeout.toSeconds() + " s; it stays a dead letter (the broker may still deliver it)", e);
        }
    }
}
