package io.mqdb.spi;

import java.util.List;
import java.util.Optional;

/**
 * One page of a {@link TableAccess#scan}.
 *
 * @param rows the rows of the page, in key order, each with every column of the table
 * @param next the cursor to pass as {@code after} to get the next page: the key of the last row, or empty when the
 *     scan reached the end of the table
 */
public record ScanPage(List<Row> rows, Optional<Key> next) {
    /** Copies the rows. */
    public ScanPage {
        rows = List.copyOf(rows);
    }
}
