package io.mqdb.cli;

import io.mqdb.codec.Topics;
import io.mqdb.config.BrokerConfig;
import io.mqdb.config.ConfigLoader;
import io.mqdb.config.NodeConfig;
import io.mqdb.transport.ClientLibrary;
import io.mqdb.transport.TlsOptions;
import io.mqdb.transport.Transport;
import io.mqdb.transport.TransportOptions;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import picocli.CommandLine;
import picocli.CommandLine.Option;

/**
 * The broker options of the tools that read the cluster from the broker alone ({@code mqdb status}, {@code mqdb
 * get}): the broker, cluster and credentials from the options or from a node config, and an MQTT session of the
 * tool's own (expiring a second after it disconnects, with an empty presence on
 * {@code mqdb/<cluster>/tools/<tool>/<pid>}). A picocli mixin; used on the command's thread.
 */
final class ToolSession {
    @Option(names = "--broker", paramLabel = "URI", description = "the broker (tcp://host:port or ssl://host:port); "
            + "repeat for failover; default: the config's")
    List<String> brokers;

    @Option(names = "--cluster", paramLabel = "NAME", description = "the cluster's name (default: the config's, "
            + "else mqdb)")
    String cluster;

    @Option(names = "--user", paramLabel = "NAME", description = "the broker user (default: the config's)")
    String user;

    @Option(names = "--password-env", paramLabel = "VAR", description = "the environment variable holding the "
            + "broker password (default: the config's password)")
    String passwordEnv;

    @Option(names = {"-c", "--config"}, paramLabel = "FILE", description = "take the broker section and the cluster "
            + "from this node config")
    Path config;

    @Option(names = "--client-id", paramLabel = "ID", description = "the MQTT client id (default: the config's "
            + "broker.client-id followed by -<tool>-<pid>, else <tool>-<pid>-<random>)")
    String clientId;

    @Option(names = "--timeout", paramLabel = "SECONDS", defaultValue = "10",
            description = "how long to try to connect (default: ${DEFAULT-VALUE})")
    int timeoutSeconds;

    /**
     * An open session.
     *
     * @param transport the started transport
     * @param topics the cluster's topics
     * @param clientId its client id
     * @param username the broker user it logged in as, if any
     */
    record Opened(Transport transport, Topics topics, String clientId, Optional<String> username) {
        /**
         * @return the level of the session's response topics ({@code mqdb/<cluster>/reply/<asker>/}): its user name
         *     on an authenticating broker (whose permissions grant that prefix), else its client id, made to fit
         */
        String asker() {
            String a = username.filter(u -> u.matches("[A-Za-z0-9_.@-]{1,64}"))
                    .orElse(clientId.replaceAll("[^A-Za-z0-9_.@-]", "_"));
            return a.length() > 64 ? a.substring(0, 64) : a;
        }
    }

    /**
     * Connects.
     *
     * @param tool the tool's name ({@code status}, {@code get}), for the client id and the presence topic
     * @param cl the command line, for usage errors
     * @return the open session
     * @throws CommandLine.ParameterException on a usage error
     * @throws io.mqdb.spi.MqdbException when it cannot connect within {@code --timeout}
     */
    Opened open(String tool, CommandLine cl) throws InterruptedException {
        if (timeoutSeconds < 1) {
            throw new CommandLine.ParameterException(cl, "--timeout must be at least 1");
        }
        Optional<NodeConfig> conf = config == null ? Optional.empty() : Optional.of(ConfigLoader.load(config));
        Optional<BrokerConfig> b = conf.map(NodeConfig::broker);
        List<String> uris = brokers != null && !brokers.isEmpty() ? brokers
                : b.map(x -> BrokerConnection.uris(x, config, cl)).orElse(null);
        if (uris == null) {
            throw new CommandLine.ParameterException(cl, "give the broker with --broker URI, or a node config with "
                    + "--config FILE");
        }
        Optional<String> password = b.flatMap(BrokerConfig::password).map(s -> s.value());
        if (passwordEnv != null) {
            String p = System.getenv(passwordEnv);
            if (p == null) {
                throw new CommandLine.ParameterException(cl, "--password-env: the environment variable "
                        + passwordEnv + " is not set");
            }
            password = Optional.of(p);
        }
        Optional<String> username = user != null ? Optional.of(user) : b.flatMap(BrokerConfig::username);
        Topics topics;
        try {
            topics = new Topics(cluster != null ? cluster : conf.map(c -> c.node().cluster()).orElse("mqdb"));
        } catch (IllegalArgumentException e) {
            throw new CommandLine.ParameterException(cl, "--cluster: " + e.getMessage());
        }
        long pid = ProcessHandle.current().pid();
        // An authenticating embedded broker lets a node's user in only with a client id that starts with the node's,
        // and any other user only with one that does not start with mqdb-.
        String id = clientId != null ? clientId : b.map(x -> x.clientId() + "-" + tool + "-" + pid)
                .orElse(tool + "-" + pid + "-" + Long.toHexString(System.nanoTime()));
        Optional<TlsOptions> tls = b.flatMap(BrokerConfig::tls).map(BrokerConnection::tls);
        TransportOptions options;
        try {
            options = new TransportOptions(uris, id, username, password, tls, Duration.ofSeconds(1),
                    Duration.ofSeconds(30), Duration.ofSeconds(timeoutSeconds), 65_535, 100,
                    Topics.ROOT + "/" + topics.cluster() + "/tools/" + tool + "/" + pid, new byte[0], new byte[0],
                    b.map(BrokerConfig::client).orElse(ClientLibrary.HIVEMQ));
        } catch (IllegalArgumentException e) {
            throw new CommandLine.ParameterException(cl, e.getMessage());
        }
        return new Opened(BrokerConnection.open(options, timeoutSeconds, tool, ""), topics, id, username);
    }
}
