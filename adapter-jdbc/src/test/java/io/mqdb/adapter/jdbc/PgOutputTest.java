package io.mqdb.adapter.jdbc;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.mqdb.spi.Column;
import io.mqdb.spi.ColumnType;
import io.mqdb.spi.InvalidDataException;
import io.mqdb.spi.MqdbException;
import java.io.ByteArrayOutputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.time.LocalDate;
import org.junit.jupiter.api.Test;

/** The pgoutput decoder on hand-made messages of protocol 1, and the text-to-value conversion. */
class PgOutputTest {
    private final ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    private final DataOutputStream out = new DataOutputStream(bytes);

    private void string(String s) throws IOException {
        out.write(s.getBytes(StandardCharsets.UTF_8));
        out.write(0);
    }

    private PgOutput.Message decode() {
        return PgOutput.decode(ByteBuffer.wrap(bytes.toByteArray()));
    }

    @Test
    void decodesBeginAndCommit() throws IOException {
        out.write('B');
        out.writeLong(0x16B3748L);
        out.writeLong(42);
        out.writeInt(777);
        assertThat(decode()).isEqualTo(new PgOutput.Begin(0x16B3748L, 42, 777));
        bytes.reset();
        out.write('C');
        out.write(0);
        out.writeLong(10);
        out.writeLong(20);
        out.writeLong(30);
        assertThat(decode()).isEqualTo(new PgOutput.Commit(10, 20, 30));
    }

    @Test
    void decodesARelationAndAnUpdateWithAnOldKeyAndAnUnchangedToastValue() throws IOException {
        out.write('R');
        out.writeInt(16384);
        string("shop");
        string("items");
        out.write('d');
        out.writeShort(2);
        out.write(1);
        string("id");
        out.writeInt(20);
        out.writeInt(-1);
        out.write(0);
        string("doc");
        out.writeInt(25);
        out.writeInt(-1);
        PgOutput.Relation r = (PgOutput.Relation) decode();
        assertThat(r.namespace()).isEqualTo("shop");
        assertThat(r.columns()).containsExactly(new PgOutput.RelationColumn(true, "id", 20, -1),
                new PgOutput.RelationColumn(false, "doc", 25, -1));

        bytes.reset();
        out.write('U');
        out.writeInt(16384);
        out.write('K');
        out.writeShort(2);
        text("1");
        out.write('n');
        out.write('N');
        out.writeShort(2);
        text("2");
        out.write('u');
        PgOutput.Update u = (PgOutput.Update) decode();
        assertThat(u.oldKind()).isEqualTo('K');
        assertThat(u.old().values().get(0).text()).isEqualTo("1");
        assertThat(u.row().values()).containsExactly(new PgOutput.Value(PgOutput.ValueKind.TEXT, "2"),
                PgOutput.Value.UNCHANGED);
    }

    private void text(String s) throws IOException {
        byte[] b = s.getBytes(StandardCharsets.UTF_8);
        out.write('t');
        out.writeInt(b.length);
        out.write(b);
    }

    @Test
    void decodesATransactionalMessage() throws IOException {
        out.write('M');
        out.write(1);
        out.writeLong(99);
        string(LogCapture.ORIGIN_PREFIX);
        out.writeInt(2);
        out.write(new byte[] {'h', 'i'});
        PgOutput.LogicalMessage m = (PgOutput.LogicalMessage) decode();
        assertThat(m.transactional()).isTrue();
        assertThat(m.prefix()).isEqualTo("mqdb-origin");
        assertThat(m.content()).containsExactly('h', 'i');
    }

    @Test
    void refusesLengthsBeyondTheMessageBeforeAllocating() throws IOException {
        out.write('I');
        out.writeInt(1);
        out.write('N');
        out.writeShort(1);
        out.write('t');
        out.writeInt(Integer.MAX_VALUE); // would be a 2 GB string
        out.write('x');
        assertThatThrownBy(this::decode).isInstanceOf(MqdbException.class).hasMessageContaining("announces");
        bytes.reset();
        out.write('M');
        out.write(0);
        out.writeLong(1);
        string("p");
        out.writeInt(-5);
        assertThatThrownBy(this::decode).isInstanceOf(MqdbException.class).hasMessageContaining("announces");
        bytes.reset();
        out.write('R');
        out.writeInt(1);
        string("s");
        out.write('x'); // unterminated
        assertThatThrownBy(this::decode).isInstanceOf(MqdbException.class);
        bytes.reset();
        out.write('B');
        out.writeInt(1);
        assertThatThrownBy(this::decode).isInstanceOf(MqdbException.class).hasMessageContaining("truncated");
        bytes.reset();
        out.write('Z');
        assertThatThrownBy(this::decode).isInstanceOf(MqdbException.class).hasMessageContaining("unknown");
    }

    @Test
    void readsTheTextOfEveryPortableType() {
        assertThat(PgText.parse(Column.of("b", ColumnType.BYTES), "bytea", "\\x00ff2a"))
                .isEqualTo(io.mqdb.spi.Bytes.of(new byte[] {0, (byte) 0xff, 42}));
        assertThat(PgText.parse(Column.of("t", ColumnType.TIMESTAMP), "timestamp", "2024-02-29 23:59:59.123456"))
                .isEqualTo(Instant.parse("2024-02-29T23:59:59.123456Z"));
        assertThat(PgText.parse(Column.of("t", ColumnType.TIMESTAMP), "timestamp", "2024-02-29 23:59:59"))
                .isEqualTo(Instant.parse("2024-02-29T23:59:59Z"));
        assertThat(PgText.parse(Column.of("t", ColumnType.TIMESTAMP), "timestamptz", "2024-05-01 12:00:00.5+05:30"))
                .isEqualTo(Instant.parse("2024-05-01T06:30:00.5Z"));
        assertThat(PgText.parse(Column.of("t", ColumnType.TIMESTAMP), "timestamptz", "1900-01-01 00:00:00+00:53:28"))
                .isEqualTo(Instant.parse("1899-12-31T23:06:32Z"));
        assertThat(PgText.parse(Column.of("t", ColumnType.TIMESTAMP), "timestamptz", "2024-05-01 12:00:00-07"))
                .isEqualTo(Instant.parse("2024-05-01T19:00:00Z"));
        assertThat(PgText.parse(Column.of("d", ColumnType.DATE), "date", "0044-03-15 BC"))
                .isEqualTo(LocalDate.of(-43, 3, 15));
        assertThat(PgText.parse(Column.of("x", ColumnType.DOUBLE), "float8", "-Infinity"))
                .isEqualTo(Double.NEGATIVE_INFINITY);
        assertThat(PgText.parse(Column.of("x", ColumnType.BOOLEAN), "bool", "t")).isEqualTo(true);
        assertThatThrownBy(() -> PgText.parse(Column.of("x", ColumnType.BYTES), "bytea", "abc"))
                .isInstanceOf(InvalidDataException.class).hasMessageContaining("column x");
        assertThatThrownBy(() -> PgText.parse(Column.of("x", ColumnType.BOOLEAN), "bool", "yes"))
                .isInstanceOf(InvalidDataException.class);
    }

    @Test
    void positionsOrderByCommitThenIndexAndRoundTrip() {
        LogCapture.Pos a = new LogCapture.Pos(100, 4, 100);
        LogCapture.Pos b = new LogCapture.Pos(100, 6, 180);
        LogCapture.Pos c = new LogCapture.Pos(101, 0, 101);
        assertThat(a).isLessThan(b);
        assertThat(b).isLessThan(c);
        assertThat(LogCapture.Pos.parse(b.encode())).isEqualTo(b);
        assertThatThrownBy(() -> LogCapture.Pos.parse(new io.mqdb.spi.CapturePosition("x:1:2")))
                .isInstanceOf(MqdbException.class).hasMessageContaining("another capture mode");
    }
}
