package io.mqdb.transport;

import java.net.URI;
import java.net.URISyntaxException;
import java.util.Locale;

/**
 * One broker URI taken apart: {@code tcp://} and {@code mqtt://} are plain MQTT, {@code ssl://} and {@code mqtts://}
 * MQTT over TLS, {@code ws://} and {@code wss://} MQTT over a WebSocket (plain or TLS) on the URI's path, default
 * {@code /mqtt}.
 *
 * @param uri the URI as configured
 * @param host the host name or address (an IPv6 literal without brackets)
 * @param port the port
 * @param tls whether the connection is TLS
 * @param webSocket whether MQTT runs over a WebSocket
 * @param path the WebSocket path, without the leading slash; empty for plain MQTT
 */
record BrokerAddress(String uri, String host, int port, boolean tls, boolean webSocket, String path) {

    /**
     * @param uri a broker URI
     * @return its parts
     * @throws IllegalArgumentException naming what is wrong
     */
    static BrokerAddress parse(String uri) {
        URI u;
        try {
            u = new URI(uri.strip());
        } catch (URISyntaxException e) {
            throw new IllegalArgumentException("not a URI: " + uri);
        }
        String scheme = u.getScheme() == null ? "" : u.getScheme().toLowerCase(Locale.ROOT);
        boolean tls;
        boolean ws;
        switch (scheme) {
            case "tcp", "mqtt" -> { tls = false; ws = false; }
            case "ssl", "mqtts" -> { tls = true; ws = false; }
            case "ws" -> { tls = false; ws = true; }
            case "wss" -> { tls = true; ws = true; }
            default -> throw new IllegalArgumentException(
                    "expected a scheme tcp, ssl, mqtt, mqtts, ws or wss, got " + uri);
        }
        if (u.getHost() == null || u.getPort() < 1) {
            throw new IllegalArgumentException("expected " + scheme + "://host:port (host and port required), got "
                    + uri);
        }
        String path = "";
        if (ws) {
            path = u.getRawPath() == null || u.getRawPath().isEmpty() || u.getRawPath().equals("/") ? "mqtt"
                    : u.getRawPath().substring(1);
        }
        String host = u.getHost();
        if (host.startsWith("[") && host.endsWith("]")) {
            host = host.substring(1, host.length() - 1); // an IPv6 literal
        }
        return new BrokerAddress(uri, host, u.getPort(), tls, ws, path);
    }

    /** @return the URI in a scheme Paho knows: {@code mqtt} becomes {@code tcp}, {@code mqtts} becomes {@code ssl} */
    String pahoUri() {
        if (webSocket) {
            return (tls ? "wss://" : "ws://") + hostPort() + "/" + path;
        }
        return (tls ? "ssl://" : "tcp://") + hostPort();
    }

    private String hostPort() {
        return (host.contains(":") ? "[" + host + "]" : host) + ":" + port;
    }
}
