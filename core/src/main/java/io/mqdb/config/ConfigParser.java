package io.mqdb.config;

import io.mqdb.codec.CodecLimits;
import io.mqdb.codec.WireForm;
import io.mqdb.spi.TableId;
import io.mqdb.transport.BrokerMode;
import io.mqdb.transport.ClientLibrary;
import java.net.URI;
import java.net.URISyntaxException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.regex.Pattern;
import org.snakeyaml.engine.v2.api.LoadSettings;
import org.snakeyaml.engine.v2.api.lowlevel.Compose;
import org.snakeyaml.engine.v2.exceptions.Mark;
import org.snakeyaml.engine.v2.exceptions.MarkedYamlEngineException;
import org.snakeyaml.engine.v2.exceptions.YamlEngineException;
import org.snakeyaml.engine.v2.nodes.MappingNode;
import org.snakeyaml.engine.v2.nodes.Node;
import org.snakeyaml.engine.v2.nodes.NodeTuple;
import org.snakeyaml.engine.v2.nodes.ScalarNode;
import org.snakeyaml.engine.v2.nodes.SequenceNode;
import org.snakeyaml.engine.v2.nodes.Tag;
import org.snakeyaml.engine.v2.schema.CoreSchema;

/**
 * Phase 1: walks the YAML node tree of one config file and builds a {@link NodeConfig}, collecting every problem.
 * One instance per parse, on the caller's thread; {@link ConfigLoader} is its only user.
 */
final class ConfigParser {
    static final List<String> ROOT_KEYS = List.of("node", "broker", "brokers", "stores", "channels");
    static final List<String> NODE_KEYS = List.of("name", "cluster", "data-dir", "tombstone-retention",
            "outbox-max-mb", "resend-window-mb", "max-clock-skew", "signing", "http", "wire-form",
            "log-format", "limits", "dead-letter-max-mb", "min-free-disk-mb");
    static final List<String> LIMITS_KEYS = List.of("max-message-mb", "max-events", "max-columns", "max-value-mb",
            "max-depth");
    /** The largest {@code node.limits.max-message-mb}: HiveMQ's and Mosquitto's default packet bound is 256 MB. */
    static final int MAX_MESSAGE_MB = 256;
    static final List<String> HTTP_KEYS = List.of("bind", "port", "token", "ready-max-lag");
    static final List<String> SIGNING_KEYS = List.of("key", "key-file", "trust", "trust-file");
    static final List<String> BROKER_KEYS = List.of("embedded", "uris", "username", "password", "tls", "client-id",
            "session-expiry", "keep-alive", "connect-timeout", "receive-maximum", "max-inflight", "client",
            "flow-window", "mode", "shuffle");
    static final List<String> EMBEDDED_KEYS = List.of("bind", "allow-remote", "port", "data-dir", "persistence",
            "max-queued-messages", "max-packet-mb", "max-inflight-messages", "users", "tls", "plain");
    static final List<String> EMBEDDED_TLS_KEYS = List.of("port", "bind", "cert-file", "key-file", "key-password",
            "client-ca-file", "client-auth");
    static final List<String> USER_KEYS = List.of("password", "role", "node", "channels");
    static final List<String> TLS_KEYS = List.of("ca-file", "cert-file", "key-file", "key-password",
            "verify-hostname");
    static final List<String> CHANNEL_KEYS = List.of("name", "store", "publish", "subscribe", "batch-size",
            "flush-interval", "on-error", "key", "accept-plain-writes", "plain-writes", "reads", "publish-via",
            "subscribe-via", "transform");
    static final List<String> TRANSFORM_KEYS = List.of("source", "columns", "filter", "key", "ttl");
    static final List<String> TRANSFORM_COLUMNS_KEYS = List.of("include", "exclude", "rename", "computed");
    static final Set<String> URI_SCHEMES = Set.of("tcp", "ssl", "mqtt", "mqtts", "ws", "wss");

    static final String DEFAULT_CLUSTER = "mqdb";
    static final String DEFAULT_DATA_DIR = "data";
    static final Duration DEFAULT_SESSION_EXPIRY = Duration.ofDays(7);
    static final Duration DEFAULT_KEEP_ALIVE = Duration.ofSeconds(30);
    static final Duration DEFAULT_CONNECT_TIMEOUT = Duration.ofSeconds(10);
    /**
     * The MQTT maximum: the broker's own in-flight limit then bounds what it sends unacknowledged (Mosquitto's
     * {@code max_inflight_messages}, the embedded broker's {@code max-inflight-messages}). A lower one was overrun by
     * Mosquitto 2.0.11 (Debian 12), and the HiveMQ client then drops the connection; messages got lost in the
     * resulting reconnects under load (FaultTargetDownIT, FaultSubscriberAwayIT).
     */
    static final int DEFAULT_RECEIVE_MAXIMUM = 65_535;
    static final int DEFAULT_MAX_INFLIGHT = 1000;
    static final int DEFAULT_BATCH_SIZE = 500;
    static final int MAX_BATCH_SIZE = 100_000;
    static final Duration DEFAULT_FLUSH_INTERVAL = Duration.ZERO;

    private static final Pattern NODE_NAME = Pattern.compile("[A-Za-z0-9_-]{1,64}");
    private static final Pattern STORE_NAME = Pattern.compile("[A-Za-z0-9_-]+");
    private static final Pattern USER_NAME = Pattern.compile("[A-Za-z0-9_.@-]{1,64}");
    private static final Pattern IPV4_LOOPBACK = Pattern.compile("127\\.[0-9]{1,3}\\.[0-9]{1,3}\\.[0-9]{1,3}");
    private static final long MAX_SESSION_EXPIRY_SECONDS = 0xFFFF_FFFFL;

    /** A key of a mapping, with its value; {@code location} is the key's line and full path. */
    private record Entry(String key, Node value, Location location) {
    }

    /** A scalar value after interpolation. */
    private record Scalar(String text, String raw, boolean interpolated, Location location) {
        /** @return the value for a message: quoted, or only its reference when interpolated (it may be secret) */
        String shown() {
            return interpolated ? "the value of " + Values.quote(raw) : Values.quote(text);
        }
    }

    private final Path file;
    private final Path baseDir;
    private final Interpolator interpolator;
    private final List<ConfigProblem> problems = new ArrayList<>();

    private final StoreCheck storeCheck;
    /** Whether {@code node.signing} is written (right or wrong): channels' plain-write keys depend on it. */
    private boolean signingGiven;

    ConfigParser(Path file, Map<String, String> env, StoreCheck storeCheck) {
        this.storeCheck = storeCheck;
        this.file = file.toAbsolutePath().normalize();
        this.baseDir = baseDirOf(this.file);
        this.interpolator = new Interpolator(baseDir, env);
    }

    static Path baseDirOf(Path file) {
        Path abs = file.toAbsolutePath().normalize();
        Path parent = abs.getParent();
        return parent == null ? abs : parent;
    }

    /**
     * @param yaml the file's text
     * @return the config
     * @throws ConfigException with every problem found
     */
    NodeConfig parse(String yaml) {
        Optional<Node> root = compose(yaml);
        Location top = new Location(file, 1, "");
        Map<String, Entry> entries = Map.of();
        if (root.isPresent() && !isNull(root.get())) {
            if (root.get() instanceof MappingNode m) {
                top = top.atLine(line(m));
                entries = entries(m, top, ROOT_KEYS);
            } else {
                problem(top.atLine(line(root.get())), "expected a mapping with the keys "
                        + String.join(", ", ROOT_KEYS) + ", got " + kind(root.get()));
                throwIfProblems();
            }
        }
        NodeSection node = node(entries.get("node"), top);
        BrokerConfig broker = broker(entries.get("broker"), node);
        Map<String, BrokerConfig> brokers = brokers(entries.get("brokers"), node);
        brokerNames.add(ChannelConfig.MAIN_BROKER);
        brokerNames.addAll(brokers.keySet());
        Set<String> storeNames = new LinkedHashSet<>();
        Map<String, StoreSection> stores = stores(entries.get("stores"), storeNames);
        for (StoreSection section : stores.values()) {
            storeCheck.check(section, baseDir, problems);
        }
        List<ChannelConfig> channels = channels(entries.get("channels"), storeNames);
        onePublishConnectionPerStore(channels);
        throwIfProblems();
        return new NodeConfig(file, node, broker, stores, channels, brokers);
    }

    /** The names channels may give in {@code publish-via} and {@code subscribe-via}. */
    private final Set<String> brokerNames = new LinkedHashSet<>();

    /**
     * {@code brokers:}: the node's further connections, each a mapping with the keys of {@code broker} but
     * {@code embedded} (a node runs at most one broker, {@code broker.embedded}).
     */
    private Map<String, BrokerConfig> brokers(Entry section, NodeSection node) {
        Map<String, BrokerConfig> out = new LinkedHashMap<>();
        if (section == null || isNull(section.value())) {
            return out;
        }
        if (!(section.value() instanceof MappingNode m)) {
            problem(section.location(), "expected a mapping of connection names to broker settings, like"
                    + " hq: { uris: [ \"tcp://hq:1883\" ] }, got " + kind(section.value()));
            return out;
        }
        for (NodeTuple t : m.getValue()) {
            String name = t.getKeyNode() instanceof ScalarNode k ? k.getValue() : "";
            Location at = section.location().child(name).atLine(line(t.getKeyNode()));
            if (!name.matches("[a-z][a-z0-9_-]{0,31}")) {
                problem(at, "a connection name is a lower-case letter, then letters, digits, _ or -, at most 32;"
                        + " got " + Values.quote(name));
                continue;
            }
            if (name.equals(ChannelConfig.MAIN_BROKER)) {
                problem(at, Values.quote(name) + " is the broker section's own name; choose another");
                continue;
            }
            if (!(t.getValueNode() instanceof MappingNode)) {
                problem(at, "expected a mapping with uris and the other keys of broker, got "
                        + kind(t.getValueNode()));
                continue;
            }
            Entry entry = new Entry(name, t.getValueNode(), at);
            Map<String, Entry> e = mapping(entry, BROKER_KEYS);
            if (e.containsKey("embedded")) {
                problem(e.get("embedded").location(), "a node runs at most one broker, broker.embedded; "
                        + "brokers: names connections to others");
                continue;
            }
            List<String> uris = Optional.ofNullable(e.get("uris")).map(this::uris).orElse(List.of());
            if (!e.containsKey("uris")) {
                problem(at.child("uris"), "required: the broker's URIs");
            }
            out.put(name, brokerDefaults(Optional.empty(), uris, node, e));
        }
        return out;
    }

    /** One publisher per store, with one outbox: its published channels must go out on the same connection. */
    private void onePublishConnectionPerStore(List<ChannelConfig> channels) {
        Map<String, ChannelConfig> first = new HashMap<>();
        for (ChannelConfig c : channels) {
            if (!c.publish()) {
                continue;
            }
            ChannelConfig f = first.putIfAbsent(c.store(), c);
            if (f != null && !f.publishVia().equals(c.publishVia())) {
                problem(c.location().child("publish-via"), "store " + Values.quote(c.store()) + " publishes "
                        + f.table() + " via " + f.publishVia() + " (line " + f.location().line() + "): the channels"
                        + " a store publishes share its outbox and go out on one connection");
            }
        }
    }

    private void throwIfProblems() {
        if (!problems.isEmpty()) {
            List<ConfigProblem> sorted = new ArrayList<>(problems);
            sorted.sort(Comparator.comparingInt(p -> p.location().line()));
            throw new ConfigException(file, sorted);
        }
    }

    private Optional<Node> compose(String yaml) {
        LoadSettings settings = LoadSettings.builder()
                .setLabel(String.valueOf(file.getFileName()))
                .setSchema(new CoreSchema())
                .setAllowRecursiveKeys(false)
                .build();
        try {
            return new Compose(settings).composeString(yaml);
        } catch (MarkedYamlEngineException e) {
            Optional<Mark> mark = e.getProblemMark().isPresent() ? e.getProblemMark() : e.getContextMark();
            int line = mark.map(m -> m.getLine() + 1).orElse(1);
            String context = e.getContext();
            String message = "invalid YAML: " + e.getProblem() + (context == null ? "" : " (" + context + ")");
            problem(new Location(file, line, ""), message);
        } catch (YamlEngineException e) {
            problem(new Location(file, 1, ""), "invalid YAML: " + e.getMessage());
        }
        throwIfProblems();
        return Optional.empty();
    }

    // ---------------------------------------------------------------- sections

    private NodeSection node(Entry section, Location top) {
        Map<String, Entry> e = section == null ? Map.of() : mapping(section, NODE_KEYS);
        Location at = section == null ? top.child("node") : section.location();
        String name = "node";
        Entry nameEntry = e.get("name");
        // a node: that is not a mapping was reported already; do not also report its name missing
        boolean sectionOk = section == null || isNull(section.value()) || section.value() instanceof MappingNode;
        if (nameEntry == null && sectionOk) {
            problem(at.child("name"), "required: the node's name, 1 to 64 of A-Z a-z 0-9 _ -");
        } else if (nameEntry != null) {
            name = name(nameEntry, NODE_NAME, "1 to 64 of A-Z a-z 0-9 _ -").orElse(name);
        }
        String cluster = Optional.ofNullable(e.get("cluster"))
                .flatMap(c -> name(c, NODE_NAME, "1 to 64 of A-Z a-z 0-9 _ -")).orElse(DEFAULT_CLUSTER);
        Path dataDir = Optional.ofNullable(e.get("data-dir")).flatMap(d -> path(d, baseDir))
                .orElse(baseDir.resolve(DEFAULT_DATA_DIR));
        Duration retention = duration(e.get("tombstone-retention")).orElse(NodeSection.DEFAULT_TOMBSTONE_RETENTION);
        int outboxMb = integer(e.get("outbox-max-mb"), 1, 1_048_576).orElse(NodeSection.DEFAULT_OUTBOX_MAX_MB);
        int resendMb = integer(e.get("resend-window-mb"), 0, 1_048_576).orElse(NodeSection.DEFAULT_RESEND_WINDOW_MB);
        Duration skew = seconds(e.get("max-clock-skew"), 1, 86_400).orElse(NodeSection.DEFAULT_MAX_CLOCK_SKEW);
        Optional<SigningConfig> signing = e.containsKey("signing") ? signing(e.get("signing"), name)
                : Optional.empty();
        Optional<HttpConfig> http = e.containsKey("http") ? http(e.get("http")) : Optional.empty();
        WireForm wireForm = Optional.ofNullable(e.get("wire-form"))
                .flatMap(w -> choice(w, orderedMap("binary", WireForm.BINARY, "json", WireForm.JSON)))
                .orElse(WireForm.BINARY);
        NodeSection.LogFormat logFormat = Optional.ofNullable(e.get("log-format"))
                .flatMap(l -> choice(l, orderedMap("text", NodeSection.LogFormat.TEXT, "json",
                        NodeSection.LogFormat.JSON)))
                .orElse(NodeSection.LogFormat.TEXT);
        limits = e.containsKey("limits") ? limits(e.get("limits")) : CodecLimits.DEFAULTS;
        int deadLetterMb = integer(e.get("dead-letter-max-mb"), 1, 1_048_576)
                .orElse(NodeSection.DEFAULT_DEAD_LETTER_MAX_MB);
        int minFreeMb = integer(e.get("min-free-disk-mb"), 0, 1_048_576).orElse(NodeSection.DEFAULT_MIN_FREE_DISK_MB);
        return new NodeSection(name, cluster, dataDir, retention, outboxMb, resendMb, skew, signing, http, wireForm,
                logFormat, limits, deadLetterMb, minFreeMb);
    }

    /** The node's input bounds, once {@code node:} is read; the channels' batch sizes are checked against them. */
    private CodecLimits limits = CodecLimits.DEFAULTS;

    /**
     * {@code node.limits}: {@code max-message-mb} (1 to 256), {@code max-events} (1 to 1,000,000), {@code max-columns}
     * (1 to 100,000), {@code max-value-mb} (1 to max-message-mb), {@code max-depth} (8 to 1024); each defaults to
     * {@link CodecLimits#DEFAULTS}.
     */
    private CodecLimits limits(Entry section) {
        if (isNull(section.value())) {
            return CodecLimits.DEFAULTS;
        }
        if (!(section.value() instanceof MappingNode)) {
            problem(section.location(), "expected a mapping with the keys " + String.join(", ", LIMITS_KEYS)
                    + ", got " + kind(section.value()));
            return CodecLimits.DEFAULTS;
        }
        Map<String, Entry> e = mapping(section, LIMITS_KEYS);
        CodecLimits d = CodecLimits.DEFAULTS;
        int messageMb = integer(e.get("max-message-mb"), 1, MAX_MESSAGE_MB).orElse(d.maxPayloadBytes() >> 20);
        int events = integer(e.get("max-events"), 1, 1_000_000).orElse(d.maxEvents());
        int columns = integer(e.get("max-columns"), 1, 100_000).orElse(d.maxColumns());
        int valueMb = integer(e.get("max-value-mb"), 1, MAX_MESSAGE_MB)
                .orElse(Math.min(d.maxStringBytes() >> 20, messageMb));
        if (valueMb > messageMb && e.containsKey("max-value-mb")) {
            problem(e.get("max-value-mb").location(), "expected at most max-message-mb (" + messageMb + "), got "
                    + valueMb + ": a value never exceeds its message");
            valueMb = messageMb;
        }
        int depth = integer(e.get("max-depth"), 8, 1024).orElse(d.maxDepth());
        return new CodecLimits(messageMb << 20, events, columns, valueMb << 20, depth);
    }

    /**
     * {@code node.http}: {@code bind} (default loopback), {@code port} (1 to 65535), {@code token} (a secret, from
     * {@code ${env:}} or {@code ${file:}}; required beyond loopback) and {@code ready-max-lag} (events, 0 or more).
     * Written as {@code http:} with nothing after it: on with the defaults.
     */
    private Optional<HttpConfig> http(Entry section) {
        if (isNull(section.value())) {
            return Optional.of(new HttpConfig(HttpConfig.DEFAULT_BIND, HttpConfig.DEFAULT_PORT, Optional.empty(),
                    HttpConfig.DEFAULT_READY_MAX_LAG));
        }
        if (!(section.value() instanceof MappingNode)) {
            problem(section.location(), "expected a mapping with the keys " + String.join(", ", HTTP_KEYS) + ", got "
                    + kind(section.value()));
            return Optional.empty();
        }
        Map<String, Entry> e = mapping(section, HTTP_KEYS);
        Entry bindEntry = e.get("bind");
        Optional<Scalar> bind = bindEntry == null ? Optional.empty()
                : scalar(bindEntry, "an address").filter(s -> nonBlank(s, "an address"));
        int port = integer(e.get("port"), 1, 65_535).orElse(HttpConfig.DEFAULT_PORT);
        Optional<Scalar> tokenText = Optional.ofNullable(e.get("token")).flatMap(t -> scalar(t, "a string"))
                .filter(t -> nonBlank(t, "a token"));
        if (tokenText.isPresent() && !tokenText.get().interpolated()) {
            problem(tokenText.get().location(), "write the token as ${env:NAME} or ${file:path}, not in the file "
                    + "itself: it is a secret");
        }
        Optional<Secret> token = tokenText.map(t -> new Secret(t.text()));
        if (bind.isPresent() && !isLoopback(bind.get().text()) && !e.containsKey("token")) {
            problem(bindEntry.location(), bind.get().shown() + " is not a loopback address; binding the HTTP "
                    + "listener elsewhere needs node.http.token (${env:NAME}), which every path but /health then "
                    + "requires as Authorization: Bearer <token>");
        }
        long readyMaxLag = integer(e.get("ready-max-lag"), 0, Integer.MAX_VALUE)
                .orElse((int) HttpConfig.DEFAULT_READY_MAX_LAG);
        return Optional.of(new HttpConfig(bind.map(Scalar::text).orElse(HttpConfig.DEFAULT_BIND), port, token,
                readyMaxLag));
    }

    private static final Pattern FILE_REFERENCE = Pattern.compile("\\$\\{file:([^}]+)}");

    /**
     * {@code node.signing}: {@code key} (a secret: the PEM text, from {@code ${env:}} or {@code ${file:}}) or
     * {@code key-file}, and {@code trust} (node name to a public key or a list of them) and/or {@code trust-file}
     * (lines {@code node: key}). The trust list must hold a public key matching this node's private key.
     */
    private Optional<SigningConfig> signing(Entry section, String nodeName) {
        signingGiven = true;
        Map<String, Entry> e = mapping(section, SIGNING_KEYS);
        if (!(section.value() instanceof MappingNode)) {
            if (isNull(section.value())) {
                problem(section.location(), "no value; expected key (or key-file) and trust (or trust-file), or "
                        + "remove the key to publish unsigned messages");
            }
            return Optional.empty();
        }
        int before = problems.size();
        java.security.PrivateKey key = null;
        Optional<Path> keyFile = Optional.empty();
        if (e.containsKey("key") == e.containsKey("key-file")) {
            problem(section.location(), e.containsKey("key") ? "key and key-file: give one of them"
                    : "required: key (the node's private key, e.g. ${file:/etc/mqdb/node-a.key}) or key-file; make "
                    + "one with mqdb keygen --node " + nodeName);
        } else if (e.containsKey("key")) {
            Entry k = e.get("key");
            Optional<Scalar> s = scalar(k, "a PEM private key");
            if (s.isPresent()) {
                java.util.regex.Matcher m = FILE_REFERENCE.matcher(s.get().raw().strip());
                if (m.matches()) {
                    keyFile = Optional.of(baseDir.resolve(m.group(1).strip()).normalize());
                }
                key = privateKey(s.get().text(), k.location());
            }
        } else {
            Optional<Path> p = existingFile(e.get("key-file"));
            if (p.isPresent()) {
                keyFile = p;
                try {
                    key = privateKey(Files.readString(p.get()), e.get("key-file").location());
                } catch (java.io.IOException | RuntimeException x) {
                    problem(e.get("key-file").location(), "cannot read " + p.get() + ": " + x.getMessage());
                }
            }
        }
        Map<String, List<java.security.PublicKey>> trust = new LinkedHashMap<>();
        if (!e.containsKey("trust") && !e.containsKey("trust-file")) {
            problem(section.location().child("trust"), "required: trust (node name: public key, for every node "
                    + "of the cluster, this one included) or trust-file");
        }
        if (e.containsKey("trust")) {
            trust(e.get("trust"), trust);
        }
        if (e.containsKey("trust-file")) {
            existingFile(e.get("trust-file")).ifPresent(p -> trustFile(p, trust));
        }
        if (problems.size() > before || key == null) {
            return Optional.empty();
        }
        io.mqdb.signing.TrustList list = new io.mqdb.signing.TrustList(trust);
        try {
            new io.mqdb.signing.Signing(nodeName, key, list);
        } catch (IllegalArgumentException x) {
            problem(section.location(), x.getMessage());
            return Optional.empty();
        }
        return Optional.of(new SigningConfig(key, list, keyFile));
    }

    private java.security.PrivateKey privateKey(String text, Location at) {
        try {
            return io.mqdb.signing.Keys.privateKey(text);
        } catch (IllegalArgumentException x) {
            problem(at, x.getMessage());
            return null;
        }
    }

    private void trust(Entry entry, Map<String, List<java.security.PublicKey>> out) {
        for (Entry n : mapping(entry, null).values()) {
            if (!NODE_NAME.matcher(n.key()).matches()) {
                problem(n.location(), "invalid node name " + Values.quote(n.key()) + ": expected 1 to 64 of "
                        + "A-Z a-z 0-9 _ -");
                continue;
            }
            List<Scalar> keys = stringList(n, "a public key");
            if (keys.isEmpty() && n.value() instanceof SequenceNode) {
                problem(n.location(), "an empty list; give the node's public key (or keys, while it changes keys)");
            }
            for (Scalar k : keys) {
                publicKey(k.text(), k.location()).ifPresent(pk -> out.computeIfAbsent(n.key(),
                        x -> new ArrayList<>()).add(pk));
            }
        }
    }

    /** A trust file: lines {@code node: public-key}; a node may have several lines; {@code #} starts a comment. */
    private void trustFile(Path p, Map<String, List<java.security.PublicKey>> out) {
        List<String> lines;
        try {
            lines = Files.readAllLines(p);
        } catch (java.io.IOException | RuntimeException x) {
            problem(new Location(p, 1, ""), "cannot read the trust file: " + x.getMessage());
            return;
        }
        for (int i = 0; i < lines.size(); i++) {
            String line = lines.get(i).strip();
            if (line.isEmpty() || line.startsWith("#")) {
                continue;
            }
            int colon = line.indexOf(':');
            String node = colon < 0 ? "" : line.substring(0, colon).strip();
            Location at = new Location(p, i + 1, node);
            if (colon < 0 || !NODE_NAME.matcher(node).matches()) {
                problem(at, "expected node-name: public-key (as mqdb keygen prints it)");
                continue;
            }
            publicKey(line.substring(colon + 1), at).ifPresent(pk -> out.computeIfAbsent(node,
                    x -> new ArrayList<>()).add(pk));
        }
    }

    private Optional<java.security.PublicKey> publicKey(String text, Location at) {
        try {
            return Optional.of(io.mqdb.signing.Keys.publicKey(text));
        } catch (IllegalArgumentException x) {
            problem(at, x.getMessage());
            return Optional.empty();
        }
    }

    private BrokerConfig broker(Entry section, NodeSection node) {
        Optional<EmbeddedBrokerConfig> defaultEmbedded = Optional.of(embedded(Map.of(), node));
        if (section == null || isNull(section.value())) {
            return brokerDefaults(defaultEmbedded, List.of(), node, Map.of());
        }
        if (section.value() instanceof ScalarNode) {
            Optional<Scalar> s = scalar(section, "\"embedded\" or a mapping");
            if (s.isPresent() && !s.get().text().equals("embedded")) {
                problem(section.location(), "expected \"embedded\" or a mapping with embedded and/or uris, got "
                        + s.get().shown());
            }
            return brokerDefaults(defaultEmbedded, List.of(), node, Map.of());
        }
        int before = problems.size();
        Map<String, Entry> e = mapping(section, BROKER_KEYS);
        boolean keysOk = problems.size() == before;
        Optional<EmbeddedBrokerConfig> embedded = Optional.empty();
        Entry embeddedEntry = e.get("embedded");
        if (embeddedEntry != null) {
            if (isNull(embeddedEntry.value())) {
                embedded = defaultEmbedded;
            } else {
                embedded = Optional.of(embedded(mapping(embeddedEntry, EMBEDDED_KEYS), node));
            }
        }
        before = problems.size();
        List<String> uris = Optional.ofNullable(e.get("uris")).map(this::uris).orElse(List.of());
        boolean urisOk = problems.size() == before;
        if (embeddedEntry == null && uris.isEmpty() && keysOk && urisOk) {
            problem(section.location(), "no broker: give embedded, uris, or both; or write broker: embedded");
        }
        return brokerDefaults(embedded, uris, node, e);
    }

    private BrokerConfig brokerDefaults(Optional<EmbeddedBrokerConfig> embedded, List<String> uris,
                                        NodeSection node, Map<String, Entry> e) {
        Optional<String> username = Optional.ofNullable(e.get("username")).flatMap(u -> scalar(u, "a string"))
                .map(Scalar::text);
        Optional<Secret> password = Optional.ofNullable(e.get("password")).flatMap(p -> scalar(p, "a string"))
                .map(s -> new Secret(s.text()));
        Optional<TlsConfig> tls = Optional.ofNullable(e.get("tls")).flatMap(this::tls);
        String clientId = Optional.ofNullable(e.get("client-id")).flatMap(c -> scalar(c, "a string"))
                .filter(s -> nonBlank(s, "an MQTT client id"))
                .map(Scalar::text).orElse("mqdb-" + node.cluster() + "-" + node.name());
        Duration sessionExpiry = seconds(e.get("session-expiry"), 1, MAX_SESSION_EXPIRY_SECONDS)
                .orElse(DEFAULT_SESSION_EXPIRY);
        Duration keepAlive = seconds(e.get("keep-alive"), 0, 65_535).orElse(DEFAULT_KEEP_ALIVE);
        Duration connectTimeout = seconds(e.get("connect-timeout"), 1, Integer.MAX_VALUE)
                .orElse(DEFAULT_CONNECT_TIMEOUT);
        int receiveMaximum = integer(e.get("receive-maximum"), 1, 65_535).orElse(DEFAULT_RECEIVE_MAXIMUM);
        int maxInflight = integer(e.get("max-inflight"), 1, 65_535).orElse(DEFAULT_MAX_INFLIGHT);
        ClientLibrary client = Optional.ofNullable(e.get("client")).flatMap(this::clientLibrary)
                .orElse(ClientLibrary.HIVEMQ);
        int flowWindow = integer(e.get("flow-window"), 0, 65_535).orElse(BrokerConfig.DEFAULT_FLOW_WINDOW);
        BrokerMode mode = Optional.ofNullable(e.get("mode"))
                .flatMap(m -> choice(m, orderedMap(BrokerMode.FAILOVER.configName(), BrokerMode.FAILOVER,
                        BrokerMode.MIRROR.configName(), BrokerMode.MIRROR)))
                .orElse(BrokerMode.FAILOVER);
        boolean shuffle = Optional.ofNullable(e.get("shuffle")).flatMap(this::bool).orElse(false);
        return new BrokerConfig(embedded, uris, username, password, tls, clientId, sessionExpiry, keepAlive,
                connectTimeout, receiveMaximum, maxInflight, client, flowWindow, mode, shuffle);
    }

    /**
     * @param choices the words the key takes, in the order the error message names them, and what each means
     * @return what the entry's word means; empty, with a problem at its line, for any other value
     */
    private <T> Optional<T> choice(Entry entry, Map<String, T> choices) {
        String words = String.join(" or ", choices.keySet());
        Optional<Scalar> s = scalar(entry, words);
        if (s.isEmpty()) {
            return Optional.empty();
        }
        T t = choices.get(s.get().text());
        if (t == null) {
            problem(entry.location(), "expected " + words + ", got " + s.get().shown());
        }
        return Optional.ofNullable(t);
    }

    private static <T> Map<String, T> orderedMap(String k1, T v1, String k2, T v2) {
        Map<String, T> m = new LinkedHashMap<>();
        m.put(k1, v1);
        m.put(k2, v2);
        return m;
    }

    private Optional<ClientLibrary> clientLibrary(Entry entry) {
        Optional<Scalar> s = scalar(entry, "hivemq or paho");
        if (s.isEmpty()) {
            return Optional.empty();
        }
        Optional<ClientLibrary> c = ClientLibrary.parse(s.get().text());
        if (c.isEmpty()) {
            problem(entry.location(), "expected hivemq or paho, got " + s.get().shown());
        }
        return c;
    }

    private EmbeddedBrokerConfig embedded(Map<String, Entry> e, NodeSection node) {
        Entry bindEntry = e.get("bind");
        Optional<Scalar> bind = bindEntry == null ? Optional.empty()
                : scalar(bindEntry, "an address").filter(s -> nonBlank(s, "an address"));
        boolean allowRemote = bool(e.get("allow-remote")).orElse(false);
        List<BrokerUser> users = e.containsKey("users") ? users(e.get("users")) : List.of();
        if (bind.isPresent() && !allowRemote && !isLoopback(bind.get().text()) && !e.containsKey("users")) {
            problem(bindEntry.location(), bind.get().shown() + " is not a loopback address; without users the "
                    + "embedded broker lets every client in, so binding it elsewhere needs users (see "
                    + "docs/security.md), or allow-remote: true to let every client in");
        }
        int port = integer(e.get("port"), 1, 65_535).orElse(EmbeddedBrokerConfig.DEFAULT_PORT);
        Path dataDir = Optional.ofNullable(e.get("data-dir")).flatMap(d -> path(d, node.dataDir()))
                .orElse(node.dataDir().resolve("broker"));
        EmbeddedBrokerConfig.Persistence persistence = persistence(e.get("persistence"));
        int maxQueued = integer(e.get("max-queued-messages"), 1, Integer.MAX_VALUE)
                .orElse(EmbeddedBrokerConfig.DEFAULT_MAX_QUEUED_MESSAGES);
        int maxPacketMb = integer(e.get("max-packet-mb"), 1, EmbeddedBrokerConfig.MAX_PACKET_MB)
                .orElse(EmbeddedBrokerConfig.DEFAULT_MAX_PACKET_MB);
        int maxInflight = integer(e.get("max-inflight-messages"), 1, EmbeddedBrokerConfig.MAX_INFLIGHT_MESSAGES)
                .orElse(EmbeddedBrokerConfig.DEFAULT_MAX_INFLIGHT_MESSAGES);
        String bindAddress = bind.map(Scalar::text).orElse(EmbeddedBrokerConfig.DEFAULT_BIND);
        Optional<EmbeddedTlsConfig> tls = Optional.ofNullable(e.get("tls")).flatMap(t -> embeddedTls(t, bindAddress,
                allowRemote || e.containsKey("users")));
        Entry plainEntry = e.get("plain");
        boolean plain = bool(plainEntry).orElse(true);
        if (!plain && e.containsKey("tls") && tls.isEmpty()) {
            plain = true; // the tls problem is reported already
        } else if (!plain && tls.isEmpty()) {
            problem(plainEntry.location(), "plain: false needs a tls listener (broker.embedded.tls)");
            plain = true;
        }
        return new EmbeddedBrokerConfig(bindAddress, port, dataDir, persistence, maxQueued, maxPacketMb, maxInflight,
                node.cluster(), users, tls, plain);
    }

    /**
     * {@code broker.embedded.tls:}: the TLS listener; the PEM files are read now, so an unreadable file, an encrypted
     * key without its pass phrase or a key that is not the certificate's is reported with its line.
     */
    private Optional<EmbeddedTlsConfig> embeddedTls(Entry entry, String brokerBind, boolean remoteOk) {
        if (isNull(entry.value())) {
            return Optional.empty();
        }
        Map<String, Entry> e = mapping(entry, EMBEDDED_TLS_KEYS);
        boolean ok = true;
        Entry bindEntry = e.get("bind");
        Optional<Scalar> bind = bindEntry == null ? Optional.empty()
                : scalar(bindEntry, "an address").filter(s -> nonBlank(s, "an address"));
        if (bind.isPresent() && !remoteOk && !isLoopback(bind.get().text())) {
            problem(bindEntry.location(), bind.get().shown() + " is not a loopback address; without users the "
                    + "embedded broker lets every client in, so binding it elsewhere needs users (see "
                    + "docs/security.md), or allow-remote: true to let every client in");
        }
        int port = integer(e.get("port"), 1, 65_535).orElse(EmbeddedTlsConfig.DEFAULT_PORT);
        Optional<Path> cert = Optional.empty();
        Optional<Path> key = Optional.empty();
        for (String k : List.of("cert-file", "key-file")) {
            if (!e.containsKey(k)) {
                problem(entry.location().child(k), "required: the broker's PEM "
                        + (k.equals("cert-file") ? "certificate chain" : "PKCS#8 private key"));
                ok = false;
            }
        }
        if (e.containsKey("cert-file")) {
            cert = existingFile(e.get("cert-file"));
        }
        if (e.containsKey("key-file")) {
            key = existingFile(e.get("key-file"));
        }
        Optional<Secret> keyPassword = Optional.ofNullable(e.get("key-password"))
                .flatMap(p -> scalar(p, "a string")).map(s -> new Secret(s.text()));
        Optional<Path> clientCa = Optional.ofNullable(e.get("client-ca-file")).flatMap(this::existingFile);
        EmbeddedTlsConfig.ClientAuth clientAuth = EmbeddedTlsConfig.ClientAuth.NONE;
        Entry authEntry = e.get("client-auth");
        if (authEntry != null) {
            Optional<Scalar> a = scalar(authEntry, "none, optional or required");
            Optional<EmbeddedTlsConfig.ClientAuth> parsed = a.flatMap(x -> java.util.Arrays.stream(
                    EmbeddedTlsConfig.ClientAuth.values()).filter(v -> v.text().equals(x.text().strip())).findFirst());
            if (a.isPresent() && parsed.isEmpty()) {
                problem(authEntry.location(), "expected none, optional or required, got " + a.get().shown());
            }
            clientAuth = parsed.orElse(clientAuth);
        }
        if (clientAuth != EmbeddedTlsConfig.ClientAuth.NONE && !e.containsKey("client-ca-file")) {
            problem(authEntry.location(), "client-auth " + clientAuth.text() + " needs client-ca-file: the PEM "
                    + "certificates of the authorities that sign client certificates");
            ok = false;
        }
        if (e.containsKey("client-ca-file") && clientAuth == EmbeddedTlsConfig.ClientAuth.NONE) {
            problem(e.get("client-ca-file").location(), "client-ca-file without client-auth: give client-auth: "
                    + "optional or required, or remove client-ca-file");
        }
        if (cert.isPresent() && key.isPresent()) {
            try {
                io.mqdb.transport.PemTls.keyStore(cert.get(), key.get(), keyPassword.map(Secret::value).orElse(null),
                        new char[0]);
            } catch (IllegalArgumentException ex) {
                problem(e.get("key-file").location(), ex.getMessage());
                ok = false;
            }
        }
        if (clientCa.isPresent()) {
            try {
                io.mqdb.transport.PemTls.trustStore(clientCa.get());
            } catch (IllegalArgumentException ex) {
                problem(e.get("client-ca-file").location(), ex.getMessage());
                ok = false;
            }
        }
        if (!ok || cert.isEmpty() || key.isEmpty()) {
            return Optional.empty();
        }
        return Optional.of(new EmbeddedTlsConfig(bind.map(Scalar::text).orElse(brokerBind), port, cert.get(),
                key.get(), keyPassword, clientCa, clientAuth));
    }

    /** {@code users:}, a mapping of user name to {@code {password, role, node, channels}}; at least one user. */
    private List<BrokerUser> users(Entry entry) {
        Map<String, Entry> byName = mapping(entry, null);
        if (byName.isEmpty()) {
            problem(entry.location(), "no users; give at least one (name: { password: ..., role: node }), or "
                    + "remove the key to let every client in");
            return List.of();
        }
        List<BrokerUser> out = new ArrayList<>();
        for (Entry u : byName.values()) {
            if (!USER_NAME.matcher(u.key()).matches()) {
                problem(u.location(), "invalid user name " + Values.quote(u.key()) + ": expected 1 to 64 of "
                        + "A-Z a-z 0-9 _ . @ -");
                continue;
            }
            Map<String, Entry> e = mapping(u, USER_KEYS);
            Optional<Secret> password = Optional.empty();
            if (!e.containsKey("password")) {
                problem(u.location().child("password"), "required: the user's password, e.g. "
                        + "${env:MQDB_BROKER_PASSWORD} or ${file:/run/secrets/mqdb}");
            } else {
                password = scalar(e.get("password"), "a password").filter(p -> nonBlank(p, "a password"))
                        .map(p -> new Secret(p.text()));
            }
            BrokerUser.Role role = BrokerUser.Role.NODE;
            Entry roleEntry = e.get("role");
            if (roleEntry != null) {
                Optional<Scalar> r = scalar(roleEntry, "node, writer or reader");
                Optional<BrokerUser.Role> parsed = r.flatMap(x -> java.util.Arrays.stream(BrokerUser.Role.values())
                        .filter(v -> v.text().equals(x.text().strip())).findFirst());
                if (r.isPresent() && parsed.isEmpty()) {
                    problem(roleEntry.location(), "expected node, writer or reader, got " + r.get().shown());
                }
                role = parsed.orElse(role);
            }
            Optional<String> nodeName = Optional.empty();
            if (e.containsKey("node")) {
                if (role != BrokerUser.Role.NODE) {
                    problem(e.get("node").location(), "only a user of role node has a node name");
                } else {
                    nodeName = name(e.get("node"), NODE_NAME, "1 to 64 of A-Z a-z 0-9 _ -");
                }
            } else if (role == BrokerUser.Role.NODE && !NODE_NAME.matcher(u.key()).matches()) {
                problem(u.location(), "user " + Values.quote(u.key()) + " of role node is not a node name (1 to 64 "
                        + "of A-Z a-z 0-9 _ -): give its node: name");
            }
            List<TableId> channels = new ArrayList<>();
            if (e.containsKey("channels")) {
                List<Scalar> list = stringList(e.get("channels"), "schema:table");
                if (list.isEmpty() && !(e.get("channels").value() instanceof ScalarNode)) {
                    problem(e.get("channels").location(), "an empty list; give the channels, or remove the key for "
                            + "every channel");
                }
                for (Scalar c : list) {
                    try {
                        TableId t = TableId.parse(c.text().strip());
                        if (channels.contains(t)) {
                            problem(c.location(), t + " is listed twice");
                        } else {
                            channels.add(t);
                        }
                    } catch (IllegalArgumentException ex) {
                        problem(c.location(), ex.getMessage());
                    }
                }
            } else if (role == BrokerUser.Role.WRITER) {
                problem(u.location().child("channels"), "required for a writer: the channels it may write, "
                        + "[schema:table, ...]");
            }
            if (password.isPresent() && (role != BrokerUser.Role.WRITER || !channels.isEmpty())) {
                out.add(new BrokerUser(u.key(), password.get(), role, nodeName, channels));
            }
        }
        return out;
    }

    private EmbeddedBrokerConfig.Persistence persistence(Entry entry) {
        if (entry == null) {
            return EmbeddedBrokerConfig.Persistence.IN_MEMORY;
        }
        Optional<Scalar> s = scalar(entry, "in-memory or file");
        if (s.isEmpty()) {
            return EmbeddedBrokerConfig.Persistence.IN_MEMORY;
        }
        for (EmbeddedBrokerConfig.Persistence p : EmbeddedBrokerConfig.Persistence.values()) {
            if (p.text().equals(s.get().text())) {
                return p;
            }
        }
        problem(entry.location(), "expected in-memory or file, got " + s.get().shown());
        return EmbeddedBrokerConfig.Persistence.IN_MEMORY;
    }

    static boolean isLoopback(String host) {
        String h = host.strip().toLowerCase(Locale.ROOT);
        if (h.startsWith("[") && h.endsWith("]")) {
            h = h.substring(1, h.length() - 1);
        }
        return h.equals("localhost") || h.equals("::1") || h.equals("0:0:0:0:0:0:0:1")
                || IPV4_LOOPBACK.matcher(h).matches();
    }

    private List<String> uris(Entry entry) {
        List<Scalar> items = stringList(entry, "a broker URI");
        List<String> out = new ArrayList<>();
        for (Scalar s : items) {
            String reason = uriProblem(s.text());
            if (reason != null) {
                problem(s.location(), reason + ", got " + s.shown());
            } else {
                out.add(s.text());
            }
        }
        return out;
    }

    private static String uriProblem(String text) {
        URI uri;
        try {
            uri = new URI(text.strip());
        } catch (URISyntaxException e) {
            return "expected a broker URI like tcp://host:1883 (" + e.getReason() + ")";
        }
        if (uri.getScheme() == null || !URI_SCHEMES.contains(uri.getScheme().toLowerCase(Locale.ROOT))) {
            return "expected a broker URI with scheme tcp, ssl, mqtt, mqtts, ws or wss";
        }
        if (uri.getHost() == null) {
            return "expected a broker URI with a host, like tcp://host:1883";
        }
        return null;
    }

    private Optional<TlsConfig> tls(Entry entry) {
        if (isNull(entry.value())) {
            return Optional.empty();
        }
        Map<String, Entry> e = mapping(entry, TLS_KEYS);
        Optional<Path> ca = Optional.ofNullable(e.get("ca-file")).flatMap(this::existingFile);
        Optional<Path> cert = Optional.ofNullable(e.get("cert-file")).flatMap(this::existingFile);
        Optional<Path> key = Optional.ofNullable(e.get("key-file")).flatMap(this::existingFile);
        Optional<Secret> keyPassword = Optional.ofNullable(e.get("key-password"))
                .flatMap(p -> scalar(p, "a string")).map(s -> new Secret(s.text()));
        boolean verify = bool(e.get("verify-hostname")).orElse(true);
        if (e.containsKey("cert-file") != e.containsKey("key-file")) {
            problem(entry.location(), "cert-file and key-file go together: give both for a client certificate, "
                    + "or neither");
        }
        if (e.containsKey("key-password") && !e.containsKey("key-file")) {
            problem(e.get("key-password").location(), "key-password without key-file");
        }
        return Optional.of(new TlsConfig(ca, cert, key, keyPassword, verify));
    }

    private Optional<Path> existingFile(Entry entry) {
        Optional<Path> p = path(entry, baseDir);
        if (p.isPresent() && !Files.isRegularFile(p.get())) {
            problem(entry.location(), "file not found: " + p.get());
            return Optional.empty();
        }
        return p;
    }

    private Map<String, StoreSection> stores(Entry section, Set<String> names) {
        Map<String, StoreSection> out = new LinkedHashMap<>();
        if (section == null || isNull(section.value())) {
            return out;
        }
        for (Entry store : mapping(section, null).values()) {
            names.add(store.key());
            boolean nameOk = STORE_NAME.matcher(store.key()).matches();
            if (!nameOk) {
                problem(store.location(), "invalid store name " + Values.quote(store.key())
                        + ": expected A-Z a-z 0-9 _ -");
            }
            if (!(store.value() instanceof MappingNode)) {
                problem(store.location(), "expected a mapping with type and the adapter's settings, got "
                        + kind(store.value()));
                continue;
            }
            Map<String, Entry> e = mapping(store, null);
            Optional<String> type = Optional.empty();
            Entry typeEntry = e.get("type");
            if (typeEntry == null) {
                problem(store.location().child("type"), "required: the adapter type, like mapdb or jdbc");
            } else {
                type = scalar(typeEntry, "an adapter type").filter(s -> nonBlank(s, "an adapter type"))
                        .map(s -> s.text().strip());
            }
            Map<String, RawSetting> settings = new LinkedHashMap<>();
            for (Entry setting : e.values()) {
                if (!setting.key().equals("type")) {
                    raw(setting).ifPresent(v -> settings.put(setting.key(),
                            new RawSetting(setting.key(), v, setting.location())));
                }
            }
            if (nameOk && type.isPresent()) {
                out.put(store.key(), new StoreSection(store.key(), type.get(), store.location(), settings,
                        typeEntry.location()));
            }
        }
        return out;
    }

    private Optional<Object> raw(Entry entry) {
        Node v = entry.value();
        if (isNull(v)) {
            problem(entry.location(), "no value; remove the key to use the default");
            return Optional.empty();
        }
        if (v instanceof ScalarNode) {
            return scalar(entry, "a value").map(Scalar::text);
        }
        if (v instanceof SequenceNode seq) {
            List<String> out = new ArrayList<>();
            boolean ok = true;
            for (int i = 0; i < seq.getValue().size(); i++) {
                Node item = seq.getValue().get(i);
                Location at = entry.location().child("[" + i + "]").atLine(line(item));
                Optional<Scalar> s = scalarNode(item, at, "a string");
                ok &= s.isPresent();
                s.ifPresent(x -> out.add(x.text()));
            }
            return ok ? Optional.of(out) : Optional.empty();
        }
        Map<String, String> out = new LinkedHashMap<>();
        boolean ok = true;
        for (Entry item : mapping(entry, null).values()) {
            Optional<Scalar> s = scalar(item, "a string");
            ok &= s.isPresent();
            s.ifPresent(x -> out.put(item.key(), x.text()));
        }
        return ok ? Optional.of(out) : Optional.empty();
    }

    private List<ChannelConfig> channels(Entry section, Set<String> storeNames) {
        List<ChannelConfig> out = new ArrayList<>();
        if (section == null || isNull(section.value())) {
            return out;
        }
        if (!(section.value() instanceof SequenceNode seq)) {
            problem(section.location(), "expected a list of channels (- name: schema:table ...), got "
                    + kind(section.value()));
            return out;
        }
        Map<TableId, Integer> seen = new HashMap<>();
        for (int i = 0; i < seq.getValue().size(); i++) {
            Node item = seq.getValue().get(i);
            Location at = section.location().child("[" + i + "]").atLine(line(item));
            if (!(item instanceof MappingNode m)) {
                problem(at, "expected a mapping with name, store, publish, subscribe, got " + kind(item));
                continue;
            }
            int before = problems.size();
            Map<String, Entry> e = entries(m, at, CHANNEL_KEYS);
            boolean unknownKeys = problems.size() > before;
            channel(e, at, storeNames, unknownKeys, seen).ifPresent(out::add);
        }
        return out;
    }

    private Optional<ChannelConfig> channel(Map<String, Entry> e, Location at, Set<String> storeNames,
                                            boolean unknownKeys, Map<TableId, Integer> seen) {
        TableId table = null;
        Entry nameEntry = e.get("name");
        if (nameEntry == null) {
            problem(at.child("name"), "required: the table, written schema:table");
        } else {
            Optional<Scalar> s = scalar(nameEntry, "schema:table");
            if (s.isPresent()) {
                try {
                    table = TableId.parse(s.get().text().strip());
                    Integer first = seen.putIfAbsent(table, nameEntry.location().line());
                    if (first != null) {
                        problem(nameEntry.location(), table + " is already configured at line " + first);
                    }
                } catch (IllegalArgumentException ex) {
                    problem(nameEntry.location(), ex.getMessage());
                }
            }
        }
        String store = null;
        Entry storeEntry = e.get("store");
        if (storeEntry != null) {
            Optional<Scalar> s = scalar(storeEntry, "a store name");
            if (s.isPresent()) {
                store = s.get().text().strip();
                if (!storeNames.contains(store)) {
                    String known = storeNames.isEmpty() ? "no stores are configured"
                            : Values.suggest(store, storeNames).map(x -> "did you mean " + Values.quote(x) + "?")
                                    .orElse("stores: " + String.join(", ", storeNames));
                    problem(storeEntry.location(), "no store named " + Values.quote(store) + "; " + known);
                }
            }
        } else if (storeNames.size() == 1) {
            store = storeNames.iterator().next();
        } else {
            problem(at.child("store"), storeNames.isEmpty() ? "required: no stores are configured"
                    : "required when there are several stores: " + String.join(", ", storeNames));
        }
        Optional<Boolean> publish = bool(e.get("publish"));
        Optional<Boolean> subscribe = bool(e.get("subscribe"));
        boolean typesOk = (publish.isPresent() || !e.containsKey("publish"))
                && (subscribe.isPresent() || !e.containsKey("subscribe"));
        if (!publish.orElse(false) && !subscribe.orElse(false) && typesOk && !unknownKeys) {
            problem(at, "neither publish nor subscribe is true: set at least one");
        }
        int batchSize = integer(e.get("batch-size"), 1, MAX_BATCH_SIZE).orElse(DEFAULT_BATCH_SIZE);
        if (batchSize > limits.maxEvents()) {
            problem(e.containsKey("batch-size") ? e.get("batch-size").location() : at.child("batch-size"),
                    "batch-size " + batchSize + " is above node.limits.max-events (" + limits.maxEvents() + "): "
                    + "nodes with these limits would dead-letter its batches");
        }
        Duration flush = duration(e.get("flush-interval")).orElse(DEFAULT_FLUSH_INTERVAL);
        ChannelConfig.OnError onError = onError(e.get("on-error"));
        List<String> key = Optional.ofNullable(e.get("key")).map(this::replicaKey).orElse(List.of());
        boolean plain = bool(e.get("accept-plain-writes")).orElse(false);
        ChannelConfig.PlainWrites plainWrites = plainWrites(e.get("plain-writes"));
        if (e.containsKey("plain-writes") && !plain) {
            problem(e.get("plain-writes").location(), "plain-writes without accept-plain-writes: true");
        }
        if (plain && !signingGiven) {
            problem(e.get("accept-plain-writes").location(), "accept-plain-writes needs node.signing: without it "
                    + "every write is accepted as it comes");
        } else if (plain && !subscribe.orElse(false)) {
            problem(e.get("accept-plain-writes").location(), "accept-plain-writes is for a subscribed channel "
                    + "(subscribe: true)");
        }
        boolean reads = bool(e.get("reads")).orElse(false);
        Optional<TransformConfig> transform = Optional.empty();
        if (e.containsKey("transform")) {
            if (publish.orElse(false) && subscribe.orElse(false)) {
                problem(e.get("transform").location(), "a transform on a channel this node publishes and subscribes "
                        + "would publish the transformed rows as the table's changes; transform a one-way channel");
            } else {
                transform = transform(e.get("transform"), publish.orElse(false));
            }
        }
        if (table == null || store == null) {
            return Optional.empty();
        }
        String publishVia = via(e.get("publish-via"), publish.orElse(false), "publish");
        String subscribeVia = via(e.get("subscribe-via"), subscribe.orElse(false), "subscribe");
        return Optional.of(new ChannelConfig(table, store, publish.orElse(false), subscribe.orElse(false),
                batchSize, flush, at, onError, key, plain, plainWrites, reads, publishVia, subscribeVia, transform));
    }

    /** {@code publish-via} / {@code subscribe-via}: a connection name, for a channel that goes that way. */
    private String via(Entry entry, boolean goes, String way) {
        if (entry == null) {
            return ChannelConfig.MAIN_BROKER;
        }
        Optional<Scalar> s = scalar(entry, "a broker connection name");
        if (s.isEmpty()) {
            return ChannelConfig.MAIN_BROKER;
        }
        String name = s.get().text().strip();
        if (!goes) {
            problem(entry.location(), way + "-via without " + way + ": true");
        } else if (!brokerNames.contains(name)) {
            problem(entry.location(), "no broker connection named " + Values.quote(name) + "; connections: "
                    + String.join(", ", brokerNames) + " (" + ChannelConfig.MAIN_BROKER + " is the broker section;"
                    + " name others under brokers:)");
        }
        return name;
    }

    /**
     * {@code transform:} of a channel, compiled: every column it names is checked against its {@code source}, and every
     * expression parsed and type-checked against it ({@code docs/transforms.md}). On a published channel only
     * {@code source} and {@code filter}.
     */
    private Optional<TransformConfig> transform(Entry entry, boolean publishing) {
        int before = problems.size();
        Map<String, Entry> t = mapping(entry, TRANSFORM_KEYS);
        if (publishing) {
            for (String k : List.of("columns", "key", "ttl")) {
                if (t.containsKey(k)) {
                    problem(t.get(k).location(), "on a published channel a transform has only source and filter "
                            + "(the rows it publishes); " + k + " belongs to the subscribing node's channel");
                }
            }
        }
        Map<String, io.mqdb.spi.ColumnType> source = transformSource(t.get("source"), entry.location());
        if (problems.size() > before) {
            return Optional.empty();
        }
        io.mqdb.transform.ExpressionCompiler compiler = new io.mqdb.transform.ExpressionCompiler(source);
        Map<String, Entry> c = t.containsKey("columns") ? mapping(t.get("columns"), TRANSFORM_COLUMNS_KEYS)
                : Map.of();
        Set<String> include = new LinkedHashSet<>(sourceNames(c.get("include"), source));
        Set<String> exclude = new LinkedHashSet<>(sourceNames(c.get("exclude"), source));
        if (c.containsKey("include") && c.containsKey("exclude")) {
            problem(c.get("exclude").location(), "give include or exclude, not both");
        }
        Map<String, String> rename = new LinkedHashMap<>();
        Map<String, String> targets = new HashMap<>(); // target name -> the source column or computed column
        for (String col : source.keySet()) {
            boolean kept = include.isEmpty() ? !exclude.contains(col) : include.contains(col);
            if (kept) {
                targets.put(col, col);
            }
        }
        if (c.containsKey("rename")) {
            for (Entry r : mapping(c.get("rename"), null).values()) {
                String from = r.key();
                Optional<Scalar> to = scalar(r, "the new column name");
                if (!source.containsKey(from)) {
                    problem(r.location(), unknownColumn(from, source));
                } else if (!(include.isEmpty() ? !exclude.contains(from) : include.contains(from))) {
                    problem(r.location(), "column " + from + " is not kept (include / exclude): nothing to rename");
                } else if (to.isPresent()) {
                    String name = to.get().text().strip();
                    if (!TableId.isIdentifier(name)) {
                        problem(r.location(), "invalid column name " + to.get().shown() + ": expected a letter or "
                                + "_, then letters, digits or _, at most 63 characters");
                        continue;
                    }
                    targets.remove(from);
                    rename.put(from, name);
                }
            }
            for (Map.Entry<String, String> r : rename.entrySet()) {
                String clash = targets.putIfAbsent(r.getValue(), r.getKey());
                if (clash != null) {
                    problem(c.get("rename").location().child(r.getKey()), "target name " + r.getValue()
                            + " is already the target name of " + clash);
                }
            }
        }
        Map<String, io.mqdb.transform.RowExpression> computed = new LinkedHashMap<>();
        if (c.containsKey("computed")) {
            for (Entry x : mapping(c.get("computed"), null).values()) {
                if (!TableId.isIdentifier(x.key())) {
                    problem(x.location(), "invalid column name \"" + x.key() + "\": expected a letter or _, then "
                            + "letters, digits or _, at most 63 characters");
                    continue;
                }
                String clash = targets.putIfAbsent(x.key(), x.key());
                if (clash != null) {
                    problem(x.location(), "computed column " + x.key() + " has the target name of source column "
                            + clash + "; rename or exclude that one");
                    continue;
                }
                expression(x, compiler, io.mqdb.transform.ExpressionCompiler.Result.COLUMN)
                        .ifPresent(ex -> computed.put(x.key(), ex));
            }
        }
        Optional<io.mqdb.transform.RowExpression> filter = Optional.ofNullable(t.get("filter"))
                .flatMap(f -> expression(f, compiler, io.mqdb.transform.ExpressionCompiler.Result.BOOLEAN));
        Optional<String> keyPattern = Optional.ofNullable(t.get("key")).flatMap(k -> scalar(k, "a key pattern"))
                .filter(k -> nonBlank(k, "a key pattern such as order:{id}")).map(k -> k.text().strip());
        Optional<io.mqdb.transform.ChannelTransform.Ttl> ttl = Optional.empty();
        if (t.containsKey("ttl")) {
            Entry te = t.get("ttl");
            Optional<Scalar> s = scalar(te, "a duration or an expression");
            Duration fixed = s.map(x -> Values.duration(x.text().strip())).orElse(null);
            if (fixed != null) {
                if (fixed.isZero()) {
                    problem(te.location(), "a ttl of 0 would remove every row at once; give a positive duration");
                } else {
                    ttl = Optional.of(new io.mqdb.transform.ChannelTransform.FixedTtl(fixed));
                }
            } else if (s.isPresent()) {
                ttl = expression(te, compiler, io.mqdb.transform.ExpressionCompiler.Result.EXPIRY)
                        .map(io.mqdb.transform.ChannelTransform.ExpressionTtl::new);
            }
        }
        if (problems.size() > before) {
            return Optional.empty();
        }
        io.mqdb.transform.ChannelTransform compiled = new io.mqdb.transform.ChannelTransform(source, include,
                exclude, rename, computed, filter, ttl, keyPattern, java.time.Clock.systemUTC());
        return Optional.of(new TransformConfig(compiled, entry.location(),
                Optional.ofNullable(t.get("key")).map(Entry::location),
                Optional.ofNullable(t.get("ttl")).map(Entry::location)));
    }

    /**
     * {@code transform.source}: the source columns the transform may name, {@code {col: type, ...}} (types as in a
     * schema: string, int64, double, decimal, boolean, bytes, timestamp, date, uuid, json) or {@code [col, ...]}
     * (untyped: CEL's dyn).
     */
    private Map<String, io.mqdb.spi.ColumnType> transformSource(Entry entry, Location transformAt) {
        Map<String, io.mqdb.spi.ColumnType> out = new LinkedHashMap<>();
        int before = problems.size();
        if (entry == null) {
            problem(transformAt.child("source"), "required: the source columns the transform reads, with their "
                    + "types ({id: int64, status: string, ...}) or without ([id, status, ...])");
            return out;
        }
        if (entry.value() instanceof SequenceNode) {
            for (Scalar s : stringList(entry, "a column name")) {
                String name = s.text().strip();
                if (!TableId.isIdentifier(name)) {
                    problem(s.location(), "invalid column name " + s.shown());
                } else if (out.containsKey(name)) {
                    problem(s.location(), "column " + name + " is already declared");
                } else {
                    out.put(name, null);
                }
            }
        } else {
            for (Entry col : mapping(entry, null).values()) {
                if (!TableId.isIdentifier(col.key())) {
                    problem(col.location(), "invalid column name \"" + col.key() + "\"");
                    continue;
                }
                Optional<Scalar> type = scalar(col, "a column type");
                if (type.isPresent()) {
                    try {
                        out.put(col.key(), io.mqdb.spi.ColumnType.parse(type.get().text().strip()));
                    } catch (IllegalArgumentException ex) {
                        problem(col.location(), ex.getMessage());
                    }
                }
            }
        }
        if (out.isEmpty() && problems.size() == before) {
            problem(entry.location(), "empty; declare the source columns the transform reads");
        }
        return out;
    }

    /** {@code include} / {@code exclude}: a list of declared source columns. */
    private List<String> sourceNames(Entry entry, Map<String, io.mqdb.spi.ColumnType> source) {
        List<String> out = new ArrayList<>();
        if (entry == null) {
            return out;
        }
        for (Scalar s : stringList(entry, "a column name")) {
            String name = s.text().strip();
            if (!source.containsKey(name)) {
                problem(s.location(), unknownColumn(name, source));
            } else {
                out.add(name);
            }
        }
        return out;
    }

    private static String unknownColumn(String name, Map<String, io.mqdb.spi.ColumnType> source) {
        return "unknown column " + Values.quote(name) + Values.suggest(name, source.keySet())
                .map(x -> "; did you mean " + Values.quote(x) + "?").orElse("") + " (transform.source declares "
                + String.join(", ", source.keySet()) + ")";
    }

    /** Compiles one expression, reporting a problem at its line and key. */
    private Optional<io.mqdb.transform.RowExpression> expression(Entry entry,
            io.mqdb.transform.ExpressionCompiler compiler, io.mqdb.transform.ExpressionCompiler.Result result) {
        Optional<Scalar> s = scalar(entry, "a CEL expression");
        if (s.isEmpty()) {
            return Optional.empty();
        }
        try {
            return Optional.of(compiler.compile(s.get().text(), result));
        } catch (io.mqdb.transform.ExpressionException ex) {
            int line = line(entry.value()) + ex.lineOffset();
            problem(entry.location().atLine(line), ex.getMessage());
            return Optional.empty();
        }
    }

    /**
     * {@code key: [col, ...]}: a non-empty list of distinct column names (identifiers). Whether the columns exist and
     * are unique and not null is the store's to check, when it describes the table.
     */
    private List<String> replicaKey(Entry entry) {
        String what = "a list of column names, like [a, b]";
        if (isNull(entry.value())) {
            problem(entry.location(), "no value; expected " + what + ", or remove the key to use the primary key");
            return List.of();
        }
        if (!(entry.value() instanceof SequenceNode seq)) {
            problem(entry.location(), "expected " + what + ", got " + kind(entry.value()));
            return List.of();
        }
        if (seq.getValue().isEmpty()) {
            problem(entry.location(), "empty; expected " + what + " (at least one column)");
            return List.of();
        }
        List<String> out = new ArrayList<>();
        Map<String, Integer> seen = new HashMap<>();
        boolean ok = true;
        for (int i = 0; i < seq.getValue().size(); i++) {
            Node item = seq.getValue().get(i);
            Location at = entry.location().child("[" + i + "]").atLine(line(item));
            Optional<Scalar> s = scalarNode(item, at, "a column name");
            if (s.isEmpty()) {
                ok = false;
                continue;
            }
            String name = s.get().text().strip();
            if (!TableId.isIdentifier(name)) {
                problem(at, "invalid column name " + s.get().shown() + ": expected a letter or _, then letters, "
                        + "digits or _, at most 63 characters");
                ok = false;
            } else if (seen.putIfAbsent(name, i) != null) {
                problem(at, "column " + name + " is already named at " + entry.location().key() + "["
                        + seen.get(name) + "]");
                ok = false;
            } else {
                out.add(name);
            }
        }
        return ok ? List.copyOf(out) : List.of();
    }

    private ChannelConfig.PlainWrites plainWrites(Entry entry) {
        if (entry == null) {
            return ChannelConfig.PlainWrites.ALL;
        }
        Optional<Scalar> s = scalar(entry, "all or upserts");
        if (s.isPresent() && s.get().text().strip().equals("upserts")) {
            return ChannelConfig.PlainWrites.UPSERTS;
        }
        if (s.isPresent() && !s.get().text().strip().equals("all")) {
            problem(entry.location(), "expected all or upserts, got " + s.get().shown());
        }
        return ChannelConfig.PlainWrites.ALL;
    }

    private ChannelConfig.OnError onError(Entry entry) {
        if (entry == null) {
            return ChannelConfig.OnError.DEAD_LETTER;
        }
        Optional<Scalar> s = scalar(entry, "dead-letter or stop");
        if (s.isEmpty()) {
            return ChannelConfig.OnError.DEAD_LETTER;
        }
        switch (s.get().text()) {
            case "dead-letter":
                return ChannelConfig.OnError.DEAD_LETTER;
            case "stop":
                return ChannelConfig.OnError.STOP;
            default:
                problem(entry.location(), "expected dead-letter or stop, got \"" + s.get().text() + "\"");
                return ChannelConfig.OnError.DEAD_LETTER;
        }
    }

    // ---------------------------------------------------------------- values

    private Map<String, Entry> mapping(Entry entry, List<String> known) {
        if (isNull(entry.value())) {
            return Map.of();
        }
        if (!(entry.value() instanceof MappingNode m)) {
            problem(entry.location(), "expected a mapping, got " + kind(entry.value()));
            return Map.of();
        }
        return entries(m, entry.location(), known);
    }

    /** Reads a mapping's keys, reporting non-scalar, duplicate and (when {@code known} is given) unknown ones. */
    private Map<String, Entry> entries(MappingNode m, Location parent, List<String> known) {
        Map<String, Entry> out = new LinkedHashMap<>();
        for (NodeTuple t : m.getValue()) {
            Node k = t.getKeyNode();
            Location keyAt = parent.atLine(line(k));
            if (!(k instanceof ScalarNode ks) || isNull(k)) {
                problem(keyAt, "keys must be plain strings, got " + kind(k));
                continue;
            }
            String key = ks.getValue();
            Location at = keyAt.child(key);
            Entry previous = out.get(key);
            if (previous != null) {
                problem(at, "duplicate key " + Values.quote(key) + "; first at line " + previous.location().line());
            } else if (known != null && !known.contains(key)) {
                problem(at, Values.unknownKey(key, known));
            } else {
                out.put(key, new Entry(key, t.getValueNode(), at));
            }
        }
        return out;
    }

    private Optional<Scalar> scalar(Entry entry, String what) {
        return scalarNode(entry.value(), entry.location(), what);
    }

    private Optional<Scalar> scalarNode(Node node, Location at, String what) {
        if (isNull(node)) {
            problem(at, "no value; expected " + what + ", or remove the key to use the default");
            return Optional.empty();
        }
        if (!(node instanceof ScalarNode s)) {
            problem(at, "expected " + what + ", got " + kind(node));
            return Optional.empty();
        }
        Interpolator.Result r = interpolator.apply(s.getValue(), at, problems);
        return r == null ? Optional.empty() : Optional.of(new Scalar(r.text(), s.getValue(), r.interpolated(), at));
    }

    private boolean nonBlank(Scalar s, String what) {
        if (s.text().isBlank()) {
            problem(s.location(), "empty; expected " + what);
            return false;
        }
        return true;
    }

    private List<Scalar> stringList(Entry entry, String what) {
        if (entry.value() instanceof SequenceNode seq) {
            List<Scalar> out = new ArrayList<>();
            for (int i = 0; i < seq.getValue().size(); i++) {
                Node item = seq.getValue().get(i);
                scalarNode(item, entry.location().child("[" + i + "]").atLine(line(item)), what)
                        .ifPresent(out::add);
            }
            return out;
        }
        return scalar(entry, what + " or a list of them").map(List::of).orElse(List.of());
    }

    private Optional<String> name(Entry entry, Pattern pattern, String rule) {
        Optional<Scalar> s = scalar(entry, "a name");
        if (s.isPresent() && !pattern.matcher(s.get().text()).matches()) {
            problem(entry.location(), "invalid name " + s.get().shown() + ": expected " + rule);
            return Optional.empty();
        }
        return s.map(Scalar::text);
    }

    private Optional<Boolean> bool(Entry entry) {
        if (entry == null) {
            return Optional.empty();
        }
        Optional<Scalar> s = scalar(entry, "true or false");
        if (s.isEmpty()) {
            return Optional.empty();
        }
        Boolean b = Values.bool(s.get().text());
        if (b == null) {
            problem(entry.location(), "expected true or false, got " + s.get().shown());
        }
        return Optional.ofNullable(b);
    }

    private Optional<Integer> integer(Entry entry, int min, int max) {
        if (entry == null) {
            return Optional.empty();
        }
        Optional<Scalar> s = scalar(entry, "a whole number");
        if (s.isEmpty()) {
            return Optional.empty();
        }
        Long n = Values.longValue(s.get().text());
        if (n == null) {
            problem(entry.location(), "expected a whole number, got " + s.get().shown());
            return Optional.empty();
        }
        if (n < min || n > max) {
            problem(entry.location(), "expected " + min + " to " + max + ", got " + n);
            return Optional.empty();
        }
        return Optional.of(n.intValue());
    }

    private Optional<Duration> duration(Entry entry) {
        if (entry == null) {
            return Optional.empty();
        }
        Optional<Scalar> s = scalar(entry, "a duration");
        if (s.isEmpty()) {
            return Optional.empty();
        }
        Duration d = Values.duration(s.get().text());
        if (d == null) {
            problem(entry.location(), "expected " + Values.DURATION_FORMAT + ", got " + s.get().shown());
        }
        return Optional.ofNullable(d);
    }

    /** A duration MQTT counts in whole seconds, between min and max seconds. */
    private Optional<Duration> seconds(Entry entry, long min, long max) {
        Optional<Duration> d = duration(entry);
        if (d.isEmpty()) {
            return d;
        }
        Duration v = d.get();
        if (v.toMillis() % 1000 != 0) {
            problem(entry.location(), "expected whole seconds (MQTT counts it in seconds), got "
                    + Values.format(v));
            return Optional.empty();
        }
        if (v.getSeconds() < min || v.getSeconds() > max) {
            problem(entry.location(), "expected " + min + "s to " + max + "s, got " + Values.format(v));
            return Optional.empty();
        }
        return d;
    }

    private Optional<Path> path(Entry entry, Path base) {
        return scalar(entry, "a path").filter(s -> nonBlank(s, "a path")).flatMap(s -> {
            try {
                return Optional.of(base.resolve(s.text().strip()).normalize());
            } catch (java.nio.file.InvalidPathException e) {
                problem(entry.location(), "invalid path " + s.shown() + ": " + e.getReason());
                return Optional.empty();
            }
        });
    }

    // ---------------------------------------------------------------- helpers

    private void problem(Location at, String message) {
        problems.add(new ConfigProblem(at, message));
    }

    private static boolean isNull(Node n) {
        return n instanceof ScalarNode && Tag.NULL.equals(n.getTag());
    }

    private static int line(Node n) {
        return n.getStartMark().map(m -> m.getLine() + 1).orElse(1);
    }

    private static String kind(Node n) {
        if (n instanceof MappingNode) {
            return "a mapping";
        } else if (n instanceof SequenceNode) {
            return "a list";
        } else if (isNull(n)) {
            return "nothing";
        }
        return "a scalar";
    }
}
