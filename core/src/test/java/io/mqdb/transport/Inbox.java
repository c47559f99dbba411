package io.mqdb.transport;

import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;

/** A handler that keeps what it receives, for assertions. */
final class Inbox implements MessageHandler {
    final List<InboundMessage> messages = new CopyOnWriteArrayList<>();
    private final boolean autoAck;

    Inbox(boolean autoAck) {
        this.autoAck = autoAck;
    }

    @Override
    public void onMessage(InboundMessage message) {
        messages.add(message);
        if (autoAck) {
            message.ack();
        }
    }

    int size() {
        return messages.size();
    }

    InboundMessage get(int i) {
        return messages.get(i);
    }

    List<String> topics() {
        return messages.stream().map(InboundMessage::topic).toList();
    }

    List<String> payloads() {
        return messages.stream().map(m -> new String(m.payload(), StandardCharsets.UTF_8)).toList();
    }

    static byte[] utf8(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }
}
