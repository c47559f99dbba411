package io.mqdb.observe;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The files of the node's web dashboard, served by its {@code node.http} listener: the page
 * ({@code io/mqdb/observe/dashboard/} in the jar) and uPlot, the chart library, from its WebJar (no CDN at run time).
 * The page reads the admin API every two seconds ({@code /api/node}, {@code /api/channels}, {@code /api/cluster},
 * {@code /api/history}, {@code /api/dead-letters}) and draws the topology, the lag chart, the outbox, the loads and
 * the dead letters. Stateless but for a cache of the files' bytes; any thread.
 */
final class Dashboard {
    /** Scripts and styles from this listener only; no inline script; images as data: (uPlot's legend markers). */
    static final String CONTENT_SECURITY_POLICY = "default-src 'none'; script-src 'self'; style-src 'self' "
            + "'unsafe-inline'; img-src 'self' data:; connect-src 'self'; base-uri 'none'; form-action 'none'; "
            + "frame-ancestors 'none'";
    /** The WebJar's folder; its version is {@code uplot.version} of the root pom ({@code DashboardTest} checks). */
    static final String UPLOT = "META-INF/resources/webjars/uplot/1.6.30/dist/";
    private static final String OWN = "io/mqdb/observe/dashboard/";

    /**
     * A file.
     *
     * @param type its content type
     * @param bytes its content
     */
    record Asset(String type, byte[] bytes) {
    }

    private static final Map<String, String[]> PATHS = Map.of(
            "/", new String[] {OWN + "index.html", "text/html; charset=utf-8"},
            "/index.html", new String[] {OWN + "index.html", "text/html; charset=utf-8"},
            "/dashboard.js", new String[] {OWN + "dashboard.js", "text/javascript; charset=utf-8"},
            "/dashboard.css", new String[] {OWN + "dashboard.css", "text/css; charset=utf-8"},
            "/uplot.min.js", new String[] {UPLOT + "uPlot.iife.min.js", "text/javascript; charset=utf-8"},
            "/uplot.min.css", new String[] {UPLOT + "uPlot.min.css", "text/css; charset=utf-8"});
    private static final Map<String, Asset> CACHE = new ConcurrentHashMap<>();

    private Dashboard() {
    }

    /**
     * @param path a request path
     * @return the dashboard's file at that path, if it is one
     * @throws UncheckedIOException when the jar lacks it (a broken build)
     */
    static Optional<Asset> asset(String path) {
        String[] where = PATHS.get(path);
        if (where == null) {
            return Optional.empty();
        }
        return Optional.of(CACHE.computeIfAbsent(path, p -> new Asset(where[1], read(where[0]))));
    }

    private static byte[] read(String resource) {
        try (InputStream in = Dashboard.class.getClassLoader().getResourceAsStream(resource)) {
            if (in == null) {
                throw new UncheckedIOException(new IOException("the dashboard's " + resource + " is not in the jar"));
            }
            return in.readAllBytes();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
