package io.mqdb.queue;

import static java.nio.charset.StandardCharsets.UTF_8;

import io.mqdb.queue.DurableQueue.Entry;
import java.io.PrintStream;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;

/**
 * The process {@link DurableQueueCrashTest} kills: {@code java ... DurableQueueCrashChild DIR MODE} with MODE
 * {@code append}, {@code consume} or {@code both}, running until killed. Its segments are small
 * ({@value #SEGMENT_BYTES} bytes), so the kills also hit segment starts and deletions. The appender writes entry {@code i} with
 * {@link #payload(long)} and the counter {@value #APPENDED} = last index in the same commit, and prints
 * {@code A <index>} for each entry only after {@code append} returned; the consumer peeks, checks each payload, marks
 * them delivered and prints {@code D <throughIndex>} only after {@code markDelivered} returned. The first line,
 * {@code R}, says the queue is open; a check that fails prints {@code BAD ...}.
 */
public final class DurableQueueCrashChild {
    static final String APPENDED = "appended";
    static final long MAX_UNDELIVERED_BYTES = 256 * 1024;
    static final long RETAIN_DELIVERED_BYTES = 32 * 1024;
    static final long SEGMENT_BYTES = 64 * 1024;

    private DurableQueueCrashChild() {
    }

    /** @return the payload of entry {@code index}: its number, then 0 to 199 filler bytes */
    static byte[] payload(long index) {
        byte[] head = ("entry-" + index + ":").getBytes(UTF_8);
        byte[] out = Arrays.copyOf(head, head.length + (int) (index * 31 % 200));
        Arrays.fill(out, head.length, out.length, (byte) ('a' + index % 26));
        return out;
    }

    public static void main(String[] args) throws Exception {
        String mode = args[1];
        PrintStream out = System.out;
        DurableQueue q = DurableQueue.open(Path.of(args[0]), MAX_UNDELIVERED_BYTES, RETAIN_DELIVERED_BYTES,
                SEGMENT_BYTES);
        say(out, "R");
        Thread consumer = new Thread(() -> consume(q, out), "consumer");
        if (!mode.equals("append")) {
            consumer.start();
        }
        if (!mode.equals("consume")) {
            append(q, out);
        }
        consumer.join();
    }

    private static void append(DurableQueue q, PrintStream out) throws InterruptedException {
        for (int round = 0;; round++) {
            int size = 1 + round % 7;
            long first = q.nextIndex();
            List<byte[]> batch = new ArrayList<>();
            for (long i = first; i < first + size; i++) {
                batch.add(payload(i));
            }
            long got = q.append(batch, Map.of(APPENDED, first + size - 1));
            if (got != first) {
                say(out, "BAD append returned " + got + ", expected " + first);
            }
            StringBuilder sb = new StringBuilder();
            for (long i = first; i < first + size; i++) {
                sb.append("A ").append(i).append('\n');
            }
            say(out, sb.toString().strip());
        }
    }

    private static void consume(DurableQueue q, PrintStream out) {
        try {
            long expected = q.head();
            for (int round = 0;; round++) {
                List<Entry> got = q.peek(1 + round % 13, Duration.ofSeconds(1));
                for (Entry e : got) {
                    if (e.index() != expected++ || !Arrays.equals(e.payload(), payload(e.index()))) {
                        say(out, "BAD peeked " + e.index() + " (" + new String(e.payload(), UTF_8) + ")");
                    }
                }
                if (!got.isEmpty()) {
                    long through = got.get(got.size() - 1).index();
                    q.markDelivered(through);
                    say(out, "D " + through);
                }
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private static void say(PrintStream out, String lines) {
        synchronized (out) {
            out.println(lines);
            out.flush();
        }
    }
}
