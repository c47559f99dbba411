package io.mqdb.distribution.bench;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.openjdk.jmh.results.RunResult;
import org.openjdk.jmh.runner.Runner;
import org.openjdk.jmh.runner.options.Options;
import org.openjdk.jmh.runner.options.OptionsBuilder;
import org.openjdk.jmh.runner.options.TimeValue;

/** Runs the JMH microbenchmarks of {@code bench/jmh} in one forked JVM and adds their scores to the report. */
final class Jmh {
    private Jmh() {
    }

    static List<Map<String, Object>> run(Path home, boolean quick, Report report) throws Exception {
        Options o = new OptionsBuilder()
                .include("io\\.mqdb\\.distribution\\.bench\\.jmh\\..*")
                .forks(1)
                .warmupIterations(quick ? 1 : 3).warmupTime(TimeValue.seconds(quick ? 1 : 2))
                .measurementIterations(quick ? 2 : 5).measurementTime(TimeValue.seconds(quick ? 1 : 2))
                .jvmArgsAppend("-Xmx1g", "-Dmqdb.bench.home=" + home)
                .build();
        List<Map<String, Object>> out = new ArrayList<>();
        for (RunResult r : new Runner(o).run()) {
            String name = r.getParams().getBenchmark().replaceAll(".*\\.jmh\\.", "");
            double score = r.getPrimaryResult().getScore();
            double error = r.getPrimaryResult().getScoreError();
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("benchmark", name);
            m.put("score", score);
            m.put("error", error);
            m.put("unit", r.getPrimaryResult().getScoreUnit());
            out.add(m);
            report.figure("JMH", name, score, "events/s", String.format(Locale.ROOT, "± %s (99.9 %%), one thread",
                    Report.num(error)));
        }
        return out;
    }
}
