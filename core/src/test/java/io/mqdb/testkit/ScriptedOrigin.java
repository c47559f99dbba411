package io.mqdb.testkit;

import io.mqdb.codec.EventCodec;
import io.mqdb.codec.Topics;
import io.mqdb.spi.ChangeEvent;
import io.mqdb.spi.Key;
import io.mqdb.spi.Op;
import io.mqdb.spi.Row;
import io.mqdb.spi.TableSchema;
import io.mqdb.spi.Version;
import io.mqdb.transport.Transport;
import io.mqdb.transport.TransportOptions;
import java.nio.charset.StandardCharsets;
import java.util.List;

/**
 * A publisher the test scripts by hand on an {@link InMemoryBroker}: it sends exactly the batches and positions of
 * the wire protocol ({@code docs/wire-format.md}, {@code docs/topics.md}) the test names, with the versions and
 * sequence numbers it chooses, so a subscriber's rules can be checked against one message at a time.
 *
 * <p>Used from the test's thread; {@link #close} closes its transport.
 */
public final class ScriptedOrigin implements AutoCloseable {
    private final String name;
    private final TableSchema schema;
    private final Topics topics = new Topics(TestCluster.CLUSTER);
    private final EventCodec codec = new EventCodec();
    private final Transport transport;

    /**
     * Connects an origin.
     *
     * @param broker the broker
     * @param name the origin's node name, the origin of its versions
     * @param schema the table it publishes, sent in every batch
     * @throws InterruptedException when interrupted while connecting
     */
    public ScriptedOrigin(InMemoryBroker broker, String name, TableSchema schema) throws InterruptedException {
        this.name = name;
        this.schema = schema;
        this.transport = broker.transport(TransportOptions.of(List.of("tcp://in-memory.invalid:1883"),
                "scripted-" + name));
        transport.start();
    }

    /**
     * @param row the row
     * @param hlc its version's clock reading
     * @param seq its sequence number on the channel, or 0 for none
     * @return an upsert of this origin
     */
    public ChangeEvent upsert(Row row, long hlc, long seq) {
        return new ChangeEvent(schema.table(), Op.UPSERT, schema.keyOf(row), row, new Version(hlc, name), seq);
    }

    /**
     * @param key the key
     * @param hlc its version's clock reading
     * @param seq its sequence number on the channel, or 0 for none
     * @return a delete of this origin
     */
    public ChangeEvent delete(Key key, long hlc, long seq) {
        return new ChangeEvent(schema.table(), Op.DELETE, key, null, new Version(hlc, name), seq);
    }

    /**
     * @param events the events, in order
     * @return the batch's payload, with the schema, as a node publishes it
     */
    public byte[] batch(ChangeEvent... events) {
        return codec.encodeBatch(name, schema, true, List.of(events));
    }

    /**
     * Publishes one batch on the channel topic and waits for the broker's PUBACK.
     *
     * @param events the events
     * @return the payload sent
     */
    public byte[] send(ChangeEvent... events) {
        byte[] payload = batch(events);
        sendRaw(payload);
        return payload;
    }

    /**
     * Publishes any payload on the channel topic (a malformed one, a copy of an earlier batch).
     *
     * @param payload the payload
     */
    public void sendRaw(byte[] payload) {
        transport.publish(topics.channel(schema.table()), payload, false).join();
    }

    /**
     * Publishes any payload on any topic and waits for the broker's PUBACK: a forged or signed control message.
     *
     * @param topic the topic
     * @param payload the payload
     * @param retained whether the broker keeps it as the topic's retained message
     */
    public void publish(String topic, byte[] payload, boolean retained) {
        transport.publish(topic, payload, retained).join();
    }

    /**
     * Publishes this origin's retained position on the channel, without a snapshot.
     *
     * @param seq the last number it published
     */
    public void position(long seq) {
        publishPosition("{\"node\":\"" + name + "\",\"channel\":\"" + schema.table() + "\",\"seq\":" + seq + "}");
    }

    /**
     * Publishes this origin's retained position on the channel with its last snapshot.
     *
     * @param seq the last number it published
     * @param startHlc the clock reading when the snapshot started
     * @param firstSeq the snapshot's first number
     * @param endSeq the snapshot's last number
     * @param done whether the snapshot completed
     */
    public void position(long seq, long startHlc, long firstSeq, long endSeq, boolean done) {
        publishPosition("{\"node\":\"" + name + "\",\"channel\":\"" + schema.table() + "\",\"seq\":" + seq
                + ",\"snapshot\":{\"startHlc\":" + startHlc + ",\"firstSeq\":" + firstSeq + ",\"endSeq\":" + endSeq
                + ",\"done\":" + done + "}}");
    }

    private void publishPosition(String json) {
        transport.publish(topics.position(name, schema.table()), json.getBytes(StandardCharsets.UTF_8), true).join();
    }

    @Override
    public void close() {
        transport.close();
    }
}
