/**
 * Observability of a running node: its lag per subscribed channel ({@link io.mqdb.observe.Lag}, the arithmetic
 * {@code mqdb status} shares), the applied positions it keeps retained on the broker
 * ({@code mqdb/<cluster>/applied/<schema>/<table>/<node>}), its Micrometer metrics and the optional HTTP listener
 * ({@code node.http}) serving {@code /metrics} (Prometheus text), {@code /health} and {@code /ready}.
 * {@code docs/operations.md} lists every metric.
 *
 * <p><b>Internal</b>, except the metric names, the endpoints and the applied-position format, which are documented
 * and kept stable. {@link io.mqdb.observe.NodeObserver} is public for the node's assembly, {@code Lag} for the CLI.
 *
 * <h2>Threads</h2>
 * One scheduler thread per node, {@code observe-<node>}, publishes the applied positions once a second (when they
 * changed). With {@code node.http}, the JDK's HTTP server runs its own dispatcher thread and hands each request to one
 * handler thread, {@code http-<node>}. Both are started by {@link io.mqdb.observe.NodeObserver#start} and stopped by
 * its {@code close}.
 */
package io.mqdb.observe;
