package io.mqdb.transport;

/** Builds the {@link Transport} of the client library the options name. */
public final class Transports {
    private Transports() {}

    /**
     * Creates a transport; nothing connects before {@link Transport#start()}. Called by the node and by the CLI
     * commands that talk to the broker, on their start-up thread.
     *
     * @param options the validated options; {@link TransportOptions#client()} picks the library
     * @return a new, not yet started transport
     */
    public static Transport open(TransportOptions options) {
        return switch (options.client()) {
            case HIVEMQ -> new HiveMqTransport(options);
            case PAHO -> new PahoTransport(options);
        };
    }
}
