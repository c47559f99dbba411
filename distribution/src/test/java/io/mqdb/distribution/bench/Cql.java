package io.mqdb.distribution.bench;

import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Method;
import java.math.BigDecimal;
import java.net.InetSocketAddress;
import java.net.URL;
import java.net.URLClassLoader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import java.util.stream.Stream;

/**
 * The Cassandra driver of the tarball's {@code plugins/cassandra/} folder, driven by reflection: the benchmark's class
 * path holds no driver (the distribution module keeps adapters and their drivers out of it, as a node does). Used for
 * the raw driver's prepared-insert rate and to read rows back for the visibility check. Only public API interfaces of
 * driver 4.x are called ({@code CqlSession}, {@code PreparedStatement}, {@code AsyncResultSet}, {@code Row}).
 *
 * <p>Not thread-safe: one caller thread; the driver's own threads complete the futures.
 */
final class Cql implements AutoCloseable {
    private static final int IN_FLIGHT = 512;

    private final URLClassLoader loader;
    private final Object session;
    private final Method execute;
    private final Method prepare;
    private final Method executeAsync;
    private final Method bind;
    private final Method one;
    private final Method getLong;
    private final Method close;

    private Cql(URLClassLoader loader, Object session) throws ReflectiveOperationException {
        this.loader = loader;
        this.session = session;
        Class<?> s = loader.loadClass("com.datastax.oss.driver.api.core.CqlSession");
        Class<?> statement = loader.loadClass("com.datastax.oss.driver.api.core.cql.Statement");
        Class<?> ps = loader.loadClass("com.datastax.oss.driver.api.core.cql.PreparedStatement");
        execute = s.getMethod("execute", String.class);
        prepare = s.getMethod("prepare", String.class);
        executeAsync = s.getMethod("executeAsync", statement);
        bind = ps.getMethod("bind", Object[].class);
        one = loader.loadClass("com.datastax.oss.driver.api.core.cql.AsyncResultSet").getMethod("one");
        getLong = loader.loadClass("com.datastax.oss.driver.api.core.cql.Row").getMethod("getLong", int.class);
        close = s.getMethod("close");
    }

    /** Connects to one node with the driver from {@code pluginDir}. */
    static Cql open(Path pluginDir, String host, int port, String dc) throws Exception {
        List<URL> jars = new ArrayList<>();
        try (Stream<Path> files = Files.list(pluginDir)) {
            for (Path p : files.filter(f -> f.toString().endsWith(".jar")).toList()) {
                jars.add(p.toUri().toURL());
            }
        }
        ClassLoader bench = Cql.class.getClassLoader();
        // only the JDK and SLF4J from outside, as a plugin sees them; the driver's Netty is not HiveMQ's
        ClassLoader parent = new ClassLoader(ClassLoader.getPlatformClassLoader()) {
            @Override
            protected Class<?> loadClass(String name, boolean resolve) throws ClassNotFoundException {
                return name.startsWith("org.slf4j.") ? bench.loadClass(name) : super.loadClass(name, resolve);
            }
        };
        URLClassLoader loader = new URLClassLoader(jars.toArray(URL[]::new), parent);
        Thread t = Thread.currentThread();
        ClassLoader before = t.getContextClassLoader();
        t.setContextClassLoader(loader);
        try {
            Class<?> s = loader.loadClass("com.datastax.oss.driver.api.core.CqlSession");
            Object builder = s.getMethod("builder").invoke(null);
            Class<?> bc = builder.getClass();
            builder = bc.getMethod("addContactPoint", InetSocketAddress.class).invoke(builder,
                    new InetSocketAddress(host, port));
            builder = bc.getMethod("withLocalDatacenter", String.class).invoke(builder, dc);
            builder = bc.getMethod("withClassLoader", ClassLoader.class).invoke(builder, loader);
            // the driver's 2 s request timeout fails DDL on a busy machine
            Class<?> configLoader = loader.loadClass("com.datastax.oss.driver.api.core.config.DriverConfigLoader");
            Class<?> programmatic = loader.loadClass(
                    "com.datastax.oss.driver.api.core.config.ProgrammaticDriverConfigLoaderBuilder");
            Class<?> option = loader.loadClass("com.datastax.oss.driver.api.core.config.DriverOption");
            Object timeout = loader.loadClass("com.datastax.oss.driver.api.core.config.DefaultDriverOption")
                    .getField("REQUEST_TIMEOUT").get(null);
            Object config = configLoader.getMethod("programmaticBuilder").invoke(null);
            config = programmatic.getMethod("withDuration", option, java.time.Duration.class).invoke(config, timeout,
                    java.time.Duration.ofSeconds(30));
            builder = bc.getMethod("withConfigLoader", configLoader).invoke(builder,
                    programmatic.getMethod("build").invoke(config));
            Object session = bc.getMethod("build").invoke(builder);
            return new Cql(loader, session);
        } catch (InvocationTargetException e) {
            loader.close();
            throw new IllegalStateException("Cassandra driver: " + e.getCause(), e.getCause());
        } finally {
            t.setContextClassLoader(before);
        }
    }

    Object execute(String cql) throws Exception {
        return call(execute, session, cql);
    }

    private static Object call(Method m, Object target, Object... args) throws Exception {
        try {
            return m.invoke(target, args);
        } catch (InvocationTargetException e) {
            if (e.getCause() instanceof Exception x) {
                throw x;
            }
            throw e;
        }
    }

    @SuppressWarnings("unchecked")
    private CompletionStage<Object> async(Object prepared, Object... values) throws Exception {
        Object bound = call(bind, prepared, (Object) values);
        return (CompletionStage<Object>) call(executeAsync, session, bound);
    }

    /**
     * The raw driver's rate: prepared INSERTs of six-column rows like {@code shop.orders}, at most 512 in flight, into
     * a table of its own; {@code warm} rows first (a fresh server is several times slower at first), then
     * {@code rows} rows timed.
     *
     * @return rows per second of the timed part
     */
    double rawInsertRate(int rows, int warm) throws Exception {
        execute("CREATE KEYSPACE IF NOT EXISTS bench_raw WITH replication = {'class': 'SimpleStrategy',"
                + " 'replication_factor': 1}");
        execute("DROP TABLE IF EXISTS bench_raw.orders");
        execute("CREATE TABLE bench_raw.orders (id bigint PRIMARY KEY, customer text, amount decimal, status text,"
                + " updated_at bigint, src_us bigint)");
        Object insert = call(prepare, session, "INSERT INTO bench_raw.orders (id, customer, amount, status,"
                + " updated_at, src_us) VALUES (?, ?, ?, ?, ?, ?)");
        insertRows(insert, 1, warm);
        long t0 = System.nanoTime();
        insertRows(insert, warm + 1, warm + rows);
        return rows / MqdbBench.secondsSince(t0);
    }

    /** Writes that timed out on the server and were sent again (an overloaded node answers WriteTimeout). */
    final java.util.concurrent.atomic.AtomicLong retries = new java.util.concurrent.atomic.AtomicLong();

    private void insertRows(Object insert, long from, long to) throws Exception {
        Semaphore permits = new Semaphore(IN_FLIGHT);
        AtomicReference<Throwable> failure = new AtomicReference<>();
        for (long id = from; id <= to && failure.get() == null; id++) {
            permits.acquire();
            insertOne(insert, id, permits, failure, 1);
        }
        if (!permits.tryAcquire(IN_FLIGHT, 120, TimeUnit.SECONDS)) {
            throw new IllegalStateException("Cassandra inserts still in flight after two minutes");
        }
        if (failure.get() != null) {
            throw new IllegalStateException("Cassandra insert failed: " + failure.get(), failure.get());
        }
    }

    /** One insert holding one permit until it succeeded or failed 5 times. */
    private void insertOne(Object insert, long id, Semaphore permits, AtomicReference<Throwable> failure,
                           int attempt) {
        long us = System.currentTimeMillis() * 1000;
        CompletionStage<Object> done;
        try {
            done = async(insert, id, "customer " + id % 997, BigDecimal.valueOf(id % 100_000, 2), "new", us, us);
        } catch (Exception e) {
            failure.compareAndSet(null, e);
            permits.release();
            return;
        }
        done.whenComplete((r, e) -> {
            if (e == null) {
                permits.release();
            } else if (attempt < 5) {
                retries.incrementAndGet();
                insertOne(insert, id, permits, failure, attempt + 1);
            } else {
                failure.compareAndSet(null, e);
                permits.release();
            }
        });
    }

    /** Reads {@code src_us} of {@code "shop"."orders"} rows (the table mqdb creates), 512 reads in flight. */
    Headline.Visibility visibility() {
        return new Headline.Visibility() {
            private Object select;

            @Override
            public void check(long[] ids, long[] src, int n, boolean[] ok) throws Exception {
                java.util.Arrays.fill(ok, 0, n, false);
                if (select == null) {
                    try {
                        select = call(prepare, session, "SELECT src_us FROM \"shop\".\"orders\" WHERE id = ?");
                    } catch (Exception e) {
                        return; // the node has not created the table yet
                    }
                }
                // 256 reads in flight; a read that fails (a timeout on a busy machine) is "not seen yet": the
                // next pass reads the row again
                for (int from = 0; from < n; from += 256) {
                    int to = Math.min(n, from + 256);
                    List<CompletableFuture<Object>> rs = new ArrayList<>(to - from);
                    for (int i = from; i < to; i++) {
                        rs.add(async(select, ids[i]).toCompletableFuture());
                    }
                    for (int i = from; i < to; i++) {
                        try {
                            Object row = call(one, rs.get(i - from).get(60, TimeUnit.SECONDS));
                            ok[i] = row != null && (long) call(getLong, row, 0) == src[i];
                        } catch (java.util.concurrent.ExecutionException e) {
                            ok[i] = false;
                        }
                    }
                }
            }

            @Override
            public String describe(long id) throws Exception {
                Object row = select == null ? null : call(one, async(select, id).toCompletableFuture()
                        .get(60, TimeUnit.SECONDS));
                return row == null ? "no row" : "src_us " + call(getLong, row, 0);
            }

            @Override
            public void close() {
                // the session belongs to the Cql instance
            }
        };
    }

    @Override
    public void close() throws Exception {
        try {
            call(close, session);
        } finally {
            loader.close();
        }
    }
}
