package io.mqdb.observe;

import com.google.gson.JsonArray;
import com.google.gson.JsonObject;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.mqdb.config.HttpConfig;
import io.mqdb.spi.MqdbException;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The node's HTTP listener ({@code node.http}), on the JDK's {@link HttpServer}:
 * <ul>
 *   <li>{@code GET /health}: 200 {@code ok} while the node runs; never asks for the token (a liveness probe);</li>
 *   <li>{@code GET /metrics}: the Prometheus text format of the node's meters;</li>
 *   <li>{@code GET /ready}: 200 when connected to the broker with every session and every subscribed channel within
 *       {@code ready-max-lag} events, else 503; both with a JSON body {@code {"ready":..,"reasons":[..]}}.</li>
 * </ul>
 * With a token, every path but {@code /health} needs {@code Authorization: Bearer <token>} (401 otherwise). Any other
 * path is 404, any method but GET and HEAD 405.
 *
 * <h2>Threads</h2>
 * {@link #start} (the node's start-up thread) binds and starts the server: the JDK's dispatcher thread accepts
 * connections and hands each request to the one handler thread {@code http-<node>}. {@link #close} (any thread,
 * idempotent) stops both, waiting at most a second for a request being answered.
 */
final class HttpEndpoint implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(HttpEndpoint.class);
    private static final String PROMETHEUS_TEXT = "text/plain; version=0.0.4; charset=utf-8";

    private final HttpServer server;
    private final ExecutorService handlers;
    private final byte[] token;
    private final PrometheusMeterRegistry registry;
    private final Supplier<List<String>> readiness;
    private boolean closed;

    private HttpEndpoint(HttpServer server, ExecutorService handlers, byte[] token, PrometheusMeterRegistry registry,
            Supplier<List<String>> readiness) {
        this.server = server;
        this.handlers = handlers;
        this.token = token;
        this.registry = registry;
        this.readiness = readiness;
    }

    /**
     * @param config the listener's settings
     * @param node the node's name, for the thread's name and messages
     * @param registry the meters {@code /metrics} shows
     * @param readiness the reasons the node is not ready, empty when it is
     * @return the started listener
     * @throws MqdbException when it cannot listen on the address and port
     */
    static HttpEndpoint start(HttpConfig config, String node, PrometheusMeterRegistry registry,
            Supplier<List<String>> readiness) {
        HttpServer server;
        try {
            server = HttpServer.create(new InetSocketAddress(config.bind(), config.port()), 16);
        } catch (IOException | RuntimeException e) {
            throw new MqdbException("node " + node + ": node.http cannot listen on " + config.bind() + ":"
                    + config.port() + ": " + e.getMessage(), e);
        }
        ExecutorService handlers = Executors.newSingleThreadExecutor(r -> {
            Thread t = new Thread(r, "http-" + node);
            t.setDaemon(true);
            return t;
        });
        byte[] token = config.token().map(s -> ("Bearer " + s.value()).getBytes(StandardCharsets.UTF_8))
                .orElse(null);
        HttpEndpoint endpoint = new HttpEndpoint(server, handlers, token, registry, readiness);
        server.createContext("/", endpoint::handle);
        server.setExecutor(handlers);
        server.start();
        return endpoint;
    }

    private void handle(HttpExchange x) throws IOException {
        try (x) {
            String path = x.getRequestURI().getPath();
            String method = x.getRequestMethod();
            if (!method.equals("GET") && !method.equals("HEAD")) {
                x.getResponseHeaders().set("Allow", "GET, HEAD");
                send(x, 405, "text/plain; charset=utf-8", "method not allowed\n");
                return;
            }
            if (path.equals("/health")) {
                send(x, 200, "text/plain; charset=utf-8", "ok\n");
                return;
            }
            if (!path.equals("/metrics") && !path.equals("/ready")) {
                send(x, 404, "text/plain; charset=utf-8", "not found; try /metrics, /health or /ready\n");
                return;
            }
            if (!authorized(x.getRequestHeaders().getFirst("Authorization"))) {
                x.getResponseHeaders().set("WWW-Authenticate", "Bearer");
                send(x, 401, "text/plain; charset=utf-8", "a bearer token is required\n");
                return;
            }
            if (path.equals("/metrics")) {
                send(x, 200, PROMETHEUS_TEXT, registry.scrape());
            } else {
                List<String> reasons = readiness.get();
                JsonObject o = new JsonObject();
                o.addProperty("ready", reasons.isEmpty());
                JsonArray a = new JsonArray();
                reasons.forEach(a::add);
                o.add("reasons", a);
                send(x, reasons.isEmpty() ? 200 : 503, "application/json", o + "\n");
            }
        } catch (RuntimeException e) {
            LOG.warn("http: {} {} failed: {}", x.getRequestMethod(), x.getRequestURI(), e.toString());
        }
    }

    /** Constant time, so the token cannot be guessed a character at a time from the answer's delay. */
    boolean authorized(String header) {
        return token == null
                || header != null && MessageDigest.isEqual(token, header.getBytes(StandardCharsets.UTF_8));
    }

    private static void send(HttpExchange x, int status, String type, String body) throws IOException {
        byte[] bytes = body.getBytes(StandardCharsets.UTF_8);
        x.getResponseHeaders().set("Content-Type", type);
        boolean head = x.getRequestMethod().equals("HEAD");
        x.sendResponseHeaders(status, head ? -1 : bytes.length);
        if (!head) {
            try (OutputStream out = x.getResponseBody()) {
                out.write(bytes);
            }
        }
    }

    @Override
    public synchronized void close() {
        if (closed) {
            return;
        }
        closed = true;
        server.stop(1);
        handlers.shutdownNow();
    }
}
