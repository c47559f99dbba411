package io.mqdb;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.Set;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;

/**
 * MapDB 3.1.0 (core's version index) asks for eclipse-collections [7,10.10.90); core's pom excludes that range so
 * core, and all that depends on it, keeps the 11.1.0 HiveMQ's embedded broker was built with. Fails when a new
 * dependency brings the hard range back, or a second Netty version.
 */
class CoreClasspathTest {
    @Test
    void coreResolvesTheEclipseCollectionsHiveMqWasBuiltWith() throws Exception {
        Class<?> mapDbUses = Class.forName("org.eclipse.collections.impl.map.mutable.primitive.LongLongHashMap");
        String jar = mapDbUses.getProtectionDomain().getCodeSource().getLocation().getPath();
        assertThat(jar).as("the eclipse-collections jar on core's class path").contains("11.1.0");
    }

    /** The HiveMQ MQTT client and the embedded HiveMQ CE each declare a Netty; the root pom pins one for both. */
    @Test
    void everyNettyModuleHasTheSameVersion() {
        Set<String> versions = io.netty.util.Version.identify().values().stream()
                .map(io.netty.util.Version::artifactVersion).collect(Collectors.toSet());
        assertThat(io.netty.util.Version.identify()).containsKeys("netty-common", "netty-transport",
                "netty-codec-http");
        assertThat(versions).as("Netty versions on core's class path: " + io.netty.util.Version.identify())
                .hasSize(1);
    }
}
