package io.mqdb.plugin;

import io.mqdb.spi.MqdbException;
import io.mqdb.spi.StoreProvider;
import java.io.IOException;
import java.net.URL;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.ServiceConfigurationError;
import java.util.ServiceLoader;
import java.util.Set;
import java.util.TreeMap;
import java.util.jar.JarFile;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The installed store adapters, by type: those on the application's class path and those in the sub-folders of the
 * plugins folder, one isolated {@link PluginClassLoader} per folder. Built once at start-up by {@link #load};
 * immutable afterwards, any thread.
 *
 * <p>Rules, checked at load time so that a bad installation stops the node before it starts:
 * <ul>
 *   <li>every plugin folder holds at least one jar, every jar can be read, and together they provide at least one
 *       {@link StoreProvider};</li>
 *   <li>a type provided by a plugin folder and by the class path: the plugin folder wins, with a warning naming
 *       both;</li>
 *   <li>a type provided twice by plugin folders (or twice on the class path, or twice in one folder) is an error
 *       naming both.</li>
 * </ul>
 * All the problems found are reported together in one {@link MqdbException}.
 */
public final class PluginRegistry {

    private static final Logger LOG = LoggerFactory.getLogger(PluginRegistry.class);

    private static final int MAX_ERRORS_PER_SOURCE = 20;

    private static final Pattern TYPE = Pattern.compile("[a-z][a-z0-9_-]*");

    private final Map<String, LoadedProvider> byType;

    private PluginRegistry(Map<String, LoadedProvider> byType) {
        this.byType = Collections.unmodifiableMap(new TreeMap<>(byType));
    }

    /**
     * Finds every store provider. Called once on the start-up thread.
     *
     * @param pluginsDir the plugins folder ({@code $MQDB_HOME/plugins}), whose every sub-folder is one plugin; empty
     *     to use the class path only. Files directly in it and hidden entries are ignored.
     * @param appLoader the application's class loader, searched with {@link ServiceLoader} and the parent of every
     *     plugin's loader
     * @return the providers found
     * @throws MqdbException listing every problem: a plugins folder that is not a folder, a plugin folder without
     *     jars or providers, an unreadable jar, a provider that cannot be created, a duplicate type
     */
    public static PluginRegistry load(Optional<Path> pluginsDir, ClassLoader appLoader) {
        Objects.requireNonNull(pluginsDir, "pluginsDir");
        Objects.requireNonNull(appLoader, "appLoader");
        List<String> problems = new ArrayList<>();
        Map<String, LoadedProvider> byType = new TreeMap<>();

        for (LoadedProvider p : discover(appLoader, LoadedProvider.CLASS_PATH, problems)) {
            LoadedProvider other = byType.putIfAbsent(p.type(), p);
            if (other != null) {
                problems.add("type " + p.type() + " is provided twice on the class path: by "
                        + other.provider().getClass().getName() + " and " + p.provider().getClass().getName());
            }
        }

        List<PluginClassLoader> loaders = new ArrayList<>();
        if (pluginsDir.isPresent()) {
            for (Path folder : pluginFolders(pluginsDir.get(), problems)) {
                PluginClassLoader loader = pluginLoader(folder, appLoader, problems);
                if (loader == null) {
                    continue;
                }
                loaders.add(loader);
                List<LoadedProvider> found = discover(loader, folder.toString(), problems);
                if (found.isEmpty()) {
                    problems.add("plugin folder " + folder + ": its jars provide no " + StoreProvider.class.getName()
                            + " (listed in " + PluginClassLoader.PROVIDER_SERVICE_FILE + ")");
                }
                for (LoadedProvider p : found) {
                    LoadedProvider other = byType.get(p.type());
                    if (other == null) {
                        byType.put(p.type(), p);
                    } else if (other.source().equals(LoadedProvider.CLASS_PATH)) {
                        LOG.warn("Store type {}: plugin folder {} ({}) overrides the class path ({})", p.type(),
                                folder, p.provider().getClass().getName(), other.provider().getClass().getName());
                        byType.put(p.type(), p);
                    } else if (other.source().equals(p.source())) {
                        problems.add("type " + p.type() + " is provided twice in plugin folder " + folder + ": by "
                                + other.provider().getClass().getName() + " and " + p.provider().getClass().getName());
                    } else {
                        problems.add("type " + p.type() + " is provided twice: by plugin folder " + other.source()
                                + " (" + other.provider().getClass().getName() + ") and by plugin folder "
                                + p.source() + " (" + p.provider().getClass().getName() + ")");
                    }
                }
            }
        }

        if (!problems.isEmpty()) {
            closeQuietly(loaders);
            throw new MqdbException("cannot load the store adapters:\n  " + String.join("\n  ", problems));
        }
        for (LoadedProvider p : byType.values()) {
            LOG.info("Store type {}: {} from {}", p.type(), p.provider().getClass().getName(), p.source());
        }
        return new PluginRegistry(byType);
    }

    /**
     * @param type a store type from config
     * @return its provider, or empty when no adapter provides it
     */
    public Optional<LoadedProvider> find(String type) {
        return Optional.ofNullable(byType.get(type));
    }

    /** @return every provider, sorted by type */
    public List<LoadedProvider> all() {
        return List.copyOf(byType.values());
    }

    /** @return every type, sorted */
    public Set<String> types() {
        return byType.keySet();
    }

    @Override
    public String toString() {
        return "PluginRegistry" + byType.values();
    }

    private static List<Path> pluginFolders(Path pluginsDir, List<String> problems) {
        if (!Files.isDirectory(pluginsDir)) {
            problems.add("plugins folder " + pluginsDir + ": not a folder");
            return List.of();
        }
        try (Stream<Path> entries = Files.list(pluginsDir)) {
            return entries
                    .filter(p -> !p.getFileName().toString().startsWith("."))
                    .filter(Files::isDirectory)
                    .sorted()
                    .collect(Collectors.toList());
        } catch (IOException e) {
            problems.add("plugins folder " + pluginsDir + ": cannot list it: " + e);
            return List.of();
        }
    }

    /** @return the folder's loader, or null after adding a problem when the folder has no jars or a broken one */
    private static PluginClassLoader pluginLoader(Path folder, ClassLoader appLoader, List<String> problems) {
        List<Path> jars;
        try (Stream<Path> entries = Files.list(folder)) {
            jars = entries.filter(p -> p.getFileName().toString().endsWith(".jar"))
                    .filter(Files::isRegularFile)
                    .sorted()
                    .collect(Collectors.toList());
        } catch (IOException e) {
            problems.add("plugin folder " + folder + ": cannot list it: " + e);
            return null;
        }
        if (jars.isEmpty()) {
            problems.add("plugin folder " + folder + ": no jar files in it");
            return null;
        }
        List<URL> urls = new ArrayList<>();
        boolean broken = false;
        for (Path jar : jars) {
            // Open each jar once now: a URLClassLoader would skip a corrupt one silently.
            try (JarFile ignored = new JarFile(jar.toFile())) {
                urls.add(jar.toUri().toURL());
            } catch (IOException | SecurityException e) {
                problems.add("plugin folder " + folder + ": cannot read " + jar.getFileName() + ": " + e.getMessage());
                broken = true;
            }
        }
        return broken ? null : new PluginClassLoader(folder, urls, appLoader);
    }

    /** Instantiates the providers a loader lists, with that loader as the context class loader. */
    private static List<LoadedProvider> discover(ClassLoader loader, String source, List<String> problems) {
        Thread thread = Thread.currentThread();
        ClassLoader previous = thread.getContextClassLoader();
        thread.setContextClassLoader(loader);
        List<LoadedProvider> found = new ArrayList<>();
        String where = source.equals(LoadedProvider.CLASS_PATH) ? source : "plugin folder " + source;
        try {
            ServiceLoader<StoreProvider> services = ServiceLoader.load(StoreProvider.class, loader);
            var it = services.iterator();
            int errors = 0;
            while (true) {
                StoreProvider provider;
                try {
                    if (!it.hasNext()) {
                        break;
                    }
                    provider = it.next();
                } catch (ServiceConfigurationError | LinkageError e) {
                    problems.add(where + ": " + describe(e));
                    // The iterator moves on after a bad entry; the bound guards against one that never does.
                    if (e instanceof LinkageError || ++errors >= MAX_ERRORS_PER_SOURCE) {
                        break;
                    }
                    continue;
                }
                String type;
                try {
                    type = provider.type();
                } catch (RuntimeException | LinkageError e) {
                    problems.add(where + ": " + provider.getClass().getName() + ".type() failed: " + describe(e));
                    continue;
                }
                if (type == null || !TYPE.matcher(type).matches()) {
                    problems.add(where + ": " + provider.getClass().getName() + ".type() returned \"" + type
                            + "\", expected lower case letters, digits, '-' or '_'");
                    continue;
                }
                found.add(new LoadedProvider(provider, loader, source));
            }
        } finally {
            thread.setContextClassLoader(previous);
        }
        return found;
    }

    private static String describe(Throwable e) {
        StringBuilder text = new StringBuilder(String.valueOf(e.getMessage()));
        for (Throwable c = e.getCause(); c != null && c != c.getCause(); c = c.getCause()) {
            text.append(": ").append(c);
        }
        return text.toString();
    }

    private static void closeQuietly(List<PluginClassLoader> loaders) {
        for (PluginClassLoader loader : loaders) {
            try {
                loader.close();
            } catch (IOException e) {
                LOG.debug("Closing {}", loader, e);
            }
        }
    }
}
