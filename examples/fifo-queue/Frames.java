import io.mqdb.node.MqdbNode;
import io.mqdb.node.StoreQueue;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Optional;

/**
 * The fifo-queue example: a node's persistent FIFO queue "frames" from the embedding API. Run with the source
 * launcher and the tarball's jars (see README.md):
 *
 * <pre>
 *   java -cp "$MQDB_HOME/lib/*" -Dmqdb.home=$MQDB_HOME Frames.java CONFIG put N   # puts frame-1 .. frame-N
 *   java ... Frames.java CONFIG take N     # takes N (waits for each), prints them
 *   java ... Frames.java CONFIG drain      # takes until the queue stays empty for 1 s
 *   java ... Frames.java CONFIG size | peek
 * </pre>
 * Every put prints its sequence number once it is committed; every take prints the frame once its delete is.
 */
public final class Frames {
    public static void main(String[] args) throws Exception {
        if (args.length < 2) {
            System.err.println("usage: Frames CONFIG put N | take N | drain | size | peek");
            System.exit(2);
        }
        try (MqdbNode node = MqdbNode.start(Path.of(args[0]))) {
            StoreQueue frames = node.queue("frames");
            switch (args[1]) {
                case "put" -> {
                    long before = frames.size();
                    for (int i = 1; i <= Integer.parseInt(args[2]); i++) {
                        long seq = frames.put(("frame-" + i + " of run " + ProcessHandle.current().pid())
                                .getBytes(StandardCharsets.UTF_8));
                        System.out.println("put seq=" + seq);
                    }
                    System.out.println("queued before this run: " + before + ", now: " + frames.size());
                }
                case "take" -> {
                    for (int i = 0; i < Integer.parseInt(args[2]); i++) {
                        System.out.println("took " + new String(frames.take(), StandardCharsets.UTF_8));
                    }
                }
                case "drain" -> {
                    int n = 0;
                    for (Optional<byte[]> f = frames.poll(Duration.ofSeconds(1)); f.isPresent();
                            f = frames.poll(Duration.ofSeconds(1))) {
                        System.out.println("took " + new String(f.get(), StandardCharsets.UTF_8));
                        n++;
                    }
                    System.out.println("drained " + n + "; size now " + frames.size());
                }
                case "size" -> System.out.println("size " + frames.size());
                case "peek" -> System.out.println(frames.peek().map(f -> "head " + new String(f,
                        StandardCharsets.UTF_8)).orElse("empty"));
                default -> throw new IllegalArgumentException("unknown command " + args[1]);
            }
        }
    }
}
