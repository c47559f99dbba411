package io.mqdb.distribution;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/** Runs the unpacked tarball's {@code bin/mqdb} as a process, as a user would, and collects what it printed. */
final class BinMqdb {
    private BinMqdb() {
    }

    /** What one run printed and returned. */
    record Result(int exit, String out, String err) {
    }

    /**
     * @param home the unpacked tarball
     * @param dir the working folder (output files go there too)
     * @param timeoutSeconds how long the run may take; the test fails beyond
     * @param args the command line after {@code bin/mqdb}
     * @return its exit code, standard output and standard error
     */
    static Result run(Path home, Path dir, int timeoutSeconds, String... args) throws IOException, InterruptedException {
        List<String> cmd = new ArrayList<>();
        cmd.add(home.resolve("bin/mqdb").toString());
        cmd.addAll(List.of(args));
        Path out = Files.createTempFile(dir, "out", ".txt");
        Path err = Files.createTempFile(dir, "err", ".txt");
        Process p = new ProcessBuilder(cmd).directory(dir.toFile()).redirectOutput(out.toFile())
                .redirectError(err.toFile()).start();
        assertThat(p.waitFor(timeoutSeconds, TimeUnit.SECONDS)).as("bin/mqdb " + String.join(" ", args)
                + " ends within " + timeoutSeconds + " s").isTrue();
        return new Result(p.exitValue(), Files.readString(out, StandardCharsets.UTF_8),
                Files.readString(err, StandardCharsets.UTF_8));
    }
}
