package io.mqdb.transport;

import java.io.IOException;
import java.net.InetAddress;
import java.net.Socket;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import javax.net.SocketFactory;
import javax.net.ssl.SSLSocketFactory;

/**
 * Socket factories whose sockets have TCP_NODELAY on. Paho does not set it, and with Nagle's algorithm QoS 1 stalls
 * at about 1,000 msg/s against HiveMQ (each PUBLISH waits for the previous PUBACK's delayed ACK). One instance per
 * connection attempt; it remembers its sockets so a test can cut the connection as a network failure would.
 */
final class NoDelaySocketFactory {
    private NoDelaySocketFactory() {}

    /** @return a plain factory for {@code tcp://} */
    static Plain plain() {
        return new Plain();
    }

    /**
     * @param delegate the TLS factory configured with our trust and key managers
     * @return a TLS factory for {@code ssl://}
     */
    static Tls tls(SSLSocketFactory delegate) {
        return new Tls(delegate);
    }

    /** What both kinds offer: cutting every socket made so far. */
    interface Tracking {
        /** Closes every socket this factory made, without any MQTT goodbye. */
        void cutAll();
    }

    private static <S extends Socket> S noDelay(S s, List<Socket> sockets) throws IOException {
        s.setTcpNoDelay(true);
        sockets.add(s);
        return s;
    }

    private static void cut(List<Socket> sockets) {
        for (Socket s : sockets) {
            try {
                s.close();
            } catch (IOException ignored) {
                // it is being cut anyway
            }
        }
    }

    /** Plain TCP. */
    static final class Plain extends SocketFactory implements Tracking {
        private final SocketFactory delegate = SocketFactory.getDefault();
        private final List<Socket> sockets = new CopyOnWriteArrayList<>();

        @Override
        public Socket createSocket() throws IOException {
            return noDelay(delegate.createSocket(), sockets);
        }

        @Override
        public Socket createSocket(String host, int port) throws IOException {
            return noDelay(delegate.createSocket(host, port), sockets);
        }

        @Override
        public Socket createSocket(String host, int port, InetAddress localHost, int localPort) throws IOException {
            return noDelay(delegate.createSocket(host, port, localHost, localPort), sockets);
        }

        @Override
        public Socket createSocket(InetAddress host, int port) throws IOException {
            return noDelay(delegate.createSocket(host, port), sockets);
        }

        @Override
        public Socket createSocket(InetAddress address, int port, InetAddress localAddress, int localPort)
                throws IOException {
            return noDelay(delegate.createSocket(address, port, localAddress, localPort), sockets);
        }

        @Override
        public void cutAll() {
            cut(sockets);
        }
    }

    /** TLS. Paho requires an {@link SSLSocketFactory} for {@code ssl://} URIs. */
    static final class Tls extends SSLSocketFactory implements Tracking {
        private final SSLSocketFactory delegate;
        private final List<Socket> sockets = new CopyOnWriteArrayList<>();

        Tls(SSLSocketFactory delegate) {
            this.delegate = delegate;
        }

        @Override
        public String[] getDefaultCipherSuites() {
            return delegate.getDefaultCipherSuites();
        }

        @Override
        public String[] getSupportedCipherSuites() {
            return delegate.getSupportedCipherSuites();
        }

        @Override
        public Socket createSocket() throws IOException {
            return noDelay(delegate.createSocket(), sockets);
        }

        @Override
        public Socket createSocket(Socket s, String host, int port, boolean autoClose) throws IOException {
            return noDelay(delegate.createSocket(s, host, port, autoClose), sockets);
        }

        @Override
        public Socket createSocket(String host, int port) throws IOException {
            return noDelay(delegate.createSocket(host, port), sockets);
        }

        @Override
        public Socket createSocket(String host, int port, InetAddress localHost, int localPort) throws IOException {
            return noDelay(delegate.createSocket(host, port, localHost, localPort), sockets);
        }

        @Override
        public Socket createSocket(InetAddress host, int port) throws IOException {
            return noDelay(delegate.createSocket(host, port), sockets);
        }

        @Override
        public Socket createSocket(InetAddress address, int port, InetAddress localAddress, int localPort)
                throws IOException {
            return noDelay(delegate.createSocket(address, port, localAddress, localPort), sockets);
        }

        @Override
        public void cutAll() {
            cut(sockets);
        }
    }
}
