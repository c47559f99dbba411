package io.mqdb.config;

import io.mqdb.transform.ChannelTransform;
import java.util.Objects;
import java.util.Optional;

/**
 * A channel's {@code transform:} (on a published channel only its source and filter), compiled while the file was
 * read ({@code docs/transforms.md}), with
 * where its parts were written, for the checks the runtime makes once the channel's store is open (a {@code key} or
 * {@code ttl} on a store that cannot honour it). Immutable.
 *
 * @param transform the compiled transform
 * @param location where {@code transform:} is written
 * @param keyAt where {@code transform.key} is written, if it is
 * @param ttlAt where {@code transform.ttl} is written, if it is
 */
public record TransformConfig(ChannelTransform transform, Location location, Optional<Location> keyAt,
                              Optional<Location> ttlAt) {
    /** Rejects nulls. */
    public TransformConfig {
        Objects.requireNonNull(transform, "transform");
        Objects.requireNonNull(location, "location");
        Objects.requireNonNull(keyAt, "keyAt");
        Objects.requireNonNull(ttlAt, "ttlAt");
    }
}
