package io.mqdb.node.catchup;

import com.google.gson.Gson;
import com.google.gson.GsonBuilder;
import io.mqdb.spi.MqdbException;
import java.io.FileOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.Map;
import java.util.TreeMap;

/**
 * The node's own small durable state: for each store, the capture position up to which changes are in the outbox;
 * for each published channel, whether its initial load is complete and its last (or running) snapshot. (Sequence
 * numbers moved to the outbox, where they are committed with the changes; the ones here are read once, to carry on
 * from a state written by an older version.)
 *
 * <p>Kept in {@code <data-dir>/state.json}, replaced atomically (write, fsync, rename) on every {@link #save()}, so a
 * crash leaves either the old or the new state, never a torn one. A crash between publishing a batch and saving the
 * state republishes that batch after restart; applying it twice changes nothing.
 *
 * <p>Thread-safe; capture threads call the setters and {@link #save()}.
 */
public final class NodeState {
    private static final Gson GSON = new GsonBuilder().setPrettyPrinting().create();
    private final Path file;
    private final Data data;

    private NodeState(Path file, Data data) {
        this.file = file;
        this.data = data;
    }

    /** The persisted shape; field names are the JSON keys. */
    private static final class Data {
        Map<String, String> capturePositions = new TreeMap<>();
        Map<String, Long> sequences = new TreeMap<>();
        Map<String, Boolean> snapshotDone = new TreeMap<>();
        Map<String, SnapshotState> snapshots = new TreeMap<>();
        Map<String, Long> epochs = new TreeMap<>();
        /** Per channel, per requesting node: the snapshot made for that node alone (running or done). */
        Map<String, Map<String, SnapshotState>> targeted = new TreeMap<>();
    }

    /**
     * A channel's last (or running) snapshot: where it started and how far it got, so an interrupted one resumes
     * from its last chunk, and subscribers learn which sequence numbers it covers.
     */
    public static final class SnapshotState {
        /** The clock reading when it started; every row it publishes has a newer version. */
        public long startHlc;
        /** The sequence number of its first event. */
        public long firstSeq;
        /** The sequence number of its last event (or the one before its first, when the table was empty). */
        public long endSeq;
        /** Whether it completed. */
        public boolean done;
        /** The last key published, encoded ({@link io.mqdb.version.VersionIndex#encodeKey}); null before the first. */
        public String cursor;
        /** Rows published so far. */
        public long rows;
        /** Rows counted when it started. */
        public long total;
        /** For a snapshot made for one node: the node, else null. */
        public String to;
        /** For a snapshot made for one node: the channel's last sequence number when it started. */
        public long base;
        /**
         * For a snapshot made for one node: when it was done, or when the node last reported progress through it
         * (epoch milliseconds), to tell one still being applied from a lost one.
         */
        public long activeAtMillis;
        /** For a snapshot made for one node: the stream number up to which the node last reported applying it. */
        public long progress;
    }

    /**
     * Loads the state, or starts empty when the file does not exist.
     *
     * @param file the state file
     * @return the state
     */
    public static NodeState load(Path file) {
        try {
            if (!Files.exists(file)) {
                return new NodeState(file, new Data());
            }
            Data d = GSON.fromJson(Files.readString(file, StandardCharsets.UTF_8), Data.class);
            if (d == null) {
                d = new Data();
            }
            if (d.capturePositions == null) {
                d.capturePositions = new TreeMap<>();
            }
            if (d.sequences == null) {
                d.sequences = new TreeMap<>();
            }
            if (d.snapshotDone == null) {
                d.snapshotDone = new TreeMap<>();
            }
            if (d.snapshots == null) {
                d.snapshots = new TreeMap<>();
            }
            if (d.epochs == null) {
                d.epochs = new TreeMap<>();
            }
            if (d.targeted == null) {
                d.targeted = new TreeMap<>();
            }
            return new NodeState(file, d);
        } catch (IOException | RuntimeException e) {
            throw new MqdbException("cannot read node state " + file + ": " + e.getMessage(), e);
        }
    }

    /** @return the capture position saved for a store, or null */
    public synchronized String capturePosition(String store) {
        return data.capturePositions.get(store);
    }

    /** Sets a store's capture position (saved on the next {@link #save()}). */
    public synchronized void capturePosition(String store, String token) {
        data.capturePositions.put(store, token);
    }

    /** @return the last sequence number used on a channel, 0 when none */
    public synchronized long sequence(String channel) {
        return data.sequences.getOrDefault(channel, 0L);
    }

    /** Sets the last sequence number used on a channel. */
    public synchronized void sequence(String channel, long seq) {
        data.sequences.put(channel, seq);
    }

    /** @return the number before the first this data dir gave on the channel, 0 when not known */
    public synchronized long epoch(String channel) {
        return data.epochs.getOrDefault(channel, 0L);
    }

    /** Records where this data dir's numbering of the channel starts (saved on the next {@link #save()}). */
    public synchronized void epoch(String channel, long start) {
        data.epochs.put(channel, start);
    }

    /** @return whether the channel's initial load completed */
    public synchronized boolean snapshotDone(String channel) {
        return data.snapshotDone.getOrDefault(channel, false);
    }

    /** Marks the channel's initial load complete. */
    public synchronized void snapshotDone(String channel, boolean done) {
        data.snapshotDone.put(channel, done);
    }

    /** @return a copy of the channel's last or running snapshot, or null */
    public synchronized SnapshotState snapshot(String channel) {
        SnapshotState s = data.snapshots.get(channel);
        return s == null ? null : GSON.fromJson(GSON.toJson(s), SnapshotState.class);
    }

    /** Sets the channel's last or running snapshot (saved on the next {@link #save()}). */
    public synchronized void snapshot(String channel, SnapshotState snapshot) {
        data.snapshots.put(channel, GSON.fromJson(GSON.toJson(snapshot), SnapshotState.class));
    }

    /** @return a copy of the snapshot of a channel made for one node, or null */
    public synchronized SnapshotState targeted(String channel, String to) {
        SnapshotState s = data.targeted.getOrDefault(channel, Map.of()).get(to);
        return s == null ? null : GSON.fromJson(GSON.toJson(s), SnapshotState.class);
    }

    /** @return copies of the snapshots of a channel made for single nodes, by node */
    public synchronized Map<String, SnapshotState> targeted(String channel) {
        Map<String, SnapshotState> out = new TreeMap<>();
        for (Map.Entry<String, SnapshotState> e : data.targeted.getOrDefault(channel, Map.of()).entrySet()) {
            out.put(e.getKey(), GSON.fromJson(GSON.toJson(e.getValue()), SnapshotState.class));
        }
        return out;
    }

    /** Sets (or, with null, removes) the snapshot of a channel made for one node (saved on the next {@link #save()}). */
    public synchronized void targeted(String channel, String to, SnapshotState snapshot) {
        if (snapshot == null) {
            Map<String, SnapshotState> m = data.targeted.get(channel);
            if (m != null) {
                m.remove(to);
                if (m.isEmpty()) {
                    data.targeted.remove(channel);
                }
            }
            return;
        }
        data.targeted.computeIfAbsent(channel, c -> new TreeMap<>())
                .put(to, GSON.fromJson(GSON.toJson(snapshot), SnapshotState.class));
    }

    /**
     * Removes the snapshot of a channel made for one node if it is still the one that started at {@code startHlc}
     * (not replaced meanwhile by a newer one).
     *
     * @return whether it was removed
     */
    public synchronized boolean removeTargeted(String channel, String to, long startHlc) {
        Map<String, SnapshotState> m = data.targeted.get(channel);
        SnapshotState s = m == null ? null : m.get(to);
        if (s == null || s.startHlc != startHlc || !s.done && s.firstSeq == 0) {
            return false;
        }
        targeted(channel, to, null);
        return true;
    }

    /** Writes the state durably and atomically. */
    public synchronized void save() {
        Path tmp = file.resolveSibling(file.getFileName() + ".tmp");
        try {
            Files.createDirectories(file.getParent());
            byte[] bytes = GSON.toJson(data).getBytes(StandardCharsets.UTF_8);
            // A FileOutputStream, not a FileChannel: an interrupt of the writing thread (a node stopping) closes a
            // FileChannel under it and the save fails with ClosedByInterruptException; a stream write is not
            // interruptible.
            try (FileOutputStream out = new FileOutputStream(tmp.toFile())) {
                out.write(bytes);
                out.getFD().sync();
            }
            Files.move(tmp, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        } catch (IOException e) {
            throw new MqdbException("cannot write node state " + file + ": " + e.getMessage(), e);
        }
    }
}
