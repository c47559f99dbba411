package io.mqdb.verify;

import io.mqdb.spi.Column;
import io.mqdb.spi.Key;
import io.mqdb.spi.Row;
import io.mqdb.spi.ScanPage;
import io.mqdb.spi.TableAccess;
import io.mqdb.spi.TableSchema;
import java.util.ArrayList;
import java.util.BitSet;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;

/**
 * Compares one table on two stores, whatever their adapters, and finds exactly the rows that differ.
 *
 * <p>Two stores need not order keys alike (PostgreSQL sorts text by collation, Redis and MapDB by bytes), so ranges
 * of the key space are not comparable; buckets of a key hash are. Pass 1 scans each side once and adds up, per bucket,
 * the 128-bit {@link RowDigest} of each row (a sum: independent of scan order) and a row count. Buckets whose sums or
 * counts differ are the only ones that can hold a difference; pass 2 (only when there is one) scans each side again
 * and keeps the digests of the rows of those buckets alone, then compares them key by key: missing (in the source
 * only), extra (in the target only), stale (in both, different values). Memory: the bucket sums, plus the rows of the
 * differing buckets in pass 2. Cost: one scan of each side when they are equal, two when not.
 *
 * <h2>Threads</h2>
 * Runs on the caller's thread; the stores are read through {@link TableAccess#scan} in pages.
 */
public final class Verifier {
    /** The default number of buckets. */
    public static final int DEFAULT_BUCKETS = 4096;
    /** Rows per scan page. */
    static final int PAGE = 1000;

    private final TableSchema schema;
    private final int buckets;

    /**
     * @param schema the table as the source describes it: its columns are compared
     * @param buckets a power of two, 1 to 2^20
     */
    public Verifier(TableSchema schema, int buckets) {
        if (buckets < 1 || buckets > (1 << 20) || Integer.bitCount(buckets) != 1) {
            throw new IllegalArgumentException("buckets must be a power of two from 1 to 1048576, got " + buckets);
        }
        this.schema = schema;
        this.buckets = buckets;
    }

    /** What a comparison found. */
    public record Result(long sourceRows, long targetRows, long rowsRead, int differingBuckets, List<Key> missing,
                         List<Key> extra, List<Key> stale, long millis) {
        /** @return whether both sides hold the same rows */
        public boolean same() {
            return missing.isEmpty() && extra.isEmpty() && stale.isEmpty();
        }
    }

    /** Per-bucket sums of one side. */
    private static final class Sums {
        final long[] high;
        final long[] low;
        final long[] count;
        long rows;

        Sums(int n) {
            high = new long[n];
            low = new long[n];
            count = new long[n];
        }
    }

    /**
     * @param source the side taken as right (the publisher's store)
     * @param target the side checked against it
     * @return what differs; keys in key order
     */
    public Result compare(TableAccess source, TableAccess target) {
        long t0 = System.nanoTime();
        List<Column> columns = schema.columns();
        Sums a = sums(source, columns);
        Sums b = sums(target, columns);
        long read = a.rows + b.rows;
        BitSet differing = new BitSet(buckets);
        for (int i = 0; i < buckets; i++) {
            if (a.high[i] != b.high[i] || a.low[i] != b.low[i] || a.count[i] != b.count[i]) {
                differing.set(i);
            }
        }
        List<Key> missing = new ArrayList<>();
        List<Key> extra = new ArrayList<>();
        List<Key> stale = new ArrayList<>();
        if (!differing.isEmpty()) {
            Map<Key, long[]> left = rows(source, columns, differing);
            Map<Key, long[]> right = rows(target, columns, differing);
            read += left.size() + right.size();
            TreeSet<Key> keys = new TreeSet<>(left.keySet());
            keys.addAll(right.keySet());
            for (Key k : keys) {
                long[] l = left.get(k);
                long[] r = right.get(k);
                if (r == null) {
                    missing.add(k);
                } else if (l == null) {
                    extra.add(k);
                } else if (l[0] != r[0] || l[1] != r[1]) {
                    stale.add(k);
                }
            }
        }
        return new Result(a.rows, b.rows, read, differing.cardinality(), missing, extra, stale,
                (System.nanoTime() - t0) / 1_000_000);
    }

    /**
     * Compares chosen keys only, row by row (after a repair: are they equal now?).
     *
     * @param source the side taken as right
     * @param target the side checked against it
     * @param keys the keys
     * @return the keys that still differ (missing, extra or stale in the target), in the order given
     */
    public List<Key> recheck(TableAccess source, TableAccess target, List<Key> keys) {
        RowDigest digest = new RowDigest(schema.columns());
        List<Key> differ = new ArrayList<>();
        for (Key k : keys) {
            java.util.Optional<Row> l = source.get(schema.table(), k);
            java.util.Optional<Row> r = target.get(schema.table(), k);
            boolean same = l.isPresent() == r.isPresent()
                    && (l.isEmpty() || java.util.Arrays.equals(digest.of(l.get()), digest.of(r.get())));
            if (!same) {
                differ.add(k);
            }
        }
        return differ;
    }

    private Sums sums(TableAccess side, List<Column> columns) {
        RowDigest digest = new RowDigest(columns);
        Sums s = new Sums(buckets);
        Key after = null;
        do {
            ScanPage page = side.scan(schema.table(), after, PAGE);
            for (Row r : page.rows()) {
                Key k = schema.keyOf(r);
                int bucket = RowDigest.bucket(k, buckets);
                long[] d = digest.of(r);
                s.high[bucket] += d[0];
                s.low[bucket] += d[1];
                s.count[bucket]++;
                s.rows++;
            }
            after = page.next().orElse(null);
        } while (after != null);
        return s;
    }

    private Map<Key, long[]> rows(TableAccess side, List<Column> columns, BitSet wanted) {
        RowDigest digest = new RowDigest(columns);
        Map<Key, long[]> out = new HashMap<>();
        Key after = null;
        do {
            ScanPage page = side.scan(schema.table(), after, PAGE);
            for (Row r : page.rows()) {
                Key k = schema.keyOf(r);
                if (wanted.get(RowDigest.bucket(k, buckets))) {
                    out.put(k, digest.of(r));
                }
            }
            after = page.next().orElse(null);
        } while (after != null);
        return out;
    }
}
