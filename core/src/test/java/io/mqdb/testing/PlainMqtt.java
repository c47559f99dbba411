package io.mqdb.testing;

import java.nio.charset.StandardCharsets;
import org.eclipse.paho.mqttv5.client.MqttClient;
import org.eclipse.paho.mqttv5.client.MqttConnectionOptions;
import org.eclipse.paho.mqttv5.client.persist.MemoryPersistence;
import org.eclipse.paho.mqttv5.common.MqttException;
import org.eclipse.paho.mqttv5.common.MqttMessage;

/** A plain MQTT 5 client (not a node) for tests: publishes messages with QoS 1, in order, and disconnects. */
public final class PlainMqtt {
    private PlainMqtt() {
    }

    /**
     * @param port the broker's port on 127.0.0.1
     * @param clientId the client id
     * @param topic where to publish, e.g. {@code mqdb/mqdb/ch/shop/orders}
     * @param payloads UTF-8 texts, published in order, each acknowledged before the next
     * @throws MqttException when the broker refuses or cannot be reached
     */
    public static void publish(int port, String clientId, String topic, String... payloads) throws MqttException {
        MqttClient client = new MqttClient("tcp://127.0.0.1:" + port, clientId, new MemoryPersistence());
        try {
            client.connect(new MqttConnectionOptions());
            for (String payload : payloads) {
                MqttMessage m = new MqttMessage(payload.getBytes(StandardCharsets.UTF_8));
                m.setQos(1);
                client.publish(topic, m);
            }
            client.disconnect();
        } finally {
            client.close();
        }
    }
}
