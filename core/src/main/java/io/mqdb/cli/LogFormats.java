package io.mqdb.cli;

import io.mqdb.config.NodeSection;
import org.slf4j.ILoggerFactory;
import org.slf4j.LoggerFactory;

/**
 * Applies {@code node.log-format} to the process's logging: {@code json} gives every console appender of logback
 * (the backend the tarball ships) logback's own {@code JsonEncoder}, one JSON object per line. Only {@code mqdb run}
 * calls it, once, on its main thread, before the node starts; an application embedding a node keeps its own logging.
 * With another SLF4J backend the setting is reported and ignored.
 */
final class LogFormats {
    private LogFormats() {
    }

    /** @param format the node's log format */
    static void use(NodeSection.LogFormat format) {
        if (format == NodeSection.LogFormat.TEXT) {
            return;
        }
        ILoggerFactory factory = LoggerFactory.getILoggerFactory();
        if (!factory.getClass().getName().equals("ch.qos.logback.classic.LoggerContext")) {
            LoggerFactory.getLogger(LogFormats.class).warn("node.log-format: json needs logback (the tarball's "
                    + "logging); this process logs through {}: keeping its format", factory.getClass().getName());
            return;
        }
        Logback.json(factory);
    }

    /** The logback part, in a class of its own so that nothing of logback loads unless logback is the backend. */
    private static final class Logback {
        static void json(ILoggerFactory factory) {
            ch.qos.logback.classic.LoggerContext ctx = (ch.qos.logback.classic.LoggerContext) factory;
            ch.qos.logback.classic.Logger root = ctx.getLogger(org.slf4j.Logger.ROOT_LOGGER_NAME);
            for (var it = root.iteratorForAppenders(); it.hasNext(); ) {
                if (it.next() instanceof ch.qos.logback.core.ConsoleAppender<?> console) {
                    @SuppressWarnings("unchecked")
                    var appender = (ch.qos.logback.core.ConsoleAppender<ch.qos.logback.classic.spi.ILoggingEvent>)
                            console;
                    ch.qos.logback.classic.encoder.JsonEncoder encoder =
                            new ch.qos.logback.classic.encoder.JsonEncoder();
                    encoder.setContext(ctx);
                    encoder.setWithSequenceNumber(false);
                    encoder.setWithNanoseconds(false);
                    encoder.setWithContext(false);
                    encoder.setWithArguments(false);
                    encoder.setWithMessage(false);
                    encoder.setWithFormattedMessage(true);
                    encoder.start();
                    appender.stop();
                    appender.setEncoder(encoder);
                    appender.start();
                }
            }
        }
    }
}
