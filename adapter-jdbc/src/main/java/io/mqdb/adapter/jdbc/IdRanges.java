package io.mqdb.adapter.jdbc;

import java.util.Map;
import java.util.TreeMap;

/** A set of longs kept as ranges; ids mostly arrive in order, so it stays a handful of ranges. Not thread-safe. */
final class IdRanges {
    private final TreeMap<Long, Long> ranges = new TreeMap<>();

    IdRanges copy() {
        IdRanges c = new IdRanges();
        c.ranges.putAll(ranges);
        return c;
    }

    boolean isEmpty() {
        return ranges.isEmpty();
    }

    boolean contains(long id) {
        Map.Entry<Long, Long> e = ranges.floorEntry(id);
        return e != null && e.getValue() >= id;
    }

    void add(long id) {
        if (contains(id)) {
            return;
        }
        long start = id;
        long end = id;
        Map.Entry<Long, Long> below = ranges.floorEntry(id);
        if (below != null && below.getValue() == id - 1) {
            start = below.getKey();
        }
        Long aboveEnd = ranges.get(id + 1);
        if (aboveEnd != null) {
            end = aboveEnd;
            ranges.remove(id + 1);
        }
        ranges.put(start, end);
    }

    /** Removes every id at or below {@code id}. */
    void removeUpTo(long id) {
        while (!ranges.isEmpty() && ranges.firstKey() <= id) {
            Map.Entry<Long, Long> e = ranges.pollFirstEntry();
            if (e.getValue() > id) {
                ranges.put(id + 1, e.getValue());
            }
        }
    }

    long size() {
        long n = 0;
        for (Map.Entry<Long, Long> e : ranges.entrySet()) {
            n += e.getValue() - e.getKey() + 1;
        }
        return n;
    }

    /** @return {@code a-b,c,d-e} */
    String encode() {
        StringBuilder sb = new StringBuilder();
        for (Map.Entry<Long, Long> e : ranges.entrySet()) {
            if (sb.length() > 0) {
                sb.append(',');
            }
            sb.append(e.getKey());
            if (!e.getValue().equals(e.getKey())) {
                sb.append('-').append(e.getValue());
            }
        }
        return sb.toString();
    }

    static IdRanges decode(String text) {
        IdRanges r = new IdRanges();
        if (text == null || text.isEmpty()) {
            return r;
        }
        for (String part : text.split(",")) {
            int dash = part.indexOf('-', 1);
            long a = Long.parseLong(dash < 0 ? part : part.substring(0, dash));
            long b = dash < 0 ? a : Long.parseLong(part.substring(dash + 1));
            r.ranges.put(a, b);
        }
        return r;
    }
}
