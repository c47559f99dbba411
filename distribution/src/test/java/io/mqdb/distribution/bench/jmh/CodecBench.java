package io.mqdb.distribution.bench.jmh;

import io.mqdb.codec.CodecLimits;
import io.mqdb.codec.EventCodec;
import io.mqdb.codec.WireBatch;
import io.mqdb.codec.WireEvent;
import io.mqdb.codec.WireForm;
import io.mqdb.spi.ChangeEvent;
import io.mqdb.spi.TableSchema;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OperationsPerInvocation;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.infra.Blackhole;

/**
 * The wire codec on one batch of {@value Batches#SIZE} upserts of an 11-column row (the PostgreSQL → Redis table's
 * types): what a publishing node spends encoding and a subscribing node decoding, per event. {@code encodeBatch} and
 * {@code decodeToEvents} measure the form nodes publish by default (binary, wire format version 2); the {@code ...Json}
 * twins the JSON form (version 1), which plain MQTT clients write and every node still reads. Setup prints the bytes
 * per event of each. Run by {@code scripts/bench.sh}, never by the tests.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
public class CodecBench {
    private final EventCodec codec = new EventCodec();
    private final EventCodec json = new EventCodec(WireForm.JSON, CodecLimits.DEFAULTS);
    private TableSchema schema;
    private List<ChangeEvent> events;
    private byte[] payload;
    private byte[] jsonPayload;

    @Setup
    public void setUp() {
        schema = Batches.ordersSchema();
        events = Batches.orders(1);
        payload = codec.encodeBatch("bench", schema, events);
        jsonPayload = json.encodeBatch("bench", schema, events);
        System.out.printf("%nCodecBench: %d bytes per batch of %d binary (%d per event), %d JSON (%d per event)%n",
                payload.length, Batches.SIZE, payload.length / Batches.SIZE, jsonPayload.length,
                jsonPayload.length / Batches.SIZE);
    }

    /** Encoding a batch with its schema, as the publisher sends it (binary). */
    @Benchmark
    @OperationsPerInvocation(Batches.SIZE)
    public byte[] encodeBatch() {
        return codec.encodeBatch("bench", schema, events);
    }

    /** Parsing the envelope and turning every event into a typed change, as the subscriber does (binary). */
    @Benchmark
    @OperationsPerInvocation(Batches.SIZE)
    public void decodeToEvents(Blackhole bh) {
        decode(codec, payload, bh);
    }

    /** {@link #encodeBatch} in the JSON form. */
    @Benchmark
    @OperationsPerInvocation(Batches.SIZE)
    public byte[] encodeBatchJson() {
        return json.encodeBatch("bench", schema, events);
    }

    /** {@link #decodeToEvents} of the JSON form. */
    @Benchmark
    @OperationsPerInvocation(Batches.SIZE)
    public void decodeToEventsJson(Blackhole bh) {
        decode(json, jsonPayload, bh);
    }

    private void decode(EventCodec c, byte[] p, Blackhole bh) {
        WireBatch batch = c.decode(p, schema.table());
        for (WireEvent e : batch.events()) {
            bh.consume(c.toEvent(e, schema, 0L));
        }
    }
}
