package io.mqdb.codec;

import io.mqdb.spi.TableSchema;
import java.util.List;
import java.util.Objects;
import java.util.Optional;

/**
 * One decoded MQTT payload: the envelope of a change batch, its events' values not yet decoded. Produced by
 * {@link EventCodec#decode}; the events become {@link io.mqdb.spi.ChangeEvent}s one by one with
 * {@link EventCodec#toEvent}, so one bad event can be dead-lettered without losing the rest of the batch.
 *
 * @param version the wire format version: {@link EventCodec#VERSION} (JSON) or {@link EventCodec#BINARY_VERSION}
 * @param origin the publishing node or client, or null when the payload names none
 * @param schema the table's schema when the publisher embedded it; always present in the binary form
 * @param events the events in payload order; unmodifiable
 */
public record WireBatch(int version, String origin, Optional<TableSchema> schema, List<WireEvent> events) {
    /** Copies the event list. */
    public WireBatch {
        Objects.requireNonNull(schema, "schema");
        events = List.copyOf(events);
    }
}
