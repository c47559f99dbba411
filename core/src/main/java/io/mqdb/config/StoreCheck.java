package io.mqdb.config;

import java.nio.file.Path;
import java.util.List;

/**
 * A check of one store section against the installed adapters (its type exists, its settings are the adapter's),
 * run while the file is parsed so that every problem of a config, the adapters' included, is reported at once.
 * Called on the parsing thread.
 */
@FunctionalInterface
public interface StoreCheck {
    /** Accepts every store: used when no adapters are known yet. */
    StoreCheck NONE = (section, baseDir, problems) -> { };

    /**
     * @param section the parsed store section
     * @param baseDir the config file's folder, for relative paths
     * @param problems where to add the problems found
     */
    void check(StoreSection section, Path baseDir, List<ConfigProblem> problems);
}
