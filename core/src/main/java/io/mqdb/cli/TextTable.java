package io.mqdb.cli;

import java.io.PrintWriter;
import java.util.List;

/** Prints rows as columns padded to their widest cell, two spaces apart. Pure; any thread. */
final class TextTable {
    private TextTable() {
    }

    /**
     * @param out where the lines go
     * @param rows the rows, the header first; all of the same length
     * @param lastRight whether the last column is aligned to the right (else to the left, without trailing spaces)
     */
    static void print(PrintWriter out, List<String[]> rows, boolean lastRight) {
        int[] width = new int[rows.get(0).length];
        for (String[] r : rows) {
            for (int i = 0; i < r.length; i++) {
                width[i] = Math.max(width[i], r[i].length());
            }
        }
        for (String[] r : rows) {
            StringBuilder line = new StringBuilder();
            for (int i = 0; i < r.length; i++) {
                boolean last = i == r.length - 1;
                line.append(last ? String.format("%" + (lastRight ? width[i] : "") + "s", r[i])
                        : String.format("%-" + width[i] + "s  ", r[i]));
            }
            out.println(line);
        }
    }
}
