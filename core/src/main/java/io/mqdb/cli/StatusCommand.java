package io.mqdb.cli;

import io.mqdb.codec.Topics;
import io.mqdb.node.catchup.Control;
import io.mqdb.observe.ClusterStatus;
import io.mqdb.signing.Envelope;
import io.mqdb.transport.InboundMessage;
import io.mqdb.transport.Transport;
import java.io.PrintWriter;
import java.util.ArrayList;
import java.util.List;
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

    @CommandLine.Mixin
    private ToolSession session;

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

    @Override
    public Integer call() throws InterruptedException {
        CommandLine cl = spec.commandLine();
        if (settleMs < 0) {
            throw new CommandLine.ParameterException(cl, "--settle-ms must be 0 or more");
        }
        if (watchSeconds < 0 || watchSeconds > 3600) {
            throw new CommandLine.ParameterException(spec.commandLine(), "--watch: expected 1 to 3600 seconds, got "
                    + watchSeconds);
        }
        ToolSession.Opened opened = session.open("status", cl);
        Topics topics = opened.topics();
        ClusterStatus status = new ClusterStatus();
        PrintWriter err = cl.getErr();
        Transport transport = opened.transport();
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
