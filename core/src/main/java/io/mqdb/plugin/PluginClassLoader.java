package io.mqdb.plugin;

import java.io.IOException;
import java.net.URL;
import java.net.URLClassLoader;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Enumeration;
import java.util.HashSet;
import java.util.List;
import java.util.Objects;
import java.util.Set;

/**
 * The class loader of one plugin folder: all the folder's jars, searched before the application's class path
 * (child-first), so that a plugin's libraries shadow the application's copies of the same classes.
 *
 * <p>What must be shared is looked up parent-first instead:
 * <ul>
 *   <li>the JDK: {@code java.*} and every other package of the JDK's modules ({@code javax.sql},
 *       {@code javax.net.ssl}, {@code org.w3c.dom}...); a {@code javax.*} library that is not part of the JDK
 *       ({@code javax.inject}, say) still comes from the plugin;</li>
 *   <li>{@code io.mqdb.spi.*}, so that the plugin's provider implements the very {@code StoreProvider} the runtime
 *       knows;</li>
 *   <li>{@code org.slf4j.*}, so that the plugin logs through the node's logging.</li>
 * </ul>
 * Resources follow the same rule, with one exception: {@code META-INF/services/io.mqdb.spi.StoreProvider} is read from
 * the plugin's jars only, so that a {@link java.util.ServiceLoader} on this loader finds the plugin's providers and
 * not also the ones on the class path.
 */
public final class PluginClassLoader extends URLClassLoader {

    static {
        ClassLoader.registerAsParallelCapable();
    }

    /** The service file that lists providers; never inherited from the parent. */
    static final String PROVIDER_SERVICE_FILE = "META-INF/services/io.mqdb.spi.StoreProvider";

    private static final List<String> PARENT_FIRST_PACKAGES = List.of("java.", "io.mqdb.spi.", "org.slf4j.");

    private static final Set<String> JDK_PACKAGES = jdkPackages();

    private final Path folder;

    /**
     * @param folder the plugin folder, named in messages
     * @param jars the folder's jars
     * @param parent the application's class loader
     */
    public PluginClassLoader(Path folder, List<URL> jars, ClassLoader parent) {
        super("plugin:" + folder.getFileName(), jars.toArray(URL[]::new), Objects.requireNonNull(parent, "parent"));
        this.folder = folder;
    }

    /** @return the plugin folder this loader reads */
    public Path folder() {
        return folder;
    }

    @Override
    protected Class<?> loadClass(String name, boolean resolve) throws ClassNotFoundException {
        synchronized (getClassLoadingLock(name)) {
            Class<?> c = findLoadedClass(name);
            if (c == null) {
                if (isParentFirst(name)) {
                    c = getParent().loadClass(name);
                } else {
                    try {
                        c = findClass(name);
                    } catch (ClassNotFoundException notInPlugin) {
                        c = getParent().loadClass(name);
                    }
                }
            }
            if (resolve) {
                resolveClass(c);
            }
            return c;
        }
    }

    @Override
    public URL getResource(String name) {
        Objects.requireNonNull(name, "name");
        if (isParentFirstResource(name)) {
            return super.getResource(name);
        }
        URL url = findResource(name);
        if (url == null && !PROVIDER_SERVICE_FILE.equals(name)) {
            url = getParent().getResource(name);
        }
        return url;
    }

    @Override
    public Enumeration<URL> getResources(String name) throws IOException {
        Objects.requireNonNull(name, "name");
        if (isParentFirstResource(name)) {
            return super.getResources(name);
        }
        List<URL> urls = new ArrayList<>(Collections.list(findResources(name)));
        if (!PROVIDER_SERVICE_FILE.equals(name)) {
            urls.addAll(Collections.list(getParent().getResources(name)));
        }
        return Collections.enumeration(urls);
    }

    @Override
    public String toString() {
        return "PluginClassLoader[" + folder + "]";
    }

    /**
     * @param className a binary class name
     * @return whether the class must come from the parent: the JDK, the SPI or SLF4J
     */
    static boolean isParentFirst(String className) {
        for (String prefix : PARENT_FIRST_PACKAGES) {
            if (className.startsWith(prefix)) {
                return true;
            }
        }
        int dot = className.lastIndexOf('.');
        return dot > 0 && JDK_PACKAGES.contains(className.substring(0, dot));
    }

    /** A resource is parent-first when it lives in a parent-first package ({@code io/mqdb/spi/x.properties}). */
    private static boolean isParentFirstResource(String name) {
        String path = name.startsWith("/") ? name.substring(1) : name;
        int slash = path.lastIndexOf('/');
        return slash > 0 && isParentFirst(path.substring(0, slash).replace('/', '.') + ".x");
    }

    /** The packages of the boot layer's modules: the JDK's, since mqdb runs on the class path. */
    private static Set<String> jdkPackages() {
        Set<String> packages = new HashSet<>();
        for (Module module : ModuleLayer.boot().modules()) {
            packages.addAll(module.getPackages());
        }
        return Set.copyOf(packages);
    }
}
