package io.mqdb.it;

import io.mqdb.node.LocalTable;
import io.mqdb.spi.Key;
import io.mqdb.spi.Row;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/** What the node integration tests of this module share: closing what they opened, reading a table whole. */
final class ItResources {
    private ItResources() {}

    /** Closes each in list order, going on past failures (the test's own assertions already ran). */
    static void closeAll(List<AutoCloseable> open) {
        for (AutoCloseable c : open) {
            try {
                c.close();
            } catch (Exception e) {
                // keep closing the others
            }
        }
    }

    /** @return every row of a table with an {@code id} key column, by key; empty while the table has no schema */
    static Map<Key, Row> rowsById(LocalTable t) {
        Map<Key, Row> out = new TreeMap<>();
        if (t.schema().isEmpty()) {
            return out;
        }
        Key after = null;
        do {
            var page = t.scan(after, 1000);
            for (Row r : page.rows()) {
                out.put(Key.of(r.values().get("id")), r);
            }
            after = page.next().orElse(null);
        } while (after != null);
        return out;
    }
}
