package io.mqdb.adapter.redis;

import io.mqdb.spi.MqdbException;
import io.mqdb.spi.RetriableException;
import io.mqdb.spi.Setting;
import io.mqdb.spi.Store;
import io.mqdb.spi.StoreConfig;
import io.mqdb.spi.StoreContext;
import io.mqdb.spi.StoreProvider;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.security.GeneralSecurityException;
import java.security.KeyStore;
import java.security.cert.Certificate;
import java.security.cert.CertificateFactory;
import java.time.Duration;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLParameters;
import javax.net.ssl.SSLSocketFactory;
import javax.net.ssl.TrustManagerFactory;
import redis.clients.jedis.ConnectionPoolConfig;
import redis.clients.jedis.DefaultJedisClientConfig;
import redis.clients.jedis.HostAndPort;
import redis.clients.jedis.RedisClient;
import redis.clients.jedis.RedisClusterClient;
import redis.clients.jedis.UnifiedJedis;
import redis.clients.jedis.exceptions.JedisAccessControlException;
import redis.clients.jedis.exceptions.JedisException;

/**
 * The {@code redis} store type: Redis 6+ standalone or Cluster, through Jedis. Stateless; see
 * {@code docs/adapters/redis.md} for the settings and the data layout.
 */
public final class RedisStoreProvider implements StoreProvider {

    /** Needed by {@link java.util.ServiceLoader}. */
    public RedisStoreProvider() {
    }

    @Override
    public String type() {
        return "redis";
    }

    @Override
    public List<Setting> settings() {
        return RedisSettings.ALL;
    }

    /**
     * Connects (a PING, or the cluster's slot map) and returns the store. Called on the runtime's start-up thread.
     *
     * @throws RetriableException when Redis cannot be reached now
     * @throws MqdbException naming the setting when a setting is wrong or the password is refused
     */
    @Override
    public Store open(StoreConfig config, StoreContext context) {
        RedisSettings s = RedisSettings.from(config, context.keyPatterns());
        int timeoutMs = (int) s.timeout().toMillis();
        DefaultJedisClientConfig.Builder client = DefaultJedisClientConfig.builder()
                .connectionTimeoutMillis(timeoutMs).socketTimeoutMillis(timeoutMs)
                .user(s.user()).password(s.password())
                .clientName("mqdb-" + context.nodeName().replaceAll("[^A-Za-z0-9_.-]", "_"));
        if (!s.cluster()) {
            client.database(s.database());
        }
        if (s.tls()) {
            tls(client, s, config);
        }
        ConnectionPoolConfig pool = new ConnectionPoolConfig();
        pool.setMaxTotal(s.poolSize());
        pool.setMaxIdle(s.poolSize());
        pool.setMinIdle(0);
        pool.setMaxWait(s.timeout());
        pool.setTestWhileIdle(true);
        pool.setTimeBetweenEvictionRuns(Duration.ofSeconds(30));
        UnifiedJedis jedis = null;
        try {
            if (s.cluster()) {
                Set<HostAndPort> nodes = new HashSet<>();
                for (String n : s.clusterNodes()) {
                    nodes.add(HostAndPort.from(n));
                }
                jedis = RedisClusterClient.builder().nodes(nodes).clientConfig(client.build()).maxAttempts(3)
                        .poolConfig(pool).build();
            } else {
                jedis = RedisClient.builder().hostAndPort(s.host(), s.port()).clientConfig(client.build())
                        .poolConfig(pool).build();
            }
            jedis.ping();
            return new RedisStore(s, jedis);
        } catch (JedisAccessControlException e) {
            closeQuietly(jedis);
            throw new MqdbException("redis " + s.target() + ": authentication refused (" + e.getMessage()
                    + "); check " + config.where(RedisSettings.USER) + " and " + config.where(RedisSettings.PASSWORD),
                    e);
        } catch (JedisException e) {
            closeQuietly(jedis);
            throw new RetriableException("redis " + s.target() + ": cannot connect: " + e.getMessage(), e);
        }
    }

    /**
     * Jedis 8 deprecates these setters for {@code SslOptions}, which loads a key store from a file or URL; mqdb reads a
     * PEM CA file (or the JDK's trust store) into its own socket factory, which Jedis 8 still honours.
     */
    @SuppressWarnings("deprecation")
    private static void tls(DefaultJedisClientConfig.Builder client, RedisSettings s, StoreConfig config) {
        client.ssl(true).sslSocketFactory(sslSocketFactory(s, config));
        if (s.verifyHostname()) {
            SSLParameters p = new SSLParameters();
            p.setEndpointIdentificationAlgorithm("HTTPS");
            client.sslParameters(p);
        }
    }

    private static void closeQuietly(UnifiedJedis jedis) {
        if (jedis != null) {
            try {
                jedis.close();
            } catch (RuntimeException ignored) {
                // already failing; the first error is the one to report
            }
        }
    }

    private static SSLSocketFactory sslSocketFactory(RedisSettings s, StoreConfig config) {
        try {
            if (s.caFile() == null) {
                return (SSLSocketFactory) SSLSocketFactory.getDefault();
            }
            KeyStore trust = KeyStore.getInstance(KeyStore.getDefaultType());
            trust.load(null, null);
            try (InputStream in = Files.newInputStream(s.caFile())) {
                int i = 0;
                for (Certificate c : CertificateFactory.getInstance("X.509").generateCertificates(in)) {
                    trust.setCertificateEntry("ca-" + i++, c);
                }
            }
            TrustManagerFactory tmf = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
            tmf.init(trust);
            SSLContext ctx = SSLContext.getInstance("TLS");
            ctx.init(null, tmf.getTrustManagers(), null);
            return ctx.getSocketFactory();
        } catch (IOException | GeneralSecurityException e) {
            throw new MqdbException(config.where(RedisSettings.CA_FILE) + ": cannot load CA certificates from "
                    + s.caFile() + ": " + e.getMessage(), e);
        }
    }
}
