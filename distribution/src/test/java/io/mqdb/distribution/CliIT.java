package io.mqdb.distribution;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The {@code bin/mqdb} command line from the built tarball: help, exit codes, config checking, plugins. */
class CliIT {
    @TempDir
    static Path dir;
    private static Path home;

    @BeforeAll
    static void unpack() throws Exception {
        home = Tarball.unpacked(dir.resolve("dist"));
    }

    private static BinMqdb.Result mqdb(String... args) throws IOException, InterruptedException {
        return BinMqdb.run(home, dir, 60, args);
    }

    @Test
    void helpIsAvailableForEveryCommand() throws Exception {
        BinMqdb.Result r = mqdb("--help");
        assertThat(r.exit()).isZero();
        assertThat(r.out()).contains("run", "check-config", "plugins", "demo", "status", "verify");
        for (String c : List.of("run", "check-config", "plugins", "demo", "status", "verify")) {
            assertThat(mqdb(c, "--help").exit()).as(c + " --help").isZero();
        }
    }

    @Test
    void theDemoSyncsALegacySqliteDatabaseIntoMapDbAndFollowsItsChanges() throws Exception {
        BinMqdb.Result r = mqdb("demo", "--rows", "3000", "--follow", "3", "--dir", dir.resolve("demo").toString());
        System.out.println(r.out());
        assertThat(r.exit()).as(r.out() + r.err()).isZero();
        assertThat(r.out()).contains("created legacy.db with 3,000 sample orders")
                .contains("synced: mirror holds all 3,000 rows of legacy.db, identical")
                .contains("changes made by the simulated legacy application")
                .containsPattern("identical: legacy.db [0-9,]+ rows, mirror [0-9,]+ rows");
    }

    @Test
    void statusPrintsNoInfoLinesAndExitsWithOneWhenTheBrokerIsNotThere() throws Exception {
        int port = io.mqdb.testing.ServerFixture.freePort();
        BinMqdb.Result r = mqdb("status", "--broker", "tcp://127.0.0.1:" + port, "--timeout", "3");
        System.out.println(r.out() + r.err());
        assertThat(r.exit()).isEqualTo(1);
        assertThat(r.err()).contains("cannot connect to [tcp://127.0.0.1:" + port + "] within 3 s");
        assertThat(r.out()).as("standard output: the transport's INFO lines on its connect attempts").isEmpty();
        assertThat(mqdb("status").exit()).as("no broker given").isEqualTo(2);
    }

    @Test
    void usageErrorsExitWithTwo() throws Exception {
        assertThat(mqdb().exit()).isEqualTo(2);
        assertThat(mqdb("run").exit()).isEqualTo(2);
        assertThat(mqdb("no-such-command").exit()).isEqualTo(2);
    }

    @Test
    void pluginsListsTheAdaptersOfThePluginsFolder() throws Exception {
        BinMqdb.Result r = mqdb("plugins", "-v");
        assertThat(r.exit()).isZero();
        assertThat(r.out()).contains("mapdb", "jdbc", "redis", "cassandra", home.resolve("plugins").toString(), "file");
        assertThat(r.out() + r.err()).as("the answer alone, no log lines in front").doesNotContain(" INFO ");
    }

    @Test
    void theShippedConfigIsValid() throws Exception {
        BinMqdb.Result r = mqdb("check-config", home.resolve("conf/mqdb.yaml").toString());
        assertThat(r.exit()).as(r.err()).isZero();
        assertThat(r.out()).contains("OK");
        assertThat(r.out() + r.err()).as("the answer alone, no log lines in front").doesNotContain(" INFO ");
    }

    @Test
    void aConfigWithATypoAnUnknownTypeAndABadChannelGetsOneMessagePerProblem() throws Exception {
        Path bad = dir.resolve("bad.yaml");
        Files.writeString(bad, """
                node:
                  name: node-a
                stores:
                  local:
                    type: mapdb
                  cache:
                    type: memcache
                channels:
                  - name: shop:orders
                    store: local
                    pubish: true
                  - name: orders
                    store: local
                    subscribe: true
                """);
        BinMqdb.Result r = mqdb("check-config", bad.toString());
        System.out.println(r.err());
        assertThat(r.exit()).isEqualTo(2);
        assertThat(r.err()).contains("3 problems in " + bad)
                .contains("bad.yaml:7: stores.cache.type: unknown store type \"memcache\"; installed types: "
                        + "cassandra, jdbc, mapdb, redis")
                .contains("bad.yaml:11: channels[0].pubish: unknown key \"pubish\"")
                .contains("did you mean \"publish\"?")
                .contains("bad.yaml:12: channels[1].name: expected schema:table, got \"orders\"");
        assertThat(mqdb("run", "--config", bad.toString()).exit()).isEqualTo(2);
    }
}
