package io.mqdb.spi;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.List;

/**
 * The primary-key values of one row, in primary-key order. Immutable; values are canonical (see {@link ColumnType})
 * and never null.
 *
 * <p>{@link #compareTo} orders keys column by column with each value's natural order ({@link String} by UTF-16 code
 * units, {@link Long} numerically, ...). It is the order the runtime and the in-process stores use; stores with an
 * order of their own (SQL collations) document theirs.
 */
public final class Key implements Comparable<Key> {
    private final List<Object> values;

    private Key(List<Object> values) {
        this.values = values;
    }

    /**
     * @param values the key values, in primary-key order; none null
     * @return the key
     */
    public static Key of(Object... values) {
        if (values.length == 0) {
            throw new IllegalArgumentException("a key has at least one value");
        }
        for (Object v : values) {
            if (v == null) {
                throw new IllegalArgumentException("a key value may not be null");
            }
        }
        return new Key(Collections.unmodifiableList(new ArrayList<>(Arrays.asList(values))));
    }

    /**
     * @param values the key values, in primary-key order; none null
     * @return the key
     */
    public static Key of(List<?> values) {
        return of(values.toArray());
    }

    /** @return the values, in primary-key order; unmodifiable */
    public List<Object> values() {
        return values;
    }

    /**
     * @param i the position in the primary key
     * @return the value at that position
     */
    public Object get(int i) {
        return values.get(i);
    }

    /** @return the number of key columns */
    public int size() {
        return values.size();
    }

    @Override
    @SuppressWarnings({"unchecked", "rawtypes"})
    public int compareTo(Key other) {
        int n = Math.min(values.size(), other.values.size());
        for (int i = 0; i < n; i++) {
            Object a = values.get(i);
            Object b = other.values.get(i);
            int c;
            if (a.getClass() == b.getClass() && a instanceof Comparable ca) {
                c = ca.compareTo(b);
            } else if (a instanceof Json || b instanceof Json || a.getClass() != b.getClass()) {
                c = (a.getClass().getName() + a).compareTo(b.getClass().getName() + b);
            } else {
                c = a.toString().compareTo(b.toString());
            }
            if (c != 0) {
                return c;
            }
        }
        return Integer.compare(values.size(), other.values.size());
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof Key k && values.equals(k.values);
    }

    @Override
    public int hashCode() {
        return values.hashCode();
    }

    /** @return the values joined with {@code :}, as in the default Redis key pattern */
    @Override
    public String toString() {
        if (values.size() == 1) {
            return String.valueOf(values.get(0));
        }
        StringBuilder sb = new StringBuilder();
        for (Object v : values) {
            if (sb.length() > 0) {
                sb.append(':');
            }
            sb.append(v);
        }
        return sb.toString();
    }
}
