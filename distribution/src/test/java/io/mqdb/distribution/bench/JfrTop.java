package io.mqdb.distribution.bench;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import jdk.jfr.consumer.RecordedEvent;
import jdk.jfr.consumer.RecordedFrame;
import jdk.jfr.consumer.RecordedStackTrace;
import jdk.jfr.consumer.RecordingFile;

/**
 * Summarises the nodes' flight recordings ({@code scripts/bench.sh --jfr}): per recording, the threads with the most
 * {@code jdk.ExecutionSample} events, and for each its most frequent top frames and its most frequent first mqdb
 * frame (where mqdb's own code was when the sample was taken). {@code main} runs it on recordings given as arguments.
 */
final class JfrTop {
    private static final java.util.Set<String> WAITS = java.util.Set.of("jdk.ThreadPark", "jdk.ThreadSleep",
            "jdk.SocketRead", "jdk.FileForce", "jdk.JavaMonitorWait", "jdk.JavaMonitorEnter");

    private JfrTop() {
    }

    public static void main(String[] args) throws IOException {
        for (String a : args) {
            summarize(Path.of(a), Integer.getInteger("top", 12), Map.of()).forEach(System.out::println);
        }
    }

    /**
     * @param where a recording, or a folder of them
     * @param windows named time windows (epoch milliseconds from, to): each recording is summarised once per window,
     *     counting only the events that started inside it; empty for the whole recording
     */
    static List<String> summarize(Path where, int top, Map<String, long[]> windows) throws IOException {
        List<String> out = new ArrayList<>();
        if (windows.isEmpty()) {
            return summarize(where, top, "whole run", Long.MIN_VALUE, Long.MAX_VALUE);
        }
        for (Map.Entry<String, long[]> w : windows.entrySet()) {
            out.addAll(summarize(where, top, w.getKey(), w.getValue()[0], w.getValue()[1]));
        }
        return out;
    }

    private static List<String> summarize(Path where, int top, String window, long from, long to)
            throws IOException {
        List<String> out = new ArrayList<>();
        if (!Files.exists(where)) {
            return out;
        }
        List<Path> files;
        try (Stream<Path> s = Files.isDirectory(where) ? Files.list(where) : Stream.of(where)) {
            files = s.filter(p -> p.toString().endsWith(".jfr")).sorted().toList();
        }
        for (Path f : files) {
            Map<String, Integer> threads = new HashMap<>();
            Map<String, Integer> frames = new HashMap<>();
            Map<String, Integer> mqdbFrames = new HashMap<>();
            Map<String, Integer> inclusive = new HashMap<>();
            Map<String, Integer> waits = new HashMap<>();
            int total = 0;
            for (RecordedEvent e : RecordingFile.readAllEvents(f)) {
                long startMs = e.getStartTime().toEpochMilli();
                if (startMs < from || startMs > to) {
                    continue;
                }
                String type = e.getEventType().getName();
                if (WAITS.contains(type) && e.getStackTrace() != null && e.getThread() != null) {
                    String thread = e.getThread().getJavaName();
                    if (thread.startsWith("capture-") || thread.startsWith("apply-")) {
                        String at = e.getStackTrace().getFrames().stream()
                                .filter(fr -> fr.getMethod().getType().getName().startsWith("io.mqdb."))
                                .findFirst().map(JfrTop::frame).orElse("?");
                        waits.merge(thread + "  " + type.substring(4) + "  " + at,
                                (int) e.getDuration().toMillis(), Integer::sum);
                    }
                    continue;
                }
                if (!type.equals("jdk.ExecutionSample") || e.getStackTrace() == null) {
                    continue;
                }
                total++;
                String thread = e.getThread("sampledThread") == null ? "?"
                        : e.getThread("sampledThread").getJavaName().replaceAll("-\\d+$", "-N");
                threads.merge(thread, 1, Integer::sum);
                RecordedStackTrace st = e.getStackTrace();
                if (!st.getFrames().isEmpty()) {
                    frames.merge(thread + "  " + frame(st.getFrames().get(0)), 1, Integer::sum);
                }
                List<RecordedFrame> mqdb = st.getFrames().stream()
                        .filter(fr -> fr.getMethod().getType().getName().startsWith("io.mqdb.")).toList();
                if (!mqdb.isEmpty()) {
                    mqdbFrames.merge(thread + "  " + frame(mqdb.get(0)), 1, Integer::sum);
                }
                mqdb.stream().map(fr -> thread + "  " + method(fr)).distinct()
                        .forEach(m -> inclusive.merge(m, 1, Integer::sum));
            }
            if (total == 0 && waits.isEmpty()) {
                continue;
            }
            out.add(f.getFileName() + ", " + window + ": " + total + " execution samples");
            out.add("  by thread:");
            top(threads, total, top).forEach(l -> out.add("    " + l));
            out.add("  top frames (thread  frame):");
            top(frames, total, top).forEach(l -> out.add("    " + l));
            out.add("  first io.mqdb frame (thread  frame):");
            top(mqdbFrames, total, top).forEach(l -> out.add("    " + l));
            out.add("  io.mqdb methods anywhere on the stack (inclusive, thread  method):");
            top(inclusive, total, 2 * top).forEach(l -> out.add("    " + l));
            if (!waits.isEmpty()) {
                out.add("  capture/apply threads blocked (ms in all; park, sleep, socket read, fsync; JFR's"
                        + " thresholds drop the shortest):");
                waits.entrySet().stream().sorted(Map.Entry.<String, Integer>comparingByValue().reversed()).limit(top)
                        .forEach(w -> out.add(String.format("    %7d ms  %s", w.getValue(), w.getKey())));
            }
        }
        return out;
    }

    private static String frame(RecordedFrame f) {
        return method(f) + ":" + f.getLineNumber();
    }

    private static String method(RecordedFrame f) {
        String type = f.getMethod().getType().getName();
        return type.substring(type.lastIndexOf('.') + 1) + "." + f.getMethod().getName();
    }

    private static List<String> top(Map<String, Integer> counts, int total, int n) {
        return counts.entrySet().stream().sorted(Map.Entry.<String, Integer>comparingByValue().reversed()).limit(n)
                .map(e -> String.format("%5d %4.1f%%  %s", e.getValue(), 100.0 * e.getValue() / Math.max(1, total),
                        e.getKey())).toList();
    }
}
