package io.mqdb.spi;

import java.util.List;

/**
 * The optional ability of a {@link Store} to list and remove what its {@link ChangeCapture} installed inside the
 * database it points at (triggers, functions, a change-log table), so that a database can be left as it was found.
 * A store has it when its class implements this interface; the runtime finds it with {@code instanceof}.
 *
 * <h2>Who calls, when, on which thread</h2>
 * Only the {@code mqdb uninstall} command, on its main thread, on a store it opened for this purpose alone: no node
 * uses the store meanwhile. Stop every node publishing from the database first, or its capture installs everything
 * again when it next enables a table. {@link #installed()} first, then, when the user confirmed,
 * {@link #uninstall()} once; then {@link Store#close()}.
 */
public interface CaptureInstallation {

    /**
     * Reads what is installed now; changes nothing.
     *
     * @return one line per installed object, e.g. {@code trigger "mqdb_t_shop_items" on "shop"."items"} or
     *     {@code table "public"."mqdb_changelog"}; empty when nothing is installed
     * @throws MqdbException when the database cannot be read
     */
    List<String> installed();

    /**
     * Removes everything {@link #installed()} lists. Idempotent: removing what is already gone is not an error.
     * Changes made to the tables afterwards are no longer captured, and changes captured but not yet published are
     * lost.
     *
     * @throws MqdbException when the database refuses (privileges, say)
     */
    void uninstall();
}
