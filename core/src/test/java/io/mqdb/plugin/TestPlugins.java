package io.mqdb.plugin;

import static org.assertj.core.api.Assertions.assertThat;

import io.mqdb.spi.StoreProvider;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.net.URISyntaxException;
import java.net.URL;
import java.net.URLClassLoader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Enumeration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import java.util.jar.JarEntry;
import java.util.jar.JarOutputStream;
import javax.tools.JavaCompiler;
import javax.tools.ToolProvider;

/**
 * Builds small plugin jars at test time: compiles a provider and a {@code Greeting} "library" class with the system
 * Java compiler, then jars the class files with a service file.
 */
final class TestPlugins {

    static final String GREETING = "io.mqdb.plugin.testlib.Greeting";
    static final String PROVIDER = "io.mqdb.plugin.testplugin.GreetingProvider";

    private TestPlugins() {
    }

    /**
     * A jar with a provider of {@code type} whose {@code Supplier.get()} returns what its copy of {@code Greeting}
     * says, plus that copy, answering {@code greeting}.
     */
    static Path providerJar(Path jar, String type, String greeting) {
        Map<String, String> sources = new LinkedHashMap<>();
        sources.put(PROVIDER, """
                package io.mqdb.plugin.testplugin;

                public final class GreetingProvider implements io.mqdb.spi.StoreProvider,
                        java.util.function.Supplier<String> {
                    public String type() { return "%s"; }
                    public java.util.List<io.mqdb.spi.Setting> settings() { return java.util.List.of(); }
                    public io.mqdb.spi.Store open(io.mqdb.spi.StoreConfig config, io.mqdb.spi.StoreContext context) {
                        throw new UnsupportedOperationException("test provider");
                    }
                    public String get() { return io.mqdb.plugin.testlib.Greeting.hello(); }
                }
                """.formatted(type));
        sources.put(GREETING, greetingSource(greeting));
        Map<String, byte[]> entries = compile(sources);
        entries.put(PluginClassLoader.PROVIDER_SERVICE_FILE, (PROVIDER + "\n").getBytes(StandardCharsets.UTF_8));
        return writeJar(jar, entries);
    }

    /** A jar with only a {@code Greeting} class, answering {@code greeting}: a library, no provider. */
    static Path libraryJar(Path jar, String greeting) {
        return writeJar(jar, compile(Map.of(GREETING, greetingSource(greeting))));
    }

    /** Adds entries to a jar. */
    static Path withEntries(Path jar, Map<String, byte[]> more) {
        Map<String, byte[]> entries = new LinkedHashMap<>(readJar(jar));
        entries.putAll(more);
        return writeJar(jar, entries);
    }

    /** Removes an entry from a jar. */
    static Path withoutEntry(Path jar, String name) {
        Map<String, byte[]> entries = new LinkedHashMap<>(readJar(jar));
        assertThat(entries.remove(name)).as(name).isNotNull();
        return writeJar(jar, entries);
    }

    /** @return the class file of a class on the test class path */
    static byte[] classFile(Class<?> type) {
        try (var in = type.getResourceAsStream(type.getSimpleName() + ".class")) {
            return in.readAllBytes();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** @return the path of a class file inside a jar */
    static String entryName(Class<?> type) {
        return type.getName().replace('.', '/') + ".class";
    }

    /**
     * An application class loader that sees the test class path, minus any provider listed there, plus the given
     * jars: what the node's class path looks like to {@link PluginRegistry}, without interference from other tests.
     */
    static URLClassLoader appLoader(Path... jars) {
        ClassLoader testLoader = TestPlugins.class.getClassLoader();
        ClassLoader hidingProviders = new ClassLoader("test-app-without-providers", testLoader) {
            @Override
            public Enumeration<URL> getResources(String name) throws IOException {
                return PluginClassLoader.PROVIDER_SERVICE_FILE.equals(name)
                        ? Collections.emptyEnumeration() : super.getResources(name);
            }
        };
        return new URLClassLoader("test-app", Stream.of(jars).map(TestPlugins::url).toArray(URL[]::new),
                hidingProviders);
    }

    private static String greetingSource(String greeting) {
        return """
                package io.mqdb.plugin.testlib;

                public final class Greeting {
                    public static String hello() { return "%s"; }
                }
                """.formatted(greeting);
    }

    private static Map<String, byte[]> compile(Map<String, String> sources) {
        JavaCompiler javac = ToolProvider.getSystemJavaCompiler();
        assertThat(javac).as("a JDK's compiler").isNotNull();
        try {
            Path work = Files.createTempDirectory("mqdb-plugin-src");
            Path out = Files.createDirectories(work.resolve("classes"));
            List<String> args = new ArrayList<>(List.of("--release", "17", "-proc:none", "-d", out.toString(),
                    "-classpath", spiClasses().toString()));
            for (var source : sources.entrySet()) {
                Path file = work.resolve("src").resolve(source.getKey().replace('.', '/') + ".java");
                Files.createDirectories(file.getParent());
                Files.writeString(file, source.getValue());
                args.add(file.toString());
            }
            ByteArrayOutputStream errors = new ByteArrayOutputStream();
            int rc = javac.run(null, errors, errors, args.toArray(String[]::new));
            assertThat(rc).as(() -> errors.toString(StandardCharsets.UTF_8)).isZero();
            Map<String, byte[]> classes = new LinkedHashMap<>();
            try (Stream<Path> files = Files.walk(out)) {
                for (Path f : (Iterable<Path>) files.filter(Files::isRegularFile)::iterator) {
                    classes.put(out.relativize(f).toString().replace('\\', '/'), Files.readAllBytes(f));
                }
            }
            deleteRecursively(work);
            return classes;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static void deleteRecursively(Path dir) throws IOException {
        try (Stream<Path> files = Files.walk(dir)) {
            for (Path f : (Iterable<Path>) files.sorted(java.util.Comparator.reverseOrder())::iterator) {
                Files.delete(f);
            }
        }
    }

    /** The SPI's classes folder or jar: all a test plugin compiles against. */
    private static Path spiClasses() {
        try {
            return Path.of(StoreProvider.class.getProtectionDomain().getCodeSource().getLocation().toURI());
        } catch (URISyntaxException e) {
            throw new IllegalStateException(e);
        }
    }

    private static Path writeJar(Path jar, Map<String, byte[]> entries) {
        try {
            Files.createDirectories(jar.getParent());
            try (OutputStream file = Files.newOutputStream(jar); JarOutputStream out = new JarOutputStream(file)) {
                for (var e : entries.entrySet()) {
                    out.putNextEntry(new JarEntry(e.getKey()));
                    out.write(e.getValue());
                    out.closeEntry();
                }
            }
            return jar;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static Map<String, byte[]> readJar(Path jar) {
        Map<String, byte[]> entries = new LinkedHashMap<>();
        try (var in = new java.util.jar.JarInputStream(Files.newInputStream(jar))) {
            for (JarEntry e = in.getNextJarEntry(); e != null; e = in.getNextJarEntry()) {
                entries.put(e.getName(), in.readAllBytes());
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return entries;
    }

    private static URL url(Path jar) {
        try {
            return jar.toUri().toURL();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
