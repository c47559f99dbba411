package io.mqdb.node;

import static java.nio.charset.StandardCharsets.UTF_8;

import io.mqdb.spi.Store;
import java.io.PrintStream;

/**
 * What the child JVM of a {@link StoreQueueCrashTestBase} does with the store its adapter's main class opened: the
 * queue {@value #QUEUE}, in mode {@code put}, {@code take} or {@code both}, until killed. The producer puts
 * {@code <round>:<i>} for i = 0, 1, 2, ... and prints {@code P <seq> <payload>} only after {@code put} returned; the
 * consumer (one thread) takes and prints {@code T <payload>} only after {@code take} returned. The first line,
 * {@code R}, says the queue is open.
 */
public final class StoreQueueCrashChild {
    /** The queue's name. */
    public static final String QUEUE = "crash";

    private StoreQueueCrashChild() {
    }

    /**
     * Runs until the process is killed.
     *
     * @param store the open store
     * @param mode {@code put}, {@code take} or {@code both}
     * @param round the round, the payloads' prefix
     * @throws InterruptedException never in practice: nothing interrupts the child's threads
     */
    public static void run(Store store, String mode, String round) throws InterruptedException {
        PrintStream out = System.out;
        StoreQueue q = StoreQueue.open(store, StoreQueueCrashChild.class.getClassLoader(), QUEUE);
        say(out, "R");
        Thread consumer = new Thread(() -> {
            try {
                while (true) {
                    say(out, "T " + new String(q.take(), UTF_8));
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }, "consumer");
        if (!mode.equals("put")) {
            consumer.start();
        }
        if (!mode.equals("take")) {
            for (long i = 0; ; i++) {
                String payload = round + ":" + i;
                long seq = q.put(payload.getBytes(UTF_8));
                say(out, "P " + seq + " " + payload);
            }
        }
        consumer.join();
    }

    private static void say(PrintStream out, String line) {
        synchronized (out) {
            out.println(line);
            out.flush();
        }
    }
}
