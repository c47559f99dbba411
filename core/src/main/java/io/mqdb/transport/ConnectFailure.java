package io.mqdb.transport;

import javax.net.ssl.SSLException;

/**
 * Why an attempt to connect to a broker failed, sorted into what retrying can cure (the broker is down, the network
 * is out) and what it cannot (the broker refused the credentials or the client id, the TLS handshake failed): the
 * latter is logged as an ERROR naming the broker and the cause, and ends a transport's {@code start()} after
 * {@link #START_ATTEMPTS} rounds of the broker list, so {@code mqdb run} exits instead of waiting for ever. A node
 * that was connected once keeps retrying, logging each refusal as an ERROR. Shared by both transports; immutable.
 *
 * @param fatal whether retrying cannot help (until someone changes the credentials, the certificates or the broker)
 * @param description what happened, for the log: never a password
 */
record ConnectFailure(boolean fatal, String description) {
    /** How many rounds of the broker list may end in refusals before {@code start()} gives up. */
    static final int START_ATTEMPTS = 3;

    /**
     * @param e what the client library threw
     * @param connAckReasonCode the MQTT 5 CONNACK reason code when the broker answered with a refusal, else 0
     * @return the failure, sorted
     */
    static ConnectFailure of(Throwable e, int connAckReasonCode) {
        switch (connAckReasonCode) {
            case 0x85:
                return new ConnectFailure(true, "the broker refused the client id (CONNACK 0x85, client identifier "
                        + "not valid)");
            case 0x86:
                return new ConnectFailure(true, "the broker refused the user name or password (CONNACK 0x86); check "
                        + "broker.username and broker.password");
            case 0x87:
                return new ConnectFailure(true, "the broker refused the connection as not authorized (CONNACK 0x87); "
                        + "check broker.username, broker.password and the broker's rules for this client id");
            case 0x8A:
                return new ConnectFailure(true, "the broker banned this client (CONNACK 0x8A)");
            case 0x8C:
                return new ConnectFailure(true, "the broker refused the authentication method (CONNACK 0x8C)");
            default:
                break;
        }
        for (Throwable t = e; t != null; t = t.getCause() == t ? null : t.getCause()) {
            if (t instanceof SSLException) {
                return new ConnectFailure(true, "TLS failed: " + t.getMessage() + "; check broker.tls (ca-file, "
                        + "cert-file, key-file, verify-hostname) and the broker's certificate");
            }
        }
        Throwable cause = e.getCause();
        return new ConnectFailure(false, cause == null || cause == e ? e.toString() : e + ", " + cause);
    }
}
