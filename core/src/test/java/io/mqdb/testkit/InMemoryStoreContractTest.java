package io.mqdb.testkit;

import io.mqdb.spi.Store;
import io.mqdb.spi.StoreContract;
import java.util.UUID;
import org.junit.jupiter.api.AfterEach;

/** The in-memory store passes the contract every adapter passes, so tests over it hold for the real ones. */
class InMemoryStoreContractTest extends StoreContract {
    private final String instance = "contract-" + UUID.randomUUID();

    @Override
    protected Store openStore() {
        return new InMemoryStore(InMemoryData.named(instance));
    }

    @Override
    protected boolean supportsCapture() {
        return true;
    }

    @AfterEach
    void forgetData() {
        InMemoryData.forget(instance);
    }
}
