package io.mqdb.adapter.jdbc;

import com.zaxxer.hikari.HikariConfig;
import com.zaxxer.hikari.HikariDataSource;
import io.mqdb.spi.MqdbException;
import io.mqdb.spi.RetriableException;
import io.mqdb.spi.Setting;
import io.mqdb.spi.SettingType;
import io.mqdb.spi.Store;
import io.mqdb.spi.StoreConfig;
import io.mqdb.spi.StoreContext;
import io.mqdb.spi.StoreProvider;
import java.sql.Connection;
import java.sql.SQLException;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/** The {@code jdbc} store type: PostgreSQL, MariaDB/MySQL, H2, SQLite and, best effort, any JDBC database. */
public final class JdbcStoreProvider implements StoreProvider {
    static final Setting URL = Setting.required("url", SettingType.STRING,
            "JDBC URL, e.g. jdbc:postgresql://db:5432/shop");
    static final Setting USERNAME = Setting.optional("username", SettingType.STRING, null, "database user");
    static final Setting PASSWORD = Setting.secret("password", "database password");
    static final Setting DIALECT = Setting.optional("dialect", SettingType.STRING, null,
            "postgresql, mariadb, mysql, h2, sqlite or generic; detected from the url when absent");
    static final Setting CAPTURE = Setting.optional("capture", SettingType.STRING, "trigger",
            "trigger (change-log triggers), log (PostgreSQL logical decoding, MariaDB/MySQL binlog), poll"
                    + " (read-only, incrementing or timestamp column) or none");
    static final Setting POOL_SIZE = Setting.optional("pool-size", SettingType.INT, 4,
            "maximum number of pooled connections").withRange(1, 1_000);
    static final Setting CONNECTION_TIMEOUT = Setting.optional("connection-timeout", SettingType.DURATION,
            Duration.ofSeconds(30), "how long to wait for a pooled connection")
            .withRange(250, 3_600_000); // 250 ms: HikariCP's least
    static final Setting SCHEMA_MAP = Setting.optional("schema-map", SettingType.MAP, null,
            "mqdb schema to SQL schema (PostgreSQL, H2), database (MariaDB) or table prefix (SQLite; main = none)");
    static final Setting CHANGELOG_TABLE = Setting.optional("changelog-table", SettingType.STRING, "mqdb_changelog",
            "name of the change-log table written by the capture triggers");
    static final Setting POLL_INTERVAL = Setting.optional("poll-interval", SettingType.DURATION,
            Duration.ofMillis(200), "the longest capture sleeps between two polls that found nothing (1 ms after a"
                    + " change, doubling up to this)").withRange(1, 60_000);
    static final Setting GAP_TIMEOUT = Setting.optional("gap-timeout", SettingType.DURATION, Duration.ofSeconds(5),
            "how long a missing change-log id (not PostgreSQL) or incrementing value (capture: poll) holds back"
                    + " capture before it counts as rolled back").withRange(0, 3_600_000);
    static final Setting POLL_COLUMNS = Setting.optional("poll-columns", SettingType.MAP, null,
            "capture: poll only; schema:table to incrementing:<column> or timestamp:<column>");
    static final Setting POLL_LOOKBACK = Setting.optional("poll-lookback", SettingType.DURATION,
            Duration.ofSeconds(5), "capture: poll, timestamp mode: how far below the newest value each poll re-reads")
            .withRange(0, 86_400_000);

    static final Setting SLOT = Setting.optional("slot", SettingType.STRING, "mqdb",
            "capture: log: the logical replication slot (lower-case letters, digits, _; one per publishing node)");
    static final Setting PUBLICATION = Setting.optional("publication", SettingType.STRING, "mqdb",
            "capture: log: the publication the slot streams (an identifier)");
    static final Setting HEARTBEAT_INTERVAL = Setting.optional("heartbeat-interval", SettingType.DURATION,
            Duration.ofSeconds(10), "capture: log: how long the stream may be idle before a heartbeat lets the slot"
                    + " advance; also how often the slot's retained WAL is checked (MariaDB/MySQL: how often the"
                    + " server sends a binlog heartbeat)").withRange(100, 3_600_000);
    static final Setting SLOT_WAL_WARN_MB = Setting.optional("slot-wal-warn-mb", SettingType.LONG, 1024L,
            "capture: log: warn when the slot holds more WAL than this, in MiB").withRange(1, 1L << 40);
    static final Setting BINLOG_SERVER_ID = Setting.optional("binlog-server-id", SettingType.LONG, null,
            "capture: log on MariaDB/MySQL (required there): the server id of mqdb's replica connection, unique"
                    + " among the server's replicas and other binlog readers").withRange(1, 4_294_967_295L);

    @Override
    public String type() {
        return "jdbc";
    }

    @Override
    public List<Setting> settings() {
        return List.of(URL, USERNAME, PASSWORD, DIALECT, CAPTURE, POOL_SIZE, CONNECTION_TIMEOUT, SCHEMA_MAP,
                CHANGELOG_TABLE, POLL_INTERVAL, GAP_TIMEOUT, POLL_COLUMNS, POLL_LOOKBACK, SLOT, PUBLICATION,
                HEARTBEAT_INTERVAL, SLOT_WAL_WARN_MB, BINLOG_SERVER_ID);
    }

    /** @return the JDBC driver class this plugin ships for the dialect; empty for the generic dialect */
    private static java.util.Optional<String> driverClass(Dialect dialect) {
        if (dialect instanceof PostgresDialect) {
            return java.util.Optional.of("org.postgresql.Driver");
        }
        if (dialect instanceof MariaDbDialect) {
            return java.util.Optional.of("org.mariadb.jdbc.Driver");
        }
        if (dialect instanceof H2Dialect) {
            return java.util.Optional.of("org.h2.Driver");
        }
        if (dialect instanceof SqliteDialect) {
            return java.util.Optional.of("org.sqlite.JDBC");
        }
        return java.util.Optional.empty();
    }

    @Override
    public Store open(StoreConfig config, StoreContext context) {
        String url = config.string("url").orElseThrow(() -> new MqdbException(config.where("url") + ": required"));
        Dialect dialect;
        try {
            dialect = Dialect.forName(config.string("dialect").orElse(Dialect.detect(url)));
        } catch (IllegalArgumentException e) {
            throw new MqdbException(config.where("dialect") + ": " + e.getMessage());
        }
        String capture = config.string("capture").orElse("trigger");
        if (!List.of("trigger", "log", "poll", "none").contains(capture)) {
            throw new MqdbException(config.where("capture") + ": expected trigger, log, poll or none, got \""
                    + capture + "\"");
        }
        boolean binlog = capture.equals("log") && dialect instanceof MariaDbDialect;
        if (capture.equals("log") && !(dialect instanceof PostgresDialect) && !binlog) {
            throw new MqdbException(config.where("capture") + ": capture: log needs PostgreSQL (logical decoding)"
                    + " or MariaDB/MySQL (binlog); the " + dialect.name() + " dialect has none; use capture: poll or"
                    + " none");
        }
        Long binlogServerId = config.value("binlog-server-id").map(v -> ((Number) v).longValue()).orElse(null);
        if (binlog && binlogServerId == null) {
            throw new MqdbException(config.where("binlog-server-id") + ": required for capture: log on MariaDB/MySQL:"
                    + " the server id of mqdb's replica connection, unique among the server's replicas (1.."
                    + "4294967295)");
        }
        LogCapture.Names logNames = logNames(config);
        String target = redact(url);
        HikariConfig hc = new HikariConfig();
        hc.setJdbcUrl(url);
        // Name the driver so the pool loads it from this plugin's class loader: through DriverManager, a driver the
        // application registered first (another copy of the same driver) would make this plugin's invisible.
        driverClass(dialect).ifPresent(hc::setDriverClassName);
        config.string("username").ifPresent(hc::setUsername);
        config.string("password").ifPresent(hc::setPassword);
        hc.setMaximumPoolSize(config.intValue("pool-size"));
        hc.setMinimumIdle(Math.min(1, config.intValue("pool-size")));
        hc.setConnectionTimeout(Math.max(250, config.duration("connection-timeout").toMillis()));
        hc.setPoolName("mqdb-" + config.name());
        hc.setInitializationFailTimeout(-1);
        dialect.driverProperties().forEach(hc::addDataSourceProperty);
        if (dialect instanceof MariaDbDialect) {
            hc.setConnectionInitSql("SET time_zone = '+00:00'");
        }
        HikariDataSource ds = new HikariDataSource(hc);
        try (Connection c = ds.getConnection()) {
            c.isValid(5);
        } catch (SQLException e) {
            ds.close();
            MqdbException m = SqlErrors.translate(target + " (" + config.where("url") + ")", e, dialect);
            throw m instanceof RetriableException ? m : new MqdbException(m.getMessage(), e);
        }
        boolean defaulted = config.where("capture").endsWith("(default)");
        Optional<TriggerSupport> triggers = dialect.triggers();
        Optional<OriginMark> mark = binlog ? Optional.of(BinlogCapture.ORIGIN_MARK)
                : capture.equals("log") ? Optional.of(LogCapture.ORIGIN_MARK)
                : capture.equals("trigger") ? triggers.map(t -> (OriginMark) t) : Optional.empty();
        JdbcStore store = new JdbcStore(dialect, ds, config.map("schema-map"), target, mark,
                config.string("changelog-table").orElse("mqdb_changelog"), context.replicaKeys());
        if (dialect instanceof PostgresDialect) {
            store.setLogNames(logNames);
        }
        switch (capture) {
            case "trigger" -> {
                if (triggers.isPresent()) {
                    store.setCapture(new TriggerCapture(store, triggers.get(),
                            config.string("changelog-table").orElse("mqdb_changelog"),
                            config.duration("poll-interval"), config.duration("gap-timeout")));
                } else if (!defaulted) {
                    store.close();
                    throw new MqdbException(config.where("capture") + ": the " + dialect.name()
                            + " dialect has no trigger capture; use capture: poll or none");
                }
            }
            case "log" -> store.setCapture(binlog
                    ? new BinlogCapture(store, url, config.string("username").orElse(null),
                    config.string("password").orElse(null), binlogServerId, config.duration("heartbeat-interval"))
                    : new LogCapture(store, url, config.string("username").orElse(null),
                    config.string("password").orElse(null), logNames, config.duration("heartbeat-interval"),
                    config.longValue("slot-wal-warn-mb") * 1024 * 1024));
            case "poll" -> store.setCapture(new PollingCapture(store, config.map("poll-columns"),
                    config.duration("poll-interval"), config.duration("gap-timeout"),
                    config.duration("poll-lookback")));
            default -> {
            }
        }
        return store;
    }

    /** The slot and publication names, checked; the defaults also for stores that do not use them. */
    private static LogCapture.Names logNames(StoreConfig config) {
        String slot = config.string("slot").orElse("mqdb");
        if (!LogCapture.isSlotName(slot)) {
            throw new MqdbException(config.where("slot") + ": expected lower-case letters, digits and _ (at most 63),"
                    + " got \"" + slot + "\"");
        }
        String publication = config.string("publication").orElse("mqdb");
        if (!io.mqdb.spi.TableId.isIdentifier(publication)) {
            throw new MqdbException(config.where("publication") + ": expected letters, digits and _ (at most 63),"
                    + " got \"" + publication + "\"");
        }
        return new LogCapture.Names(slot, publication);
    }

    /** The URL without user info or parameters, which may hold passwords. */
    static String redact(String url) {
        String u = url.startsWith("jdbc:") ? url.substring(5) : url;
        int q = u.indexOf('?');
        if (q >= 0) {
            u = u.substring(0, q);
        }
        int semi = u.indexOf(';');
        if (semi >= 0) {
            u = u.substring(0, semi);
        }
        int at = u.indexOf('@');
        int scheme = u.indexOf("://");
        if (at >= 0 && scheme >= 0 && at > scheme) {
            u = u.substring(0, scheme + 3) + u.substring(at + 1);
        }
        return u;
    }

}
