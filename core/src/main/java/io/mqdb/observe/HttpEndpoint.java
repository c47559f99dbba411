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
import java.util.Optional;
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
 *       {@code ready-max-lag} events, else 503; both with a JSON body {@code {"ready":..,"reasons":[..]}};</li>
 *   <li>{@code /api/...}: the {@link AdminApi} (GET, and POST for its actions);</li>
 *   <li>{@code GET /}: the {@link Dashboard} page and its scripts.</li>
 * </ul>
 * With a token, every path but {@code /health} and the dashboard's files (which hold no data; the page asks for the
 * token) needs {@code Authorization: Bearer <token>} (401 otherwise). Any other path is 404, a method but GET and HEAD
 * (and POST under {@code /api/}) 405.
 *
 * <h2>Threads</h2>
 * {@link #start} (the node's start-up thread) binds and starts the server: the JDK's dispatcher thread accepts
 * connections and hands each request to the one handler thread {@code http-<node>}. {@link #close} (any thread,
 * idempotent) stops both, waiting at most a second for a request being answered.
 */
final class HttpEndpoint implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(HttpEndpoint.class);
    private static final String PROMETHEUS_TEXT = "text/plain; version=0.0.4; charset=utf-8";
    private static final String TEXT = "text/plain; charset=utf-8";
    private static final String JSON = "application/json";
    /** The largest request body read (an admin API POST). */
    static final int MAX_BODY_BYTES = 64 * 1024;

    private final HttpServer server;
    private final ExecutorService handlers;
    private final byte[] token;
    private final PrometheusMeterRegistry registry;
    private final Supplier<List<String>> readiness;
    private final AdminApi api;
    private boolean closed;

    private HttpEndpoint(HttpServer server, ExecutorService handlers, byte[] token, PrometheusMeterRegistry registry,
            Supplier<List<String>> readiness, AdminApi api) {
        this.server = server;
        this.handlers = handlers;
        this.token = token;
        this.registry = registry;
        this.readiness = readiness;
        this.api = api;
    }

    /**
     * @param config the listener's settings
     * @param node the node's name, for the thread's name and messages
     * @param registry the meters {@code /metrics} shows
     * @param readiness the reasons the node is not ready, empty when it is
     * @param api the admin API, under {@code /api/}
     * @return the started listener
     * @throws MqdbException when it cannot listen on the address and port
     */
    static HttpEndpoint start(HttpConfig config, String node, PrometheusMeterRegistry registry,
            Supplier<List<String>> readiness, AdminApi api) {
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
        HttpEndpoint endpoint = new HttpEndpoint(server, handlers, token, registry, readiness, api);
        server.createContext("/", endpoint::handle);
        server.setExecutor(handlers);
        server.start();
        return endpoint;
    }

    private void handle(HttpExchange x) throws IOException {
        try (x) {
            String path = x.getRequestURI().getPath();
            String method = x.getRequestMethod();
            boolean post = method.equals("POST");
            if (!method.equals("GET") && !method.equals("HEAD") && !(post && path.startsWith("/api/"))) {
                x.getResponseHeaders().set("Allow", path.startsWith("/api/") ? "GET, HEAD, POST" : "GET, HEAD");
                send(x, 405, TEXT, "method not allowed\n");
                return;
            }
            if (path.equals("/health")) {
                send(x, 200, TEXT, "ok\n");
                return;
            }
            Optional<Dashboard.Asset> asset = Dashboard.asset(path);
            if (asset.isPresent()) { // the page and its scripts hold no data: no token (the page asks for it)
                x.getResponseHeaders().set("Content-Security-Policy", Dashboard.CONTENT_SECURITY_POLICY);
                x.getResponseHeaders().set("X-Content-Type-Options", "nosniff");
                x.getResponseHeaders().set("Cache-Control", "no-cache");
                send(x, 200, asset.get().type(), asset.get().bytes());
                return;
            }
            if (!path.equals("/metrics") && !path.equals("/ready") && !path.startsWith("/api/")) {
                send(x, 404, TEXT, "not found; try / (the dashboard), /api/node, /metrics, /health or /ready\n");
                return;
            }
            if (!authorized(x.getRequestHeaders().getFirst("Authorization"))) {
                x.getResponseHeaders().set("WWW-Authenticate", "Bearer");
                send(x, 401, TEXT, "a bearer token is required\n");
                return;
            }
            if (path.equals("/metrics")) {
                send(x, 200, PROMETHEUS_TEXT, registry.scrape());
            } else if (path.equals("/ready")) {
                List<String> reasons = readiness.get();
                JsonObject o = new JsonObject();
                o.addProperty("ready", reasons.isEmpty());
                JsonArray a = new JsonArray();
                reasons.forEach(a::add);
                o.add("reasons", a);
                send(x, reasons.isEmpty() ? 200 : 503, JSON, o + "\n");
            } else {
                api(x, path, post);
            }
        } catch (RuntimeException e) {
            LOG.warn("http: {} {} failed: {}", x.getRequestMethod(), x.getRequestURI(), e.toString());
        }
    }

    /**
     * An admin API request. A POST must be {@code application/json} and, when the browser names its origin, come
     * from a page of this listener: a page of another site cannot send either without the browser asking first
     * (CORS preflight, which this listener refuses), so it cannot steer a node bound to loopback without a token.
     */
    private void api(HttpExchange x, String path, boolean post) throws IOException {
        byte[] body = new byte[0];
        if (post) {
            String type = x.getRequestHeaders().getFirst("Content-Type");
            if (type == null || !type.toLowerCase(java.util.Locale.ROOT).startsWith("application/json")) {
                send(x, 415, JSON, "{\"error\":\"a POST must be Content-Type: application/json\"}\n");
                return;
            }
            String origin = x.getRequestHeaders().getFirst("Origin");
            String host = x.getRequestHeaders().getFirst("Host");
            if (origin != null && !origin.equals("http://" + host) && !origin.equals("https://" + host)) {
                send(x, 403, JSON, "{\"error\":\"a POST from another origin is refused\"}\n");
                return;
            }
            body = x.getRequestBody().readNBytes(MAX_BODY_BYTES + 1);
            if (body.length > MAX_BODY_BYTES) {
                send(x, 413, JSON, "{\"error\":\"the body is over " + MAX_BODY_BYTES + " bytes\"}\n");
                return;
            }
        }
        AdminApi.Answer answer;
        try {
            answer = api.handle(x.getRequestMethod(), path, x.getRequestURI().getRawQuery(), body);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt(); // the listener is closing
            answer = AdminApi.Answer.error(503, "the node is stopping");
        }
        send(x, answer.status(), JSON, answer.body() + "\n");
    }

    /** Constant time, so the token cannot be guessed a character at a time from the answer's delay. */
    boolean authorized(String header) {
        return token == null
                || header != null && MessageDigest.isEqual(token, header.getBytes(StandardCharsets.UTF_8));
    }

    private static void send(HttpExchange x, int status, String type, String body) throws IOException {
        send(x, status, type, body.getBytes(StandardCharsets.UTF_8));
    }

    private static void send(HttpExchange x, int status, String type, byte[] bytes) throws IOException {
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
