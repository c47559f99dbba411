package io.mqdb.adapter.redis;

import io.mqdb.spi.KeyPatternSource;
import io.mqdb.spi.MqdbException;
import io.mqdb.spi.Setting;
import io.mqdb.spi.SettingType;
import io.mqdb.spi.StoreConfig;
import io.mqdb.spi.TableId;
import java.net.URI;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * The settings of a {@code redis} store: their declarations (the source of {@code docs/adapters/redis.md}) and the
 * checked, immutable values a store is opened with.
 *
 * @param host the standalone server's host (from {@code uri})
 * @param port the standalone server's port
 * @param clusterNodes seed nodes {@code host:port}; non-empty selects Redis Cluster
 * @param user the ACL user, or null for the default user
 * @param password the password, or null
 * @param database the logical database (standalone only)
 * @param tls whether to connect with TLS
 * @param caFile PEM file with the CA certificates to trust, or null for the JVM's trust store
 * @param verifyHostname whether TLS checks the server's host name against its certificate
 * @param format how rows are stored
 * @param keyPatterns key pattern per table; tables not listed use {@link KeyPattern#DEFAULT}
 * @param ttl time to live set (and refreshed) on every upserted row, or null for none
 * @param pipelineSize the most rows sent in one pipeline (one MULTI/EXEC on a standalone server)
 * @param timeout connect and read timeout
 * @param poolSize connections per server
 */
record RedisSettings(String host, int port, List<String> clusterNodes, String user, String password, int database,
                     boolean tls, Path caFile, boolean verifyHostname, Format format,
                     Map<TableId, KeyPattern> keyPatterns, Duration ttl, int pipelineSize, Duration timeout,
                     int poolSize) {

    /** How a row is stored under its key. */
    enum Format {
        /** A hash with one field per non-null column. */
        HASH,
        /** A string holding a JSON object with one string member per non-null column. */
        JSON
    }

    static final String URI = "uri";
    static final String CLUSTER_NODES = "cluster-nodes";
    static final String USER = "user";
    static final String PASSWORD = "password";
    static final String DATABASE = "database";
    static final String TLS = "tls";
    static final String CA_FILE = "ca-file";
    static final String TLS_VERIFY_HOSTNAME = "tls-verify-hostname";
    static final String FORMAT = "format";
    static final String KEY_PATTERNS = "key-patterns";
    static final String TTL = "ttl";
    static final String PIPELINE_SIZE = "pipeline-size";
    static final String TIMEOUT = "timeout";
    static final String POOL_SIZE = "pool-size";

    /** Every setting, in documentation order. */
    static final List<Setting> ALL = List.of(
            Setting.optional(URI, SettingType.STRING, "redis://127.0.0.1:6379",
                    "redis://[user:password@]host:port[/database], or rediss:// for TLS; ignored when cluster-nodes is"
                            + " given"),
            Setting.optional(CLUSTER_NODES, SettingType.LIST, null,
                    "host:port seed nodes of a Redis Cluster; when given, the store talks to the cluster"),
            Setting.optional(USER, SettingType.STRING, null, "ACL user name (Redis 6+); default: the default user"),
            Setting.secret(PASSWORD, "password (AUTH); use ${env:NAME} or ${file:path}"),
            Setting.optional(DATABASE, SettingType.INT, 0, "logical database number (standalone only)")
                    .withRange(0, Integer.MAX_VALUE),
            Setting.optional(TLS, SettingType.BOOLEAN, false, "connect with TLS (implied by a rediss:// uri)"),
            Setting.optional(CA_FILE, SettingType.PATH, null,
                    "PEM file with the CA certificate(s) to trust for TLS; default: the JVM's trust store"),
            Setting.optional(TLS_VERIFY_HOSTNAME, SettingType.BOOLEAN, true,
                    "check the server's host name against its TLS certificate"),
            Setting.optional(FORMAT, SettingType.STRING, "hash",
                    "hash (one field per column) or json (one JSON string per row)"),
            Setting.optional(KEY_PATTERNS, SettingType.MAP, null,
                    "schema:table -> key pattern such as order:{id}; default {schema}:{table}:{pk}"),
            Setting.optional(TTL, SettingType.DURATION, null,
                    "expire rows this long after their last upsert; default: never").withRange(1, Long.MAX_VALUE),
            Setting.optional(PIPELINE_SIZE, SettingType.INT, 1000, "rows per pipeline round trip").withRange(1, 100_000),
            Setting.optional(TIMEOUT, SettingType.DURATION, Duration.ofSeconds(2), "connect and read timeout").withRange(1, 600_000),
            Setting.optional(POOL_SIZE, SettingType.INT, 8, "connections per Redis server").withRange(1, 1_000));

    /**
     * Reads and checks the settings, reporting every problem at once.
     *
     * @param config the store's config, typed by the runtime
     * @param channelPatterns the key patterns of the channels' transforms ({@code transform.key}), per table
     * @return the settings
     * @throws MqdbException listing every invalid value with where it was written
     */
    static RedisSettings from(StoreConfig config, Map<TableId, KeyPatternSource> channelPatterns) {
        List<String> problems = new ArrayList<>();
        String host = "127.0.0.1";
        int port = 6379;
        String user = config.string(USER).orElse(null);
        String password = config.string(PASSWORD).orElse(null);
        int database = config.intValue(DATABASE);
        boolean tls = config.bool(TLS);
        String uriText = config.string(URI).orElse("redis://127.0.0.1:6379");
        try {
            URI uri = new URI(uriText);
            String scheme = uri.getScheme() == null ? "" : uri.getScheme().toLowerCase(Locale.ROOT);
            if (!scheme.equals("redis") && !scheme.equals("rediss")) {
                throw new IllegalArgumentException("expected redis:// or rediss://");
            }
            if (uri.getHost() == null) {
                throw new IllegalArgumentException("no host");
            }
            host = uri.getHost();
            port = uri.getPort() < 0 ? 6379 : uri.getPort();
            tls |= scheme.equals("rediss");
            if (uri.getRawUserInfo() != null) {
                String[] ui = uri.getRawUserInfo().split(":", 2);
                if (user == null && ui.length == 2 && !ui[0].isEmpty()) {
                    user = decode(ui[0]);
                }
                if (password == null) {
                    password = decode(ui.length == 2 ? ui[1] : ui[0]);
                }
            }
            String path = uri.getPath();
            if (database == 0 && path != null && path.length() > 1) {
                database = Integer.parseInt(path.substring(1));
            }
        } catch (Exception e) {
            // never echo the uri: it may hold a password
            problems.add(config.where(URI) + ": not a redis uri (" + e.getMessage() + ")");
        }
        List<String> nodes = config.list(CLUSTER_NODES);
        for (String n : nodes) {
            int colon = n.lastIndexOf(':');
            if (colon <= 0 || !n.substring(colon + 1).matches("[0-9]{1,5}")) {
                problems.add(config.where(CLUSTER_NODES) + ": expected host:port, got \"" + n + "\"");
            }
        }
        if (!nodes.isEmpty() && database != 0) {
            problems.add(config.where(DATABASE) + ": Redis Cluster has only database 0");
        }
        Format format = null;
        String formatText = config.string(FORMAT).orElse("hash");
        try {
            format = Format.valueOf(formatText.toUpperCase(Locale.ROOT));
        } catch (IllegalArgumentException e) {
            problems.add(config.where(FORMAT) + ": expected hash or json, got \"" + formatText + "\"");
        }
        Map<TableId, KeyPattern> patterns = new HashMap<>();
        for (Map.Entry<String, String> e : config.map(KEY_PATTERNS).entrySet()) {
            try {
                patterns.put(TableId.parse(e.getKey()), KeyPattern.parse(e.getValue()));
            } catch (IllegalArgumentException ex) {
                problems.add(config.where(KEY_PATTERNS) + "." + e.getKey() + ": " + ex.getMessage());
            }
        }
        for (Map.Entry<TableId, KeyPatternSource> e : channelPatterns.entrySet()) {
            if (patterns.containsKey(e.getKey())) {
                problems.add(e.getValue().where() + ": " + e.getKey() + " also has a key pattern in "
                        + config.where(KEY_PATTERNS) + "; give it in one place");
                continue;
            }
            try {
                patterns.put(e.getKey(), KeyPattern.parse(e.getValue().pattern()));
            } catch (IllegalArgumentException ex) {
                problems.add(e.getValue().where() + ": " + ex.getMessage());
            }
        }
        Duration ttl = (Duration) config.value(TTL).orElse(null);
        if (ttl != null && ttl.toMillis() < 1) {
            problems.add(config.where(TTL) + ": must be at least 1 ms");
        }
        int pipelineSize = config.intValue(PIPELINE_SIZE);
        if (pipelineSize < 1) {
            problems.add(config.where(PIPELINE_SIZE) + ": must be at least 1");
        }
        Duration timeout = config.duration(TIMEOUT);
        if (timeout.isNegative() || timeout.isZero() || timeout.toMillis() > Integer.MAX_VALUE) {
            problems.add(config.where(TIMEOUT) + ": must be between 1 ms and 24 days");
        }
        int poolSize = config.intValue(POOL_SIZE);
        if (poolSize < 1) {
            problems.add(config.where(POOL_SIZE) + ": must be at least 1");
        }
        Path caFile = config.path(CA_FILE).orElse(null);
        if (caFile != null && !java.nio.file.Files.isReadable(caFile)) {
            problems.add(config.where(CA_FILE) + ": cannot read " + caFile);
        }
        if (!problems.isEmpty()) {
            throw new MqdbException("store " + config.name() + " (redis): " + String.join("; ", problems));
        }
        return new RedisSettings(host, port, List.copyOf(nodes), user, password, database, tls, caFile,
                config.bool(TLS_VERIFY_HOSTNAME), format, Map.copyOf(patterns), ttl, pipelineSize, timeout,
                poolSize);
    }

    private static String decode(String s) {
        return URLDecoder.decode(s, StandardCharsets.UTF_8);
    }

    /** @return the key pattern of a table */
    KeyPattern keyPattern(TableId table) {
        return keyPatterns.getOrDefault(table, DEFAULT_PATTERN);
    }

    private static final KeyPattern DEFAULT_PATTERN = KeyPattern.parse(KeyPattern.DEFAULT);

    /** @return whether the store talks to a Redis Cluster */
    boolean cluster() {
        return !clusterNodes.isEmpty();
    }

    /** @return what the store points at, without secrets */
    String target() {
        String scheme = tls ? "rediss" : "redis";
        return cluster() ? scheme + "-cluster://" + String.join(",", clusterNodes)
                : scheme + "://" + host + ":" + port + "/" + database;
    }

    /** Never prints the password. */
    @Override
    public String toString() {
        return "RedisSettings[" + target() + ", user=" + user + ", format=" + format + ", ttl=" + ttl
                + ", pipelineSize=" + pipelineSize + ", timeout=" + timeout + ", poolSize=" + poolSize + "]";
    }
}
