package io.mqdb.version;

import io.mqdb.spi.MqdbException;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;

/**
 * The in-memory half of the index: an open-addressing hash table (linear probing, backward-shift removal) of two
 * {@code int} arrays, a key's 32-bit hash and a reference into an arena of off-heap chunks that holds each entry:
 *
 * <pre>
 *   long hlc | int originId &lt;&lt; 1 | deleted | int recorded (epoch seconds, unsigned)
 *   | int tableId &lt;&lt; 20 | keyLength | key bytes ({@link KeyBytes}) | padding to 4 bytes
 * </pre>
 *
 * A reference is the entry's arena offset divided by 4, unsigned (so up to 16 GiB of entries). The heap holds 8 bytes
 * per slot (at most 0.7 full); the arena about 24 bytes plus the key per entry. Chunks are direct buffers: they count
 * against {@code -XX:MaxDirectMemorySize} (by default the heap's maximum), not against the heap. Not thread-safe: the
 * {@link VersionIndex} guards it with its lock.
 */
final class KeyTable {
    static final int MAX_TABLES = 1 << 12;
    static final int MAX_KEY_BYTES = (1 << 20) - 1;
    private static final int HEADER = 20;
    private static final int CHUNK_BITS = 22;
    private static final int CHUNK = 1 << CHUNK_BITS;

    private int[] hashes;
    private int[] refs;
    private int mask;
    private int size;
    private final List<ByteBuffer> chunks = new ArrayList<>();
    /** The next free arena offset; 0 is never used, so a reference of 0 marks an empty slot. */
    private long end = 4;
    private long garbageBytes;
    private long moves;

    KeyTable() {
        hashes = new int[1024];
        refs = new int[1024];
        mask = 1023;
    }

    /**
     * The hash of a table's key: its bytes read as little-endian 64-bit words, each mixed in, then MurmurHash3's
     * 64-bit finalizer, folded to 32 bits. A key of up to 8 bytes (a {@code bigint} key takes 2 to 11) maps to a
     * distinct 64-bit value, so only the fold makes collisions, and they fall at random: a polynomial over bytes
     * (31 * h + b) collides for whole ranges of short keys and made long probe runs at 10M keys.
     */
    static int hash(int table, byte[] key, int off, int len) {
        long h = (table + 1) * 0x9E3779B97F4A7C15L ^ len;
        int i = off;
        int end = off + len;
        for (; i + 8 <= end; i += 8) {
            long w = 0;
            for (int j = 7; j >= 0; j--) {
                w = (w << 8) | (key[i + j] & 0xFFL);
            }
            h = (h ^ w) * 0xFF51AFD7ED558CCDL;
            h ^= h >>> 29;
        }
        long w = 0;
        for (int sh = 0; i < end; i++, sh += 8) {
            w |= (key[i] & 0xFFL) << sh;
        }
        h ^= w;
        h ^= h >>> 33;
        h *= 0xFF51AFD7ED558CCDL;
        h ^= h >>> 33;
        h *= 0xC4CEB9FE1A85EC53L;
        h ^= h >>> 33;
        return (int) (h ^ (h >>> 32));
    }

    static int hash(int table, byte[] key, int len) {
        return hash(table, key, 0, len);
    }

    int size() {
        return size;
    }

    /** @return the slots' length: slots are 0 to capacity - 1, and {@link #occupied} says which hold an entry */
    int capacity() {
        return refs.length;
    }

    boolean occupied(int slot) {
        return refs[slot] != 0;
    }

    /** @return the slot holding the key, or -1 */
    int find(int table, byte[] key, int len, int hash) {
        return find(table, key, 0, len, hash);
    }

    /** @return the slot holding the key {@code key[off, off + len)}, or -1 */
    int find(int table, byte[] key, int off, int len, int hash) {
        for (int s = hash & mask;; s = (s + 1) & mask) {
            int ref = refs[s];
            if (ref == 0) {
                return -1;
            }
            if (hashes[s] == hash && matches(ref, table, key, off, len)) {
                return s;
            }
        }
    }

    private boolean matches(int ref, int table, byte[] key, int off, int len) {
        long at = offset(ref);
        ByteBuffer c = chunk(at);
        int p = (int) (at & (CHUNK - 1));
        if (c.getInt(p + 16) != (table << 20 | len)) {
            return false;
        }
        p += HEADER;
        for (int i = 0; i < len; i++) {
            if (c.get(p + i) != key[off + i]) {
                return false;
            }
        }
        return true;
    }

    /**
     * Sets a key's entry.
     *
     * @param slot the key's slot from {@link #find}, or -1 to add the key (it must be absent)
     */
    void put(int slot, int table, byte[] key, int off, int len, int hash, long hlc, int origin, boolean deleted,
             int recordedSeconds) {
        int s = slot;
        if (s < 0) {
            if (len > MAX_KEY_BYTES) {
                throw new MqdbException("a key of " + len + " bytes is longer than the version index takes ("
                        + MAX_KEY_BYTES + ")");
            }
            if (size + 1 > refs.length * 7L / 10) {
                grow();
            }
            s = hash & mask;
            while (refs[s] != 0) {
                s = (s + 1) & mask;
            }
            refs[s] = append(table, key, off, len);
            hashes[s] = hash;
            size++;
        }
        long at = offset(refs[s]);
        ByteBuffer c = chunk(at);
        int p = (int) (at & (CHUNK - 1));
        c.putLong(p, hlc);
        c.putInt(p + 8, origin << 1 | (deleted ? 1 : 0));
        c.putInt(p + 12, recordedSeconds);
    }

    /** Removes the entry in the slot, moving later entries of its probe run back so no search stops early. */
    void remove(int slot) {
        moves++;
        garbageBytes += entryBytes(keyLength(slot));
        size--;
        int hole = slot;
        for (int s = (hole + 1) & mask; refs[s] != 0; s = (s + 1) & mask) {
            int home = hashes[s] & mask;
            // move s into the hole unless its home lies cyclically in (hole, s]
            boolean stays = hole <= s ? hole < home && home <= s : hole < home || home <= s;
            if (!stays) {
                refs[hole] = refs[s];
                hashes[hole] = hashes[s];
                hole = s;
            }
        }
        refs[hole] = 0;
        hashes[hole] = 0;
    }

    long hlc(int slot) {
        long at = offset(refs[slot]);
        return chunk(at).getLong((int) (at & (CHUNK - 1)));
    }

    int origin(int slot) {
        return originAndFlag(slot) >>> 1;
    }

    boolean deleted(int slot) {
        return (originAndFlag(slot) & 1) != 0;
    }

    private int originAndFlag(int slot) {
        long at = offset(refs[slot]);
        return chunk(at).getInt((int) (at & (CHUNK - 1)) + 8);
    }

    int recordedSeconds(int slot) {
        long at = offset(refs[slot]);
        return chunk(at).getInt((int) (at & (CHUNK - 1)) + 12);
    }

    int table(int slot) {
        return tableAndLength(slot) >>> 20;
    }

    int keyLength(int slot) {
        return tableAndLength(slot) & MAX_KEY_BYTES;
    }

    private int tableAndLength(int slot) {
        long at = offset(refs[slot]);
        return chunk(at).getInt((int) (at & (CHUNK - 1)) + 16);
    }

    /** Copies the key bytes in the slot to {@code to[at...]}. */
    void copyKey(int slot, byte[] to, int at) {
        long from = offset(refs[slot]);
        chunk(from).get((int) (from & (CHUNK - 1)) + HEADER, to, at, keyLength(slot));
    }

    /** @return how many times entries moved between slots (a growth or a removal): a scan between moves is exact */
    long moves() {
        return moves;
    }

    /** @return a copy of the key bytes in the slot */
    byte[] key(int slot) {
        byte[] out = new byte[keyLength(slot)];
        long at = offset(refs[slot]);
        chunk(at).get((int) (at & (CHUNK - 1)) + HEADER, out);
        return out;
    }

    /** @return arena bytes held by removed entries, reclaimed by {@link #compactArena} */
    long garbageBytes() {
        return garbageBytes;
    }

    /** @return off-heap bytes allocated */
    long arenaBytes() {
        return (long) chunks.size() * CHUNK;
    }

    /** @return heap bytes of the slot arrays */
    long slotBytes() {
        return 8L * refs.length;
    }

    /** Copies the live entries into a fresh arena, dropping the space of removed ones. */
    void compactArena() {
        List<ByteBuffer> old = new ArrayList<>(chunks);
        chunks.clear();
        end = 4;
        for (int s = 0; s < refs.length; s++) {
            if (refs[s] != 0) {
                long at = offset(refs[s]);
                ByteBuffer c = old.get((int) (at >>> CHUNK_BITS));
                int p = (int) (at & (CHUNK - 1));
                int n = entryBytes(c.getInt(p + 16) & MAX_KEY_BYTES);
                int ref = reserve(n);
                long to = offset(ref);
                chunk(to).put((int) (to & (CHUNK - 1)), c, p, n);
                refs[s] = ref;
            }
        }
        garbageBytes = 0;
    }

    private void grow() {
        moves++;
        int[] oldRefs = refs;
        int[] oldHashes = hashes;
        int n = oldRefs.length * 2;
        if (n <= 0) {
            throw new MqdbException("the version index is full (" + size + " keys)");
        }
        refs = new int[n];
        hashes = new int[n];
        mask = n - 1;
        for (int i = 0; i < oldRefs.length; i++) {
            if (oldRefs[i] != 0) {
                int s = oldHashes[i] & mask;
                while (refs[s] != 0) {
                    s = (s + 1) & mask;
                }
                refs[s] = oldRefs[i];
                hashes[s] = oldHashes[i];
            }
        }
    }

    private int append(int table, byte[] key, int off, int len) {
        int ref = reserve(entryBytes(len));
        long at = offset(ref);
        ByteBuffer c = chunk(at);
        int p = (int) (at & (CHUNK - 1));
        c.putInt(p + 16, table << 20 | len);
        c.put(p + HEADER, key, off, len);
        return ref;
    }

    private int reserve(int n) {
        if (n > CHUNK) {
            throw new MqdbException("a version index entry of " + n + " bytes does not fit a chunk");
        }
        long at = end;
        int chunk = (int) (at >>> CHUNK_BITS);
        if ((at & (CHUNK - 1)) + n > CHUNK) {
            chunk++; // does not fit in the current chunk: start the next
            at = (long) chunk << CHUNK_BITS;
        }
        if ((at + n) >>> 2 > 0xFFFF_FFFFL) {
            throw new MqdbException("the version index arena is full (" + size + " keys)");
        }
        while (chunk >= chunks.size()) {
            chunks.add(ByteBuffer.allocateDirect(CHUNK));
        }
        end = at + n;
        return (int) (at >>> 2);
    }

    private static int entryBytes(int keyLength) {
        return (HEADER + keyLength + 3) & ~3;
    }

    private static long offset(int ref) {
        return Integer.toUnsignedLong(ref) << 2;
    }

    private ByteBuffer chunk(long at) {
        return chunks.get((int) (at >>> CHUNK_BITS));
    }

    @Override
    public String toString() {
        return "KeyTable[" + size + " keys, " + refs.length + " slots, " + chunks.size() + " chunks, garbage "
                + garbageBytes + " bytes]";
    }
}
