package io.mqdb.adapter.cassandra;

import com.datastax.oss.driver.api.core.AllNodesFailedException;
import com.datastax.oss.driver.api.core.DriverException;
import com.datastax.oss.driver.api.core.DriverTimeoutException;
import com.datastax.oss.driver.api.core.connection.ConnectionInitException;
import com.datastax.oss.driver.api.core.servererrors.InvalidConfigurationInQueryException;
import com.datastax.oss.driver.api.core.servererrors.InvalidQueryException;
import com.datastax.oss.driver.api.core.servererrors.QueryExecutionException;
import com.datastax.oss.driver.api.core.servererrors.SyntaxError;
import com.datastax.oss.driver.api.core.servererrors.UnauthorizedException;
import com.datastax.oss.driver.api.core.type.codec.CodecNotFoundException;
import io.mqdb.spi.InvalidDataException;
import io.mqdb.spi.MqdbException;
import io.mqdb.spi.RetriableException;
import io.mqdb.spi.TableMissingException;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutionException;

/** Translates the driver's exceptions into mqdb's. */
final class Errors {
    /** What Cassandra 4 and 5 answer for a dropped keyspace or table. */
    private static final java.util.regex.Pattern MISSING = java.util.regex.Pattern.compile(
            "(?i)(keyspace \\S+ does not exist|unconfigured table|table \\S+ does not exist)");

    private Errors() {
    }

    /**
     * @param context what was being done, e.g. {@code cassandra 127.0.0.1:9042: 500 writes on shop:orders}
     * @param error the driver's error
     * @return {@link RetriableException} for timeouts, unavailable replicas and lost connections;
     *     {@link TableMissingException} for a keyspace or table that does not exist (dropped under the node);
     *     {@link InvalidDataException} for another query the server rejects; {@link MqdbException} otherwise
     */
    static MqdbException translate(String context, Throwable error) {
        Throwable e = error;
        while ((e instanceof CompletionException || e instanceof ExecutionException) && e.getCause() != null) {
            e = e.getCause();
        }
        if (e instanceof MqdbException m) {
            return m;
        }
        String message = context + ": " + e.getMessage();
        if (e instanceof InvalidQueryException && e.getMessage() != null
                && MISSING.matcher(e.getMessage()).find()) {
            return new TableMissingException(message, e);
        }
        if (e instanceof InvalidQueryException || e instanceof SyntaxError
                || e instanceof InvalidConfigurationInQueryException || e instanceof CodecNotFoundException
                || e instanceof IllegalArgumentException) {
            return new InvalidDataException(message, e);
        }
        if (e instanceof UnauthorizedException) {
            return new MqdbException(message, e);
        }
        if (e instanceof QueryExecutionException || e instanceof DriverTimeoutException
                || e instanceof AllNodesFailedException || e instanceof ConnectionInitException
                || e instanceof DriverException) {
            return new RetriableException(message, e);
        }
        return new MqdbException(message, e);
    }
}
