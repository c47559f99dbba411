package io.mqdb.version;

import io.mqdb.spi.Bytes;
import io.mqdb.spi.Json;
import io.mqdb.spi.Key;
import io.mqdb.spi.MqdbException;
import io.mqdb.spi.TableId;
import io.mqdb.spi.Version;
import java.math.BigDecimal;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.time.LocalDate;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;
import org.mapdb.DB;
import org.mapdb.DBMaker;
import org.mapdb.HTreeMap;
import org.mapdb.Serializer;

/**
 * The previous version of mqdb's VersionIndex, unchanged but for its name: the baseline of {@link VersionIndexBench} and the
 * source of the import test. The node's last-writer-wins bookkeeping: for every key of every table this node applies replicated changes to (or
 * writes in two-way sync), the newest version it holds, and whether that version is a delete (a tombstone, kept for
 * the configured retention so that a late, older update cannot bring the row back). Also the small counters that
 * must change in the same commit: the last contiguous sequence number applied per channel and origin, and the last
 * snapshot merged.
 *
 * <p>One memory-mapped MapDB file, {@code <data-dir>/versions.db}, without a write-ahead log (with one, a put cost
 * about a millisecond). It is a cache of what this node applied: it is made durable when it is closed, and an index
 * not closed cleanly (a {@code versions.db.open} marker left behind by a kill -9) is set aside at the next start and
 * rebuilt: its sequence numbers start again from 0, so every origin is asked to publish again or to send a snapshot,
 * and the rows converge again. Versions are recorded after the store applied the events and before they are
 * acknowledged.
 *
 * <h2>Threads</h2>
 * Thread-safe: every method is synchronized. Appliers (one thread per channel) and capture threads share one index.
 * {@link #close()} is idempotent and called by the node on shutdown.
 */
final class LegacyMapDbVersionIndex implements AutoCloseable {
    private static final org.slf4j.Logger LOG = org.slf4j.LoggerFactory.getLogger(LegacyMapDbVersionIndex.class);
    private final Path file;
    private final DB db;
    private final HTreeMap<String, Long> counters;
    private final Map<TableId, HTreeMap<String, byte[]>> tables = new java.util.HashMap<>();
    private boolean closed;

    /**
     * One key's newest known version.
     *
     * @param version the version
     * @param deleted whether it is a delete (a tombstone)
     * @param recordedMillis when it was recorded, for tombstone retention
     */
    public record Entry(Version version, boolean deleted, long recordedMillis) {
    }

    private LegacyMapDbVersionIndex(Path file, DB db) {
        this.file = file;
        this.db = db;
        this.counters = db.hashMap("counters", Serializer.STRING, Serializer.LONG).createOrOpen();
    }

    /**
     * Opens or creates the index.
     *
     * @param file the MapDB file
     * @return the open index
     * @throws MqdbException when the file cannot be opened (locked by another node process, corrupt)
     */
    static LegacyMapDbVersionIndex open(Path file) {
        Path marker = file.resolveSibling(file.getFileName() + ".open");
        try {
            Files.createDirectories(file.toAbsolutePath().getParent());
            if (Files.exists(marker) && Files.exists(file)) {
                // Not closed cleanly (kill -9, power cut): its memory-mapped pages may be torn. The index is a cache
                // of what this node applied: start a fresh one. Sequence numbers then start again from 0, so every
                // origin is asked to publish again (or to send a snapshot), which rebuilds it.
                Path aside = file.resolveSibling(file.getFileName() + ".unclean-" + System.currentTimeMillis());
                LOG.warn("version index {} was not closed cleanly; moving it to {} and starting a fresh one: origins "
                        + "will be asked to publish again", file, aside);
                Files.move(file, aside);
            }
            Files.writeString(marker, "open since " + java.time.Instant.now() + "\n");
        } catch (java.io.IOException e) {
            throw new MqdbException("cannot prepare version index " + file + ": " + e.getMessage(), e);
        }
        try {
            return new LegacyMapDbVersionIndex(file, make(file));
        } catch (org.mapdb.DBException.FileLocked e) {
            throw new MqdbException("version index " + file + " is in use by another process (is the node running "
                    + "twice with one data-dir?)", e);
        } catch (RuntimeException e) {
            throw new MqdbException("cannot open version index " + file + " (delete it to start a fresh one; origins "
                    + "are then asked to publish again): " + e.getMessage(), e);
        }
    }

    /**
     * Without a write-ahead log and memory-mapped: a put costs microseconds (with MapDB's write-ahead log it cost about
     * a millisecond, which capped apply near a thousand rows per second). Crash safety comes from the marker file
     * instead: an index not closed cleanly is discarded and rebuilt.
     */
    private static DB make(Path file) {
        return DBMaker.fileDB(file.toFile()).fileMmapEnableIfSupported().make();
    }

    private HTreeMap<String, byte[]> map(TableId table) {
        return tables.computeIfAbsent(table, t -> db.hashMap("v:" + t, Serializer.STRING, Serializer.BYTE_ARRAY)
                .createOrOpen());
    }

    /**
     * @param table the table
     * @param key the key
     * @return the newest version known for the key, if any
     */
    public synchronized Optional<Entry> get(TableId table, Key key) {
        byte[] b = map(table).get(encodeKey(key));
        return b == null ? Optional.empty() : Optional.of(decode(b));
    }

    /**
     * Records a key's version if it is at least as new as the one held (uncommitted until {@link #commit()}).
     *
     * @param table the table
     * @param key the key
     * @param version the version
     * @param deleted whether it is a delete
     * @return whether it was recorded (false when a newer version is held)
     */
    public synchronized boolean record(TableId table, Key key, Version version, boolean deleted) {
        HTreeMap<String, byte[]> m = map(table);
        String k = encodeKey(key);
        byte[] old = m.get(k);
        if (old != null && decode(old).version().compareTo(version) > 0) {
            return false;
        }
        m.put(k, encode(new Entry(version, deleted, System.currentTimeMillis())));
        return true;
    }

    /**
     * @param name a counter's name
     * @return its value, 0 when never set
     */
    public synchronized long counter(String name) {
        Long v = counters.get(name);
        return v == null ? 0 : v;
    }

    /** Sets a counter (uncommitted until {@link #commit()}). */
    public synchronized void counter(String name, long value) {
        counters.put(name, value);
    }

    /**
     * Marks the end of a batch of records. The index is made durable when it is closed; after a crash it is rebuilt
     * (see {@link #open}), so a batch boundary needs no disk write.
     */
    public synchronized void commit() {
        // nothing to do: see the class comment
    }

    /**
     * The keys of a table whose newest version is a live row made by the given origin before the given clock reading:
     * what a snapshot of that origin, started at that reading, did not confirm.
     *
     * @param table the table
     * @param origin the publishing node
     * @param beforeHlc the snapshot's start
     * @return the keys
     */
    public synchronized List<Key> staleKeys(TableId table, String origin, long beforeHlc) {
        List<Key> out = new ArrayList<>();
        for (Map.Entry<String, byte[]> e : map(table).getEntries()) {
            Entry v = decode(e.getValue());
            if (!v.deleted() && v.version().origin().equals(origin) && v.version().hlc() < beforeHlc) {
                out.add(decodeKey(e.getKey()));
            }
        }
        return out;
    }

    /**
     * Removes tombstones recorded before the given time, and commits.
     *
     * @param olderThanMillis epoch milliseconds
     * @return how many were removed
     */
    public synchronized int pruneTombstones(long olderThanMillis) {
        int removed = 0;
        for (HTreeMap<String, byte[]> m : allTables()) {
            List<String> gone = new ArrayList<>();
            for (Map.Entry<String, byte[]> e : m.getEntries()) {
                Entry v = decode(e.getValue());
                if (v.deleted() && v.recordedMillis() < olderThanMillis) {
                    gone.add(e.getKey());
                }
            }
            for (String k : gone) {
                m.remove(k);
            }
            removed += gone.size();
        }
        return removed;
    }

    private List<HTreeMap<String, byte[]>> allTables() {
        List<HTreeMap<String, byte[]>> out = new ArrayList<>();
        for (String name : db.getAllNames()) {
            if (name.startsWith("v:")) {
                TableId t = TableId.parse(name.substring(2));
                out.add(map(t));
            }
        }
        return out;
    }

    /** @return the index file */
    public Path file() {
        return file;
    }

    /** Commits and closes the file. Idempotent. */
    @Override
    public synchronized void close() {
        if (!closed) {
            closed = true;
            db.commit();
            db.close();
            try {
                Files.deleteIfExists(file.resolveSibling(file.getFileName() + ".open"));
            } catch (java.io.IOException e) {
                LOG.warn("could not remove {}.open: the index will be rebuilt at the next start", file);
            }
        }
    }

    /**
     * Encodes a key's canonical values unambiguously and reversibly: per value a type tag, its text length and its
     * text.
     *
     * @param key a key
     * @return the text used as the index key
     */
    public static String encodeKey(Key key) {
        StringBuilder sb = new StringBuilder();
        for (Object v : key.values()) {
            char tag;
            String text;
            if (v instanceof String s) {
                tag = 's';
                text = s;
            } else if (v instanceof Long l) {
                tag = 'l';
                text = Long.toString(l);
            } else if (v instanceof Double d) {
                tag = 'd';
                text = Double.toString(d);
            } else if (v instanceof BigDecimal d) {
                tag = 'n';
                text = d.toString();
            } else if (v instanceof Boolean b) {
                tag = 'b';
                text = b.toString();
            } else if (v instanceof Bytes b) {
                tag = 'x';
                text = b.toBase64();
            } else if (v instanceof Instant t) {
                tag = 't';
                text = t.toString();
            } else if (v instanceof LocalDate d) {
                tag = 'a';
                text = d.toString();
            } else if (v instanceof UUID u) {
                tag = 'u';
                text = u.toString();
            } else if (v instanceof Json j) {
                tag = 'j';
                text = j.text();
            } else {
                throw new IllegalArgumentException("not a canonical key value: " + v.getClass().getName());
            }
            sb.append(tag).append(text.length()).append(':').append(text);
        }
        return sb.toString();
    }

    /**
     * @param encoded a text made by {@link #encodeKey}
     * @return the key
     */
    public static Key decodeKey(String encoded) {
        List<Object> values = new ArrayList<>();
        int i = 0;
        while (i < encoded.length()) {
            char tag = encoded.charAt(i);
            int colon = encoded.indexOf(':', i + 1);
            int len = Integer.parseInt(encoded.substring(i + 1, colon));
            String text = encoded.substring(colon + 1, colon + 1 + len);
            i = colon + 1 + len;
            values.add(switch (tag) {
                case 's' -> text;
                case 'l' -> Long.parseLong(text);
                case 'd' -> Double.parseDouble(text);
                case 'n' -> new BigDecimal(text);
                case 'b' -> Boolean.parseBoolean(text);
                case 'x' -> Bytes.fromBase64(text);
                case 't' -> Instant.parse(text);
                case 'a' -> LocalDate.parse(text);
                case 'u' -> UUID.fromString(text);
                case 'j' -> new Json(text);
                default -> throw new IllegalArgumentException("not an encoded key: " + encoded);
            });
        }
        return Key.of(values);
    }

    private static byte[] encode(Entry e) {
        byte[] origin = e.version().origin().getBytes(StandardCharsets.UTF_8);
        ByteBuffer b = ByteBuffer.allocate(8 + 1 + 8 + origin.length);
        b.putLong(e.version().hlc()).put((byte) (e.deleted() ? 1 : 0)).putLong(e.recordedMillis()).put(origin);
        return b.array();
    }

    private static Entry decode(byte[] bytes) {
        ByteBuffer b = ByteBuffer.wrap(bytes);
        long hlc = b.getLong();
        boolean deleted = b.get() == 1;
        long recorded = b.getLong();
        String origin = new String(bytes, b.position(), b.remaining(), StandardCharsets.UTF_8);
        return new Entry(new Version(hlc, origin), deleted, recorded);
    }
}
