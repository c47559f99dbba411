package io.mqdb.plugin;

/**
 * Makes a class loader the current thread's context class loader until {@link #close()} restores the previous one;
 * for calls into an adapter that were not started through {@link LoadedProvider#call} (JDBC drivers, Netty and
 * friends look up classes there). Use it in {@code try}-with-resources, on the thread that opened it.
 */
public final class LoaderSwap implements AutoCloseable {
    private final Thread thread;
    private final ClassLoader previous;

    private LoaderSwap(ClassLoader loader) {
        this.thread = Thread.currentThread();
        this.previous = thread.getContextClassLoader();
        thread.setContextClassLoader(loader);
    }

    /**
     * @param loader the adapter's class loader
     * @return the swap, to close in the same thread
     */
    public static LoaderSwap to(ClassLoader loader) {
        return new LoaderSwap(loader);
    }

    /** Restores the previous context class loader. */
    @Override
    public void close() {
        thread.setContextClassLoader(previous);
    }
}
