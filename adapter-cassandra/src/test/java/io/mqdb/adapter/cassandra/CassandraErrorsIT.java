package io.mqdb.adapter.cassandra;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.mqdb.spi.Column;
import io.mqdb.spi.ColumnType;
import io.mqdb.spi.InvalidDataException;
import io.mqdb.spi.RetriableException;
import io.mqdb.spi.Row;
import io.mqdb.spi.Store;
import io.mqdb.spi.TableId;
import io.mqdb.spi.TableSchema;
import io.mqdb.spi.WriteOrigin;
import io.mqdb.testing.CassandraServer;
import io.mqdb.testing.ServerFixture;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** What a caller sees when Cassandra is unreachable or refuses a value. */
class CassandraErrorsIT {

    @Test
    void anUnreachableClusterIsRetriableAtOpen() {
        CassandraServer.shared();
        assertThatThrownBy(() -> CassandraStores.open(Map.of(CassandraSettings.CONTACT_POINTS,
                List.of("127.0.0.1:" + ServerFixture.freePort()))))
                .isInstanceOf(RetriableException.class).hasMessageContaining("cannot connect");
    }

    @Test
    void aValueCassandraRefusesIsInvalidDataAndTheRestOfTheStoreWorks() {
        try (Store store = CassandraStores.open()) {
            TableSchema schema = new TableSchema(new TableId("errors", "t_" + System.nanoTime()), List.of(
                    new Column("k", ColumnType.STRING, false), Column.of("v", ColumnType.INT64)), List.of("k"));
            store.ensureTable(schema);

            assertThatThrownBy(() -> store.upsert(schema.table(), List.of(Row.builder().set("k", "x".repeat(70_000))
                    .build()), WriteOrigin.LOCAL)).isInstanceOf(InvalidDataException.class)
                    .hasMessageContaining(schema.table().toString());

            store.upsert(schema.table(), List.of(Row.builder().set("k", "ok").set("v", 1L).build()),
                    WriteOrigin.LOCAL);
            assertThat(store.count(schema.table())).isEqualTo(1);
        }
    }
}
