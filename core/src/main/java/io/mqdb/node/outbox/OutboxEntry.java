package io.mqdb.node.outbox;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;

/**
 * One MQTT message waiting in a publisher's outbox, as stored in the {@link io.mqdb.queue.DurableQueue}: the topic,
 * whether it is retained, the channel and sequence numbers of the events it carries (0 for a schema message), and
 * the payload.
 *
 * <p>Layout: flags (1 byte, bit 0 = retained), topic length (2 bytes) and UTF-8 topic, channel length (2 bytes) and
 * UTF-8 channel, first and last sequence number (8 bytes each), payload.
 *
 * @param topic the MQTT topic
 * @param retained whether the broker keeps it as the topic's retained message
 * @param channel the channel, {@code schema:table}
 * @param firstSeq the sequence number of its first event, 0 when it carries none
 * @param lastSeq the sequence number of its last event, 0 when it carries none
 * @param payload the MQTT payload
 */
public record OutboxEntry(String topic, boolean retained, String channel, long firstSeq, long lastSeq,
                          byte[] payload) {

    /** @return how many numbered events it carries */
    long events() {
        return lastSeq == 0 ? 0 : lastSeq - firstSeq + 1;
    }

    public byte[] encode() {
        byte[] t = topic.getBytes(StandardCharsets.UTF_8);
        byte[] c = channel.getBytes(StandardCharsets.UTF_8);
        ByteBuffer b = ByteBuffer.allocate(1 + 2 + t.length + 2 + c.length + 16 + payload.length);
        b.put((byte) (retained ? 1 : 0)).putShort((short) t.length).put(t).putShort((short) c.length).put(c)
                .putLong(firstSeq).putLong(lastSeq).put(payload);
        return b.array();
    }

    static OutboxEntry decode(byte[] bytes) {
        ByteBuffer b = ByteBuffer.wrap(bytes);
        boolean retained = (b.get() & 1) != 0;
        String topic = string(b);
        String channel = string(b);
        long first = b.getLong();
        long last = b.getLong();
        byte[] payload = new byte[b.remaining()];
        b.get(payload);
        return new OutboxEntry(topic, retained, channel, first, last, payload);
    }

    private static String string(ByteBuffer b) {
        int len = Short.toUnsignedInt(b.getShort());
        String s = new String(b.array(), b.position(), len, StandardCharsets.UTF_8);
        b.position(b.position() + len);
        return s;
    }
}
