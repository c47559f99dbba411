package io.mqdb.observe;

import io.mqdb.spi.TableId;
import java.util.ArrayDeque;
import java.util.HashMap;
import java.util.Map;

/**
 * The rate at which this node applies each load (snapshot) of each origin: rows applied over the last
 * {@link #WINDOW_MS}, from samples taken once a second.
 *
 * <h2>Threads</h2>
 * {@link #sample} on the observer's thread, {@link #rate} on it or the HTTP handler's; both synchronized.
 */
final class LoadRates {
    static final long WINDOW_MS = 10_000;

    private record Sample(long millis, long rows) {
    }

    private final Map<String, ArrayDeque<Sample>> samples = new HashMap<>();

    synchronized void sample(TableId channel, String origin, long nowMillis, long rows) {
        ArrayDeque<Sample> s = samples.computeIfAbsent(channel + " " + origin, k -> new ArrayDeque<>());
        if (!s.isEmpty() && s.peekLast().rows() > rows) {
            s.clear(); // a new load started
        }
        s.addLast(new Sample(nowMillis, rows));
        while (s.size() > 2 && nowMillis - s.peekFirst().millis() > WINDOW_MS) {
            s.removeFirst();
        }
    }

    /** @return rows per second over the window, or NaN before two samples */
    synchronized double rate(TableId channel, String origin) {
        ArrayDeque<Sample> s = samples.get(channel + " " + origin);
        if (s == null || s.size() < 2 || s.peekLast().millis() == s.peekFirst().millis()) {
            return Double.NaN;
        }
        return (s.peekLast().rows() - s.peekFirst().rows()) * 1000.0 / (s.peekLast().millis() - s.peekFirst().millis());
    }
}
