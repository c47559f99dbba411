package io.mqdb.cli;

import io.mqdb.codec.Topics;
import io.mqdb.config.BrokerConfig;
import io.mqdb.config.ConfigLoader;
import io.mqdb.config.NodeConfig;
import io.mqdb.node.deadletter.DeadLetterFiles;
import io.mqdb.node.deadletter.DeadLetterFiles.Id;
import io.mqdb.node.deadletter.DeadLetterFiles.Letter;
import io.mqdb.node.deadletter.DeadLetterReplay;
import io.mqdb.spi.TableId;
import io.mqdb.transport.Transport;
import io.mqdb.transport.TransportOptions;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code mqdb dead-letters list|replay}: shows the dead letters in a node's data dir and publishes chosen ones again
 * to their channel. {@code docs/dead-letters.md} describes the files and the replay semantics.
 */
@Command(name = "dead-letters", mixinStandardHelpOptions = true,
        description = "List the events a node could not apply, and replay them to their channel.",
        subcommands = {DeadLettersCommand.ListCommand.class, DeadLettersCommand.ReplayCommand.class})
final class DeadLettersCommand implements Runnable {
    private static final int REASON_WIDTH = 60;

    @Spec
    private CommandLine.Model.CommandSpec spec;

    @Override
    public void run() {
        throw new CommandLine.ParameterException(spec.commandLine(), "a subcommand is required: list or replay");
    }

    /** What both subcommands read: the config and the dead-letter folder it names. */
    static class ConfigOption {
        @Option(names = {"-c", "--config"}, defaultValue = "conf/mqdb.yaml",
                description = "the node's YAML config file (default: ${DEFAULT-VALUE})")
        Path file;

        NodeConfig load() {
            return ConfigLoader.load(file);
        }

        static Path deadLetterDir(NodeConfig config) {
            return config.node().dataDir().resolve("dead-letters");
        }
    }

    private static Optional<TableId> channel(CommandLine cl, String text) {
        if (text == null) {
            return Optional.empty();
        }
        try {
            return Optional.of(TableId.parse(text));
        } catch (IllegalArgumentException e) {
            throw new CommandLine.ParameterException(cl, "--channel: " + e.getMessage());
        }
    }

    /** {@code mqdb dead-letters list}. */
    @Command(name = "list", mixinStandardHelpOptions = true,
            description = "List the dead letters in the node's data dir (id, time, channel, reason, size).")
    static final class ListCommand implements Callable<Integer> {
        @CommandLine.Mixin
        private ConfigOption config;

        @Option(names = "--channel", paramLabel = "schema:table", description = "only this channel's")
        private String channel;

        @Option(names = "--json", description = "print the raw JSON lines instead of a table")
        private boolean json;

        @Spec
        private CommandLine.Model.CommandSpec spec;

        @Override
        public Integer call() {
            PrintWriter out = spec.commandLine().getOut();
            Optional<TableId> only = channel(spec.commandLine(), channel);
            Path dir = ConfigOption.deadLetterDir(config.load());
            List<Letter> letters = DeadLetterFiles.list(dir, only);
            if (json) {
                letters.forEach(l -> out.println(l.raw()));
                out.flush();
                spec.commandLine().getErr().printf("%d dead letter(s) in %s%n", letters.size(), dir);
                return 0;
            }
            if (letters.isEmpty()) {
                out.printf("no dead letters in %s%s%n", dir, only.map(t -> " for " + t).orElse(""));
                out.flush();
                return 0;
            }
            List<String[]> rows = new ArrayList<>();
            rows.add(new String[] {"ID", "TIME", "CHANNEL", "REASON", "SIZE"});
            for (Letter l : letters) {
                rows.add(new String[] {l.id().toString(), l.time(), l.channel().toString(), truncate(l.reason()),
                        l.payload().map(p -> p.length + " B").orElse("-")});
            }
            TextTable.print(out, rows, true);
            out.printf("%d dead letter(s) in %s%n", letters.size(), dir);
            out.flush();
            return 0;
        }

        private static String truncate(String reason) {
            String r = reason.replaceAll("\\s+", " ").trim();
            return r.length() <= REASON_WIDTH ? r : r.substring(0, REASON_WIDTH - 3) + "...";
        }
    }

    /** {@code mqdb dead-letters replay}. */
    @Command(name = "replay", mixinStandardHelpOptions = true,
            description = {"Publish dead letters again to their channel topic (QoS 1, waiting for the broker's"
                    + " acknowledgement), then move them to dead-letters/replayed/.",
                    "A letter that fails again becomes a new dead letter."})
    static final class ReplayCommand implements Callable<Integer> {
        @CommandLine.Mixin
        private ConfigOption config;

        @ArgGroup(exclusive = true, multiplicity = "1")
        private Selection selection;

        /** Exactly one way to choose the letters. */
        static final class Selection {
            @Option(names = "--id", arity = "1..*", paramLabel = "ID",
                    description = "the letters with these ids (<schema>.<table>:<line>, as `list` prints them)")
            List<String> ids;

            @Option(names = "--channel", paramLabel = "schema:table", description = "every letter of this channel")
            String channel;

            @Option(names = "--all", description = "every letter")
            boolean all;
        }

        @Option(names = "--dry-run", description = "print what would be replayed; publish and move nothing")
        private boolean dryRun;

        @Option(names = "--skip-invalid",
                description = "leave letters whose payload is neither JSON nor a binary batch where they are instead"
                        + " of republishing them")
        private boolean skipInvalid;

        @Option(names = "--broker", paramLabel = "URI",
                description = "publish to this broker instead of the config's (tcp://host:port or ssl://host:port)")
        private List<String> brokers;

        @Option(names = "--timeout", paramLabel = "SECONDS", defaultValue = "30",
                description = "how long to wait for the connection and for each acknowledgement (default:"
                        + " ${DEFAULT-VALUE})")
        private int timeoutSeconds;

        @Spec
        private CommandLine.Model.CommandSpec spec;

        @Override
        public Integer call() throws InterruptedException {
            CommandLine cl = spec.commandLine();
            PrintWriter out = cl.getOut();
            Optional<TableId> only = channel(cl, selection.channel);
            if (timeoutSeconds < 1) {
                throw new CommandLine.ParameterException(cl, "--timeout: expected at least 1 s, got "
                        + timeoutSeconds);
            }
            NodeConfig conf = config.load();
            Path dir = ConfigOption.deadLetterDir(conf);
            if (!dryRun && Files.isDirectory(dir)) {
                try (DeadLetterFiles.ReplayLock lock = DeadLetterFiles.lockReplays(dir)) {
                    return replay(cl, conf, dir, only, out);
                }
            }
            return replay(cl, conf, dir, only, out);
        }

        private int replay(CommandLine cl, NodeConfig conf, Path dir, Optional<TableId> only, PrintWriter out)
                throws InterruptedException {
            List<Letter> chosen = select(cl, dir, only, out);
            if (skipInvalid) {
                List<Letter> kept = new ArrayList<>();
                for (Letter l : chosen) {
                    if (l.payloadIsJson() || l.payloadIsBinaryBatch()) {
                        kept.add(l);
                    } else {
                        out.printf("skipped %s: its payload is not JSON nor a binary batch (--skip-invalid)%n",
                                l.id());
                    }
                }
                chosen = kept;
            }
            if (chosen.isEmpty()) {
                out.printf("no dead letters to replay in %s%n", dir);
                out.flush();
                return 0;
            }
            Topics topics = new Topics(conf.node().cluster());
            if (dryRun) {
                for (Letter l : chosen) {
                    out.printf("would replay %s to %s (%d B)%n", l.id(), topics.channel(l.channel()),
                            l.payload().orElseThrow().length);
                }
                out.printf("dry run: %d dead letter(s) would be replayed; nothing published, nothing moved%n",
                        chosen.size());
                out.flush();
                return 0;
            }
            try (Transport transport = connect(conf, topics)) {
                int done = DeadLetterReplay.publish(transport, topics, dir, chosen,
                        Duration.ofSeconds(timeoutSeconds), out::println);
                out.printf("replayed %d dead letter(s); moved to %s%n", done, dir.resolve(DeadLetterFiles.REPLAYED));
            } finally {
                out.flush();
            }
            return 0;
        }

        /** The letters chosen by the selection; ids that name no letter are an error, before anything is sent. */
        private List<Letter> select(CommandLine cl, Path dir, Optional<TableId> only, PrintWriter out) {
            List<Letter> all = DeadLetterFiles.list(dir, only);
            List<Letter> chosen = new ArrayList<>();
            if (selection.ids != null) {
                Map<Id, Letter> byId = new LinkedHashMap<>();
                all.forEach(l -> byId.put(l.id(), l));
                List<String> problems = new ArrayList<>();
                for (String text : selection.ids) {
                    Id id;
                    try {
                        id = Id.parse(text);
                    } catch (IllegalArgumentException e) {
                        problems.add("--id " + text + ": " + e.getMessage());
                        continue;
                    }
                    Letter l = byId.get(id);
                    if (l == null) {
                        problems.add("--id " + text + ": no such dead letter in " + dir
                                + " (replayed already, or never there)");
                    } else if (!l.readable() || l.payload().isEmpty()) {
                        problems.add("--id " + text + ": the line is not a dead letter with a payload");
                    } else if (!chosen.contains(l)) {
                        chosen.add(l);
                    }
                }
                if (!problems.isEmpty()) {
                    throw new CommandLine.ParameterException(cl, String.join("\n", problems));
                }
                return chosen;
            }
            for (Letter l : all) {
                if (l.readable() && l.payload().isPresent()) {
                    chosen.add(l);
                } else {
                    out.printf("skipped %s: the line is not a dead letter with a payload%n", l.id());
                }
            }
            return chosen;
        }

        /**
         * A transport with the node's broker settings, but its own client id, a session that ends a second after it
         * disconnects, and an empty presence (an empty retained message leaves nothing on the broker). The options
         * are built as {@code MqdbNode} builds them (duplicated: sharing the code would mean editing the node).
         */
        private Transport connect(NodeConfig conf, Topics topics) throws InterruptedException {
            BrokerConfig b = conf.broker();
            List<String> uris = brokers != null && !brokers.isEmpty() ? brokers
                    : BrokerConnection.uris(b, config.file, spec.commandLine());
            long pid = ProcessHandle.current().pid();
            TransportOptions options;
            try {
                options = new TransportOptions(uris, b.clientId() + "-dlq-replay-" + pid, b.username(),
                        b.password().map(s -> s.value()), b.tls().map(BrokerConnection::tls), Duration.ofSeconds(1),
                        b.keepAlive(), b.connectTimeout(), b.receiveMaximum(), b.maxInflight(),
                        Topics.ROOT + "/" + topics.cluster() + "/tools/dlq-replay/" + pid, new byte[0], new byte[0],
                        b.client());
            } catch (IllegalArgumentException e) {
                throw new CommandLine.ParameterException(spec.commandLine(), e.getMessage());
            }
            return BrokerConnection.open(options, timeoutSeconds, "dlq-replay",
                    b.embedded().isPresent() && b.uris().isEmpty() && brokers == null
                            ? " (the embedded broker runs inside its node: is the node running?)" : "");
        }
    }
}
