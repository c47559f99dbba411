package io.mqdb.config;

import io.mqdb.codec.CodecLimits;
import io.mqdb.codec.WireForm;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Objects;
import java.util.Optional;

/**
 * The {@code node:} section: who this node is. Part of {@link NodeConfig}; immutable.
 *
 * @param name the node's name, {@code [A-Za-z0-9_-]{1,64}}; unique in the cluster, used in MQTT client ids and topics
 *     and as the origin of the changes it makes
 * @param cluster the cluster's name, same characters; the topic prefix {@code mqdb/<cluster>/...}
 * @param dataDir where the node keeps its state, absolute
 * @param tombstoneRetention how long a subscriber remembers the version of a deleted row, so that an older update
 *     arriving late cannot bring it back; default 7 days
 * @param outboxMaxMb the most megabytes of changes the outbox holds before capture waits (back-pressure); default 1024
 * @param resendWindowMb how many megabytes of published changes the outbox keeps for resends; default 256
 * @param maxClockSkew how far ahead of this node's wall clock a received version may be; a change further ahead is
 *     dead-lettered and never moves this node's clock (a forged or broken far-future version would otherwise freeze
 *     the row and the clock); default 1 minute
 * @param signing {@code node.signing}: this node's key and the cluster's trust list; empty when messages are not
 *     signed (the default)
 * @param http {@code node.http}: the metrics and health listener; empty when it is off (the default)
 * @param wireForm {@code node.wire-form}: the form of the change batches this node publishes; default
 *     {@link WireForm#BINARY}; {@link WireForm#JSON} while subscribers of a release that reads only the JSON form
 *     remain (a rolling upgrade: upgrade every node, then switch back)
 * @param logFormat {@code node.log-format}: how {@code mqdb run} writes its log lines; default {@link LogFormat#TEXT}
 * @param limits {@code node.limits}: the bounds on what this node decodes from the broker, and so announces to it as
 *     its maximum packet size; default {@link CodecLimits#DEFAULTS}
 * @param deadLetterMaxMb {@code node.dead-letter-max-mb}: the size of the dead-letter folder beyond which letters are
 *     kept without their payload; default {@link #DEFAULT_DEAD_LETTER_MAX_MB}
 * @param minFreeDiskMb {@code node.min-free-disk-mb}: the free space the outbox leaves on its disk; capture waits
 *     below it (0 = no floor); default {@link #DEFAULT_MIN_FREE_DISK_MB}
 */
public record NodeSection(String name, String cluster, Path dataDir, Duration tombstoneRetention, int outboxMaxMb,
                          int resendWindowMb, Duration maxClockSkew, Optional<SigningConfig> signing,
                          Optional<HttpConfig> http, WireForm wireForm, LogFormat logFormat, CodecLimits limits,
                          int deadLetterMaxMb, int minFreeDiskMb) {
    /** How {@code mqdb run} writes its log lines. */
    public enum LogFormat {
        /** One line of text per event, as people read them (the default). */
        TEXT,
        /** One JSON object per line (logback's {@code JsonEncoder}), for log shippers. */
        JSON
    }

    /** The default {@link #maxClockSkew()}. */
    public static final Duration DEFAULT_MAX_CLOCK_SKEW = Duration.ofMinutes(1);
    /** The default tombstone retention. */
    public static final Duration DEFAULT_TOMBSTONE_RETENTION = Duration.ofDays(7);
    /** The default outbox bound. */
    public static final int DEFAULT_OUTBOX_MAX_MB = 1024;
    /** The default free-space floor of the outbox's disk, in MiB. */
    public static final int DEFAULT_MIN_FREE_DISK_MB = 256;
    /** The default dead-letter folder bound, in MiB. */
    public static final int DEFAULT_DEAD_LETTER_MAX_MB = 1024;
    /** The default resend window. */
    public static final int DEFAULT_RESEND_WINDOW_MB = 256;

    /** A node section with the default retention and outbox sizes. */
    public NodeSection(String name, String cluster, Path dataDir) {
        this(name, cluster, dataDir, DEFAULT_TOMBSTONE_RETENTION, DEFAULT_OUTBOX_MAX_MB, DEFAULT_RESEND_WINDOW_MB);
    }

    /** A node section with the default clock skew bound. */
    public NodeSection(String name, String cluster, Path dataDir, Duration tombstoneRetention, int outboxMaxMb,
            int resendWindowMb) {
        this(name, cluster, dataDir, tombstoneRetention, outboxMaxMb, resendWindowMb, DEFAULT_MAX_CLOCK_SKEW);
    }

    /** A node section without signing. */
    public NodeSection(String name, String cluster, Path dataDir, Duration tombstoneRetention, int outboxMaxMb,
            int resendWindowMb, Duration maxClockSkew) {
        this(name, cluster, dataDir, tombstoneRetention, outboxMaxMb, resendWindowMb, maxClockSkew, Optional.empty(),
                Optional.empty());
    }

    /** A node section that publishes the binary form. */
    public NodeSection(String name, String cluster, Path dataDir, Duration tombstoneRetention, int outboxMaxMb,
            int resendWindowMb, Duration maxClockSkew, Optional<SigningConfig> signing, Optional<HttpConfig> http) {
        this(name, cluster, dataDir, tombstoneRetention, outboxMaxMb, resendWindowMb, maxClockSkew, signing, http,
                WireForm.BINARY);
    }

    /** A node section that logs text. */
    public NodeSection(String name, String cluster, Path dataDir, Duration tombstoneRetention, int outboxMaxMb,
            int resendWindowMb, Duration maxClockSkew, Optional<SigningConfig> signing, Optional<HttpConfig> http,
            WireForm wireForm) {
        this(name, cluster, dataDir, tombstoneRetention, outboxMaxMb, resendWindowMb, maxClockSkew, signing, http,
                wireForm, LogFormat.TEXT);
    }

    /** A node section with the default input bounds. */
    public NodeSection(String name, String cluster, Path dataDir, Duration tombstoneRetention, int outboxMaxMb,
            int resendWindowMb, Duration maxClockSkew, Optional<SigningConfig> signing, Optional<HttpConfig> http,
            WireForm wireForm, LogFormat logFormat) {
        this(name, cluster, dataDir, tombstoneRetention, outboxMaxMb, resendWindowMb, maxClockSkew, signing, http,
                wireForm, logFormat, CodecLimits.DEFAULTS);
    }

    /** A node section with the default dead-letter bound. */
    public NodeSection(String name, String cluster, Path dataDir, Duration tombstoneRetention, int outboxMaxMb,
            int resendWindowMb, Duration maxClockSkew, Optional<SigningConfig> signing, Optional<HttpConfig> http,
            WireForm wireForm, LogFormat logFormat, CodecLimits limits) {
        this(name, cluster, dataDir, tombstoneRetention, outboxMaxMb, resendWindowMb, maxClockSkew, signing, http,
                wireForm, logFormat, limits, DEFAULT_DEAD_LETTER_MAX_MB);
    }

    /** A node section with the default disk floor. */
    public NodeSection(String name, String cluster, Path dataDir, Duration tombstoneRetention, int outboxMaxMb,
            int resendWindowMb, Duration maxClockSkew, Optional<SigningConfig> signing, Optional<HttpConfig> http,
            WireForm wireForm, LogFormat logFormat, CodecLimits limits, int deadLetterMaxMb) {
        this(name, cluster, dataDir, tombstoneRetention, outboxMaxMb, resendWindowMb, maxClockSkew, signing, http,
                wireForm, logFormat, limits, deadLetterMaxMb, DEFAULT_MIN_FREE_DISK_MB);
    }

    /** Rejects nulls. */
    public NodeSection {
        Objects.requireNonNull(signing, "signing");
        Objects.requireNonNull(http, "http");
        Objects.requireNonNull(wireForm, "wireForm");
        Objects.requireNonNull(logFormat, "logFormat");
        Objects.requireNonNull(limits, "limits");
        Objects.requireNonNull(tombstoneRetention, "tombstoneRetention");
        Objects.requireNonNull(maxClockSkew, "maxClockSkew");
        Objects.requireNonNull(name, "name");
        Objects.requireNonNull(cluster, "cluster");
        Objects.requireNonNull(dataDir, "dataDir");
    }
}
