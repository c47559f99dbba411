package io.mqdb.testing;

import java.util.function.BiConsumer;
import org.eclipse.paho.mqttv5.client.IMqttToken;
import org.eclipse.paho.mqttv5.client.MqttCallback;
import org.eclipse.paho.mqttv5.client.MqttDisconnectResponse;
import org.eclipse.paho.mqttv5.common.MqttException;
import org.eclipse.paho.mqttv5.common.MqttMessage;
import org.eclipse.paho.mqttv5.common.packet.MqttProperties;

/**
 * A Paho v5 callback for test clients that only receive: every other event is ignored. Tests set it with
 * {@code setCallback} and subscribe with {@code subscribe(topic, qos)}, because Paho 1.2.5's
 * {@code subscribe(topic, qos, listener)} recurses until the stack overflows.
 */
public final class MessageCallback implements MqttCallback {
    private final BiConsumer<String, MqttMessage> onMessage;

    private MessageCallback(BiConsumer<String, MqttMessage> onMessage) {
        this.onMessage = onMessage;
    }

    /**
     * @param onMessage called on Paho's callback thread with each message's topic and message
     * @return the callback
     */
    public static MqttCallback of(BiConsumer<String, MqttMessage> onMessage) {
        return new MessageCallback(onMessage);
    }

    @Override
    public void messageArrived(String topic, MqttMessage message) {
        onMessage.accept(topic, message);
    }

    @Override
    public void disconnected(MqttDisconnectResponse response) {
    }

    @Override
    public void mqttErrorOccurred(MqttException exception) {
    }

    @Override
    public void deliveryComplete(IMqttToken token) {
    }

    @Override
    public void connectComplete(boolean reconnect, String serverURI) {
    }

    @Override
    public void authPacketArrived(int reasonCode, MqttProperties properties) {
    }
}
