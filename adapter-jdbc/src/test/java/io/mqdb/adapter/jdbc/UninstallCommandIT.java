package io.mqdb.adapter.jdbc;

import static org.assertj.core.api.Assertions.assertThat;

import io.mqdb.cli.Main;
import io.mqdb.spi.Column;
import io.mqdb.spi.ColumnType;
import io.mqdb.spi.Setting;
import io.mqdb.spi.Store;
import io.mqdb.spi.StoreConfig;
import io.mqdb.spi.StoreContext;
import io.mqdb.spi.StoreProvider;
import io.mqdb.spi.TableId;
import io.mqdb.spi.TableSchema;
import io.mqdb.testing.PostgresServer;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.lang.reflect.Proxy;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code mqdb uninstall} against PostgreSQL: lists the capture's triggers, functions and change log, removes them. */
class UninstallCommandIT {
    @TempDir
    Path dir;
    private final PostgresServer pg = PostgresServer.shared();

    @Test
    void listsThenRemovesTriggersFunctionsAndChangeLog() throws Exception {
        String url = pg.createDatabase("mqdb_uninstall");
        sql(url, "DROP SCHEMA IF EXISTS shop CASCADE", "DROP TABLE IF EXISTS public.mqdb_changelog");
        try (Store store = PostgresStoreIT.open(url, Map.of())) {
            for (String name : List.of("orders", "items")) {
                TableId id = new TableId("shop", name);
                store.ensureTable(new TableSchema(id, List.of(new Column("id", ColumnType.INT64, false),
                        Column.of("name", ColumnType.STRING)), List.of("id")));
                store.capture().orElseThrow().enable(id);
            }
        }
        assertThat(count(url, "SELECT count(*) FROM pg_trigger WHERE tgname LIKE 'mqdb%'")).isEqualTo(2);
        Path config = dir.resolve("mqdb.yaml");
        Files.writeString(config, """
                node: { name: n, data-dir: data }
                stores:
                  pg: { type: jdbc, url: "%s", username: "%s"%s }
                  other: { type: no-installation }
                channels: [ { name: shop:items, store: pg, publish: true } ]
                """.formatted(url, pg.user(), pg.password().isEmpty() ? "" : ", password: \"" + pg.password()
                + "\""));

        Run listed = mqdb("uninstall", "--config", config.toString(), "--store", "pg");
        assertThat(listed.code).isZero();
        assertThat(listed.out).contains("mqdb installed 5 object(s)", "trigger \"mqdb_t_shop_items\" on \"shop\".\"items\"",
                "function \"public\".\"mqdb_f_shop_orders\"()", "table \"public\".\"mqdb_changelog\"",
                "run again with --yes");
        assertThat(count(url, "SELECT count(*) FROM pg_trigger WHERE tgname LIKE 'mqdb%'")).isEqualTo(2);

        Run removed = mqdb("uninstall", "--config", config.toString(), "--store", "pg", "--yes");
        assertThat(removed.code).isZero();
        assertThat(removed.out).contains("removed 5 object(s)");
        assertThat(count(url, "SELECT count(*) FROM pg_trigger WHERE tgname LIKE 'mqdb%'")).isZero();
        assertThat(count(url, "SELECT count(*) FROM pg_proc WHERE proname LIKE 'mqdb%'")).isZero();
        assertThat(count(url, "SELECT count(*) FROM pg_class WHERE relname LIKE 'mqdb_changelog%'")).isZero();
        sql(url, "INSERT INTO shop.items (id, name) VALUES (1, 'no trigger left to fail')");

        Run again = mqdb("uninstall", "--config", config.toString(), "--store", "pg", "--yes");
        assertThat(again.code).isZero();
        assertThat(again.out).contains("nothing installed by mqdb");

        Run unable = mqdb("uninstall", "--config", config.toString(), "--store", "other");
        assertThat(unable.code).isEqualTo(1);
        assertThat(unable.err).contains("store other (type no-installation)", "has no uninstall");
        System.out.println(listed.out + removed.out + unable.err);
    }

    /** What one command printed, and its exit code. */
    private record Run(int code, String out, String err) {
    }

    private static Run mqdb(String... args) {
        PrintStream out = System.out;
        PrintStream err = System.err;
        ByteArrayOutputStream o = new ByteArrayOutputStream();
        ByteArrayOutputStream e = new ByteArrayOutputStream();
        System.setOut(new PrintStream(o, true, StandardCharsets.UTF_8));
        System.setErr(new PrintStream(e, true, StandardCharsets.UTF_8));
        int code;
        try {
            code = Main.execute(args);
        } finally {
            System.setOut(out);
            System.setErr(err);
        }
        return new Run(code, o.toString(StandardCharsets.UTF_8), e.toString(StandardCharsets.UTF_8));
    }

    private void sql(String url, String... statements) throws SQLException {
        try (Connection c = DriverManager.getConnection(url, pg.user(), pg.password());
             Statement st = c.createStatement()) {
            for (String s : statements) {
                st.execute(s);
            }
        }
    }

    private long count(String url, String query) throws SQLException {
        try (Connection c = DriverManager.getConnection(url, pg.user(), pg.password());
             Statement st = c.createStatement(); ResultSet rs = st.executeQuery(query)) {
            rs.next();
            return rs.getLong(1);
        }
    }

    /** A store type without {@link io.mqdb.spi.CaptureInstallation}; listed in this module's test services file. */
    public static final class NoInstallationProvider implements StoreProvider {
        @Override
        public String type() {
            return "no-installation";
        }

        @Override
        public List<Setting> settings() {
            return List.of();
        }

        @Override
        public Store open(StoreConfig config, StoreContext context) {
            return (Store) Proxy.newProxyInstance(Store.class.getClassLoader(), new Class<?>[] {Store.class},
                    (proxy, method, args) -> switch (method.getName()) {
                        case "describeTarget" -> "nowhere";
                        case "capture" -> Optional.empty();
                        case "close" -> null;
                        default -> throw new UnsupportedOperationException(method.getName());
                    });
        }
    }
}
