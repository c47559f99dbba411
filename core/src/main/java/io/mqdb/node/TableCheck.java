package io.mqdb.node;

import io.mqdb.config.ChannelConfig;
import io.mqdb.config.NodeConfig;
import io.mqdb.plugin.PluginRegistry;
import io.mqdb.spi.MqdbException;
import io.mqdb.spi.TableSchema;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * Connects to a node's stores and checks each configured channel's table as the node would use it, without starting
 * the node: for {@code mqdb check-config --connect}. A published table the node could not replicate (no primary key,
 * a column type the store cannot read, a {@code key:} the store refuses) is a problem; a published table that does not exist yet is only a note (the
 * publisher waits for it); a store that cannot capture its own changes is a note.
 *
 * <p>Runs on the caller's thread, with each adapter's class loader as the context class loader while it is called.
 */
public final class TableCheck {
    private TableCheck() {
    }

    /**
     * What the check found.
     *
     * @param problems channels the node cannot run, one line each, naming channel, store and reason
     * @param notes what is worth knowing but not wrong
     * @param checked how many channels were checked
     */
    public record Report(List<String> problems, List<String> notes, int checked) {
        /** Copies the lists. */
        public Report {
            problems = List.copyOf(problems);
            notes = List.copyOf(notes);
        }
    }

    /**
     * @param config a config that passed {@link io.mqdb.config.ConfigLoader}
     * @param plugins the installed adapters
     * @return what was found
     * @throws MqdbException when a store cannot be opened at all (its address, credentials)
     */
    public static Report run(NodeConfig config, PluginRegistry plugins) {
        List<String> problems = new ArrayList<>();
        List<String> notes = new ArrayList<>();
        try (StoreSet stores = StoreSet.open(config, plugins)) {
            try {
                stores.checkTransforms(config);
            } catch (io.mqdb.config.ConfigException e) {
                e.problems().forEach(p -> problems.add(p.toString()));
            }
            for (ChannelConfig ch : config.channels()) {
                StoreSet.Opened s = stores.get(ch.store());
                String where = "channel " + ch.table() + " (store " + ch.store() + ", " + s.type() + ")";
                ClassLoader previous = Thread.currentThread().getContextClassLoader();
                Thread.currentThread().setContextClassLoader(s.loader());
                try {
                    Optional<TableSchema> schema = s.store().describe(ch.table());
                    if (schema.isPresent()) {
                        StoreSet.checkKey(ch, schema.get());
                    }
                    if (schema.isEmpty()) {
                        notes.add(where + ": the table does not exist yet; "
                                + (ch.publish() ? "the publisher waits for it and starts when it appears"
                                : "the subscriber creates it from the publisher's schema"));
                    } else if (ch.publish() && s.store().capture().isEmpty()) {
                        notes.add(where + ": the store cannot capture its own changes; the channel publishes its "
                                + "initial load and the writes made through mqdb's embedding API only");
                    }
                } catch (MqdbException | IllegalArgumentException e) {
                    problems.add(where + ": cannot be " + (ch.publish() ? "published" : "applied") + ": "
                            + e.getMessage());
                } finally {
                    Thread.currentThread().setContextClassLoader(previous);
                }
            }
        }
        return new Report(problems, notes, config.channels().size());
    }
}
