package io.mqdb.broker;

import io.mqdb.config.BrokerUser;
import io.mqdb.spi.TableId;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.security.SecureRandom;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * Who the embedded broker lets in and what each client may do: the rules of {@code broker.embedded.users}
 * (docs/security.md), apart from the broker that enforces them ({@link HiveMqAccessExtension}).
 *
 * <p>A client is let in when its user name is configured, its password matches (compared in constant time) and its
 * client id is its own: a node's starts with {@code mqdb-<cluster>-<node>} (the default client id and those of its
 * channel sessions and tools); any other client's does not start with {@code mqdb-}, so nobody can take over a
 * node's session and the messages queued for it. It then gets the topic permissions of its role, everything else
 * denied:
 * <ul>
 *   <li><b>node</b> {@code n}: publish its channels' changes and schemas, its own presence, positions, applied
 *       positions, flow reports and dead letters ({@code nodes/n/...}, {@code pos/+/+/n}, {@code applied/+/+/n},
 *       {@code flow/+/+/n}, {@code dead/n/...}), resend requests to any node ({@code ctl/+/resend}), direct
 *       catch-up messages ({@code to/+/...}), tool topics, reads and their answers ({@code read/+/+},
 *       {@code reply/...}); subscribe to the
 *       cluster's topics;</li>
 *   <li><b>writer</b>: publish, not retained, changes of its channels; subscribe to the schemas, the presences and
 *       its own receipts ({@code reply/<user>/...}, acknowledged writes); publish the empty presence of
 *       {@code mqdb put} ({@code tools/put/...});</li>
 *   <li><b>reader</b>: subscribe to its channels (or all), the schemas, presences, positions, applied positions and
 *       dead letters, and its own answers ({@code reply/<user>/...}); publish the empty presences of {@code mqdb
 *       status} and {@code mqdb get} ({@code tools/status/...}, {@code tools/get/...}) and reads of its channels
 *       ({@code read/<schema>/<table>});</li>
 * </ul>
 * The hosting node connects with a {@link #local() local credential} made for each start, with a node's rights on
 * the whole cluster.
 *
 * <p>Immutable after construction; any thread (the broker calls {@link #authenticate} on its own threads).
 */
public final class BrokerAccess {
    /** What a permission allows. */
    public enum Activity { PUBLISH, SUBSCRIBE }

    /**
     * One allowed topic filter.
     *
     * @param topicFilter an MQTT topic filter
     * @param activity publish or subscribe
     * @param retainedToo for a publish: whether retained messages are allowed too
     */
    public record Permission(String topicFilter, Activity activity, boolean retainedToo) {
    }

    /**
     * A client let in.
     *
     * @param username its user name
     * @param permissions what it may publish and subscribe; everything else is denied
     */
    public record Grant(String username, List<Permission> permissions) {
    }

    /**
     * The credential the hosting node connects with.
     *
     * @param username its user name
     * @param password its password, random for each start
     */
    public record Credential(String username, String password) {
        /** Hides the password. */
        @Override
        public String toString() {
            return "Credential[" + username + "]";
        }
    }

    private final String root;
    private final String cluster;
    private final Map<String, BrokerUser> users = new LinkedHashMap<>();
    private final Credential local;

    /**
     * @param cluster the cluster whose topics the permissions name
     * @param users the configured clients; not empty
     */
    public BrokerAccess(String cluster, List<BrokerUser> users) {
        if (users.isEmpty()) {
            throw new IllegalArgumentException("no users: an open broker needs no access rules");
        }
        this.cluster = cluster;
        this.root = "mqdb/" + cluster + "/";
        for (BrokerUser u : users) {
            this.users.put(u.username(), u);
        }
        byte[] secret = new byte[24];
        new SecureRandom().nextBytes(secret);
        String name;
        do {
            byte[] id = new byte[6];
            new SecureRandom().nextBytes(id);
            name = "mqdb-local-" + HexFormat.of().formatHex(id);
        } while (this.users.containsKey(name));
        this.local = new Credential(name, HexFormat.of().formatHex(secret));
    }

    /** @return the credential of the node hosting the broker, valid until the broker stops */
    public Credential local() {
        return local;
    }

    /**
     * Checks a client's CONNECT.
     *
     * @param username its user name, or null when it gave none
     * @param password its password, or null
     * @param clientId its client id
     * @return its permissions when it may connect; empty when it may not (unknown user, wrong password, a client id
     *     of another node)
     */
    public Optional<Grant> authenticate(String username, byte[] password, String clientId) {
        if (username == null || password == null || clientId == null) {
            return Optional.empty();
        }
        if (username.equals(local.username())) {
            return matches(password, local.password()) ? Optional.of(new Grant(username, nodePermissions("+",
                    List.of()))) : Optional.empty();
        }
        BrokerUser u = users.get(username);
        if (u == null || !matches(password, u.password().value())) {
            return Optional.empty();
        }
        Optional<String> node = u.nodeName();
        if (node.isPresent()) {
            String own = "mqdb-" + cluster + "-" + node.get();
            if (!clientId.equals(own) && !clientId.startsWith(own + "-")) {
                return Optional.empty();
            }
            return Optional.of(new Grant(username, nodePermissions(node.get(), u.channels())));
        }
        if (clientId.startsWith("mqdb-")) {
            return Optional.empty();
        }
        return Optional.of(new Grant(username, u.role() == BrokerUser.Role.WRITER ? writerPermissions(username, u.channels())
                : readerPermissions(username, u.channels())));
    }

    /** @return what the user may do once connected, for a client id of its own; for docs and tests */
    public Optional<List<Permission>> permissionsOf(String username) {
        BrokerUser u = users.get(username);
        if (u == null) {
            return Optional.empty();
        }
        return Optional.of(switch (u.role()) {
            case NODE -> nodePermissions(u.nodeName().orElseThrow(), u.channels());
            case WRITER -> writerPermissions(username, u.channels());
            case READER -> readerPermissions(username, u.channels());
        });
    }

    private List<Permission> nodePermissions(String node, List<TableId> channels) {
        List<Permission> p = new ArrayList<>();
        for (String t : tables(channels)) {
            p.add(new Permission(root + "ch/" + t, Activity.PUBLISH, false));
            p.add(new Permission(root + "schema/" + t, Activity.PUBLISH, true));
        }
        String n = node;
        p.add(new Permission(root + "nodes/" + n + "/presence", Activity.PUBLISH, true));
        p.add(new Permission(root + "nodes/" + n + "/presence/#", Activity.PUBLISH, true));
        p.add(new Permission(root + "pos/+/+/" + n, Activity.PUBLISH, true));
        p.add(new Permission(root + "flow/+/+/" + n, Activity.PUBLISH, true));
        p.add(new Permission(root + "applied/+/+/" + n, Activity.PUBLISH, true));
        p.add(new Permission(root + "dead/" + n + "/#", Activity.PUBLISH, false));
        p.add(new Permission(root + "ctl/+/resend", Activity.PUBLISH, false));
        p.add(new Permission(root + "ctl/+/republish", Activity.PUBLISH, false)); // mqdb verify --repair
        p.add(new Permission(root + "to/+/#", Activity.PUBLISH, false));
        p.add(new Permission(root + "tools/#", Activity.PUBLISH, false));
        p.add(new Permission(root + "read/+/+", Activity.PUBLISH, false)); // reads over MQTT (mqdb get)
        p.add(new Permission(root + "reply/#", Activity.PUBLISH, false)); // their answers
        p.add(new Permission(root + "#", Activity.SUBSCRIBE, false));
        return p;
    }

    private List<Permission> writerPermissions(String username, List<TableId> channels) {
        List<Permission> p = new ArrayList<>();
        for (String t : tables(channels)) {
            p.add(new Permission(root + "ch/" + t, Activity.PUBLISH, false));
        }
        p.add(new Permission(root + "schema/+/+", Activity.SUBSCRIBE, false));
        p.add(new Permission(root + "nodes/#", Activity.SUBSCRIBE, false)); // who subscribes (mqdb put's replicas)
        p.add(new Permission(root + "reply/" + username + "/#", Activity.SUBSCRIBE, false)); // its write receipts
        p.add(new Permission(root + "tools/put/#", Activity.PUBLISH, true)); // mqdb put's empty presence
        return p;
    }

    private List<Permission> readerPermissions(String username, List<TableId> channels) {
        List<Permission> p = new ArrayList<>();
        for (String t : tables(channels)) {
            p.add(new Permission(root + "ch/" + t, Activity.SUBSCRIBE, false));
        }
        for (String other : List.of("schema/+/+", "nodes/#", "pos/#", "applied/#", "dead/#")) {
            p.add(new Permission(root + other, Activity.SUBSCRIBE, false));
        }
        p.add(new Permission(root + "tools/status/#", Activity.PUBLISH, true)); // mqdb status's empty presence
        p.add(new Permission(root + "tools/get/#", Activity.PUBLISH, true)); // mqdb get's empty presence
        p.add(new Permission(root + "reply/" + username + "/#", Activity.SUBSCRIBE, false)); // answers to its reads
        for (String t : tables(channels)) {
            p.add(new Permission(root + "read/" + t, Activity.PUBLISH, false)); // reads of its channels
        }
        return p;
    }

    /** @return {@code schema/table} of each channel, or {@code +/+} for every channel */
    private static List<String> tables(List<TableId> channels) {
        if (channels.isEmpty()) {
            return List.of("+/+");
        }
        List<String> out = new ArrayList<>();
        for (TableId t : channels) {
            out.add(t.schema() + "/" + t.table());
        }
        return out;
    }

    /** Compares in constant time, whatever the lengths (both sides hashed first). */
    private static boolean matches(byte[] given, String expected) {
        try {
            MessageDigest a = MessageDigest.getInstance("SHA-256");
            MessageDigest b = MessageDigest.getInstance("SHA-256");
            return MessageDigest.isEqual(a.digest(given), b.digest(expected.getBytes(StandardCharsets.UTF_8)));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-256 missing from the JDK", e);
        }
    }
}
