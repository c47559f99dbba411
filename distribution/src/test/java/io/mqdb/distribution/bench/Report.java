package io.mqdb.distribution.bench;

import com.google.gson.GsonBuilder;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * The figures of one run of {@code scripts/bench.sh}: written as {@code <date>.json} (everything, machine-readable)
 * and {@code <date>.md} (the tables of docs/benchmarks.md). Nothing here judges a build: a missed target is a line
 * in the table, never a failure.
 */
final class Report {
    /** One measured figure; {@code target} and {@code met} are null when the issue sets no target for it. */
    record Figure(String workload, String figure, double value, String unit, String versus, String target,
                  Boolean met, String debezium, String vsDebezium) {
    }

    /** The footprint of one node process during one workload. */
    record Footprint(String workload, String node, long peakRssMb, long hwmMb, long heapUsedMb, long heapCommittedMb,
                     double cpuSeconds, double cpuMicrosPerChange) {
    }

    final Map<String, Object> machine = new LinkedHashMap<>();
    final List<Figure> figures = new ArrayList<>();
    final List<Footprint> footprints = new ArrayList<>();
    final List<String> notes = new ArrayList<>();
    final Map<String, Object> details = new LinkedHashMap<>();
    final List<String> profile = new ArrayList<>();

    void figure(String workload, String figure, double value, String unit, String versus) {
        add(new Figure(workload, figure, value, unit, versus, null, null, null, null));
    }

    /** A figure with a target: {@code atLeast} true for "≥ target", false for "≤ target". */
    void figure(String workload, String figure, double value, String unit, String versus, double target,
                boolean atLeast) {
        String t = (atLeast ? "≥ " : "≤ ") + num(target) + " " + unit;
        add(new Figure(workload, figure, value, unit, versus, t, atLeast ? value >= target : value <= target, null,
                null));
    }

    /** A headline figure: the goal and Debezium's figure for the same workload, with mqdb ÷ Debezium. */
    void goal(String workload, String figure, double value, String unit, String versus, Headline.Goal g) {
        String t = (g.atLeast() ? "≥ " : "≤ ") + num(g.target()) + " " + unit;
        String deb = (g.debeziumLow() == g.debeziumHigh() ? num(g.debeziumLow())
                : num(g.debeziumLow()) + "–" + num(g.debeziumHigh())) + " " + unit
                + (g.debeziumNote().isEmpty() ? "" : " (" + g.debeziumNote() + ")");
        String vs = Double.isNaN(value) ? "" : g.debeziumLow() == g.debeziumHigh()
                ? String.format(Locale.ROOT, "%.2f ×", value / g.debeziumLow())
                : String.format(Locale.ROOT, "%.2f–%.2f ×", value / g.debeziumHigh(), value / g.debeziumLow());
        add(new Figure(workload, figure, value, unit, versus, t, g.atLeast() ? value >= g.target()
                : value <= g.target(), deb, vs));
    }

    private void add(Figure f) {
        figures.add(f);
        System.out.printf("  %-28s %-44s %14s %-8s %s%s%n", f.workload(), f.figure(), num(f.value()), f.unit(),
                f.versus(), (f.target() == null ? "" : "  target " + f.target() + (f.met() ? " met" : " MISSED"))
                        + (f.debezium() == null ? "" : "  Debezium " + f.debezium() + ": mqdb ÷ Debezium "
                        + f.vsDebezium()));
    }

    void footprint(Footprint f) {
        footprints.add(f);
        System.out.printf("  footprint %-22s %-12s peak RSS %d MB (HWM %d), heap %d / %d MB, CPU %.1f s%s%n",
                f.workload(), f.node(), f.peakRssMb(), f.hwmMb(), f.heapUsedMb(), f.heapCommittedMb(),
                f.cpuSeconds(), f.cpuMicrosPerChange() > 0 ? String.format(Locale.ROOT, ", %.0f µs/change",
                        f.cpuMicrosPerChange()) : "");
    }

    void note(String text) {
        notes.add(text);
        System.out.println("  note: " + text);
    }

    /** Writes {@code <stem>.json} and {@code <stem>.md} into {@code dir}; returns the Markdown. */
    String write(Path dir, String stem) throws IOException {
        Files.createDirectories(dir);
        Map<String, Object> json = new LinkedHashMap<>();
        json.put("machine", machine);
        json.put("figures", figures);
        json.put("footprints", footprints);
        json.put("notes", notes);
        json.put("details", details);
        json.put("profile", profile);
        Files.writeString(dir.resolve(stem + ".json"), new GsonBuilder().setPrettyPrinting().disableHtmlEscaping()
                .serializeSpecialFloatingPointValues().create().toJson(json) + "\n");
        StringBuilder md = new StringBuilder();
        md.append("## ").append(machine.get("date")).append(", ").append(machine.get("mode")).append(" mode\n\n");
        md.append("Machine: ").append(machine.get("cpus")).append(" cores (").append(machine.get("cpu_model"))
                .append("), ").append(machine.get("ram_gb")).append(" GB RAM, ").append(machine.get("os"))
                .append(", ").append(machine.get("jdk")).append("; PostgreSQL ").append(machine.get("postgresql"))
                .append(", Redis ").append(machine.get("redis")).append(", Mosquitto ")
                .append(machine.get("mosquitto")).append(". Load average before ")
                .append(machine.get("load_average_before")).append(", after ").append(machine.get("load_average_after"))
                .append("; wall time ").append(machine.get("wall_seconds")).append(" s; ")
                .append(machine.get("settings")).append(".\n\n");
        md.append("| workload | figure | value | against the raw limits | target | | Debezium | mqdb ÷ Debezium |\n"
                + "|---|---|---:|---|---|---|---:|---:|\n");
        for (Figure f : figures) {
            md.append("| ").append(f.workload()).append(" | ").append(f.figure()).append(" | ").append(num(f.value()))
                    .append(' ').append(f.unit()).append(" | ").append(f.versus()).append(" | ")
                    .append(f.target() == null ? "" : f.target()).append(" | ")
                    .append(f.met() == null ? "" : f.met() ? "met" : "**missed**").append(" | ")
                    .append(f.debezium() == null ? "" : f.debezium()).append(" | ")
                    .append(f.vsDebezium() == null ? "" : f.vsDebezium()).append(" |\n");
        }
        md.append("\n| workload | node | peak RSS (sampled) | VmHWM | heap used / committed at end | CPU | CPU per change"
                + " |\n|---|---|---:|---:|---:|---:|---:|\n");
        for (Footprint f : footprints) {
            md.append("| ").append(f.workload()).append(" | ").append(f.node()).append(" | ").append(f.peakRssMb())
                    .append(" MB | ").append(f.hwmMb()).append(" MB | ").append(f.heapUsedMb()).append(" / ")
                    .append(f.heapCommittedMb()).append(" MB | ")
                    .append(String.format(Locale.ROOT, "%.1f s", f.cpuSeconds())).append(" | ")
                    .append(f.cpuMicrosPerChange() > 0 ? String.format(Locale.ROOT, "%.0f µs",
                            f.cpuMicrosPerChange()) : "").append(" |\n");
        }
        if (!notes.isEmpty()) {
            md.append('\n');
            for (String n : notes) {
                md.append("- ").append(n).append('\n');
            }
        }
        if (!profile.isEmpty()) {
            md.append("\nJFR execution samples (top frames per node thread):\n\n```\n");
            profile.forEach(l -> md.append(l).append('\n'));
            md.append("```\n");
        }
        Files.writeString(dir.resolve(stem + ".md"), md.toString());
        return md.toString();
    }

    /** A number with thousands separators, or one decimal below 100. */
    static String num(double v) {
        if (Double.isNaN(v)) {
            return "–";
        }
        return Math.abs(v) >= 100 ? String.format(Locale.ROOT, "%,.0f", v) : String.format(Locale.ROOT, "%.1f", v);
    }

    /** "0.41 × raw HSET". */
    static String ratio(double value, double raw, String rawName) {
        return raw > 0 && value >= 0 ? String.format(Locale.ROOT, "%.2f × %s", value / raw, rawName) : "";
    }

    /** The non-empty parts, joined with "; " (a ratio is empty when its raw limit was not measured in this run). */
    static String versus(String... parts) {
        return String.join("; ", java.util.Arrays.stream(parts).filter(p -> p != null && !p.isBlank()).toList());
    }
}
