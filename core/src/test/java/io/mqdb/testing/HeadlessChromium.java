package io.mqdb.testing;

import com.google.gson.JsonArray;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.net.http.WebSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Stream;

/**
 * A real headless Chromium (Debian's {@code chromium} package, {@code /usr/bin/chromium}) driven over the Chrome
 * DevTools protocol with the JDK's WebSocket client: navigate, evaluate JavaScript in the page, take a screenshot.
 * No WebDriver, no download of a browser. Fails (never skips) when Chromium is not installed, naming the package.
 *
 * <p>Chromium runs with the flags this machine needs (no sandbox as root, no GPU, no background networking, a fresh
 * profile in a temporary folder) and {@code --remote-debugging-port=0}; the port is read from the profile's
 * {@code DevToolsActivePort} file. {@link #close()} ends the process and removes the profile. One page; calls on any
 * one thread at a time.
 */
public final class HeadlessChromium implements AutoCloseable {
    private static final Duration START = Duration.ofSeconds(30);
    private static final Duration CALL = Duration.ofSeconds(30);

    private final Process process;
    private final Path profile;
    private final WebSocket socket;
    private final AtomicInteger ids = new AtomicInteger();
    private final Map<Integer, CompletableFuture<JsonObject>> calls = new ConcurrentHashMap<>();

    private HeadlessChromium(Process process, Path profile, WebSocket socket) {
        this.process = process;
        this.profile = profile;
        this.socket = socket;
    }

    /**
     * @param width the window's width in pixels
     * @param height its height
     * @return a started browser with one blank page
     */
    public static HeadlessChromium start(int width, int height) throws IOException, InterruptedException {
        Path binary = Stream.of("/usr/bin/chromium", "/usr/bin/chromium-browser").map(Path::of)
                .filter(Files::isExecutable).findFirst().orElseThrow(() -> new AssertionError(
                        "headless Chromium is needed by this test: apt-get install chromium"));
        Path profile = Files.createTempDirectory("mqdb-chromium-");
        List<String> command = new ArrayList<>(List.of(binary.toString(), "--headless=new", "--no-sandbox",
                "--disable-gpu", "--disable-dev-shm-usage", "--disable-quic", "--no-first-run",
                "--disable-background-networking", "--disable-component-update", "--disable-sync",
                "--disable-extensions", "--user-data-dir=" + profile, "--remote-debugging-port=0",
                "--remote-allow-origins=*", "--window-size=" + width + "," + height, "about:blank"));
        Process p = new ProcessBuilder(command).redirectErrorStream(true)
                .redirectOutput(profile.resolve("chromium.log").toFile()).start();
        try {
            Path active = profile.resolve("DevToolsActivePort");
            long deadline = System.nanoTime() + START.toNanos();
            while (!Files.exists(active) || Files.readAllLines(active).size() < 2) {
                if (!p.isAlive() || System.nanoTime() > deadline) {
                    throw new AssertionError("Chromium did not start (" + (p.isAlive() ? "no DevToolsActivePort"
                            : "exit " + p.exitValue()) + "): " + Files.readString(profile.resolve("chromium.log")));
                }
                Thread.sleep(50);
            }
            int port = Integer.parseInt(Files.readAllLines(active).get(0).trim());
            HttpClient http = HttpClient.newHttpClient();
            String page = null;
            while (page == null) {
                JsonArray targets = JsonParser.parseString(http.send(HttpRequest.newBuilder(
                        URI.create("http://127.0.0.1:" + port + "/json/list")).build(),
                        HttpResponse.BodyHandlers.ofString()).body()).getAsJsonArray();
                for (JsonElement t : targets) {
                    if (t.getAsJsonObject().get("type").getAsString().equals("page")) {
                        page = t.getAsJsonObject().get("webSocketDebuggerUrl").getAsString();
                    }
                }
                if (page == null) {
                    if (System.nanoTime() > deadline) {
                        throw new AssertionError("Chromium shows no page: " + targets);
                    }
                    Thread.sleep(50);
                }
            }
            HeadlessChromium[] self = new HeadlessChromium[1];
            StringBuilder partial = new StringBuilder();
            WebSocket ws = http.newWebSocketBuilder().buildAsync(URI.create(page), new WebSocket.Listener() {
                @Override
                public CompletionStage<?> onText(WebSocket w, CharSequence data, boolean last) {
                    partial.append(data);
                    if (last) {
                        String text = partial.toString();
                        partial.setLength(0);
                        self[0].onMessage(text);
                    }
                    w.request(1);
                    return null;
                }
            }).get(START.toSeconds(), TimeUnit.SECONDS);
            self[0] = new HeadlessChromium(p, profile, ws);
            return self[0];
        } catch (ExecutionException | TimeoutException e) {
            p.destroyForcibly();
            delete(profile);
            throw new IOException("cannot reach Chromium's DevTools: " + e, e);
        } catch (IOException | InterruptedException | RuntimeException | Error e) {
            p.destroyForcibly();
            delete(profile);
            throw e;
        }
    }

    private void onMessage(String text) {
        JsonObject o = JsonParser.parseString(text).getAsJsonObject();
        if (o.has("id")) {
            CompletableFuture<JsonObject> f = calls.remove(o.get("id").getAsInt());
            if (f != null) {
                f.complete(o);
            }
        }
    }

    /**
     * Sends one DevTools command and waits for its answer.
     *
     * @param method e.g. {@code Page.navigate}
     * @param params its parameters
     * @return the answer's {@code result}
     */
    public JsonObject call(String method, JsonObject params) throws InterruptedException {
        int id = ids.incrementAndGet();
        CompletableFuture<JsonObject> answer = new CompletableFuture<>();
        calls.put(id, answer);
        JsonObject o = new JsonObject();
        o.addProperty("id", id);
        o.addProperty("method", method);
        o.add("params", params);
        socket.sendText(o.toString(), true);
        JsonObject r;
        try {
            r = answer.get(CALL.toSeconds(), TimeUnit.SECONDS);
        } catch (ExecutionException | TimeoutException e) {
            throw new AssertionError(method + ": no answer from Chromium: " + e);
        }
        if (r.has("error")) {
            throw new AssertionError(method + " failed: " + r.get("error"));
        }
        return r.getAsJsonObject("result");
    }

    /** Opens a page and waits until its document has loaded. */
    public void navigate(String url) throws InterruptedException {
        JsonObject p = new JsonObject();
        p.addProperty("url", url);
        call("Page.navigate", p);
        long deadline = System.nanoTime() + CALL.toNanos();
        while (!"complete".equals(evaluate("document.readyState").getAsString())) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError("the page " + url + " did not load");
            }
            Thread.sleep(50);
        }
    }

    /**
     * @param expression JavaScript evaluated in the page
     * @return its value (by value: strings, numbers, booleans, arrays and plain objects)
     */
    public JsonElement evaluate(String expression) throws InterruptedException {
        JsonObject p = new JsonObject();
        p.addProperty("expression", expression);
        p.addProperty("returnByValue", true);
        JsonObject r = call("Runtime.evaluate", p);
        if (r.has("exceptionDetails")) {
            throw new AssertionError("the page threw on " + expression + ": " + r.get("exceptionDetails"));
        }
        JsonObject value = r.getAsJsonObject("result");
        return value.has("value") ? value.get("value") : com.google.gson.JsonNull.INSTANCE;
    }

    /**
     * Writes a PNG of the page as shown.
     *
     * @param file where to write it
     */
    public void screenshot(Path file) throws InterruptedException, IOException {
        JsonObject p = new JsonObject();
        p.addProperty("format", "png");
        String data = call("Page.captureScreenshot", p).get("data").getAsString();
        Files.createDirectories(file.toAbsolutePath().getParent());
        Files.write(file, Base64.getDecoder().decode(data));
    }

    @Override
    public void close() {
        try {
            socket.abort();
        } finally {
            process.destroy();
            try {
                if (!process.waitFor(5, TimeUnit.SECONDS)) {
                    process.destroyForcibly();
                }
            } catch (InterruptedException e) {
                process.destroyForcibly();
                Thread.currentThread().interrupt();
            }
            delete(profile);
        }
    }

    private static void delete(Path dir) {
        try (Stream<Path> files = Files.walk(dir)) {
            files.sorted(Comparator.reverseOrder()).forEach(f -> f.toFile().delete());
        } catch (IOException | UncheckedIOException e) {
            // a temporary folder; the next boot clears it
        }
    }
}
