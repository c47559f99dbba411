/**
 * Signed node messages: the envelope every node message travels in when {@code node.signing} is on
 * ({@link io.mqdb.signing.Envelope}, {@code docs/wire-format.md}), the node's Ed25519 key and the cluster's trust list
 * ({@link io.mqdb.signing.Keys}, {@link io.mqdb.signing.TrustList}), and {@link io.mqdb.signing.Signing}, which seals
 * what a node publishes and opens what it receives. JDK crypto only ({@code java.security}, EdDSA since Java 15).
 *
 * <p>Internal: free to change, apart from the envelope's bytes, which other nodes read.
 */
package io.mqdb.signing;
