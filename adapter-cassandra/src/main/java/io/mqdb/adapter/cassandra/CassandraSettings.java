package io.mqdb.adapter.cassandra;

import io.mqdb.spi.Setting;
import io.mqdb.spi.SettingType;
import java.time.Duration;
import java.util.List;
import java.util.Map;

/** The settings of a {@code cassandra} store, each with its type, default and one line of documentation. */
final class CassandraSettings {
    static final String CONTACT_POINTS = "contact-points";
    static final String LOCAL_DATACENTER = "local-datacenter";
    static final String KEYSPACE_REPLICATION = "keyspace-replication";
    static final String USERNAME = "username";
    static final String PASSWORD = "password";
    static final String TLS = "tls";
    static final String CA_FILE = "ca-file";
    static final String READ_CONSISTENCY = "read-consistency";
    static final String WRITE_CONSISTENCY = "write-consistency";
    static final String REQUEST_TIMEOUT = "request-timeout";
    static final String MAX_CONCURRENCY = "max-concurrency";
    static final String CLUSTERING_COLUMNS = "clustering-columns";

    static final List<Setting> ALL = List.of(
            Setting.optional(CONTACT_POINTS, SettingType.LIST, List.of("127.0.0.1:9042"),
                    "host:port of one or more nodes to connect to; the driver discovers the others"),
            Setting.required(LOCAL_DATACENTER, SettingType.STRING,
                    "the data center whose nodes serve requests (SimpleSnitch: datacenter1)"),
            Setting.optional(KEYSPACE_REPLICATION, SettingType.MAP,
                    Map.of("class", "SimpleStrategy", "replication_factor", "1"),
                    "replication of the keyspaces mqdb creates (one per schema), as in CREATE KEYSPACE"),
            Setting.optional(USERNAME, SettingType.STRING, null, "user for PasswordAuthenticator, with password"),
            Setting.secret(PASSWORD, "password of username; use ${env:NAME} or ${file:path}"),
            Setting.optional(TLS, SettingType.BOOLEAN, false, "connect with TLS, verifying the node's host name"),
            Setting.optional(CA_FILE, SettingType.PATH, null,
                    "PEM file of the CA certificates to trust with tls; the JVM's defaults when absent"),
            Setting.optional(READ_CONSISTENCY, SettingType.STRING, "LOCAL_QUORUM",
                    "consistency level of describe, get, scan and count"),
            Setting.optional(WRITE_CONSISTENCY, SettingType.STRING, "LOCAL_QUORUM",
                    "consistency level every write of apply is acknowledged at before apply returns"),
            Setting.optional(REQUEST_TIMEOUT, SettingType.DURATION, Duration.ofSeconds(5),
                    "how long one request may take before it fails as retriable").withRange(1, 600_000),
            Setting.optional(MAX_CONCURRENCY, SettingType.INT, 512,
                    "the most writes of this store in flight at once").withRange(1, 65_536),
            Setting.optional(CLUSTERING_COLUMNS, SettingType.MAP, null,
                    "schema:table -> comma list of primary-key columns to make clustering columns; by default the"
                            + " whole primary key is the partition key"));

    private CassandraSettings() {
    }
}
