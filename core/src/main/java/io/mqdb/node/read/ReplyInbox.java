package io.mqdb.node.read;

import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import io.mqdb.transport.Transport;
import java.nio.charset.StandardCharsets;
import java.security.SecureRandom;
import java.util.HexFormat;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.LinkedBlockingQueue;

/**
 * One response topic of an asker ({@link RemoteReader}, {@link RemoteWriter}): hands each JSON answer that arrives on
 * it to the request whose random correlation data it carries; answers to nobody (a request that gave up) are
 * dropped. A malformed answer reaches its request as {@code {"node":"?","error":"a malformed answer: ..."}}.
 *
 * <h2>Threads</h2>
 * {@link #subscribe} once; {@link #open} and {@link #close} from any thread; answers are queued on the transport's
 * callback thread.
 */
final class ReplyInbox {
    private static final SecureRandom RANDOM = new SecureRandom();
    private final Transport transport;
    private final String topic;
    private final Map<String, LinkedBlockingQueue<JsonObject>> waiting = new ConcurrentHashMap<>();

    /** A request's correlation data and the queue its answers arrive in. */
    record Request(byte[] correlation, LinkedBlockingQueue<JsonObject> answers) {
    }

    ReplyInbox(Transport transport, String topic) {
        this.transport = transport;
        this.topic = topic;
    }

    /** @return the response topic */
    String topic() {
        return topic;
    }

    /** Subscribes the response topic. Once. */
    void subscribe() {
        transport.subscribe(topic, m -> {
            m.ack();
            LinkedBlockingQueue<JsonObject> q = waiting.get(HexFormat.of().formatHex(m.correlationData()));
            if (q != null) {
                try {
                    q.add(JsonParser.parseString(new String(m.payload(), StandardCharsets.UTF_8)).getAsJsonObject());
                } catch (RuntimeException e) {
                    JsonObject bad = new JsonObject();
                    bad.addProperty("node", "?");
                    bad.addProperty("error", "a malformed answer: " + e.getMessage());
                    q.add(bad);
                }
            }
        });
    }

    /** @return a new request with random correlation data, receiving answers until {@link #close} */
    Request open() {
        byte[] correlation = new byte[16];
        RANDOM.nextBytes(correlation);
        Request r = new Request(correlation, new LinkedBlockingQueue<>());
        waiting.put(HexFormat.of().formatHex(correlation), r.answers());
        return r;
    }

    /** Stops receiving a request's answers. */
    void close(Request r) {
        waiting.remove(HexFormat.of().formatHex(r.correlation()));
    }
}
