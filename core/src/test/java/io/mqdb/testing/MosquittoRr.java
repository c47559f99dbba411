package io.mqdb.testing;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.TimeUnit;

/**
 * One MQTT 5 request/response with Debian's {@code mosquitto_rr} (package mosquitto-clients): publishes a message
 * with a response topic at QoS 1 and waits up to 3 s for the first answer; the plain MQTT 5 client of the reads and
 * acknowledged-writes tests.
 *
 * @param port the broker's port on 127.0.0.1
 */
public record MosquittoRr(int port) {
    /**
     * @param topic where the request is published
     * @param responseTopic the request's response topic
     * @param payload the request
     * @return the first answer
     * @throws AssertionError when none came
     */
    public String answer(String topic, String responseTopic, String payload) throws IOException,
            InterruptedException {
        Process p = start(topic, responseTopic, payload);
        assertThat(p.waitFor(20, TimeUnit.SECONDS)).isTrue();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).strip();
        assertThat(p.exitValue()).as("mosquitto_rr: " + out).isZero();
        return out;
    }

    /**
     * @return whether no answer came within 3 s
     */
    public boolean timesOut(String topic, String responseTopic, String payload) throws IOException,
            InterruptedException {
        Process p = start(topic, responseTopic, payload);
        assertThat(p.waitFor(20, TimeUnit.SECONDS)).isTrue();
        return p.exitValue() != 0;
    }

    private Process start(String topic, String responseTopic, String payload) throws IOException {
        return new ProcessBuilder("mosquitto_rr", "-h", "127.0.0.1", "-p", Integer.toString(port), "-q", "1",
                "-t", topic, "-e", responseTopic, "-m", payload, "-W", "3").redirectErrorStream(true).start();
    }
}
