/**
 * Last-writer-wins bookkeeping: the newest version held per key, tombstones, and the per-origin sequence counters
 * committed with them. Internal to the runtime; free to change.
 */
package io.mqdb.version;
