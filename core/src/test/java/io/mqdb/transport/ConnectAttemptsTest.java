package io.mqdb.transport;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.ConnectException;
import java.util.List;
import javax.net.ssl.SSLHandshakeException;
import org.junit.jupiter.api.Test;
import org.slf4j.LoggerFactory;

/** The failover rhythm and the sorting of connection failures shared by both transports. */
class ConnectAttemptsTest {
    private final ConnectFailure down = ConnectFailure.of(new ConnectException("Connection refused"), 0);
    private final ConnectFailure badPassword = ConnectFailure.of(new RuntimeException("refused"), 0x86);

    @Test
    void brokersOfARoundAreTriedWithoutPauseThenTheBackoffDoublesToFiveSeconds() {
        ConnectAttempts a = new ConnectAttempts(LoggerFactory.getLogger(getClass()), "c", List.of("tcp://a:1",
                "tcp://b:1"));
        assertThat(a.failed("tcp://a:1", "tcp://b:1", down)).isZero();
        assertThat(a.failed("tcp://b:1", "tcp://a:1", down)).isEqualTo(100);
        assertThat(a.failed("tcp://a:1", "tcp://b:1", down)).isZero();
        assertThat(a.failed("tcp://b:1", "tcp://a:1", down)).isEqualTo(200);
        for (int i = 0; i < 20; i++) {
            a.failed("x", "y", down);
        }
        assertThat(a.failed("x", "y", down) + a.failed("x", "y", down)).isEqualTo(ConnectAttempts.MAX_BACKOFF_MS);
        a.connected("tcp://a:1");
        assertThat(a.failed("tcp://a:1", "tcp://b:1", down)).isZero();
        assertThat(a.failed("tcp://b:1", "tcp://a:1", down)).isEqualTo(100);
        assertThat(a.refusedEnough()).isFalse();
    }

    @Test
    void aSilentBrokerSendsTheNextAttemptToTheNextBrokerAClosedSocketToTheSameOne() {
        ConnectAttempts two = new ConnectAttempts(LoggerFactory.getLogger(getClass()), "c", List.of("tcp://a:1",
                "tcp://b:1"));
        assertThat(two.lost("tcp://a:1", "com.hivemq.client.mqtt.exceptions.ConnectionClosedException: Timeout "
                + "while waiting for PINGRESP")).isTrue();
        assertThat(two.lost("tcp://a:1", "Timed out waiting for a response from the server (32000)")).isTrue();
        assertThat(two.lost("tcp://a:1", "com.hivemq.client.mqtt.exceptions.ConnectionClosedException: Server "
                + "closed connection without DISCONNECT.")).isFalse();
        assertThat(two.lost("tcp://a:1", null)).isFalse();
        ConnectAttempts one = new ConnectAttempts(LoggerFactory.getLogger(getClass()), "c", List.of("tcp://a:1"));
        assertThat(one.lost("tcp://a:1", "Timeout while waiting for PINGRESP")).as("nowhere else to go").isFalse();
    }

    @Test
    void refusalsEndTheStartAfterThreeRoundsAndOnlyRefusalsCount() {
        ConnectAttempts a = new ConnectAttempts(LoggerFactory.getLogger(getClass()), "c", List.of("tcp://a:1",
                "tcp://b:1"));
        for (int i = 0; i < 5; i++) {
            a.failed("x", "y", badPassword);
            a.failed("x", "y", down);
        }
        assertThat(a.refusals()).isEqualTo(5);
        assertThat(a.refusedEnough()).isFalse();
        a.failed("x", "y", badPassword);
        assertThat(a.refusedEnough()).isTrue();
    }

    @Test
    void failuresAreSortedIntoWhatRetryingCuresAndWhatItCannot() {
        assertThat(down.fatal()).isFalse();
        assertThat(down.description()).contains("Connection refused");
        assertThat(badPassword.fatal()).isTrue();
        assertThat(badPassword.description()).contains("user name or password");
        assertThat(ConnectFailure.of(new RuntimeException("x"), 0x87).description()).contains("not authorized");
        assertThat(ConnectFailure.of(new RuntimeException("x"), 0x85).fatal()).isTrue();
        ConnectFailure tls = ConnectFailure.of(new RuntimeException("connect failed",
                new SSLHandshakeException("PKIX path building failed")), 0);
        assertThat(tls.fatal()).isTrue();
        assertThat(tls.description()).startsWith("TLS failed: PKIX path building failed");
        assertThat(ConnectFailure.of(new RuntimeException("x"), 0x88).fatal()).as("server unavailable: retry")
                .isFalse();
    }

    @Test
    void aMoveIsLoggedOnceConnectedWithBothBrokersItsCauseAndHowLongTheNodeWasAway() throws Exception {
        ch.qos.logback.classic.Logger logger = (ch.qos.logback.classic.Logger) LoggerFactory.getLogger(
                "io.mqdb.transport.ConnectAttemptsTest.moves");
        ch.qos.logback.core.read.ListAppender<ch.qos.logback.classic.spi.ILoggingEvent> log =
                new ch.qos.logback.core.read.ListAppender<>();
        log.start();
        logger.addAppender(log);
        try {
            ConnectAttempts a = new ConnectAttempts(logger, "c", List.of("tcp://a:1", "tcp://b:1"));
            a.connected("tcp://a:1");
            assertThat(log.list).as("the first connection is no move").isEmpty();
            a.lost("tcp://a:1", "Connection reset");
            Thread.sleep(20); // a disconnection of measurable length
            a.failed("tcp://a:1", "tcp://b:1", down);
            log.list.clear();
            a.connected("tcp://b:1");
            assertThat(log.list).singleElement().extracting(e -> e.getFormattedMessage()).asString()
                    .startsWith("mqtt tcp://b:1: c moved from tcp://a:1 after ")
                    .contains("ms disconnected (lost: Connection reset)")
                    .doesNotContain("after 0 ms");
            a.lost("tcp://b:1", null);
            a.connected("tcp://b:1");
            assertThat(log.list.get(1).getFormattedMessage()).contains("connected again to the same broker",
                    "lost: unknown cause");
            a.connected("tcp://b:1");
            assertThat(log.list).as("logged once per move").hasSize(2);
        } finally {
            logger.detachAppender(log);
        }
    }
}
