package io.mqdb.adapter.cassandra;

import static org.assertj.core.api.Assertions.assertThat;

import io.mqdb.spi.Bytes;
import io.mqdb.spi.ColumnType;
import io.mqdb.spi.Json;
import io.mqdb.spi.Version;
import java.nio.ByteBuffer;
import java.time.Instant;
import java.util.List;
import org.junit.jupiter.api.Test;

class CqlTypesTest {

    @Test
    void timestampsAreMicrosecondsSinceTheEpochBothSidesOfIt() {
        for (String s : List.of("1969-12-31T23:59:59.999999Z", "1970-01-01T00:00:00Z", "2024-02-29T23:59:59.123456Z",
                "1900-01-01T00:00:00Z")) {
            Instant i = Instant.parse(s);
            assertThat(CqlTypes.fromCql(ColumnType.TIMESTAMP, CqlTypes.toCql(ColumnType.TIMESTAMP, i, false), false))
                    .isEqualTo(i);
        }
        assertThat(CqlTypes.micros(Instant.parse("1969-12-31T23:59:59.999999Z"))).isEqualTo(-1L);
    }

    @Test
    void emptyAndNulLeadingPartitionKeyValuesGetOneEscapeAndOnlyThey() {
        assertThat(CqlTypes.toCql(ColumnType.STRING, "", true)).isEqualTo("\u0000");
        assertThat(CqlTypes.toCql(ColumnType.STRING, "\u0000x", true)).isEqualTo("\u0000\u0000x");
        assertThat(CqlTypes.toCql(ColumnType.STRING, "plain", true)).isEqualTo("plain");
        assertThat(CqlTypes.toCql(ColumnType.STRING, "", false)).isEqualTo("");
        for (String s : List.of("", "\u0000", "\u0000\u0000x", "a\u0000")) {
            assertThat(CqlTypes.fromCql(ColumnType.STRING, CqlTypes.toCql(ColumnType.STRING, s, true), true))
                    .isEqualTo(s);
        }
        for (byte[] b : List.of(new byte[0], new byte[] {0}, new byte[] {0, 1}, new byte[] {1, 0})) {
            Object stored = CqlTypes.toCql(ColumnType.BYTES, Bytes.of(b), true);
            assertThat(CqlTypes.fromCql(ColumnType.BYTES, stored, true)).isEqualTo(Bytes.of(b));
        }
        assertThat(((ByteBuffer) CqlTypes.toCql(ColumnType.BYTES, Bytes.of(new byte[] {1}), true)).remaining())
                .isEqualTo(1);
    }

    @Test
    void jsonIsTextAsGiven() {
        assertThat(CqlTypes.toCql(ColumnType.JSON, new Json("{\"a\": 1}"), false)).isEqualTo("{\"a\": 1}");
        assertThat(CqlTypes.cqlType(ColumnType.JSON)).isEqualTo("text");
        assertThat(CqlTypes.cqlType(ColumnType.TIMESTAMP)).isEqualTo("bigint");
    }

    @Test
    void writeTimeKeepsDistinctReadingsOfOneMillisecondInOrder() {
        long ms = 1_700_000_000_000L;
        assertThat(CassandraStore.writeTime(new Version(Version.pack(ms, 1), "a")))
                .isLessThan(CassandraStore.writeTime(new Version(Version.pack(ms, 2), "a")))
                .isLessThan(CassandraStore.writeTime(new Version(Version.pack(ms + 1, 0), "a")));
    }

    @Test
    void literalsDoubleTheirQuotesAndIdentifiersKeepTheirCase() {
        assertThat(CassandraStore.literal("it's")).isEqualTo("'it''s'");
        assertThat(CassandraStore.id("Orders")).isEqualTo("\"Orders\"");
    }
}
