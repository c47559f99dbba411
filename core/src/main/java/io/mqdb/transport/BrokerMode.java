package io.mqdb.transport;

import java.util.Locale;
import java.util.Optional;

/** How a node uses the brokers of its list; chosen with {@code broker.mode}. See {@code docs/topologies.md}. */
public enum BrokerMode {
    /** One connection at a time, to the first broker that answers, moving down the list when it is lost: the default. */
    FAILOVER("failover"),
    /**
     * One connection to every broker of the list at once ({@link MirrorTransport}): each message is published on all
     * of them and received from all of them; for unclustered brokers. With a single broker, the same as failover.
     */
    MIRROR("mirror");

    private final String configName;

    BrokerMode(String configName) {
        this.configName = configName;
    }

    /** @return the name in the configuration file: {@code failover} or {@code mirror} */
    public String configName() {
        return configName;
    }

    /**
     * @param text a name from the configuration file, any case
     * @return the mode, or empty when the name is unknown
     */
    public static Optional<BrokerMode> parse(String text) {
        String t = text.strip().toLowerCase(Locale.ROOT);
        for (BrokerMode m : values()) {
            if (m.configName.equals(t)) {
                return Optional.of(m);
            }
        }
        return Optional.empty();
    }
}
