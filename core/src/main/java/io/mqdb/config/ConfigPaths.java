package io.mqdb.config;

/** Builds key paths for {@link Location}s. */
final class ConfigPaths {
    private ConfigPaths() {
    }

    /**
     * @param parent a key path, possibly empty
     * @param child a key, or an index written {@code [n]}
     * @return {@code parent.child}, {@code parent[n]}, or the child alone when the parent is empty
     */
    static String join(String parent, String child) {
        if (parent.isEmpty()) {
            return child;
        }
        return child.startsWith("[") ? parent + child : parent + "." + child;
    }
}
