package io.mqdb.broker;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.mqdb.config.BrokerUser;
import io.mqdb.config.EmbeddedBrokerConfig;
import io.mqdb.config.EmbeddedTlsConfig;
import io.mqdb.config.EmbeddedTlsConfig.ClientAuth;
import io.mqdb.config.Secret;
import io.mqdb.testing.ServerFixture;
import io.mqdb.testing.TestPki;
import io.mqdb.transport.PemTls;
import io.mqdb.transport.TlsOptions;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;
import java.util.Optional;
import javax.net.ssl.SSLParameters;
import javax.net.ssl.SSLSocket;
import javax.net.ssl.SSLSocketFactory;
import org.eclipse.paho.mqttv5.client.MqttAsyncClient;
import org.eclipse.paho.mqttv5.client.MqttConnectionOptions;
import org.eclipse.paho.mqttv5.client.persist.MemoryPersistence;
import org.eclipse.paho.mqttv5.common.MqttException;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The embedded broker's TLS listener with real certificates made by openssl: clients that trust its CA get in over
 * TLS (with a user's password), a plain client, a client of another CA and a wrong host name do not; with
 * {@code client-auth: required} only clients with a certificate of the client CA get in; with {@code plain: false}
 * the plain listener answers on loopback only and the node's own credential still works there.
 */
class EmbeddedBrokerTlsIT {
    @TempDir
    Path dir;
    private HiveMqEmbeddedBroker broker;
    private int plainPort;
    private int tlsPort;

    @AfterEach
    void stop() {
        if (broker != null) {
            broker.close();
        }
    }

    private TestPki.Pair start(TestPki pki, ClientAuth auth, boolean plain) throws Exception {
        TestPki.Pair server = pki.server();
        plainPort = ServerFixture.freePort();
        tlsPort = ServerFixture.freePort();
        EmbeddedTlsConfig tls = new EmbeddedTlsConfig("127.0.0.1", tlsPort, server.cert(), server.key(),
                Optional.empty(), auth == ClientAuth.NONE ? Optional.empty() : Optional.of(pki.clientCa()), auth);
        broker = new HiveMqEmbeddedBroker(EmbeddedBrokerConfig.of("127.0.0.1", plainPort, dir.resolve("broker"))
                .withUsers("prod", List.of(new BrokerUser("dash", new Secret("d-pw"), BrokerUser.Role.READER,
                        Optional.empty(), List.of())))
                .withTls(tls, plain));
        broker.start();
        return server;
    }

    private static MqttAsyncClient connect(String uri, TlsOptions tls, String user, String password)
            throws MqttException {
        MqttAsyncClient c = new MqttAsyncClient(uri, "c-" + System.nanoTime(), new MemoryPersistence());
        MqttConnectionOptions o = new MqttConnectionOptions();
        o.setAutomaticReconnect(false);
        o.setConnectionTimeout(10);
        if (tls != null) {
            o.setSocketFactory(PemTls.socketFactory(tls));
            o.setHttpsHostnameVerificationEnabled(tls.verifyHostname());
        }
        o.setUserName(user);
        o.setPassword(password.getBytes(StandardCharsets.UTF_8));
        c.connect(o).waitForCompletion(15_000);
        return c;
    }

    private static TlsOptions trusting(Path ca) {
        return new TlsOptions(Optional.of(ca), Optional.empty(), Optional.empty(), Optional.empty(), true);
    }

    private static TlsOptions withCert(Path ca, TestPki.Pair client) {
        return new TlsOptions(Optional.of(ca), Optional.of(client.cert()), Optional.of(client.key()),
                Optional.empty(), true);
    }

    private static void close(MqttAsyncClient c) throws MqttException {
        c.disconnect().waitForCompletion(5_000);
        c.close();
    }

    @Test
    void clientsThatTrustTheCaGetInWithTheirPasswordAndOthersAreRefused() throws Exception {
        TestPki pki = TestPki.create(dir);
        start(pki, ClientAuth.NONE, true);
        String tlsUri = "ssl://127.0.0.1:" + tlsPort;

        MqttAsyncClient ok = connect(tlsUri, trusting(pki.ca()), "dash", "d-pw");
        assertThat(ok.isConnected()).isTrue();
        close(ok);
        MqttAsyncClient viaLocalhost = connect("ssl://localhost:" + tlsPort, trusting(pki.ca()), "dash", "d-pw");
        close(viaLocalhost);
        // the node's own credential works on the plain listener, which plain: true keeps on bind
        BrokerAccess.Credential local = broker.localCredential().orElseThrow();
        close(connect(broker.uri(), null, local.username(), local.password()));

        assertThatThrownBy(() -> connect(tlsUri, trusting(pki.ca()), "dash", "wrong"))
                .isInstanceOf(MqttException.class);
        assertThatThrownBy(() -> connect("tcp://127.0.0.1:" + tlsPort, null, "dash", "d-pw"))
                .as("plain MQTT to the TLS port").isInstanceOf(MqttException.class);
        assertThatThrownBy(() -> connect(tlsUri, trusting(pki.otherCa()), "dash", "d-pw"))
                .as("a client trusting another CA").isInstanceOf(MqttException.class);
        assertThatThrownBy(() -> handshake(trusting(pki.ca()), "mqdb.example"))
                .as("the certificate does not name mqdb.example")
                .hasStackTraceContaining("No subject alternative DNS name matching mqdb.example");
        handshake(trusting(pki.ca()), "localhost"); // the same handshake for a name in the certificate passes

        Path tls = dir.resolve("broker/conf/tls");
        assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(tls.resolve("keystore.p12"))))
                .isEqualTo("rw-------");
        assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(
                dir.resolve("broker/conf/config.xml")))).isEqualTo("rw-------");
        assertThat(broker.listenersText()).contains("tls 127.0.0.1:" + tlsPort, "TLSv1.3, TLSv1.2")
                .doesNotContain("password");
    }

    @Test
    void tlsOnePointTwoIsAcceptedAndNothingOlderIsConfigured() throws Exception {
        TestPki pki = TestPki.create(dir);
        start(pki, ClientAuth.NONE, true);
        SSLSocketFactory f = PemTls.socketFactory(trusting(pki.ca()));
        try (SSLSocket s = (SSLSocket) f.createSocket("127.0.0.1", tlsPort)) {
            s.setEnabledProtocols(new String[] {"TLSv1.2"});
            s.startHandshake();
            assertThat(s.getSession().getProtocol()).isEqualTo("TLSv1.2");
        }
        // the JDK of these tests disables TLS 1.1 on the client side too, so a 1.1 handshake proves nothing here;
        // the listener's own list is what keeps older versions out on JDKs that still allow them
        assertThat(Files.readString(dir.resolve("broker/conf/config.xml")))
                .contains("<protocol>TLSv1.3</protocol>", "<protocol>TLSv1.2</protocol>")
                .doesNotContain("TLSv1.1", "TLSv1<");
    }

    @Test
    void withClientAuthRequiredOnlyClientsWithACertificateOfTheClientCaGetIn() throws Exception {
        TestPki pki = TestPki.create(dir);
        start(pki, ClientAuth.REQUIRED, false);
        String tlsUri = "ssl://127.0.0.1:" + tlsPort;
        TestPki.Pair good = pki.issue("dash-client", "client-ca", null);
        TestPki.Pair foreign = pki.issue("foreign-client", "other-ca", null);

        MqttAsyncClient ok = connect(tlsUri, withCert(pki.ca(), good), "dash", "d-pw");
        assertThat(ok.isConnected()).isTrue();
        close(ok);
        assertThatThrownBy(() -> connect(tlsUri, trusting(pki.ca()), "dash", "d-pw"))
                .as("no client certificate").isInstanceOf(MqttException.class);
        assertThatThrownBy(() -> connect(tlsUri, withCert(pki.ca(), foreign), "dash", "d-pw"))
                .as("a client certificate of another CA").isInstanceOf(MqttException.class);

        // plain: false: the plain listener is on loopback for the node itself, with its per-start credential
        assertThat(broker.uri()).isEqualTo("tcp://127.0.0.1:" + plainPort);
        BrokerAccess.Credential local = broker.localCredential().orElseThrow();
        close(connect(broker.uri(), null, local.username(), local.password()));
        assertThat(broker.listenersText()).contains("loopback only", "client certificates required");
    }

    @Test
    void aKeyThatIsNotTheCertificatesFailsTheStart() throws Exception {
        TestPki pki = TestPki.create(dir);
        TestPki.Pair server = pki.server();
        TestPki.Pair other = pki.issue("other", "ca", "DNS:localhost");
        EmbeddedTlsConfig tls = new EmbeddedTlsConfig("127.0.0.1", ServerFixture.freePort(), server.cert(),
                other.key(), Optional.empty(), Optional.empty(), ClientAuth.NONE);
        broker = new HiveMqEmbeddedBroker(EmbeddedBrokerConfig.of("127.0.0.1", ServerFixture.freePort(),
                dir.resolve("broker")).withTls(tls, true));
        assertThatThrownBy(broker::start).hasMessageContaining("is not the key of the certificate")
                .hasMessageContaining(other.key().toString());
    }

    /** A raw TLS handshake to the TLS port, checking that the server certificate names {@code host}. */
    private void handshake(TlsOptions tls, String host) throws Exception {
        SSLSocketFactory f = PemTls.socketFactory(tls);
        try (Socket raw = new Socket("127.0.0.1", tlsPort);
                SSLSocket s = (SSLSocket) f.createSocket(raw, host, tlsPort, true)) {
            SSLParameters p = s.getSSLParameters();
            p.setEndpointIdentificationAlgorithm("HTTPS");
            s.setSSLParameters(p);
            s.startHandshake();
        }
    }
}
