package io.mqdb.version;

import io.mqdb.spi.Key;
import io.mqdb.spi.TableId;
import io.mqdb.spi.Version;
import java.io.PrintStream;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * The process {@link VersionIndexCrashTest} kills: {@code java ... VersionIndexCrashChild DIR}, running until killed.
 * One thread per table of {@link #TABLES} applies that table's deterministic event stream ({@link #key},
 * {@link #deleted}, {@link #version}) in batches of 1 to 60 events: records each event, sets the counter
 * {@link #counter} to the last event's number, commits, and only then prints {@code C <table> <number>}. It resumes
 * after the number its counter holds. The checkpoint threshold is small ({@value #CHECKPOINT_LOG_BYTES} bytes), so
 * the kills also hit checkpoints. The first line, {@code R}, says the index is open. A record that returns false (another thread's commit took a later
 * event of the key along before the last crash) is fine.
 */
public final class VersionIndexCrashChild {
    static final List<TableId> TABLES = List.of(TableId.parse("crash:a"), TableId.parse("crash:b"));
    static final int KEYS = 5_000;
    static final long CHECKPOINT_LOG_BYTES = 128 * 1024;

    private VersionIndexCrashChild() {
    }

    static String counter(TableId table) {
        return "seq\u0000" + table;
    }

    static Key key(long n) {
        return n % 2 == 0 ? Key.of(n * 7919 % KEYS) : Key.of("k" + n * 7919 % KEYS, n % 3);
    }

    static boolean deleted(long n) {
        return n % 5 == 0;
    }

    static Version version(long n) {
        return new Version(1_000 + n, "origin-" + n % 3);
    }

    public static void main(String[] args) throws Exception {
        PrintStream out = System.out;
        VersionIndex index = VersionIndex.open(Path.of(args[0]), CHECKPOINT_LOG_BYTES);
        synchronized (out) {
            out.println("R");
            out.flush();
        }
        List<Thread> threads = new ArrayList<>();
        for (TableId t : TABLES) {
            Thread th = new Thread(() -> apply(index, t, out), "apply-" + t);
            th.start();
            threads.add(th);
        }
        for (Thread th : threads) {
            th.join();
        }
    }

    private static void apply(VersionIndex index, TableId table, PrintStream out) {
        long n = index.counter(counter(table));
        for (int round = 0;; round++) {
            int size = 1 + round * 37 % 60;
            for (int i = 0; i < size; i++) {
                n++;
                // false when another thread's commit took a later event of this key along before the crash
                index.record(table, key(n), version(n), deleted(n));
            }
            index.counter(counter(table), n);
            index.commit();
            synchronized (out) {
                out.println("C " + table + " " + n);
                out.flush();
            }
        }
    }
}
