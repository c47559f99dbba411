package io.mqdb.config;

import io.mqdb.spi.TableId;
import java.util.List;
import java.util.Locale;
import java.util.Objects;
import java.util.Optional;

/**
 * One client the embedded broker lets in, from {@code broker.embedded.users}: its user name and password, and what
 * its role allows it to publish and subscribe (docs/security.md). Immutable.
 *
 * @param username the MQTT user name
 * @param password the password, usually from {@code ${env:...}} or {@code ${file:...}}
 * @param role what the client is: another mqdb node, a plain writer, or a reader
 * @param node for {@link Role#NODE}: the node's name (its own presence, position, dead-letter and client-id space);
 *     the user name when not given. Empty for the other roles
 * @param channels the channels it may publish ({@link Role#WRITER}, required) or read ({@link Role#READER}); for a
 *     {@link Role#NODE}, the channels whose changes it may publish; empty means every channel (not allowed for a
 *     writer)
 */
public record BrokerUser(String username, Secret password, Role role, Optional<String> node,
        List<TableId> channels) {

    /** What a client of the embedded broker may do. */
    public enum Role {
        /**
         * An mqdb node: publishes changes of its channels, its own presence, positions and dead letters, resend
         * requests and direct catch-up messages; subscribes to the cluster's topics.
         */
        NODE,
        /** A plain MQTT client writing changes into the channels it is given; subscribes to the schemas only. */
        WRITER,
        /** A client reading the cluster's topics (changes of its channels, schemas, presences, positions, dead letters). */
        READER;

        /** @return the setting's spelling: {@code node}, {@code writer} or {@code reader} */
        public String text() {
            return name().toLowerCase(Locale.ROOT);
        }
    }

    /** Rejects nulls, a node name on a non-node role and a writer without channels. */
    public BrokerUser {
        Objects.requireNonNull(username, "username");
        Objects.requireNonNull(password, "password");
        Objects.requireNonNull(role, "role");
        Objects.requireNonNull(node, "node");
        channels = List.copyOf(channels);
        if (role != Role.NODE && node.isPresent()) {
            throw new IllegalArgumentException("user " + username + ": only a node has a node name");
        }
        if (role == Role.WRITER && channels.isEmpty()) {
            throw new IllegalArgumentException("user " + username + ": a writer needs its channels");
        }
    }

    /** @return the node's name for a {@link Role#NODE} (its {@link #node()}, else the user name); empty otherwise */
    public Optional<String> nodeName() {
        return role == Role.NODE ? Optional.of(node.orElse(username)) : Optional.empty();
    }

    /** Hides the password. */
    @Override
    public String toString() {
        return "BrokerUser[" + username + ", " + role.text() + nodeName().map(n -> " " + n).orElse("")
                + (channels.isEmpty() ? "" : " " + channels) + "]";
    }
}
