package io.mqdb.fault;

import java.nio.file.Path;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.io.TempDir;

/** What the tests of a {@link PgToRedisFlow} share: its folder, and stopping it after each test, failed or not. */
abstract class PgToRedisFaultTest {
    @TempDir
    Path dir;
    PgToRedisFlow flow;

    @AfterEach
    void stopFlow() {
        if (flow != null) {
            flow.close();
        }
    }
}
