package io.mqdb.observe;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/** The process's resident set size, from {@code /proc/self/status} (Linux). Pure reads; any thread. */
final class ProcessMemory {
    private static final Path STATUS = Path.of("/proc/self/status");

    private ProcessMemory() {
    }

    /** @return VmRSS in bytes, or NaN where {@code /proc/self/status} cannot be read (not Linux) */
    static double residentBytes() {
        try {
            return residentBytes(Files.readString(STATUS));
        } catch (IOException | RuntimeException e) {
            return Double.NaN;
        }
    }

    /**
     * @param status the text of a {@code /proc/<pid>/status} file
     * @return its VmRSS in bytes, or NaN when it has none
     */
    static double residentBytes(String status) {
        for (String line : status.split("\n")) {
            if (line.startsWith("VmRSS:")) {
                String[] parts = line.substring("VmRSS:".length()).trim().split("\\s+");
                long kib = Long.parseLong(parts[0]);
                return kib * 1024.0;
            }
        }
        return Double.NaN;
    }
}
