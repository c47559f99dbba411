package io.mqdb.cli;

import io.mqdb.broker.HiveMqEmbeddedBroker;
import io.mqdb.config.BrokerConfig;
import io.mqdb.config.TlsConfig;
import io.mqdb.spi.MqdbException;
import io.mqdb.transport.TlsOptions;
import io.mqdb.transport.Transport;
import io.mqdb.transport.TransportOptions;
import io.mqdb.transport.Transports;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import picocli.CommandLine;
import java.util.concurrent.TimeUnit;

/** A command's own MQTT connection, given up on after a timeout. Called on the command's thread. */
final class BrokerConnection {
    private BrokerConnection() {
    }

    /**
     * Opens and starts a transport, closing it when it is not connected within the timeout (a thread named
     * {@code <purpose>-connect-timeout} watches, and ends once the connection is made or given up).
     *
     * @param options the connection's options
     * @param timeoutSeconds how long to try
     * @param purpose what the connection is for, in the watchdog thread's name
     * @param hint appended to the error when it cannot connect (may be empty)
     * @return the started transport
     * @throws MqdbException when it could not connect in time
     * @throws InterruptedException when interrupted while connecting
     */
    static Transport open(TransportOptions options, int timeoutSeconds, String purpose, String hint)
            throws InterruptedException {
        Transport transport = Transports.open(options);
        CountDownLatch started = new CountDownLatch(1);
        Thread watchdog = new Thread(() -> {
            try {
                if (!started.await(timeoutSeconds, TimeUnit.SECONDS)) {
                    transport.close(); // makes start() give up
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }, purpose + "-connect-timeout");
        watchdog.setDaemon(true);
        watchdog.start();
        try {
            transport.start();
        } catch (IllegalStateException e) {
            transport.close();
            throw new MqdbException("cannot connect to " + options.brokerUris() + " within " + timeoutSeconds + " s"
                    + hint, e);
        } finally {
            started.countDown();
        }
        return transport;
    }

    /**
     * @param b a node config's broker section
     * @param file the config file, for the message
     * @param cl the command line, for the usage error
     * @return the brokers the node connects to: its {@code uris}, or its embedded broker's address
     * @throws CommandLine.ParameterException when the embedded broker's address is not known before it starts
     */
    static List<String> uris(BrokerConfig b, Path file, CommandLine cl) {
        if (!b.uris().isEmpty()) {
            return b.uris();
        }
        var e = b.embedded().orElseThrow(); // the config loader requires one or the other
        if (e.port() == 0) {
            throw new CommandLine.ParameterException(cl, file
                    + ": broker.embedded.port is 0 (a free port picked at start): give the broker with --broker");
        }
        // the address rule of the embedded broker (0.0.0.0 is reached on 127.0.0.1); nothing is started
        return List.of(new HiveMqEmbeddedBroker(e).uri());
    }

    /** @return the transport's TLS options of a config's {@code broker.tls} */
    static TlsOptions tls(TlsConfig t) {
        return new TlsOptions(t.caFile(), t.certFile(), t.keyFile(), t.keyPassword().map(s -> s.value()),
                t.verifyHostname());
    }
}
