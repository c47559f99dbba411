package io.mqdb.plugin;

import static io.mqdb.plugin.TestPlugins.GREETING;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import io.mqdb.plugin.testlib.Greeting;
import io.mqdb.spi.MqdbException;
import io.mqdb.spi.Op;
import io.mqdb.spi.StoreProvider;
import java.io.IOException;
import java.net.URL;
import java.net.URLClassLoader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.function.Supplier;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.slf4j.LoggerFactory;

class PluginRegistryTest {

    @TempDir
    Path tmp;

    private Path plugins;
    private URLClassLoader app;

    @BeforeEach
    void setUp() throws IOException {
        plugins = Files.createDirectories(tmp.resolve("plugins"));
        app = TestPlugins.appLoader();
    }

    @AfterEach
    void tearDown() throws IOException {
        app.close();
    }

    @Test
    void findsAPluginsProviderByType() {
        Path folder = plugins.resolve("greet");
        TestPlugins.providerJar(folder.resolve("greet-adapter.jar"), "greet", "plugin");

        PluginRegistry registry = PluginRegistry.load(Optional.of(plugins), app);

        LoadedProvider loaded = registry.find("greet").orElseThrow();
        assertThat(loaded.type()).isEqualTo("greet");
        assertThat(loaded.source()).isEqualTo(folder.toString());
        assertThat(loaded.loader()).isInstanceOf(PluginClassLoader.class);
        assertThat(loaded.provider().getClass().getClassLoader()).isSameAs(loaded.loader());
        assertThat(loaded.loader().getParent()).isSameAs(app);
        assertThat(registry.types()).containsExactly("greet");
    }

    @Test
    void unknownTypeIsNotFound() {
        TestPlugins.providerJar(plugins.resolve("greet/greet.jar"), "greet", "plugin");

        PluginRegistry registry = PluginRegistry.load(Optional.of(plugins), app);

        assertThat(registry.find("mapdb")).isEmpty();
    }

    @Test
    void withoutPluginsFolderOnlyTheClassPathCounts() {
        Path jar = TestPlugins.providerJar(tmp.resolve("cp/greet.jar"), "greet", "class path");
        try (URLClassLoader appWithAdapter = TestPlugins.appLoader(jar)) {
            PluginRegistry registry = PluginRegistry.load(Optional.empty(), appWithAdapter);

            LoadedProvider loaded = registry.find("greet").orElseThrow();
            assertThat(loaded.source()).isEqualTo(LoadedProvider.CLASS_PATH);
            assertThat(loaded.loader()).isSameAs(appWithAdapter);
            // No isolation on the class path: the first Greeting found wins, as for any flat class path.
            assertThat(greetingSeenBy(loaded)).isEqualTo("app");
        } catch (IOException e) {
            throw new AssertionError(e);
        }
    }

    @Test
    void aPluginSeesItsOwnCopyOfALibraryAndTheAppSeesItsOwn() throws Exception {
        TestPlugins.providerJar(plugins.resolve("greet/greet.jar"), "greet", "plugin");

        LoadedProvider loaded = PluginRegistry.load(Optional.of(plugins), app).find("greet").orElseThrow();

        assertThat(greetingSeenBy(loaded)).isEqualTo("plugin");
        assertThat(Greeting.hello()).isEqualTo("app");
        assertThat(app.loadClass(GREETING)).isSameAs(Greeting.class);
        Class<?> pluginCopy = loaded.loader().loadClass(GREETING);
        assertThat(pluginCopy).isNotSameAs(Greeting.class);
        assertThat(pluginCopy.getClassLoader()).isSameAs(loaded.loader());
    }

    @Test
    void allJarsOfAFolderShareOneLoaderAndThePluginsLibraryWinsOverTheApps() {
        // The provider jar has no Greeting of its own here: it must find the one in its sibling jar, not the app's.
        Path providerJar = TestPlugins.providerJar(plugins.resolve("greet/a-adapter.jar"), "greet", "unused");
        TestPlugins.withoutEntry(providerJar, GREETING.replace('.', '/') + ".class");
        TestPlugins.libraryJar(plugins.resolve("greet/b-library.jar"), "sibling jar");

        LoadedProvider loaded = PluginRegistry.load(Optional.of(plugins), app).find("greet").orElseThrow();

        assertThat(greetingSeenBy(loaded)).isEqualTo("sibling jar");
    }

    @Test
    void theSpiSlf4jAndTheJdkComeFromTheApp() throws Exception {
        // The plugin bundles its own copies of SPI and SLF4J classes by mistake; they must be ignored.
        Path jar = TestPlugins.providerJar(plugins.resolve("greet/greet.jar"), "greet", "plugin");
        TestPlugins.withEntries(jar, Map.of(
                TestPlugins.entryName(StoreProvider.class), TestPlugins.classFile(StoreProvider.class),
                TestPlugins.entryName(Op.class), TestPlugins.classFile(Op.class),
                TestPlugins.entryName(org.slf4j.Logger.class), TestPlugins.classFile(org.slf4j.Logger.class)));

        LoadedProvider loaded = PluginRegistry.load(Optional.of(plugins), app).find("greet").orElseThrow();
        ClassLoader loader = loaded.loader();

        assertThat(loader.loadClass(StoreProvider.class.getName())).isSameAs(StoreProvider.class);
        assertThat(loader.loadClass(Op.class.getName())).isSameAs(Op.class);
        assertThat(loader.loadClass(org.slf4j.Logger.class.getName())).isSameAs(org.slf4j.Logger.class);
        assertThat(loader.loadClass("javax.sql.DataSource")).isSameAs(javax.sql.DataSource.class);
        assertThat(loader.loadClass("java.lang.String")).isSameAs(String.class);
        assertThat(StoreProvider.class.isInstance(loaded.provider())).isTrue();
        assertThat(loader.getResource(TestPlugins.entryName(StoreProvider.class)))
                .isEqualTo(StoreProvider.class.getResource("StoreProvider.class"));
    }

    @Test
    void resourcesComeFromThePluginFirst() throws IOException {
        TestPlugins.providerJar(plugins.resolve("greet/greet.jar"), "greet", "plugin");
        ClassLoader loader = PluginRegistry.load(Optional.of(plugins), app).find("greet").orElseThrow().loader();
        String greetingClass = GREETING.replace('.', '/') + ".class";

        URL first = loader.getResource(greetingClass);
        List<URL> all = Collections.list(loader.getResources(greetingClass));

        assertThat(first.toString()).startsWith("jar:").contains("greet.jar");
        assertThat(all).hasSize(2).first().isEqualTo(first);
        assertThat(all.get(1)).isEqualTo(app.getResource(greetingClass));
    }

    @Test
    void aPluginDoesNotSeeTheProvidersOnTheClassPath() throws IOException {
        Path cpJar = TestPlugins.providerJar(tmp.resolve("cp/other.jar"), "other", "class path");
        TestPlugins.providerJar(plugins.resolve("greet/greet.jar"), "greet", "plugin");
        try (URLClassLoader appWithAdapter = TestPlugins.appLoader(cpJar)) {
            PluginRegistry registry = PluginRegistry.load(Optional.of(plugins), appWithAdapter);
            ClassLoader loader = registry.find("greet").orElseThrow().loader();

            assertThat(Collections.list(loader.getResources(PluginClassLoader.PROVIDER_SERVICE_FILE)))
                    .singleElement().asString().contains("greet.jar");
            assertThat(registry.types()).containsExactly("greet", "other");
        }
    }

    @Test
    void callSetsThePluginsLoaderAsContextLoaderAndRestoresIt() {
        TestPlugins.providerJar(plugins.resolve("greet/greet.jar"), "greet", "plugin");
        LoadedProvider loaded = PluginRegistry.load(Optional.of(plugins), app).find("greet").orElseThrow();
        ClassLoader before = Thread.currentThread().getContextClassLoader();

        ClassLoader during = loaded.call(() -> Thread.currentThread().getContextClassLoader());

        assertThat(during).isSameAs(loaded.loader());
        assertThat(Thread.currentThread().getContextClassLoader()).isSameAs(before);
    }

    @Test
    void callRestoresTheContextLoaderWhenTheActionThrows() {
        TestPlugins.providerJar(plugins.resolve("greet/greet.jar"), "greet", "plugin");
        LoadedProvider loaded = PluginRegistry.load(Optional.of(plugins), app).find("greet").orElseThrow();
        ClassLoader before = Thread.currentThread().getContextClassLoader();

        assertThatThrownBy(() -> loaded.call(() -> loaded.provider().open(null, null)))
                .isInstanceOf(UnsupportedOperationException.class)
                .hasMessage("test provider");
        assertThat(Thread.currentThread().getContextClassLoader()).isSameAs(before);
    }

    @Test
    void aPluginFolderOverridesTheClassPathWithAWarningNamingBoth() throws IOException {
        Path cpJar = TestPlugins.providerJar(tmp.resolve("cp/greet.jar"), "greet", "class path");
        Path folder = plugins.resolve("greet");
        TestPlugins.providerJar(folder.resolve("greet.jar"), "greet", "plugin");
        ListAppender<ILoggingEvent> log = captureLog();
        try (URLClassLoader appWithAdapter = TestPlugins.appLoader(cpJar)) {
            LoadedProvider loaded = PluginRegistry.load(Optional.of(plugins), appWithAdapter)
                    .find("greet").orElseThrow();

            assertThat(loaded.source()).isEqualTo(folder.toString());
            assertThat(greetingSeenBy(loaded)).isEqualTo("plugin");
            assertThat(log.list).filteredOn(e -> e.getLevel() == Level.WARN)
                    .singleElement()
                    .extracting(ILoggingEvent::getFormattedMessage).asString()
                    .contains("greet", folder.toString(), "class path");
        } finally {
            releaseLog(log);
        }
    }

    @Test
    void twoPluginFoldersWithTheSameTypeAreAnErrorNamingBoth() {
        TestPlugins.providerJar(plugins.resolve("one/greet.jar"), "greet", "one");
        TestPlugins.providerJar(plugins.resolve("two/greet.jar"), "greet", "two");

        assertThatThrownBy(() -> PluginRegistry.load(Optional.of(plugins), app))
                .isInstanceOf(MqdbException.class)
                .hasMessageContaining("greet")
                .hasMessageContaining(plugins.resolve("one").toString())
                .hasMessageContaining(plugins.resolve("two").toString());
    }

    @Test
    void aFolderWithoutProviderIsAnErrorNamingIt() {
        TestPlugins.providerJar(plugins.resolve("greet/greet.jar"), "greet", "plugin");
        TestPlugins.libraryJar(plugins.resolve("lonely/library.jar"), "no provider");

        assertThatThrownBy(() -> PluginRegistry.load(Optional.of(plugins), app))
                .isInstanceOf(MqdbException.class)
                .hasMessageContaining(plugins.resolve("lonely").toString())
                .hasMessageContaining("no io.mqdb.spi.StoreProvider")
                .hasMessageNotContaining(plugins.resolve("greet").toString());
    }

    @Test
    void aFolderWithoutJarsIsAnError() throws IOException {
        Files.createDirectories(plugins.resolve("empty"));
        Files.writeString(plugins.resolve("empty/README.txt"), "nothing here");

        assertThatThrownBy(() -> PluginRegistry.load(Optional.of(plugins), app))
                .isInstanceOf(MqdbException.class)
                .hasMessageContaining(plugins.resolve("empty").toString())
                .hasMessageContaining("no jar files");
    }

    @Test
    void aBrokenJarIsAnErrorNamingItsFolder() throws IOException {
        TestPlugins.providerJar(plugins.resolve("broken/greet.jar"), "greet", "plugin");
        Files.write(plugins.resolve("broken/garbage.jar"), new byte[] {1, 2, 3, 4, 5});

        assertThatThrownBy(() -> PluginRegistry.load(Optional.of(plugins), app))
                .isInstanceOf(MqdbException.class)
                .hasMessageContaining(plugins.resolve("broken").toString())
                .hasMessageContaining("garbage.jar");
    }

    @Test
    void aMissingPluginsFolderIsAnError() {
        Path missing = tmp.resolve("no-such-folder");

        assertThatThrownBy(() -> PluginRegistry.load(Optional.of(missing), app))
                .isInstanceOf(MqdbException.class)
                .hasMessageContaining(missing.toString());
    }

    @Test
    void everyProblemIsReportedAtOnce() throws IOException {
        Files.createDirectories(plugins.resolve("empty"));
        TestPlugins.libraryJar(plugins.resolve("lonely/library.jar"), "no provider");

        assertThatThrownBy(() -> PluginRegistry.load(Optional.of(plugins), app))
                .hasMessageContaining(plugins.resolve("empty").toString())
                .hasMessageContaining(plugins.resolve("lonely").toString());
    }

    @Test
    void allIsSortedByTypeAndFilesBesideTheFoldersAreIgnored() throws IOException {
        Path cpJar = TestPlugins.providerJar(tmp.resolve("cp/b.jar"), "bravo", "class path");
        TestPlugins.providerJar(plugins.resolve("z-folder/c.jar"), "charlie", "c");
        TestPlugins.providerJar(plugins.resolve("y-folder/a.jar"), "alpha", "a");
        Files.writeString(plugins.resolve("README.txt"), "one folder per plugin");
        try (URLClassLoader appWithAdapter = TestPlugins.appLoader(cpJar)) {
            PluginRegistry registry = PluginRegistry.load(Optional.of(plugins), appWithAdapter);

            assertThat(registry.all()).extracting(LoadedProvider::type).containsExactly("alpha", "bravo", "charlie");
            assertThat(registry.types()).containsExactly("alpha", "bravo", "charlie");
            assertThat(registry.all()).extracting(LoadedProvider::source).containsExactly(
                    plugins.resolve("y-folder").toString(), LoadedProvider.CLASS_PATH,
                    plugins.resolve("z-folder").toString());
        }
    }

    @SuppressWarnings("unchecked")
    private static String greetingSeenBy(LoadedProvider loaded) {
        return loaded.call(((Supplier<String>) loaded.provider()));
    }

    private static ListAppender<ILoggingEvent> captureLog() {
        ListAppender<ILoggingEvent> appender = new ListAppender<>();
        appender.start();
        ((Logger) LoggerFactory.getLogger(PluginRegistry.class)).addAppender(appender);
        return appender;
    }

    private static void releaseLog(ListAppender<ILoggingEvent> appender) {
        ((Logger) LoggerFactory.getLogger(PluginRegistry.class)).detachAppender(appender);
    }
}
