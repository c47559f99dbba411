package io.mqdb.adapter.mapdb;

import io.mqdb.spi.MqdbException;
import io.mqdb.spi.Setting;
import io.mqdb.spi.SettingType;
import io.mqdb.spi.Store;
import io.mqdb.spi.StoreConfig;
import io.mqdb.spi.StoreContext;
import io.mqdb.spi.StoreProvider;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/**
 * The {@code mapdb} store type: an embedded, file-backed store with change capture, built on MapDB 3.1.
 *
 * <pre>
 * stores:
 *   local:
 *     type: mapdb
 *     file: data/local.db   # optional
 *     mmap: true            # optional
 * </pre>
 */
public final class MapDbStoreProvider implements StoreProvider {
    /** The store file; relative to the config file's folder. */
    public static final String FILE = "file";
    /** Whether to memory-map the file. */
    public static final String MMAP = "mmap";

    private static final List<Setting> SETTINGS = List.of(
            Setting.optional(FILE, SettingType.PATH, null,
                    "the MapDB file; default store.db in the store's data folder"),
            Setting.optional(MMAP, SettingType.BOOLEAN, Boolean.TRUE,
                    "memory-map the file where the platform supports it (about 5x faster writes than plain file access)"));

    /** For {@link java.util.ServiceLoader}. */
    public MapDbStoreProvider() {
    }

    @Override
    public String type() {
        return "mapdb";
    }

    @Override
    public List<Setting> settings() {
        return SETTINGS;
    }

    /**
     * Opens (creating when missing) the store's file. Fails when another process holds it.
     *
     * @throws MqdbException naming the {@code file} setting when the file cannot be created or opened
     */
    @Override
    public Store open(StoreConfig config, StoreContext context) {
        Path file = config.path(FILE).orElseGet(() -> context.dataDir().resolve("store.db")).toAbsolutePath();
        try {
            Path parent = file.getParent();
            if (parent != null) {
                Files.createDirectories(parent);
            }
        } catch (IOException e) {
            throw new MqdbException(config.where(FILE) + ": cannot create folder for " + file + ": " + e, e);
        }
        return MapDbStore.open(file, config.bool(MMAP), config.where(FILE));
    }
}
