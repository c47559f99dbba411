/**
 * Dead letters: {@link io.mqdb.node.deadletter.DeadLetters} writes each event that can never be applied, with its
 * reason, to {@code <data-dir>/dead-letters/<schema>.<table>.jsonl} and the dead-letter topic. The CLI reads those
 * files ({@code io.mqdb.cli.DeadLetterFiles}, docs/dead-letters.md).
 *
 * <p><b>Internal</b>: may change between versions; the file format is what docs/dead-letters.md documents. Public
 * for the node, which creates it, and the appliers, which {@code record} to it.
 *
 * <h2>Threads</h2>
 * Thread-safe: every apply thread records to the node's one instance.
 */
package io.mqdb.node.deadletter;
