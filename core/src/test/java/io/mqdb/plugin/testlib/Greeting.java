package io.mqdb.plugin.testlib;

/**
 * A "library" class on the test class path. The plugin jars built by {@link io.mqdb.plugin.TestPlugins} carry a
 * class of the same name that answers differently, so a test can tell which copy a class loader sees.
 */
public final class Greeting {
    private Greeting() {
    }

    /** @return {@code "app"}; the plugins' copies return something else */
    public static String hello() {
        return "app";
    }
}
