package io.mqdb.config;

import static org.assertj.core.api.Assertions.assertThat;

import io.mqdb.codec.CodecFuzzTest;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * A mutation fuzzer for the config parser: a full, valid config damaged at random (bytes flipped, removed, repeated,
 * YAML tokens and extreme numbers swapped in), then parsed. The only exception allowed is {@link ConfigException}
 * (each problem with file, line and key); anything else fails with the seed and the input. {@code -Dfuzz.seed=N}
 * replays a run, {@code -Dfuzz.inputs=N} sizes it (default 20,000).
 */
class ConfigFuzzTest {
    private static final long SEED = Long.getLong("fuzz.seed", System.nanoTime());
    private static final int INPUTS = Integer.getInteger("fuzz.inputs", 100_000) / 5;
    private static final String VALID = """
            node: { name: node-a, cluster: shop, data-dir: /var/lib/mqdb, max-clock-skew: 30s }
            broker:
              embedded:
                port: 1884
                users:
                  b: { password: "${env:B_PW:-x}", role: node, channels: [shop:orders] }
                  w: { password: y, role: writer, channels: [ "shop:readings" ] }
              uris: [ "tcp://10.0.0.5:1883", "ssl://mq2.example:8883" ]
              username: ${env:MQTT_USER:-u}
              keep-alive: 30s
              receive-maximum: 1000
            stores:
              legacy: { type: jdbc, url: "jdbc:postgresql://db/shop", pool-size: 4 }
            channels:
              - { name: shop:orders, store: legacy, publish: true, batch-size: 500, key: [id] }
              - name: shop:readings
                store: legacy
                subscribe: true
                on-error: dead-letter
            """;

    @Test
    void damagedConfigsFailOnlyWithConfigProblems() {
        Random random = new Random(SEED);
        byte[] valid = VALID.getBytes(StandardCharsets.UTF_8);
        int parsed = 0;
        int refused = 0;
        long t0 = System.nanoTime();
        for (int i = 0; i < INPUTS; i++) {
            String yaml = new String(CodecFuzzTest.mutate(valid, random), StandardCharsets.UTF_8);
            try {
                ConfigLoader.parse(yaml, Path.of("/etc/mqdb/fuzz.yaml"), Map.of());
                parsed++;
            } catch (ConfigException expected) {
                refused++;
                assertThat(expected.getMessage()).contains("fuzz.yaml");
            } catch (RuntimeException | StackOverflowError e) {
                throw new AssertionError("input " + i + " of seed " + SEED + " threw " + e + "; input:\n" + yaml, e);
            }
        }
        long ms = (System.nanoTime() - t0) / 1_000_000;
        System.out.printf("ConfigFuzzTest: %d damaged configs (seed %d) in %d ms: %d parsed, %d refused with "
                + "ConfigException, 0 other exceptions%n", INPUTS, SEED, ms, parsed, refused);
        assertThat(refused).isPositive();
        assertThat(parsed).isPositive();
    }
}
