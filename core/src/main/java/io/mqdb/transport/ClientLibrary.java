package io.mqdb.transport;

import java.util.Locale;
import java.util.Optional;

/** The MQTT client library a {@link Transport} is built on; chosen with {@code broker.client}. */
public enum ClientLibrary {
    /** The HiveMQ MQTT client (Netty): the default. */
    HIVEMQ("hivemq"),
    /** Eclipse Paho v5: kept for brokers or setups the HiveMQ client has trouble with. */
    PAHO("paho");

    private final String configName;

    ClientLibrary(String configName) {
        this.configName = configName;
    }

    /** @return the name in the configuration file: {@code hivemq} or {@code paho} */
    public String configName() {
        return configName;
    }

    /**
     * @param text a name from the configuration file, any case
     * @return the library, or empty when the name is unknown
     */
    public static Optional<ClientLibrary> parse(String text) {
        String t = text.strip().toLowerCase(Locale.ROOT);
        for (ClientLibrary c : values()) {
            if (c.configName.equals(t)) {
                return Optional.of(c);
            }
        }
        return Optional.empty();
    }
}
