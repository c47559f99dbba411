package io.mqdb.plugin;

import io.mqdb.spi.StoreProvider;
import java.util.Objects;
import java.util.function.Supplier;

/**
 * A store provider together with the class loader it came from.
 *
 * @param provider the provider
 * @param loader the class loader of its adapter: a {@link PluginClassLoader}, or the application's loader for a
 *     provider on the class path
 * @param source where it was found, for messages: {@value #CLASS_PATH} or the plugin folder's path
 */
public record LoadedProvider(StoreProvider provider, ClassLoader loader, String source) {

    /** The {@link #source} of a provider found on the application's class path. */
    public static final String CLASS_PATH = "class path";

    /** Rejects nulls. */
    public LoadedProvider {
        Objects.requireNonNull(provider, "provider");
        Objects.requireNonNull(loader, "loader");
        Objects.requireNonNull(source, "source");
    }

    /** @return the provider's type, as in config ({@code type: mapdb}) */
    public String type() {
        return provider.type();
    }

    /**
     * Calls into the adapter with its class loader as the thread's context class loader, restoring the previous one
     * afterwards, also when the action throws. Every call into a provider or a store it opened goes through here or
     * does the same.
     *
     * @param action the call, on the current thread
     * @param <T> what it returns
     * @return what the action returned
     */
    public <T> T call(Supplier<T> action) {
        try (LoaderSwap swap = LoaderSwap.to(loader)) {
            return action.get();
        }
    }

    /**
     * Like {@link #call}, for an action that returns nothing.
     *
     * @param action the call, on the current thread
     */
    public void run(Runnable action) {
        call(() -> {
            action.run();
            return null;
        });
    }

    @Override
    public String toString() {
        return provider.type() + " (" + provider.getClass().getName() + ", " + source + ")";
    }
}
