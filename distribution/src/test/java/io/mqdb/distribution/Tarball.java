package io.mqdb.distribution;

import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;

/** Finds the tarball this module built and unpacks it for a test. */
final class Tarball {
    private Tarball() {
    }

    /** @return the built {@code target/mqdb-*.tar.gz} */
    static Path file() throws IOException {
        String property = System.getProperty("mqdb.tarball");
        if (property != null && Files.exists(Path.of(property))) {
            return Path.of(property);
        }
        try (DirectoryStream<Path> s = Files.newDirectoryStream(Path.of("target"), "mqdb-*.tar.gz")) {
            for (Path p : s) {
                return p;
            }
        }
        throw new IllegalStateException("no target/mqdb-*.tar.gz: run mvn package in distribution first");
    }

    /**
     * Unpacks the tarball with {@code tar} (so file modes are kept).
     *
     * @param into an empty folder
     * @return the unpacked {@code mqdb-<version>} folder
     */
    static Path unpacked(Path into) throws IOException, InterruptedException {
        Files.createDirectories(into);
        Process p = new ProcessBuilder("tar", "xzf", file().toAbsolutePath().toString(), "-C", into.toString())
                .inheritIO().start();
        if (!p.waitFor(60, TimeUnit.SECONDS) || p.exitValue() != 0) {
            throw new IllegalStateException("tar failed");
        }
        try (DirectoryStream<Path> s = Files.newDirectoryStream(into, "mqdb-*")) {
            for (Path d : s) {
                return d;
            }
        }
        throw new IllegalStateException("the tarball holds no mqdb-* folder");
    }
}
