package io.mqdb.cli;

import io.mqdb.codec.Topics;
import io.mqdb.config.BrokerConfig;
import io.mqdb.config.ConfigLoader;
import io.mqdb.config.NodeConfig;
import io.mqdb.node.catchup.Control;
import io.mqdb.observe.ClusterStatus;
import io.mqdb.signing.Envelope;
import io.mqdb.transport.ClientLibrary;
import io.mqdb.transport.InboundMessage;
import io.mqdb.transport.TlsOptions;
import io.mqdb.transport.Transport;
import io.mqdb.transport.TransportOptions;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.Callable;
import java.util.function.Consumer;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code mqdb status}: the cluster as the broker shows it, with no node config beyond the broker's address. It
 * subscribes to the retained presences ({@code mqdb/<cluster>/nodes/+/presence}), positions ({@code pos/+/+/+}) and
 * applied positions ({@code applied/+/+/+}), waits {@code --settle-ms} for them, and prints one table (or
 * {@code --json}): nodes online or offline, channels with their publishers and subscribers, and each subscriber's
 * events and seconds behind. Signatures are not verified: it shows, it does not act.
 *
 * <p>Exit codes: 0; 3 when a node is offline or a subscriber is more than {@code --max-lag} events behind; 1 when it
 * cannot connect; 2 on a usage error.
 */
@Command(name = "status", mixinStandardHelpOptions = true,
        description = "Print the cluster's nodes, channels and lag, read from the broker's retained messages.")
final class StatusCommand implements Callable<Integer> {
    /** Exit code when a node is offline or a lag is above {@code --max-lag}. */
    static final int NOT_HEALTHY = 3;

    @Spec
    private CommandLine.Model.CommandSpec spec;

    @Option(names = "--broker", paramLabel = "URI", description = "the broker (tcp://host:port or ssl://host:port); "
            + "repeat for failover; default: the config's")
    private List<String> brokers;

    @Option(names = "--cluster", paramLabel = "NAME", description = "the cluster's name (default: the config's, "
            + "else mqdb)")
    private String cluster;

    @Option(names = "--user", paramLabel = "NAME", description = "the broker user (default: the config's)")
    private String user;

    @Option(names = "--password-env", paramLabel = "VAR", description = "the environment variable holding the "
            + "broker password (default: the config's password)")
    private String passwordEnv;

    @Option(names = {"-c", "--config"}, paramLabel = "FILE", description = "take the broker section and the cluster "
            + "from this node config")
    private Path config;

    @Option(names = "--client-id", paramLabel = "ID", description = "the MQTT client id (default: the config's "
            + "broker.client-id followed by -status-<pid>, else status-<pid>-<random>)")
    private String clientId;

    @Option(names = "--json", description = "print JSON instead of a table")
    private boolean json;

    @Option(names = "--max-lag", paramLabel = "EVENTS", defaultValue = "-1",
            description = "exit with 3 when a subscriber is more than this many events behind")
    private long maxLag;

    @Option(names = "--settle-ms", paramLabel = "MS", defaultValue = "2000",
            description = "how long to collect the retained messages after connecting (default: ${DEFAULT-VALUE})")
    private int settleMs;

    @Option(names = "--watch", paramLabel = "SECONDS", defaultValue = "0",
            description = "stay connected and print the report again every SECONDS (1 to 3600), until interrupted; "
                    + "each report is preceded by a line with the time")
    private int watchSeconds;

    @Option(names = "--timeout", paramLabel = "SECONDS", defaultValue = "10",
            description = "how long to try to connect (default: ${DEFAULT-VALUE})")
    private int timeoutSeconds;

    @Override
    public Integer call() throws InterruptedException {
        CommandLine cl = spec.commandLine();
        if (settleMs < 0 || timeoutSeconds < 1) {
            throw new CommandLine.ParameterException(cl, "--settle-ms must be 0 or more and --timeout at least 1");
        }
        if (watchSeconds < 0 || watchSeconds > 3600) {
            throw new CommandLine.ParameterException(spec.commandLine(), "--watch: expected 1 to 3600 seconds, got "
                    + watchSeconds);
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
        String id = clientId != null ? clientId : b.map(x -> x.clientId() + "-status-" + pid)
                .orElse("status-" + pid + "-" + Long.toHexString(System.nanoTime()));
        Optional<TlsOptions> tls = b.flatMap(BrokerConfig::tls).map(BrokerConnection::tls);
        TransportOptions options;
        try {
            options = new TransportOptions(uris, id, username, password, tls, Duration.ofSeconds(1),
                    Duration.ofSeconds(30), Duration.ofSeconds(timeoutSeconds), 65_535, 100,
                    Topics.ROOT + "/" + topics.cluster() + "/tools/status/" + pid, new byte[0], new byte[0],
                    b.map(BrokerConfig::client).orElse(ClientLibrary.HIVEMQ));
        } catch (IllegalArgumentException e) {
            throw new CommandLine.ParameterException(cl, e.getMessage());
        }
        ClusterStatus status = new ClusterStatus();
        PrintWriter err = cl.getErr();
        Transport transport = BrokerConnection.open(options, timeoutSeconds, "status", "");
        try {
            transport.subscribe(topics.presenceFilter(), m -> read(m, err, "presence", p -> status.addPresence(p)));
            transport.subscribe(topics.positionFilter(), m -> read(m, err, "position",
                    p -> status.addPosition(Control.Position.parse(p))));
            transport.subscribe(topics.appliedFilter(), m -> read(m, err, "applied position",
                    p -> status.addApplied(Control.Applied.parse(p))));
            Thread.sleep(settleMs); // the settle time: retained messages arrive right after subscribing
            if (watchSeconds > 0) {
                // The subscriptions stay: the nodes' later presences, positions and applied positions keep the
                // status current between reports. Ends when the thread is interrupted (Ctrl-C stops the JVM).
                while (true) {
                    PrintWriter out = cl.getOut();
                    out.println("--- " + java.time.Instant.now().truncatedTo(java.time.temporal.ChronoUnit.SECONDS));
                    print(status.report(System.currentTimeMillis(), maxLag), out);
                    Thread.sleep(watchSeconds * 1000L);
                }
            }
        } finally {
            transport.close();
        }
        ClusterStatus.Report r = status.report(System.currentTimeMillis(), maxLag);
        print(r, cl.getOut());
        return r.problems().isEmpty() ? 0 : NOT_HEALTHY;
    }

    private void print(ClusterStatus.Report r, PrintWriter out) {
        out.print(json ? ClusterStatus.json(r) + "\n" : table(r));
        out.flush();
    }

    /** Reads one retained message, skipping (with a line on stderr) one that is not what its topic promises. */
    private static void read(InboundMessage m, PrintWriter err, String what, Consumer<byte[]> reader) {
        try {
            if (m.payload().length > 0) {
                reader.accept(Envelope.unverifiedPayload(m.payload()));
            }
        } catch (RuntimeException e) { // a bad envelope, JSON or field
            synchronized (err) {
                err.println("ignoring a bad " + what + " on " + m.topic() + ": " + e.getMessage());
            }
        } finally {
            m.ack();
        }
    }

    /** @return the report as the table {@code mqdb status} prints */
    static String table(ClusterStatus.Report r) {
        java.io.StringWriter text = new java.io.StringWriter();
        java.io.PrintWriter out = new java.io.PrintWriter(text);
        List<String[]> nodeRows = new ArrayList<>();
        nodeRows.add(new String[] {"NODE", "STATE", "SINCE", "VERSION"});
        for (ClusterStatus.NodeRow n : r.nodes()) {
            nodeRows.add(new String[] {n.name(), n.online() ? "online" : "offline", n.since(),
                    n.version().isEmpty() ? "-" : n.version()});
        }
        TextTable.print(out, nodeRows, false);
        out.println();
        List<String[]> channelRows = new ArrayList<>();
        channelRows.add(new String[] {"CHANNEL", "PUBLISHERS", "OUTBOX", "SUBSCRIBER", "EVENTS BEHIND",
                "SECONDS BEHIND", "DEAD LETTERS"});
        for (ClusterStatus.ChannelRow c : r.channels()) {
            String pubs = c.publishers().isEmpty() ? "-" : String.join(",", c.publishers());
            String outbox = c.outbox() < 0 ? "?" : Long.toString(c.outbox());
            if (c.subscribers().isEmpty()) {
                channelRows.add(new String[] {c.channel().toString(), pubs, outbox, "-", "-", "-", "-"});
            }
            for (ClusterStatus.SubscriberRow s : c.subscribers()) {
                channelRows.add(new String[] {c.channel().toString(), pubs, outbox,
                        s.node() + (s.paused() ? " (paused)" : ""),
                        s.lag() == null ? "?" : Long.toString(s.lag().events()),
                        s.lag() == null ? "?" : seconds(s.lag().seconds()),
                        s.deadLetters() < 0 ? "?" : Long.toString(s.deadLetters())});
            }
        }
        TextTable.print(out, channelRows, false);
        if (!r.problems().isEmpty()) {
            out.println();
        }
        for (String p : r.problems()) {
            out.println("problem: " + p);
        }
        out.flush();
        return text.toString();
    }

    private static String seconds(double s) {
        return Double.isNaN(s) ? "?" : String.format(java.util.Locale.ROOT, "%.1f", s);
    }
}
