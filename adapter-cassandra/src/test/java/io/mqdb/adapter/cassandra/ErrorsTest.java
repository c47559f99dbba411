package io.mqdb.adapter.cassandra;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.datastax.oss.driver.api.core.DefaultConsistencyLevel;
import com.datastax.oss.driver.api.core.DriverTimeoutException;
import com.datastax.oss.driver.api.core.servererrors.InvalidQueryException;
import com.datastax.oss.driver.api.core.servererrors.UnavailableException;
import com.datastax.oss.driver.api.core.servererrors.WriteTimeoutException;
import com.datastax.oss.driver.api.core.servererrors.WriteType;
import io.mqdb.spi.InvalidDataException;
import io.mqdb.spi.MqdbException;
import io.mqdb.spi.RetriableException;
import io.mqdb.testing.MapStoreConfig;
import io.mqdb.testing.TestStoreContext;
import java.nio.file.Path;
import java.util.Map;
import java.util.concurrent.CompletionException;
import org.junit.jupiter.api.Test;

class ErrorsTest {

    @Test
    void timeoutsAndUnavailableReplicasAreRetriable() {
        assertThat(Errors.translate("ctx", new DriverTimeoutException("slow"))).isInstanceOf(RetriableException.class)
                .hasMessageStartingWith("ctx: ");
        assertThat(Errors.translate("ctx", new WriteTimeoutException(null, DefaultConsistencyLevel.LOCAL_QUORUM, 1,
                2, WriteType.SIMPLE))).isInstanceOf(RetriableException.class);
        assertThat(Errors.translate("ctx", new CompletionException(new UnavailableException(null,
                DefaultConsistencyLevel.LOCAL_QUORUM, 2, 1)))).isInstanceOf(RetriableException.class);
    }

    @Test
    void queriesTheServerRejectsAreInvalidData() {
        assertThat(Errors.translate("ctx", new InvalidQueryException(null, "Key length of 70000 is too long")))
                .isInstanceOf(InvalidDataException.class).hasMessageContaining("Key length");
    }

    @Test
    void aDroppedKeyspaceOrTableIsAMissingTableNotInvalidData() {
        for (String m : java.util.List.of("Keyspace loss does not exist", "unconfigured table items",
                "table items does not exist")) {
            assertThat(Errors.translate("ctx", new InvalidQueryException(null, m)))
                    .isInstanceOf(io.mqdb.spi.TableMissingException.class).hasMessageContaining(m);
        }
    }

    @Test
    void aBadConsistencyLevelFailsOpenNamingTheSetting() {
        CassandraStoreProvider p = new CassandraStoreProvider();
        MapStoreConfig config = new MapStoreConfig("wide", p.type(), p.settings(), Map.of(
                CassandraSettings.LOCAL_DATACENTER, "dc1", CassandraSettings.WRITE_CONSISTENCY, "SOMETIMES"));

        assertThatThrownBy(() -> p.open(config, new TestStoreContext("n", Path.of("."))))
                .isInstanceOf(MqdbException.class).isNotInstanceOf(RetriableException.class)
                .hasMessageContaining("stores.wide.write-consistency").hasMessageContaining("SOMETIMES");
    }
}
