package io.mqdb.transport;

/** Builds the {@link Transport} the options ask for: the client library they name, in their broker mode. */
public final class Transports {
    private Transports() {}

    /**
     * Creates a transport; nothing connects before {@link Transport#start()}. Called by the node and by the CLI
     * commands that talk to the broker, on their start-up thread.
     *
     * @param options the validated options; {@link TransportOptions#client()} picks the library, and
     *     {@link TransportOptions#mode()} {@link BrokerMode#MIRROR} with more than one broker a
     *     {@link MirrorTransport} over one such transport per broker
     * @return a new, not yet started transport
     */
    public static Transport open(TransportOptions options) {
        if (options.mode() == BrokerMode.MIRROR && options.brokerUris().size() > 1) {
            return new MirrorTransport(options, Transports::single);
        }
        return single(options);
    }

    private static Transport single(TransportOptions options) {
        return switch (options.client()) {
            case HIVEMQ -> new HiveMqTransport(options);
            case PAHO -> new PahoTransport(options);
        };
    }
}
