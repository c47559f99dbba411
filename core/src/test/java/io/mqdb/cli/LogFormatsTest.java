package io.mqdb.cli;

import static org.assertj.core.api.Assertions.assertThat;

import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.LoggerContext;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.Appender;
import ch.qos.logback.core.ConsoleAppender;
import ch.qos.logback.core.encoder.Encoder;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import io.mqdb.config.NodeSection;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.HashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.slf4j.LoggerFactory;

/** {@code node.log-format: json}: the console appenders write one JSON object per line. */
class LogFormatsTest {
    @Test
    void jsonGivesTheConsoleOneJsonObjectPerLineAndTextChangesNothing() {
        LoggerContext ctx = (LoggerContext) LoggerFactory.getILoggerFactory();
        Logger root = ctx.getLogger(org.slf4j.Logger.ROOT_LOGGER_NAME);
        Map<ConsoleAppender<ILoggingEvent>, Encoder<ILoggingEvent>> before = new HashMap<>();
        for (var it = root.iteratorForAppenders(); it.hasNext(); ) {
            Appender<ILoggingEvent> a = it.next();
            if (a instanceof ConsoleAppender<ILoggingEvent> c) {
                before.put(c, c.getEncoder());
            }
        }
        assertThat(before).as("the test JVM logs to the console").isNotEmpty();
        PrintStream out = System.out;
        ByteArrayOutputStream text = new ByteArrayOutputStream();
        ByteArrayOutputStream json = new ByteArrayOutputStream();
        try {
            System.setOut(new PrintStream(text, true, StandardCharsets.UTF_8));
            LogFormats.use(NodeSection.LogFormat.TEXT);
            LoggerFactory.getLogger("io.mqdb.test").info("as text {}", 1);
            System.setOut(new PrintStream(json, true, StandardCharsets.UTF_8));
            LogFormats.use(NodeSection.LogFormat.JSON);
            LoggerFactory.getLogger("io.mqdb.test").warn("as json {}", 2);
        } finally {
            System.setOut(out);
            before.forEach((a, e) -> { // the other tests of this JVM log as before
                a.stop();
                a.setEncoder(e);
                a.start();
            });
        }
        assertThat(text.toString(StandardCharsets.UTF_8)).contains("as text 1").doesNotStartWith("{");
        String line = json.toString(StandardCharsets.UTF_8).lines().filter(l -> l.contains("as json"))
                .findFirst().orElseThrow();
        JsonObject o = JsonParser.parseString(line).getAsJsonObject();
        assertThat(o.get("level").getAsString()).isEqualTo("WARN");
        assertThat(o.get("loggerName").getAsString()).isEqualTo("io.mqdb.test");
        assertThat(o.get("formattedMessage").getAsString()).isEqualTo("as json 2");
        assertThat(o.has("timestamp")).isTrue();
    }
}
