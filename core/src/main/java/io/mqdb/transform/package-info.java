/**
 * Transforms per channel ({@code transform:} in a channel's YAML, {@code docs/transforms.md}): which columns reach
 * the target and under which names, computed columns, a filter, and the Redis key pattern and time to live, with
 * expressions in CEL (the Common Expression Language); on a published channel, the filter alone, run by the
 * publisher (the same {@link io.mqdb.transform.EventTransformer}, reading its own store for partial rows).
 *
 * <ul>
 *   <li>{@link io.mqdb.transform.CelValues}: the one mapping between mqdb's column types and values and CEL's;</li>
 *   <li>{@link io.mqdb.transform.ExpressionCompiler}: parses and type-checks an expression once, at start-up,
 *   against the channel's declared source columns ({@link io.mqdb.transform.ExpressionException} when it cannot);</li>
 *   <li>{@link io.mqdb.transform.RowExpression}: a compiled expression, evaluated on a row;</li>
 *   <li>{@link io.mqdb.transform.ChannelTransform}: a channel's compiled transform: the target schema it makes from
 *   the publisher's, and what it makes of one change given the row's full state;</li>
 *   <li>{@link io.mqdb.transform.EventTransformer}: runs a channel's transform over the events of one apply batch,
 *   finding the full state of rows that an update carries only in part.</li>
 * </ul>
 *
 * <p><b>Internal</b>: may change between versions. Imports only {@code io.mqdb.spi} and CEL; {@code io.mqdb.config}
 * builds a {@code ChannelTransform} while it reads the file, so every problem is reported with file, line and key.
 *
 * <h2>Threads</h2>
 * Compiling runs on the config-reading thread. {@code ChannelTransform} and {@code RowExpression} are immutable and
 * thread-safe (CEL programs are); an {@code EventTransformer} belongs to one channel's apply thread, or to the
 * capture thread of a published channel's store.
 */
package io.mqdb.transform;
