package io.mqdb.observe;

import com.google.gson.JsonArray;
import com.google.gson.JsonObject;
import java.util.ArrayDeque;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The lag of every subscriber of every channel the cluster view shows, sampled at a fixed interval and kept for the
 * last {@link #SAMPLES} samples, for the dashboard's chart. A series that leaves the view keeps its past and gets
 * gaps (JSON null); at most {@link #MAX_SERIES} series are kept.
 *
 * <h2>Threads</h2>
 * {@link #record} on the observer's thread, {@link #toJson} on the HTTP handler's; both synchronized.
 */
final class LagHistory {
    /** Samples kept: ten minutes at one every two seconds. */
    static final int SAMPLES = 300;
    static final int MAX_SERIES = 256;

    private final ArrayDeque<Long> times = new ArrayDeque<>();
    /** Per "channel node": its samples, aligned with {@link #times} (null: not in the view then). */
    private final Map<String, ArrayDeque<Double>> events = new LinkedHashMap<>();
    private final Map<String, ArrayDeque<Double>> seconds = new LinkedHashMap<>();

    /**
     * @param nowMillis the time of the sample
     * @param report what the cluster view shows now
     */
    synchronized void record(long nowMillis, ClusterStatus.Report report) {
        times.addLast(nowMillis / 1000);
        Map<String, Lag> now = new LinkedHashMap<>();
        for (ClusterStatus.ChannelRow c : report.channels()) {
            for (ClusterStatus.SubscriberRow s : c.subscribers()) {
                if (s.lag() != null) {
                    now.put(c.channel() + " " + s.node(), s.lag());
                }
            }
        }
        for (String key : now.keySet()) {
            if (!events.containsKey(key) && events.size() < MAX_SERIES) {
                ArrayDeque<Double> e = new ArrayDeque<>();
                ArrayDeque<Double> sec = new ArrayDeque<>();
                for (int i = 1; i < times.size(); i++) {
                    e.addLast(null);
                    sec.addLast(null);
                }
                events.put(key, e);
                seconds.put(key, sec);
            }
        }
        for (Map.Entry<String, ArrayDeque<Double>> e : events.entrySet()) {
            Lag lag = now.get(e.getKey());
            e.getValue().addLast(lag == null ? null : (double) lag.events());
            seconds.get(e.getKey()).addLast(lag == null || Double.isNaN(lag.seconds()) ? null : lag.seconds());
        }
        if (times.size() > SAMPLES) {
            times.removeFirst();
            events.values().forEach(ArrayDeque::removeFirst);
            seconds.values().forEach(ArrayDeque::removeFirst);
        }
    }

    /** @return {@code {"times":[s..],"series":[{"channel":..,"node":..,"events":[..],"seconds":[..]}]}} */
    synchronized JsonObject toJson() {
        JsonObject o = new JsonObject();
        JsonArray t = new JsonArray();
        times.forEach(t::add);
        o.add("times", t);
        JsonArray series = new JsonArray();
        for (Map.Entry<String, ArrayDeque<Double>> e : events.entrySet()) {
            JsonObject s = new JsonObject();
            int space = e.getKey().indexOf(' ');
            s.addProperty("channel", e.getKey().substring(0, space));
            s.addProperty("node", e.getKey().substring(space + 1));
            s.add("events", array(e.getValue()));
            s.add("seconds", array(seconds.get(e.getKey())));
            series.add(s);
        }
        o.add("series", series);
        return o;
    }

    private static JsonArray array(ArrayDeque<Double> values) {
        JsonArray a = new JsonArray();
        for (Double v : values) {
            if (v == null) {
                a.add(com.google.gson.JsonNull.INSTANCE);
            } else {
                a.add(v);
            }
        }
        return a;
    }
}
