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
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OperationsPerInvocation;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.infra.Blackhole;

/**
 * The wire codec on one batch of {@value Batches#SIZE} upserts of an 11-column row (the PostgreSQL → Redis table's
 * types): what a publishing node spends encoding and a subscribing node decoding, per event, in each wire form
 * ({@code form}: {@code BINARY}, what nodes publish by default, and {@code JSON}, version 1). Setup prints the bytes
 * per event of each form. Run by {@code scripts/bench.sh}, never by the tests.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
public class CodecBench {
    @Param({"BINARY", "JSON"})
    public WireForm form;

    private EventCodec codec;
    private TableSchema schema;
    private List<ChangeEvent> events;
    private byte[] payload;

    @Setup(Level.Trial)
    public void setUp() {
        codec = new EventCodec(form, CodecLimits.DEFAULTS);
        schema = Batches.ordersSchema();
        events = Batches.orders(1);
        payload = codec.encodeBatch("bench", schema, events);
        System.out.printf("%n%s: %d bytes per batch of %d, %d per event%n", form, payload.length, Batches.SIZE,
                payload.length / Batches.SIZE);
    }

    /** Encoding a batch with its schema, as the publisher sends it. */
    @Benchmark
    @OperationsPerInvocation(Batches.SIZE)
    public byte[] encodeBatch() {
        return codec.encodeBatch("bench", schema, events);
    }

    /** Parsing the envelope and turning every event into a typed change, as the subscriber does. */
    @Benchmark
    @OperationsPerInvocation(Batches.SIZE)
    public void decodeToEvents(Blackhole bh) {
        WireBatch batch = codec.decode(payload, schema.table());
        for (WireEvent e : batch.events()) {
            bh.consume(codec.toEvent(e, schema, 0L));
        }
    }
}
